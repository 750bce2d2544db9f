//! **Guarantee:** requests hold the lock one at a time, in the order they
//! reached the tail keeper; each request has exactly one predecessor, and
//! the lock passes only from a request to its successor or, when the queue
//! was empty, from the tail keeper to the first request.
//!
//! The queue lock (`msg-queue`): the MCS lock over messages. Every core
//! takes part; the server core also keeps the queue's tail.
//!
//! 1. A requester sends [`LockMsg::Enqueue`] to the tail keeper, which
//!    makes the request the tail and answers [`LockMsg::First`] (the queue
//!    was empty: the request holds the lock) or [`LockMsg::Behind`] with
//!    the old tail, the request's predecessor.
//! 2. A request behind another tells its predecessor
//!    [`LockMsg::Successor`] and waits for [`LockMsg::Pass`].
//! 3. On release, a holder that knows its successor sends it
//!    [`LockMsg::Pass`]. One that does not sends [`LockMsg::Leave`]: the
//!    tail keeper empties the queue if the request is still the tail and
//!    answers [`LockMsg::Left`] with `emptied`; otherwise a successor has
//!    enqueued meanwhile, and the releaser passes the lock to it as soon
//!    as its `Successor` arrives. This is the compare and swap of MCS's
//!    release.
//!
//! Requests are numbered per core, and every message names the request it
//! is about, so a released request still waiting for its successor and
//! this core's next request (which may be sent at once) are never confused.
//! The tail keeper's own requests travel to itself as local messages,
//! behind what the other cores sent; alone on one core, it takes them at
//! once, so an acquisition and its release cost no message at all.

use alloc::vec;
use alloc::vec::Vec;

use super::{Clients, Fx, Kind, LockEffect, LockError, LockMsg, Step};

/// Where this core's current request stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// Sent to the tail keeper, no answer yet.
    Enqueuing,
    /// Waiting for `pred` to pass the lock.
    Behind { pred: u32 },
    /// Holds the lock.
    Held,
}

/// This core's current request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Node {
    seq: u64,
    phase: Phase,
    /// The successor's core and request, once it said so.
    succ: Option<(u32, u64)>,
}

/// A released request that knew no successor and sent `Leave`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Releasing {
    seq: u64,
    /// The tail keeper answered (the queue was not emptied).
    left: bool,
    /// The lock was passed to the successor.
    passed: bool,
}

/// The tail keeper's side.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Keeper {
    clients: Clients,
    tail: Option<(u32, u64)>,
    /// Each core's last `Leave`.
    last_leave: Vec<Option<u64>>,
    log: Vec<u32>,
}

/// One core's machine of the queue lock.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct QueueLock {
    me: u32,
    cores: u32,
    server: u32,
    cur: Option<Node>,
    releasing: Option<Releasing>,
    asked: u64,
    finished: bool,
    log: Vec<u32>,
    keeper: Option<Keeper>,
}

impl QueueLock {
    pub(crate) fn new(me: u32, cores: u32, server: u32) -> QueueLock {
        QueueLock {
            me,
            cores,
            server,
            cur: None,
            releasing: None,
            asked: 0,
            finished: false,
            log: Vec::new(),
            keeper: (me == server).then(|| Keeper {
                clients: Clients::new(cores, cores),
                tail: None,
                last_leave: vec![None; cores as usize],
                log: Vec::new(),
            }),
        }
    }

    /// Sends `msg` to core `to`. On one core, a message to itself is taken
    /// at once; with other cores it queues behind what they sent, as a
    /// keeper that took its own requests at once would hand itself the
    /// lock again on every release and starve them (measured: 160 against
    /// 100,000 acquisitions on 2 cores).
    fn post(&mut self, to: u32, msg: LockMsg, out: &mut Fx) -> Step {
        if to == self.me && self.cores == 1 {
            self.on_message(self.me, msg, out)
        } else {
            out.send_raw(to, msg.encode());
            Ok(())
        }
    }

    /// The current request, if it is request `seq`.
    fn node(&self, seq: u64) -> Result<Node, LockError> {
        match self.cur {
            Some(n) if n.seq == seq => Ok(n),
            _ if seq < self.asked => Err(LockError::Duplicate),
            _ => Err(LockError::OutOfOrder),
        }
    }

    fn set_phase(&mut self, phase: Phase) {
        if let Some(n) = &mut self.cur {
            n.phase = phase;
        }
    }

    fn grant(&mut self, out: &mut Fx) {
        self.set_phase(Phase::Held);
        if self.keeper.is_none() {
            self.log.push(self.me);
        }
        out.effect(LockEffect::Granted);
    }
}

impl Kind for QueueLock {
    fn acquire(&mut self, out: &mut Fx) -> Step {
        if self.finished {
            return Err(LockError::Finished);
        }
        if self.cur.is_some() {
            return Err(LockError::AlreadyAsked);
        }
        let seq = self.asked;
        self.asked += 1;
        self.cur = Some(Node {
            seq,
            phase: Phase::Enqueuing,
            succ: None,
        });
        self.post(self.server, LockMsg::Enqueue { seq }, out)
    }

