//! **Guarantee:** the lock server grants one request at a time, in the
//! order the requests reach it, and grants again only after the holder's
//! release has reached it.
//!
//! The lock server (`msg-server`). Clients are every core but the server.
//! A client sends [`LockMsg::Request`], waits for [`LockMsg::Grant`], runs
//! its critical section and sends [`LockMsg::Release`]; when it will not
//! ask again it sends [`LockMsg::Finished`]. The server keeps the holder
//! and a FIFO queue of waiting requests.

use alloc::collections::VecDeque;
use alloc::vec;
use alloc::vec::Vec;

use super::{Ask, Client, Clients, Fx, Kind, LockEffect, LockError, LockMsg, Step};

/// The server's side.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Serve {
    clients: Clients,
    /// Each client's current request, as the server sees it.
    status: Vec<Ask>,
    holder: Option<u32>,
    queue: VecDeque<(u32, u64)>,
    log: Vec<u32>,
    /// Test only: forgets the holder, so grants overlap.
    broken: bool,
}

/// One core's machine of the lock server: a client, or the server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ServerLock {
    client: Client,
    ask: Ask,
    serve: Option<Serve>,
}

impl ServerLock {
    pub(crate) fn new(me: u32, cores: u32, server: u32) -> ServerLock {
        ServerLock {
            client: Client::new(me, server),
            ask: Ask::Idle,
            serve: (me == server).then(|| Serve {
                clients: Clients::new(cores, cores - 1),
                status: vec![Ask::Idle; cores as usize],
                holder: None,
                queue: VecDeque::new(),
                log: Vec::new(),
                broken: false,
            }),
        }
    }

    pub(crate) fn break_it(&mut self) {
        if let Some(s) = &mut self.serve {
            s.broken = true;
        }
    }
}

impl Kind for ServerLock {
    fn acquire(&mut self, out: &mut Fx) -> Step {
        let seq = self.client.ask(self.ask != Ask::Idle)?;
        self.ask = Ask::Asked(seq);
        out.send_raw(self.client.server, LockMsg::Request { seq }.encode());
        Ok(())
    }

    fn release(&mut self, out: &mut Fx) -> Step {
        if self.client.me == self.client.server {
            return Err(LockError::NotParticipant(self.client.me));
        }
        let Ask::Held(seq) = self.ask else {
            return Err(LockError::NotHeld);
        };
        self.ask = Ask::Idle;
        out.send_raw(self.client.server, LockMsg::Release { seq }.encode());
        Ok(())
    }

    fn finish(&mut self, out: &mut Fx) {
        self.client.finish(out);
    }

    fn quiescent(&self) -> bool {
        self.ask == Ask::Idle
            && self.serve.as_ref().is_none_or(|s| {
                s.clients.all_finished()
                    && s.holder.is_none()
                    && s.queue.is_empty()
                    && s.status.iter().all(|a| *a == Ask::Idle)
            })
    }

    fn holds(&self) -> bool {
        matches!(self.ask, Ask::Held(_))
    }

    fn grant_log(&self) -> &[u32] {
        self.serve.as_ref().map_or(&[], |s| &s.log)
    }

    fn on_message(&mut self, from: u32, msg: LockMsg, out: &mut Fx) -> Step {
        match msg {
            LockMsg::Request { .. } | LockMsg::Release { .. } | LockMsg::Finished { .. } => {
                let server = self.client.server;
                let s = self.serve.as_mut().ok_or(LockError::OutOfOrder)?;
                if from == server {
                    return Err(LockError::NotParticipant(from));
                }
                s.on_client(from, msg, out)
            }
            LockMsg::Grant { seq } => {
                if from != self.client.server || self.serve.is_some() {
                    return Err(LockError::OutOfOrder);
                }
                match self.ask {
                    Ask::Asked(s) if s == seq => {
                        self.ask = Ask::Held(seq);
                        out.effect(LockEffect::Granted);
                        Ok(())
                    }
                    Ask::Held(s) if s == seq => Err(LockError::Duplicate),
                    _ if seq < self.client.asked && self.ask == Ask::Idle => {
                        Err(LockError::Duplicate)
                    }
                    _ => Err(LockError::OutOfOrder),
                }
            }
            _ => Err(LockError::OutOfOrder),
        }
    }
}

impl Serve {
    fn on_client(&mut self, from: u32, msg: LockMsg, out: &mut Fx) -> Step {
        let c = from as usize;
        match msg {
            LockMsg::Request { seq } => {
                self.clients.check_next(from, seq)?;
                if self.status[c] != Ask::Idle {
                    return Err(LockError::OutOfOrder);
                }
                self.clients.take(from);
                self.status[c] = Ask::Asked(seq);
                if self.holder.is_none() {
                    self.grant(from, seq, out);
                } else {
                    self.queue.push_back((from, seq));
                }
            }
            LockMsg::Release { seq } => {
                match self.status[c] {
                    Ask::Held(s) if s == seq => {}
                    Ask::Idle if seq < self.clients.made(from) => return Err(LockError::Duplicate),
                    _ => return Err(LockError::OutOfOrder),
                }
                self.status[c] = Ask::Idle;
                if self.holder == Some(from) {
                    self.holder = None;
                    if let Some((next, s)) = self.queue.pop_front() {
                        self.grant(next, s, out);
                    }
                }
            }
            LockMsg::Finished { asked } => self.clients.finish(from, asked)?,
            _ => return Err(LockError::OutOfOrder),
        }
        Ok(())
    }

    fn grant(&mut self, to: u32, seq: u64, out: &mut Fx) {
        self.status[to as usize] = Ask::Held(seq);
        if !self.broken {
            self.holder = Some(to);
        }
        self.log.push(to);
        out.send_raw(to, LockMsg::Grant { seq }.encode());
    }
}
