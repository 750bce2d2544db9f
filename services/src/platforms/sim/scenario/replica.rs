//! **Checks:** no replica refuses a message of a correct run; after every
//! step, replicas that applied the same number of writes applied the same
//! writes in the same order (linearizable and sequential); when a
//! linearizable write completes, every replica holds or applied it (unless
//! [`ReplicaSetup::write_check`] is off); at the
//! end of a run without a failed core, every operation completed, every
//! replica is at rest and all hold the same map. The history of every
//! operation goes to the history checker.
//!
//! The replicated map (`proto::replica`) with a closed-loop client on every
//! core: each issues `ops` operations, one at a time, over `keys` keys,
//! with a think time between them.

use alloc::collections::BTreeMap;
use alloc::format;
use alloc::vec;
use alloc::vec::Vec;

use super::super::world::{Ctx, Scenario, Violation};
use crate::proto::replica::{Bug, Model, Op, Replica, ReplicaEffect};
use crate::proto::{Inbound, Out};

/// One operation of the history. A write that never completed has
/// `response == u64::MAX` (it may or may not have taken effect); a read
/// that never completed is left out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HistoryOp {
    /// The client's core.
    pub core: u32,
    /// The operation.
    pub op: Op,
    /// What a read returned, or what a write wrote.
    pub value: u64,
    /// The simulated cycle of the invocation.
    pub invoke: u64,
    /// The simulated cycle of the completion.
    pub response: u64,
}

/// The scenario's knobs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReplicaSetup {
    /// The model.
    pub model: Model,
    /// Cores.
    pub cores: u32,
    /// Operations per core.
    pub ops: u32,
    /// Keys.
    pub keys: u64,
    /// Percent of operations that are writes.
    pub write_percent: u64,
    /// A deliberately broken primary, if any.
    pub bug: Option<Bug>,
    /// Check, when a linearizable write completes, that every replica
    /// holds it.
    pub write_check: bool,
}

/// The replicated map on every core, with its clients.
#[derive(Debug)]
pub struct ReplicaScenario {
    setup: ReplicaSetup,
    reps: Vec<Replica>,
    left: Vec<u32>,
    invoked: Vec<Option<(u64, Op)>>,
    history: Vec<HistoryOp>,
    /// The digest of the first `n` applied writes, as first seen.
    prefixes: BTreeMap<u64, u64>,
    next_value: Vec<u64>,
}

/// Cycles a client thinks between operations: up to this many.
const THINK: u64 = 3_000;

impl ReplicaScenario {
    /// The scenario for `setup`.
    pub fn new(setup: ReplicaSetup) -> ReplicaScenario {
        let n = setup.cores;
        ReplicaScenario {
            setup,
            reps: (0..n)
                .map(|c| match setup.bug {
                    Some(b) => Replica::broken(setup.model, c, n, b),
                    None => Replica::new(setup.model, c, n),
                })
                .collect(),
            left: vec![setup.ops; n as usize],
            invoked: vec![None; n as usize],
            history: Vec::new(),
            prefixes: BTreeMap::new(),
            next_value: vec![0; n as usize],
        }
    }

    /// The history so far, writes that never completed included (see
    /// [`HistoryOp`]).
    pub fn history(&self) -> Vec<HistoryOp> {
        let mut h = self.history.clone();
        for (core, inv) in self.invoked.iter().enumerate() {
            if let Some((invoke, op @ Op::Write { value, .. })) = *inv {
                h.push(HistoryOp {
                    core: core as u32,
                    op,
                    value,
                    invoke,
                    response: u64::MAX,
                });
            }
        }
        h
    }

