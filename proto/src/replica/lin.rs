//! **Guarantee:** linearizable reads and writes (see the parent module):
//! a write takes effect when the primary holds every replica's vote; no
//! replica shows it before, every replica shows it (or a later write)
//! after its commit, and a read that finds the key's write held waits for
//! that commit.
//!
//! Primary copy with synchronous replication by two-phase commit. The
//! primary ([`LEADER`]) runs one write at a time, in arrival order.

use alloc::collections::VecDeque;
use alloc::vec;
use alloc::vec::Vec;

use super::{Bug, Core, Fx, Kind, LEADER, Op, ReplicaError, ReplicaMsg, Stamp, Step};

/// A write this replica holds, prepared but not yet visible.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Held {
    version: u64,
    key: u64,
    value: u64,
}

/// A write waiting at the primary.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Queued {
    origin: u32,
    seq: u64,
    key: u64,
    value: u64,
}

/// The primary's write in progress.
#[derive(Clone, Debug, PartialEq, Eq)]
struct InFlight {
    write: Queued,
    version: u64,
    voted: Vec<bool>,
    votes: u32,
}

/// The linearizable model's part of one replica.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Lin {
    /// The last version committed here.
    committed: u64,
    /// The write held here, if any.
    held: Option<Held>,
    /// A read waiting for the held write's commit.
    waiting: bool,
    /// Primary: writes not yet started.
    queue: VecDeque<Queued>,
    /// Primary: the write in progress.
    flight: Option<InFlight>,
    /// Primary: versions up to this one were decided.
    decided: u64,
    bug: Option<Bug>,
}

impl Lin {
    pub(crate) fn new(_cores: u32, bug: Option<Bug>) -> Lin {
        Lin {
            committed: 0,
            held: None,
            waiting: false,
            queue: VecDeque::new(),
            flight: None,
            decided: 0,
            bug,
        }
    }

    pub(crate) fn quiescent(&self) -> bool {
        self.held.is_none() && self.queue.is_empty() && self.flight.is_none() && !self.waiting
    }

    pub(crate) fn knows(&self, version: u64) -> bool {
        self.committed >= version || self.held.is_some_and(|h| h.version == version)
    }

    pub(crate) fn invoke(&mut self, c: &mut Core, seq: u64, op: Op, out: &mut Fx) {
        match op {
            Op::Write { key, value } => {
                out.send_raw(LEADER, ReplicaMsg::LinWrite { seq, key, value }.encode());
            }
            Op::Read { key } => self.read(c, key, out),
        }
    }

    fn read(&mut self, c: &mut Core, key: u64, out: &mut Fx) {
        if self.held.is_some_and(|h| h.key == key) {
            self.waiting = true;
        } else {
            c.read_now(key, out);
        }
    }

    /// Primary: a vote for the write in progress.
    fn vote(&mut self, c: &mut Core, from: u32, version: u64, out: &mut Fx) -> Step {
        if c.me != LEADER || from == LEADER {
            return Err(ReplicaError::NotLeader(c.me));
        }
        let Some(f) = self.flight.as_mut() else {
            // A vote that arrives after a short commit (the broken
            // variant) is one it did not wait for.
            return if self.bug == Some(Bug::CommitShort) && version <= self.decided {
                Ok(())
            } else {
                Err(ReplicaError::OutOfOrder)
            };
        };
        if version != f.version {
            return if self.bug == Some(Bug::CommitShort) && version <= self.decided {
                Ok(())
            } else {
                Err(ReplicaError::OutOfOrder)
            };
        }
        let slot = &mut f.voted[from as usize];
        if *slot {
            return Err(ReplicaError::Duplicate);
        }
        *slot = true;
        f.votes += 1;
        if f.votes >= self.needed(c.cores) {
            self.decide(c, out);
        }
        Ok(())
    }

    /// Votes the primary waits for.
    fn needed(&self, cores: u32) -> u32 {
        let all = cores - 1;
        match self.bug {
            Some(Bug::CommitShort) => all.saturating_sub(1),
            _ => all,
        }
    }

