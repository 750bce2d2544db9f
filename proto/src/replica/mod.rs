//! **Guarantee**, per model ([`Model`]), for the operations of clients that
//! call [`Replica::invoke`] one operation at a time per core:
//!
//! - **linearizable** (`lin`): every history of completed operations is
//!   linearizable: each operation takes effect at one instant between its
//!   invocation and its completion;
//! - **sequential** (`seq`): every history is sequentially consistent:
//!   there is one total order of all operations that keeps each core's
//!   program order and in which every read returns the last write before
//!   it;
//! - **eventual** (`eventual`): reads and writes complete at once, on the
//!   local replica; once writes stop and the messages in flight arrive,
//!   every replica holds the same map, where each key has the value of the
//!   write with the greatest Lamport stamp (time, then core). Nothing more:
//!   under concurrent writes its histories are in general neither
//!   linearizable nor sequentially consistent (the negative control of
//!   experiment E7).
//!
//! A replicated map of u64 keys to u64 values (every key reads 0 until
//! written), with a replica in every core's monitor, as sans-IO machines:
//! one [`Replica`] per core takes its client's operations
//! ([`Replica::invoke`]) and replica messages in, and gives messages and
//! [`ReplicaEffect::Completed`] out.
//!
//! - **Linearizable** (`lin.rs`): a primary copy (core 0) orders the writes
//!   and replicates each one synchronously to every replica by two-phase
//!   commit: `Prepare` to every replica, which holds the write invisible
//!   and votes; once every replica voted, `Commit` to every replica and
//!   `WriteDone` to the writer. Reads are served by the local replica, at
//!   once unless the key has a prepared, uncommitted write, in which case
//!   the read waits for its commit (as CRAQ's reads of a dirty object do).
//!   Why it holds: a write takes effect when the primary has every vote; a
//!   replica shows the new value only after that instant, and shows the old
//!   one only before its own vote, which is before that instant.
//! - **Sequential** (`seq.rs`): a sequencer (core 0) numbers the writes and
//!   sends each, in order, to every replica (itself included); a write
//!   completes when the writer's own replica applies it, a read at once
//!   from the local replica. Every replica applies the same writes in the
//!   same order, and a core reads its own writes.
//! - **Eventual** (`eventual.rs`): a write is applied locally with the next
//!   Lamport time and gossiped to every other replica, in batches; a
//!   replica keeps, per key, the write with the greatest stamp (last writer
//!   wins).
//!
//! Channels are FIFO per pair of cores, as URPC channels are; the machines
//! rely on it (a `Commit` never overtakes its `Prepare`). A message that
//! does not fit (malformed, of another model, from a core that does not
//! exist or has no business sending it, repeated, or out of order) is a
//! typed [`ReplicaError`] that changes nothing.
//!
//! [`Replica::broken`] builds the deliberately wrong variants ([`Bug`])
//! that the simulator and the tests must catch; [`ReplicaModel`] is the
//! reference model and the invariants both check runs against.

mod eventual;
mod lin;
mod model;
mod msg;
mod seq;
mod store;
#[cfg(test)]
mod tests;

pub use eventual::GOSSIP_BATCH;
pub use model::{ReplicaModel, ReplicaViolation};
pub use msg::{ReplicaMsg, tag};
pub use store::{Stamp, Store};

use super::{Handled, Inbound, Out, Protocol};
use crate::wire::registry::REPLICA;
use crate::wire::{Malformed, TagRange};

/// The core that is the primary (linearizable) or sequencer (sequential).
pub const LEADER: u32 = 0;

/// A consistency model.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, strum::IntoStaticStr, strum::EnumString)]
#[strum(serialize_all = "kebab-case")]
pub enum Model {
    /// Primary copy with synchronous replication.
    Lin,
    /// A sequencer orders writes; reads are local.
    Seq,
    /// Local writes gossiped, last writer wins by Lamport stamp.
    Eventual,
}

impl Model {
    /// Every model, in the order of the experiment's series.
    pub const ALL: [Model; 3] = [Model::Lin, Model::Seq, Model::Eventual];

    /// The name on the command line and in results.
    pub fn name(self) -> &'static str {
        self.into()
    }

    /// The model named `name` ([`Model::name`]).
    pub fn from_name(name: &str) -> Option<Model> {
        name.parse().ok()
    }
}