    fn apply(
        &mut self,
        core: u32,
        out: Out<ReplicaEffect>,
        ctx: &mut Ctx<'_>,
    ) -> Result<(), Violation> {
        ctx.send_all(out.sends);
        for ReplicaEffect::Completed(done) in out.effects {
            let Some((invoke, op)) = self.invoked[core as usize].take() else {
                return Err(Violation::new(format!(
                    "core {core}: a completion with no operation in progress"
                )));
            };
            if op != done.op {
                return Err(Violation::new(format!(
                    "core {core}: completed {:?}, but {op:?} was in progress",
                    done.op
                )));
            }
            self.history.push(HistoryOp {
                core,
                op,
                value: done.value,
                invoke,
                response: ctx.now(),
            });
            if self.setup.model == Model::Lin
                && self.setup.write_check
                && matches!(op, Op::Write { .. })
                && let Some(r) = self.reps.iter().position(|r| !r.knows(done.version))
            {
                return Err(Violation::new(format!(
                    "core {core}'s write {op:?} completed as version {} while replica {r} does not hold it",
                    done.version
                )));
            }
            if self.left[core as usize] > 0 {
                let think = ctx.rng().below(THINK);
                ctx.timer(think);
            } else {
                // The client is done: send what the replica held back.
                let mut rest = Out::new();
                self.reps[core as usize].flush(&mut rest);
                ctx.send_all(rest.sends);
            }
        }
        Ok(())
    }
}

impl Scenario for ReplicaScenario {
    fn start(&mut self, _core: u32, ctx: &mut Ctx<'_>) -> Result<(), Violation> {
        let think = ctx.rng().below(THINK);
        ctx.timer(think);
        Ok(())
    }

    fn on_message(&mut self, core: u32, m: &Inbound, ctx: &mut Ctx<'_>) -> Result<(), Violation> {
        let out = super::deliver(&mut self.reps[core as usize], core, m, ctx)?;
        self.apply(core, out, ctx)
    }

    fn on_timer(&mut self, core: u32, ctx: &mut Ctx<'_>) -> Result<(), Violation> {
        let c = core as usize;
        if self.left[c] == 0 || self.reps[c].busy() {
            return Ok(());
        }
        self.left[c] -= 1;
        let key = ctx.rng().below(self.setup.keys.max(1));
        let op = if ctx.rng().chance(self.setup.write_percent) {
            // Values name their writer: core in the high half, a count in
            // the low half, never 0 (the value of an unwritten key).
            self.next_value[c] += 1;
            Op::Write {
                key,
                value: (u64::from(core) << 32) | self.next_value[c],
            }
        } else {
            Op::Read { key }
        };
        self.invoked[c] = Some((ctx.now(), op));
        let mut out = Out::new();
        self.reps[c]
            .invoke(op, &mut out)
            .map_err(|e| Violation::new(format!("core {core} refused its client: {e}")))?;
        self.apply(core, out, ctx)
    }

    fn check(&mut self) -> Result<(), Violation> {
        if self.setup.model == Model::Eventual {
            return Ok(());
        }
        for (core, r) in self.reps.iter().enumerate() {
            let s = r.store();
            let d = *self.prefixes.entry(s.applied()).or_insert(s.digest());
            if d != s.digest() {
                return Err(Violation::new(format!(
                    "replica {core} applied its first {} writes in another order than another replica",
                    s.applied()
                )));
            }
        }
        Ok(())
    }

    fn finish(&mut self, failed: &[bool]) -> Result<(), Violation> {
        if super::degraded(failed) {
            return Ok(());
        }
        if let Some(c) = (0..self.reps.len()).find(|&c| self.left[c] > 0 || self.reps[c].busy()) {
            return Err(Violation::new(format!(
                "core {c}'s client did not finish: {} operations left, one in progress: {}",
                self.left[c],
                self.reps[c].busy()
            )));
        }
        if let Some(c) = self.reps.iter().position(|r| !r.quiescent()) {
            return Err(Violation::new(format!(
                "replica {c} is not at rest at the end"
            )));
        }
        let first: Vec<(u64, u64)> = self.reps[0]
            .store()
            .entries()
            .map(|(k, v, _)| (k, v))
            .collect();
        for (c, r) in self.reps.iter().enumerate().skip(1) {
            let mine: Vec<(u64, u64)> = r.store().entries().map(|(k, v, _)| (k, v)).collect();
            if mine != first {
                return Err(Violation::new(format!(
                    "replicas 0 and {c} hold different maps at the end"
                )));
            }
        }
        Ok(())
    }
}
