//! **Guarantee:** sequentially consistent reads and writes (see the parent
//! module): every replica applies the same writes in the sequencer's
//! order, a write completes only when its writer's replica applied it, and
//! a read returns the local replica's value.
//!
//! The sequencer ([`LEADER`]) numbers writes in arrival order and sends
//! each to every replica, itself included; per-channel FIFO delivers them
//! in that order.

use super::{Core, Fx, Kind, LEADER, Op, ReplicaError, ReplicaMsg, Stamp, Step};

/// The sequential model's part of one replica.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Seq {
    /// Sequencer: writes numbered so far.
    numbered: u64,
}

impl Seq {
    pub(crate) fn quiescent(&self) -> bool {
        true
    }

    pub(crate) fn invoke(&mut self, c: &mut Core, seq: u64, op: Op, out: &mut Fx) {
        match op {
            Op::Write { key, value } => {
                out.send_raw(LEADER, ReplicaMsg::SeqWrite { seq, key, value }.encode());
            }
            Op::Read { key } => c.read_now(key, out),
        }
    }
}

impl Kind for Seq {
    fn handle(&mut self, c: &mut Core, from: u32, msg: ReplicaMsg, out: &mut Fx) -> Step {
        match msg {
            ReplicaMsg::SeqWrite { seq, key, value } => {
                if c.me != LEADER {
                    return Err(ReplicaError::NotLeader(c.me));
                }
                self.numbered += 1;
                let apply = ReplicaMsg::Apply {
                    version: self.numbered,
                    origin: from,
                    seq,
                    key,
                    value,
                }
                .encode();
                for core in 0..c.cores {
                    out.send_raw(core, apply);
                }
            }
            ReplicaMsg::Apply {
                version,
                origin,
                seq,
                key,
                value,
            } => {
                if from != LEADER {
                    return Err(ReplicaError::NotLeader(from));
                }
                if origin >= c.cores {
                    return Err(ReplicaError::UnknownCore(origin));
                }
                if version != c.store.applied() + 1 {
                    return Err(ReplicaError::OutOfOrder);
                }
                let mine = origin == c.me;
                if mine && c.pending.is_none_or(|p| p.seq != seq) {
                    return Err(ReplicaError::OutOfOrder);
                }
                c.store.put(key, value, Stamp { version, origin });
                if mine {
                    c.complete(value, version, out);
                }
            }
            ReplicaMsg::LinWrite { .. }
            | ReplicaMsg::Prepare { .. }
            | ReplicaMsg::Vote { .. }
            | ReplicaMsg::Commit { .. }
            | ReplicaMsg::WriteDone { .. }
            | ReplicaMsg::Gossip { .. } => return Err(ReplicaError::WrongModel),
        }
        Ok(())
    }
}