    /// Primary: starts the next queued write if none is in progress. (With
    /// nobody to wait for, [`Lin::decide`] starts the one after: the
    /// recursion is as deep as the queue, at most one write per core.)
    fn start_next(&mut self, c: &mut Core, out: &mut Fx) {
        if self.flight.is_none() {
            let Some(write) = self.queue.pop_front() else {
                return;
            };
            let version = self.committed + 1;
            self.held = Some(Held {
                version,
                key: write.key,
                value: write.value,
            });
            self.flight = Some(InFlight {
                write,
                version,
                voted: vec![false; c.cores as usize],
                votes: 0,
            });
            c.to_others(
                ReplicaMsg::Prepare {
                    version,
                    key: write.key,
                    value: write.value,
                },
                out,
            );
            if self.bug == Some(Bug::EarlyReply) {
                out.send_raw(
                    write.origin,
                    ReplicaMsg::WriteDone {
                        seq: write.seq,
                        version,
                    }
                    .encode(),
                );
            }
            if self.needed(c.cores) == 0 {
                self.decide(c, out);
            }
        }
    }

    /// Primary: every vote is in; commit everywhere and answer the writer.
    fn decide(&mut self, c: &mut Core, out: &mut Fx) {
        let Some(f) = self.flight.take() else {
            return;
        };
        self.decided = f.version;
        c.to_others(ReplicaMsg::Commit { version: f.version }, out);
        self.commit(c, out);
        if self.bug != Some(Bug::EarlyReply) {
            out.send_raw(
                f.write.origin,
                ReplicaMsg::WriteDone {
                    seq: f.write.seq,
                    version: f.version,
                }
                .encode(),
            );
        }
        self.start_next(c, out);
    }

    /// Makes the held write visible here and answers a waiting read.
    fn commit(&mut self, c: &mut Core, out: &mut Fx) {
        let Some(h) = self.held.take() else {
            return;
        };
        c.store.put(
            h.key,
            h.value,
            Stamp {
                version: h.version,
                origin: LEADER,
            },
        );
        self.committed = h.version;
        if self.waiting {
            self.waiting = false;
            if let Some(Op::Read { key }) = c.pending.map(|p| p.op) {
                c.read_now(key, out);
            }
        }
    }
}

impl Kind for Lin {
    fn handle(&mut self, c: &mut Core, from: u32, msg: ReplicaMsg, out: &mut Fx) -> Step {
        let leader = c.me == LEADER;
        match msg {
            ReplicaMsg::LinWrite { seq, key, value } => {
                if !leader {
                    return Err(ReplicaError::NotLeader(c.me));
                }
                self.queue.push_back(Queued {
                    origin: from,
                    seq,
                    key,
                    value,
                });
                self.start_next(c, out);
            }
            ReplicaMsg::Prepare {
                version,
                key,
                value,
            } => {
                if from != LEADER || leader {
                    return Err(ReplicaError::NotLeader(from));
                }
                if self.held.is_some() || version != self.committed + 1 {
                    return Err(ReplicaError::OutOfOrder);
                }
                self.held = Some(Held {
                    version,
                    key,
                    value,
                });
                out.send_raw(LEADER, ReplicaMsg::Vote { version }.encode());
            }
            ReplicaMsg::Vote { version } => self.vote(c, from, version, out)?,
            ReplicaMsg::Commit { version } => {
                if from != LEADER || leader {
                    return Err(ReplicaError::NotLeader(from));
                }
                if self.held.is_none_or(|h| h.version != version) {
                    return Err(ReplicaError::OutOfOrder);
                }
                self.commit(c, out);
            }
            ReplicaMsg::WriteDone { seq, version } => {
                if from != LEADER {
                    return Err(ReplicaError::NotLeader(from));
                }
                match c.pending {
                    Some(p) if p.seq == seq && matches!(p.op, Op::Write { .. }) => {
                        let value = match p.op {
                            Op::Write { value, .. } => value,
                            Op::Read { .. } => 0,
                        };
                        c.complete(value, version, out);
                    }
                    _ => return Err(ReplicaError::OutOfOrder),
                }
            }
            ReplicaMsg::SeqWrite { .. } | ReplicaMsg::Apply { .. } | ReplicaMsg::Gossip { .. } => {
                return Err(ReplicaError::WrongModel);
            }
        }
        Ok(())
    }
}
