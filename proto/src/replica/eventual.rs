//! **Guarantee:** eventual convergence (see the parent module): once writes
//! stop and every gossip message arrived, every replica holds, per key,
//! the value of the write with the greatest Lamport stamp (time, then
//! core).
//!
//! A write is applied locally with the next Lamport time of this core and
//! gossiped to every other replica; a receiver advances its clock past the
//! write's and keeps the write if its stamp beats the key's (last writer
//! wins). Reads and writes complete at once.
//!
//! Gossip is asynchronous and batched, as in systems that propagate
//! updates in the background: a replica sends its writes every
//! [`GOSSIP_BATCH`] writes, and the rest when its driver calls
//! [`super::Replica::flush`] (when its client goes idle). A replica with
//! writes not yet sent is not quiescent.

use alloc::vec::Vec;

use super::{Core, Fx, Kind, Op, ReplicaError, ReplicaMsg, Stamp, Step};

/// Writes a replica keeps before it gossips them.
pub const GOSSIP_BATCH: usize = 8;

/// The eventual model's part of one replica.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Eventual {
    /// This core's Lamport clock.
    clock: u64,
    /// Writes applied here and not yet gossiped.
    unsent: Vec<ReplicaMsg>,
}

impl Eventual {
    pub(crate) fn invoke(&mut self, c: &mut Core, op: Op, out: &mut Fx) {
        match op {
            Op::Write { key, value } => {
                self.clock += 1;
                let stamp = Stamp {
                    version: self.clock,
                    origin: c.me,
                };
                c.store.put_if_newer(key, value, stamp);
                self.unsent.push(ReplicaMsg::Gossip {
                    clock: self.clock,
                    origin: c.me,
                    key,
                    value,
                });
                if self.unsent.len() >= GOSSIP_BATCH {
                    self.flush(c, out);
                }
                c.complete(value, self.clock, out);
            }
            Op::Read { key } => c.read_now(key, out),
        }
    }

    /// Gossips every write not yet sent.
    pub(crate) fn flush(&mut self, c: &Core, out: &mut Fx) {
        for msg in self.unsent.drain(..) {
            c.to_others(msg, out);
        }
    }

    /// Whether every write was gossiped.
    pub(crate) fn quiescent(&self) -> bool {
        self.unsent.is_empty()
    }
}

impl Kind for Eventual {
    fn handle(&mut self, c: &mut Core, from: u32, msg: ReplicaMsg, _out: &mut Fx) -> Step {
        match msg {
            ReplicaMsg::Gossip {
                clock,
                origin,
                key,
                value,
            } => {
                if origin != from || from == c.me {
                    return Err(ReplicaError::UnknownCore(origin));
                }
                self.clock = self.clock.max(clock);
                c.store.put_if_newer(
                    key,
                    value,
                    Stamp {
                        version: clock,
                        origin,
                    },
                );
                Ok(())
            }
            _ => Err(ReplicaError::WrongModel),
        }
    }
}
