//! **Guarantee checked:** for clients that make one operation at a time
//! per core, a [`ReplicaModel`] that is told every call of every client
//! and every effect of every replica returns a [`ReplicaViolation`] at the
//! first step where one of these breaks:
//!
//! - every completion answers the operation its client has in progress,
//!   exactly once;
//! - under the linearizable and sequential models, replicas that applied
//!   the same number of writes applied the same writes in the same order
//!   (checked after every step, [`ReplicaModel::step`]);
//! - with the map's rules on ([`ReplicaModel::new`]), operations behave as
//!   on one sequential map ordered by the versions (eventual: Lamport
//!   times) the replicas give: under the linearizable and sequential
//!   models a version names one write (its key and value), version 0 the
//!   initial 0; per key, a core's reads never go back in time and see its
//!   own writes, and a write's version is newer than any its core saw; and,
//!   under the linearizable model, an operation sees every operation on
//!   its key that completed before it was invoked (a write: is newer), and
//!   a write completes only once every replica holds it;
//! - at the end of a run ([`ReplicaModel::finish`]), every client made all
//!   its operations and they completed, every replica is at rest, and all
//!   hold the same map: with the map's rules on, the model's map, where
//!   each key has the value of the write with the greatest stamp (version,
//!   then the writer's core; the eventual model's last writer wins).
//!
//! With the map's rules off, the reads and writes are left to a history
//! checker, which decides linearizability or sequential consistency of
//! the whole history.
//!
//! The reference model of the replicated map, written once, for the host
//! tests and the simulator: pure, without I/O or randomness.

use alloc::collections::BTreeMap;
use alloc::vec;
use alloc::vec::Vec;

use super::{Completion, Model, Op, Replica, ReplicaEffect, Stamp};

/// An invariant that broke, and the core it broke on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReplicaViolation {
    /// A completion while the client had no operation in progress.
    Unasked {
        /// The client's core.
        core: u32,
    },
    /// A completion of another operation than the one in progress.
    WrongOp {
        /// The client's core.
        core: u32,
        /// What completed.
        done: Op,
        /// What was in progress.
        asked: Op,
    },
    /// A client invoked an operation while one was in progress, or more
    /// operations than its share.
    Overlap {
        /// The client's core.
        core: u32,
    },
    /// A linearizable write completed while a replica does not hold it.
    NotHeld {
        /// The writer's core.
        core: u32,
        /// The write.
        op: Op,
        /// Its version.
        version: u64,
        /// The replica that does not hold it.
        replica: u32,
    },
    /// An operation's version is older than one it must see.
    Stale {
        /// The client's core.
        core: u32,
        /// The operation.
        op: Op,
        /// The version it got.
        version: u64,
        /// The version it must see (a write: exceed).
        floor: u64,
    },
    /// A version that names another key or value than before.
    Mismatch {
        /// The client's core.
        core: u32,
        /// The operation.
        op: Op,
        /// What it returned or wrote.
        value: u64,
        /// Its version.
        version: u64,
        /// The key and value that version names.
        names: (u64, u64),
    },
    /// A replica applied its first writes in another order than another.
    Order {
        /// The replica's core.
        core: u32,
        /// How many writes it applied.
        applied: u64,
    },
    /// A client did not finish its operations.
    Unfinished {
        /// The client's core.
        core: u32,
        /// Operations never invoked.
        left: u32,
        /// Whether one is still in progress.
        busy: bool,
    },
    /// A replica is not at rest at the end.
    Restless {
        /// The replica's core.
        core: u32,
    },
    /// A replica holds another map than the model (or than replica 0).
    Diverged {
        /// The replica's core.
        core: u32,
        /// The first key where it differs.
        key: u64,
        /// Its value there (`None`: never written).
        got: Option<u64>,
        /// The value it should hold.
        want: Option<u64>,
    },
}