/// A deliberately wrong variant, for the tests and the simulator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, strum::IntoStaticStr, strum::EnumString)]
#[strum(serialize_all = "kebab-case")]
pub enum Bug {
    /// Linearizable: the primary answers the writer before the replicas
    /// voted.
    EarlyReply,
    /// Linearizable: the primary commits with one vote missing.
    CommitShort,
}

impl Bug {
    /// Every bug.
    pub const ALL: [Bug; 2] = [Bug::EarlyReply, Bug::CommitShort];

    /// The name on the command line.
    pub fn name(self) -> &'static str {
        self.into()
    }

    /// The bug named `name` ([`Bug::name`]).
    pub fn from_name(name: &str) -> Option<Bug> {
        name.parse().ok()
    }
}

/// A client operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Op {
    /// Read a key.
    Read {
        /// The key.
        key: u64,
    },
    /// Write a value to a key.
    Write {
        /// The key.
        key: u64,
        /// The value.
        value: u64,
    },
}

impl Op {
    /// The key the operation is on.
    pub fn key(self) -> u64 {
        match self {
            Op::Read { key } | Op::Write { key, .. } => key,
        }
    }
}

/// A completed client operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Completion {
    /// The operation.
    pub op: Op,
    /// What a read returned, or what a write wrote.
    pub value: u64,
    /// The version (lin, seq) or Lamport time (eventual) of the write whose
    /// value a read returned, or that a write got.
    pub version: u64,
}

/// What a replica tells its core.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReplicaEffect {
    /// The client's operation completed.
    Completed(Completion),
}

/// A refused message or call; its reason ([`Refusal::reason`](crate::Refusal::reason)) is its
/// variant's name in kebab case.
#[derive(Clone, Copy, Debug, PartialEq, Eq, strum::IntoStaticStr)]
#[strum(serialize_all = "kebab-case")]
pub enum ReplicaError {
    /// The message does not decode.
    Malformed(Malformed),
    /// The message came from, or names, a core that does not exist.
    UnknownCore(u32),
    /// The message belongs to another model.
    WrongModel,
    /// The message must go to, or come from, the leader and did not.
    NotLeader(u32),
    /// The message repeats one already received.
    Duplicate,
    /// The message does not fit the replica's state.
    OutOfOrder,
    /// `invoke` while this core's previous operation has not completed.
    Busy,
}

/// What a replica gives out.
pub(crate) type Fx = Out<ReplicaEffect>;

/// A handled message or call, or why it was refused.
pub(crate) type Step = Result<(), ReplicaError>;

/// What every consistency model's machine does with a message.
trait Kind {
    /// A message from core `from` (one that exists).
    fn handle(&mut self, c: &mut Core, from: u32, msg: ReplicaMsg, out: &mut Fx) -> Step;
}

crate::refusal! {
    ReplicaError:
    UnknownCore(c) => "unknown core {c}", WrongModel => "a message of another model",
    NotLeader(c) => "core {c} is not the leader's peer here", Duplicate => "duplicate message",
    OutOfOrder => "message out of order", Busy => "the previous operation has not completed",
}

/// The client's operation in progress.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Pending {
    /// Its request number.
    pub seq: u64,
    /// The operation.
    pub op: Op,
}

/// What every model shares: who this core is, its copy, its client.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Core {
    pub me: u32,
    pub cores: u32,
    pub store: Store,
    pub pending: Option<Pending>,
    pub next_seq: u64,
}

impl Core {
    /// Completes the client's operation.
    pub fn complete(&mut self, value: u64, version: u64, out: &mut Out<ReplicaEffect>) {
        if let Some(p) = self.pending.take() {
            out.effect(ReplicaEffect::Completed(Completion {
                op: p.op,
                value,
                version,
            }));
        }
    }

    /// Completes a read from this copy now.
    pub fn read_now(&mut self, key: u64, out: &mut Out<ReplicaEffect>) {
        let (value, stamp) = self.store.get(key);
        self.complete(value, stamp.version, out);
    }