    fn release(&mut self, out: &mut Fx) -> Step {
        let node = match self.cur {
            Some(n) if n.phase == Phase::Held => n,
            _ => return Err(LockError::NotHeld),
        };
        // A request holds the lock only after the one before it on this
        // core is done: its successor (ahead of this request) was passed
        // the lock, and the keeper's `Left` came before this request's
        // answer on the same channel.
        if self.releasing.is_some() {
            return Err(LockError::OutOfOrder);
        }
        self.cur = None;
        match node.succ {
            Some((succ, seq)) => self.post(succ, LockMsg::Pass { seq }, out),
            None => {
                self.releasing = Some(Releasing {
                    seq: node.seq,
                    left: false,
                    passed: false,
                });
                self.post(self.server, LockMsg::Leave { seq: node.seq }, out)
            }
        }
    }

    fn finish(&mut self, out: &mut Fx) {
        if core::mem::replace(&mut self.finished, true) {
            return;
        }
        // The keeper's own count is in order by construction.
        let _ = self.post(self.server, LockMsg::Finished { asked: self.asked }, out);
    }

    fn quiescent(&self) -> bool {
        self.cur.is_none()
            && self.releasing.is_none()
            && self
                .keeper
                .as_ref()
                .is_none_or(|k| k.tail.is_none() && k.clients.all_finished())
    }

    fn holds(&self) -> bool {
        self.cur.is_some_and(|n| n.phase == Phase::Held)
    }

    fn grant_log(&self) -> &[u32] {
        match &self.keeper {
            Some(k) => &k.log,
            None => &self.log,
        }
    }

    fn on_message(&mut self, from: u32, msg: LockMsg, out: &mut Fx) -> Step {
        match msg {
            LockMsg::Enqueue { .. } | LockMsg::Leave { .. } | LockMsg::Finished { .. } => {
                let keeper = self.keeper.as_mut().ok_or(LockError::OutOfOrder)?;
                match keeper.on_message(from, msg)? {
                    Some(reply) => self.post(from, reply, out),
                    None => Ok(()),
                }
            }
            LockMsg::First { seq } | LockMsg::Behind { seq, .. } => {
                if from != self.server {
                    return Err(LockError::OutOfOrder);
                }
                let node = self.node(seq)?;
                if node.phase != Phase::Enqueuing {
                    return Err(LockError::Duplicate);
                }
                if let LockMsg::Behind { pred, pred_seq, .. } = msg {
                    if pred >= self.cores {
                        return Err(LockError::UnknownCore(pred));
                    }
                    if pred == self.me {
                        return Err(LockError::OutOfOrder);
                    }
                    self.set_phase(Phase::Behind { pred });
                    out.send_raw(pred, LockMsg::Successor { pred_seq, seq }.encode());
                } else {
                    self.grant(out);
                }
                Ok(())
            }
            LockMsg::Pass { seq } => {
                let node = self.node(seq)?;
                match node.phase {
                    Phase::Behind { pred } if pred == from => {
                        self.grant(out);
                        Ok(())
                    }
                    Phase::Held => Err(LockError::Duplicate),
                    _ => Err(LockError::OutOfOrder),
                }
            }
            LockMsg::Successor { pred_seq, seq } => {
                if from == self.me {
                    return Err(LockError::OutOfOrder);
                }
                if let Some(r) = self.releasing.filter(|r| r.seq == pred_seq) {
                    if r.passed {
                        return Err(LockError::Duplicate);
                    }
                    out.send_raw(from, LockMsg::Pass { seq }.encode());
                    self.releasing = (!r.left).then_some(Releasing { passed: true, ..r });
                    return Ok(());
                }
                let node = self.node(pred_seq)?;
                if node.succ.is_some() {
                    return Err(LockError::Duplicate);
                }
                if let Some(n) = &mut self.cur {
                    n.succ = Some((from, seq));
                }
                Ok(())
            }
            LockMsg::Left { seq, emptied } => {
                if from != self.server {
                    return Err(LockError::OutOfOrder);
                }
                let r = match self.releasing {
                    Some(r) if r.seq == seq => r,
                    _ if seq < self.asked && self.cur.is_none_or(|n| n.seq != seq) => {
                        return Err(LockError::Duplicate);
                    }
                    _ => return Err(LockError::OutOfOrder),
                };
                if r.left {
                    return Err(LockError::Duplicate);
                }
                if emptied && r.passed {
                    return Err(LockError::OutOfOrder);
                }
                self.releasing = (!emptied && !r.passed).then_some(Releasing { left: true, ..r });
                Ok(())
            }
            _ => Err(LockError::OutOfOrder),
        }
    }
}

impl Keeper {
    /// Takes a requester's message; returns the answer for it, if any.
    fn on_message(&mut self, from: u32, msg: LockMsg) -> Result<Option<LockMsg>, LockError> {
        match msg {
            LockMsg::Enqueue { seq } => {
                self.clients.check_next(from, seq)?;
                self.clients.take(from);
                self.log.push(from);
                let reply = match self.tail.replace((from, seq)) {
                    None => LockMsg::First { seq },
                    Some((pred, pred_seq)) => LockMsg::Behind {
                        seq,
                        pred,
                        pred_seq,
                    },
                };
                Ok(Some(reply))
            }
            LockMsg::Leave { seq } => {
                if seq >= self.clients.made(from) {
                    return Err(LockError::OutOfOrder);
                }
                let last = &mut self.last_leave[from as usize];
                if last.is_some_and(|l| l >= seq) {
                    return Err(LockError::Duplicate);
                }
                *last = Some(seq);
                let emptied = self.tail == Some((from, seq));
                if emptied {
                    self.tail = None;
                }
                Ok(Some(LockMsg::Left { seq, emptied }))
            }
            LockMsg::Finished { asked } => self.clients.finish(from, asked).map(|()| None),
            _ => Err(LockError::OutOfOrder),
        }
    }
}