crate::display_as! {
    ReplicaViolation:
    Unasked { core } => "core {core}: a completion with no operation in progress",
    WrongOp { core, done, asked } =>
        "core {core}: completed {done:?}, but {asked:?} was in progress",
    Overlap { core } =>
        "core {core}: its client invoked an operation while one was in progress, or one too many",
    NotHeld { core, op, version, replica } =>
        "core {core}'s write {op:?} completed as version {version} while replica {replica} does not hold it",
    Stale { core, op, version, floor } =>
        "core {core}: {op:?} got version {version}, older than version {floor} it must see",
    Mismatch { core, op, value, version, names: (key, was) } =>
        "core {core}: {op:?} gave value {value} as version {version}, which is the write of {was} to key {key}",
    Order { core, applied } =>
        "replica {core} applied its first {applied} writes in another order than another replica",
    Unfinished { core, left, busy } =>
        "core {core}'s client did not finish: {left} operations left, one in progress: {busy}",
    Restless { core } => "replica {core} is not at rest at the end",
    Diverged { core, key, got, want } =>
        "replica {core} holds {got:?} at key {key} at the end, where the map holds {want:?}",
}

/// One client, as the model sees it.
#[derive(Clone, Debug, Default)]
struct Client {
    /// Operations invoked so far.
    invoked: u32,
    /// The operation in progress, and the version it must see.
    pending: Option<(Op, u64)>,
    /// Per key, the newest version this core saw or wrote.
    seen: BTreeMap<u64, u64>,
}

/// The replicated map's reference model and invariants (see the module
/// doc).
#[derive(Clone, Debug)]
pub struct ReplicaModel {
    model: Model,
    ops: u32,
    map: bool,
    clients: Vec<Client>,
    /// Linearizable and sequential: the key and value of each version, as
    /// first seen.
    writes: BTreeMap<u64, (u64, u64)>,
    /// Linearizable: per key, the newest version an operation that
    /// completed saw or wrote.
    done: BTreeMap<u64, u64>,
    /// The digest of the first `n` applied writes, as first seen.
    prefixes: BTreeMap<u64, u64>,
    /// Per key, the stamp and value of the newest completed write.
    last: BTreeMap<u64, (Stamp, u64)>,
}

impl ReplicaModel {
    /// The model of `cores` clients under `model`, each of which makes
    /// `ops` operations; `map`: check the reads and writes against the
    /// map's rules (off: leave them to a history checker).
    pub fn new(model: Model, cores: u32, ops: u32, map: bool) -> ReplicaModel {
        ReplicaModel {
            model,
            ops,
            map,
            clients: vec![Client::default(); cores as usize],
            writes: BTreeMap::new(),
            done: BTreeMap::new(),
            prefixes: BTreeMap::new(),
            last: BTreeMap::new(),
        }
    }

    /// Core `core`'s client invoked `op`.
    pub fn invoke(&mut self, core: u32, op: Op) -> Result<(), ReplicaViolation> {
        let lin = self.model == Model::Lin;
        let floor_done = self.done.get(&op.key()).copied().unwrap_or(0);
        let c = &mut self.clients[core as usize];
        if c.pending.is_some() || c.invoked >= self.ops {
            return Err(ReplicaViolation::Overlap { core });
        }
        c.invoked += 1;
        let mut floor = c.seen.get(&op.key()).copied().unwrap_or(0);
        if lin {
            floor = floor.max(floor_done);
        }
        c.pending = Some((op, floor));
        Ok(())
    }

    /// Core `core`'s replica gave `effects`; `replicas` are every core's
    /// replicas after that step.
    pub fn effects(
        &mut self,
        core: u32,
        effects: &[ReplicaEffect],
        replicas: &[Replica],
    ) -> Result<(), ReplicaViolation> {
        for &ReplicaEffect::Completed(done) in effects {
            self.completed(core, done, replicas)?;
        }
        Ok(())
    }