    /// Sends `msg` to every core but this one.
    pub fn to_others(&self, msg: ReplicaMsg, out: &mut Out<ReplicaEffect>) {
        for c in (0..self.cores).filter(|&c| c != self.me) {
            out.send_raw(c, msg.encode());
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Machine {
    Lin(lin::Lin),
    Seq(seq::Seq),
    Eventual(eventual::Eventual),
}

/// One core's replica of the map.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Replica {
    model: Model,
    core: Core,
    machine: Machine,
}

impl Replica {
    /// Core `me`'s replica under `model`, of `cores` cores (`me < cores`).
    pub fn new(model: Model, me: u32, cores: u32) -> Replica {
        Replica::build(model, me, cores, None)
    }

    /// A deliberately wrong replica (see [`Bug`]); the bugs are of the
    /// linearizable model, so `bug` is ignored under the others.
    pub fn broken(model: Model, me: u32, cores: u32, bug: Bug) -> Replica {
        Replica::build(model, me, cores, Some(bug))
    }

    fn build(model: Model, me: u32, cores: u32, bug: Option<Bug>) -> Replica {
        assert!(me < cores, "core {me} of {cores}");
        let machine = match model {
            Model::Lin => Machine::Lin(lin::Lin::new(cores, bug)),
            Model::Seq => Machine::Seq(seq::Seq::default()),
            Model::Eventual => Machine::Eventual(eventual::Eventual::default()),
        };
        Replica {
            model,
            core: Core {
                me,
                cores,
                store: Store::new(),
                pending: None,
                next_seq: 0,
            },
            machine,
        }
    }

    /// The model.
    pub fn model(&self) -> Model {
        self.model
    }

    /// Starts the client's operation `op`; its completion comes as a
    /// [`ReplicaEffect::Completed`], perhaps in `out` at once.
    pub fn invoke(&mut self, op: Op, out: &mut Out<ReplicaEffect>) -> Result<(), ReplicaError> {
        if self.core.pending.is_some() {
            return Err(ReplicaError::Busy);
        }
        let seq = self.core.next_seq;
        self.core.next_seq += 1;
        self.core.pending = Some(Pending { seq, op });
        let c = &mut self.core;
        match &mut self.machine {
            Machine::Lin(m) => m.invoke(c, seq, op, out),
            Machine::Seq(m) => m.invoke(c, seq, op, out),
            Machine::Eventual(m) => m.invoke(c, op, out),
        }
        Ok(())
    }

    /// Whether the client's operation is in progress.
    pub fn busy(&self) -> bool {
        self.core.pending.is_some()
    }

    /// Whether this replica owes nobody anything: no operation in progress,
    /// no write held, ordered or waiting here.
    pub fn quiescent(&self) -> bool {
        self.core.pending.is_none()
            && match &self.machine {
                Machine::Lin(m) => m.quiescent(),
                Machine::Seq(m) => m.quiescent(),
                Machine::Eventual(m) => m.quiescent(),
            }
    }

    /// Sends what the replica holds back for batching (the eventual
    /// model's gossip); a driver calls it when its client goes idle. A
    /// no-op under the other models.
    pub fn flush(&mut self, out: &mut Out<ReplicaEffect>) {
        if let Machine::Eventual(m) = &mut self.machine {
            m.flush(&self.core, out);
        }
    }

    /// This replica's copy.
    pub fn store(&self) -> &Store {
        &self.core.store
    }

    /// Linearizable: whether write `version` is held or applied here.
    /// Under the other models: whether this copy applied `version` writes.
    pub fn knows(&self, version: u64) -> bool {
        match &self.machine {
            Machine::Lin(m) => m.knows(version),
            _ => self.core.store.applied() >= version,
        }
    }

    /// Handles a decoded message from core `from`.
    pub fn handle(
        &mut self,
        from: u32,
        msg: ReplicaMsg,
        out: &mut Out<ReplicaEffect>,
    ) -> Result<(), ReplicaError> {
        if from >= self.core.cores {
            return Err(ReplicaError::UnknownCore(from));
        }
        let c = &mut self.core;
        match &mut self.machine {
            Machine::Lin(m) => m.handle(c, from, msg, out),
            Machine::Seq(m) => m.handle(c, from, msg, out),
            Machine::Eventual(m) => m.handle(c, from, msg, out),
        }
    }
}

impl Protocol for Replica {
    type Effect = ReplicaEffect;
    type Error = ReplicaError;
    const TAGS: TagRange = REPLICA;

    fn on_message(&mut self, _: u64, m: &Inbound, out: &mut Out<ReplicaEffect>) -> Handled<Self> {
        self.handle(
            m.from,
            ReplicaMsg::decode(&m.msg).map_err(ReplicaError::Malformed)?,
            out,
        )
    }
}
