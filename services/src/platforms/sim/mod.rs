//! The deterministic simulator: every core's protocol machines on one
//! thread, in simulated time, under a seeded schedule with injected faults.
//!
//! **Guarantee:** a seed replays exactly: the same [`Spec`] and seed give
//! the same deliveries at the same simulated cycles, the same faults and
//! the same [`SeedRun`], on any host.
//!
//! The machines are the ones ring 3 and the hosted runtime run, unchanged;
//! the simulator replaces what the monitor does around them: its channels
//! become FIFO queues with seeded delays ([`world`]), its poll-then-block
//! loop a model with lost notifications and timeouts, its cores simulated
//! ones that stall or fail ([`faults`]). A scenario ([`scenario`]) drives
//! one protocol as its monitor and clients would and checks its invariants
//! after every step; the replicated map's history goes to the history
//! checker (`tools`).
//!
//! Deliberately broken variants ([`Inject`]) prove that the checks can
//! fail: each must be caught within a few thousand seeds.

pub mod faults;
pub mod scenario;
pub mod world;

use alloc::vec::Vec;
use core::fmt;

pub use faults::Faults;
pub use world::{Config, Outcome, Step, Traced, Violation};

use crate::proto::barrier::BarrierKind;
use crate::proto::lock::LockKind;
use crate::proto::replica::{Bug, Model};
use scenario::{
    BarrierScenario, HistoryOp, LockScenario, MeshScenario, ReplicaScenario, ReplicaSetup,
    SpawnScenario, UpdateScenario,
};

/// The protocol a run simulates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    /// The replicated map under a model.
    Replica(Model),
    /// A message barrier.
    Barrier(BarrierKind),
    /// A message lock.
    Lock(LockKind),
    /// E2's update server and its clients.
    Update,
    /// The mesh of channels.
    Mesh,
    /// Spawning on other cores.
    Spawn,
}

/// A deliberately introduced bug.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Inject {
    /// A bug of the linearizable primary.
    Replica(Bug),
    /// The central barrier releases one arrival early.
    BarrierEarly,
    /// The lock server forgets its holder.
    LockForgets,
    /// A spawn server reports every domain's end as an exit with 0.
    SpawnHidesEnd,
    /// The update server leaves an update out of its copy when clients
    /// interleave.
    UpdateLoses,
}

impl Inject {
    /// Every injectable bug, with its command-line name.
    pub const ALL: [(Inject, &'static str); 6] = [
        (Inject::Replica(Bug::EarlyReply), "early-reply"),
        (Inject::Replica(Bug::CommitShort), "commit-short"),
        (Inject::BarrierEarly, "barrier-early"),
        (Inject::LockForgets, "lock-forgets"),
        (Inject::SpawnHidesEnd, "spawn-hides-end"),
        (Inject::UpdateLoses, "update-loses"),
    ];

    /// The bug named `name`.
    pub fn from_name(name: &str) -> Option<Inject> {
        Inject::ALL
            .iter()
            .find(|(_, n)| *n == name)
            .map(|(i, _)| *i)
    }

    /// Its command-line name.
    pub fn name(self) -> &'static str {
        Inject::ALL
            .iter()
            .find(|(i, _)| *i == self)
            .map_or("?", |(_, n)| n)
    }
}

/// A bug that does not belong to the protocol asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mismatch {
    /// The bug.
    pub inject: Inject,
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "`{}` is a bug of another protocol (early-reply and commit-short: --protocol replica --model lin; barrier-early: --protocol barrier; lock-forgets: --protocol lock; spawn-hides-end: --protocol spawn; update-loses: --protocol update)",
            self.inject.name()
        )
    }
}

/// What every seed of a batch runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Spec {
    /// The protocol.
    pub protocol: Protocol,
    /// Cores.
    pub cores: u32,
    /// Faults.
    pub faults: Faults,
    /// Operations (replica), episodes (barrier), acquisitions (lock) or
    /// updates (update) per core.
    pub ops: u32,
    /// A deliberately broken variant.
    pub inject: Option<Inject>,
    /// Replica: check when each linearizable write completes that every
    /// replica holds it (off: leave the finding to the history checker).
    pub write_check: bool,
}

impl Spec {
    /// Checks that the bug fits the protocol.
    pub fn validate(&self) -> Result<(), Mismatch> {
        let ok = matches!(
            (self.inject, self.protocol),
            (None, _)
                | (Some(Inject::Replica(_)), Protocol::Replica(Model::Lin))
                | (Some(Inject::BarrierEarly), Protocol::Barrier(_))
                | (Some(Inject::LockForgets), Protocol::Lock(_))
                | (Some(Inject::SpawnHidesEnd), Protocol::Spawn)
                | (Some(Inject::UpdateLoses), Protocol::Update)
        );
        match (ok, self.inject) {
            (false, Some(inject)) => Err(Mismatch { inject }),
            _ => Ok(()),
        }
    }
}

/// One seed's run.
#[derive(Clone, Debug)]
pub struct SeedRun {
    /// How it ended.
    pub outcome: Outcome,
    /// The replicated map's history (empty for other protocols).
    pub history: Vec<HistoryOp>,
}

/// Simulated cycles after which a run that has not settled is a
/// violation.
const LIMIT: u64 = 2_000_000_000;

/// Runs one seed of `spec`.
pub fn run_seed(spec: &Spec, seed: u64) -> SeedRun {
    let cfg = Config {
        cores: spec.cores.max(1),
        seed,
        faults: spec.faults,
        limit: LIMIT,
    };
    let n = cfg.cores;
    let ops = spec.ops;
    let mut history = Vec::new();
    let outcome = match spec.protocol {
        Protocol::Replica(model) => {
            let bug = match spec.inject {
                Some(Inject::Replica(b)) => Some(b),
                _ => None,
            };
            let mut s = ReplicaScenario::new(ReplicaSetup {
                model,
                cores: n,
                ops,
                keys: 3,
                write_percent: 50,
                bug,
                write_check: spec.write_check,
            });
            let o = world::run(cfg, &mut s);
            history = s.history();
            o
        }
        Protocol::Barrier(kind) => {
            let broken = spec.inject == Some(Inject::BarrierEarly);
            world::run(
                cfg,
                &mut BarrierScenario::new(kind, n, 2, u64::from(ops), broken),
            )
        }
        Protocol::Lock(kind) => {
            let broken = spec.inject == Some(Inject::LockForgets);
            world::run(cfg, &mut LockScenario::new(kind, n, ops, broken))
        }
        Protocol::Update => {
            let broken = spec.inject == Some(Inject::UpdateLoses);
            world::run(
                cfg,
                &mut UpdateScenario::new(n, 2, u64::from(ops), 4, broken),
            )
        }
        Protocol::Mesh => world::run(cfg, &mut MeshScenario::new(n)),
        Protocol::Spawn => {
            let broken = spec.inject == Some(Inject::SpawnHidesEnd);
            world::run(cfg, &mut SpawnScenario::new(n, ops, broken))
        }
    };
    SeedRun { outcome, history }
}

#[cfg(test)]
mod tests;