    fn completed(
        &mut self,
        core: u32,
        done: Completion,
        replicas: &[Replica],
    ) -> Result<(), ReplicaViolation> {
        let Some((op, floor)) = self.clients[core as usize].pending.take() else {
            return Err(ReplicaViolation::Unasked { core });
        };
        if op != done.op {
            return Err(ReplicaViolation::WrongOp {
                core,
                done: done.op,
                asked: op,
            });
        }
        let version = done.version;
        if let Op::Write { key, value } = op {
            let stamp = Stamp {
                version,
                origin: core,
            };
            if self.last.get(&key).is_none_or(|&(s, _)| s < stamp) {
                self.last.insert(key, (stamp, value));
            }
        }
        if !self.map {
            return Ok(());
        }
        if self.model == Model::Lin
            && matches!(op, Op::Write { .. })
            && let Some(r) = replicas.iter().position(|r| !r.knows(version))
        {
            return Err(ReplicaViolation::NotHeld {
                core,
                op,
                version,
                replica: r as u32,
            });
        }
        let stale = match op {
            Op::Read { .. } => version < floor,
            Op::Write { .. } => version <= floor,
        };
        if stale {
            return Err(ReplicaViolation::Stale {
                core,
                op,
                version,
                floor,
            });
        }
        if self.model != Model::Eventual {
            let names = if version == 0 {
                (op.key(), 0)
            } else {
                *self.writes.entry(version).or_insert((op.key(), done.value))
            };
            if names != (op.key(), done.value) {
                return Err(ReplicaViolation::Mismatch {
                    core,
                    op,
                    value: done.value,
                    version,
                    names,
                });
            }
        }
        let seen = self.clients[core as usize]
            .seen
            .entry(op.key())
            .or_default();
        *seen = (*seen).max(version);
        if self.model == Model::Lin {
            let d = self.done.entry(op.key()).or_default();
            *d = (*d).max(version);
        }
        Ok(())
    }

    /// Checks the replicas after a step: under the linearizable and
    /// sequential models, the same prefixes of writes in the same order.
    pub fn step(&mut self, replicas: &[Replica]) -> Result<(), ReplicaViolation> {
        if self.model == Model::Eventual {
            return Ok(());
        }
        for (core, r) in replicas.iter().enumerate() {
            let s = r.store();
            let d = *self.prefixes.entry(s.applied()).or_insert(s.digest());
            if d != s.digest() {
                return Err(ReplicaViolation::Order {
                    core: core as u32,
                    applied: s.applied(),
                });
            }
        }
        Ok(())
    }

    /// Checks the end of a run in which no core failed: every operation
    /// made and completed, every replica at rest, every map the same.
    pub fn finish(&self, replicas: &[Replica]) -> Result<(), ReplicaViolation> {
        if let Some((core, c)) = self
            .clients
            .iter()
            .enumerate()
            .find(|(_, c)| c.invoked < self.ops || c.pending.is_some())
        {
            return Err(ReplicaViolation::Unfinished {
                core: core as u32,
                left: self.ops - c.invoked,
                busy: c.pending.is_some(),
            });
        }
        if let Some(core) = replicas.iter().position(|r| !r.quiescent()) {
            return Err(ReplicaViolation::Restless { core: core as u32 });
        }
        let want: BTreeMap<u64, u64> = match (self.map, replicas.first()) {
            (true, _) => self.last.iter().map(|(&k, &(_, v))| (k, v)).collect(),
            (false, Some(r)) => map_of(r),
            (false, None) => BTreeMap::new(),
        };
        for (core, r) in replicas.iter().enumerate() {
            let got = map_of(r);
            let key = got
                .keys()
                .chain(want.keys())
                .copied()
                .find(|k| got.get(k) != want.get(k));
            if let Some(key) = key {
                return Err(ReplicaViolation::Diverged {
                    core: core as u32,
                    key,
                    got: got.get(&key).copied(),
                    want: want.get(&key).copied(),
                });
            }
        }
        Ok(())
    }
}

/// A replica's map.
fn map_of(r: &Replica) -> BTreeMap<u64, u64> {
    r.store().entries().map(|(k, v, _)| (k, v)).collect()
}
