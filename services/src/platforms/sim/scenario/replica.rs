//! **Checks:** no replica refuses a message of a correct run; the rest is
//! the replicated map's reference model ([`ReplicaModel`]), told every
//! call and completion and checked after every step and at the end of a
//! run without a failed core; [`ReplicaSetup::write_check`] switches its
//! map's rules (off: leave the reads and writes to the history checker).
//! The history of every operation goes to the history checker.
//!
//! The replicated map (`proto::replica`) with a closed-loop client on every
//! core: each issues `ops` operations, one at a time, over `keys` keys,
//! with a think time between them.

use alloc::format;
use alloc::vec;
use alloc::vec::Vec;

use super::super::world::{Ctx, Scenario, Violation};
use super::{Step, violation};
use crate::proto::replica::{Bug, Model, Op, Replica, ReplicaEffect, ReplicaModel};
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
    /// Check the reads and writes against the model's map (linearizable:
    /// that every replica holds a write when it completes).
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
    model: ReplicaModel,
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
            model: ReplicaModel::new(setup.model, n, setup.ops, setup.write_check),
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

    fn apply(&mut self, core: u32, out: Out<ReplicaEffect>, ctx: &mut Ctx<'_>) -> Step {
        ctx.send_all(out.sends);
        for e in out.effects {
            self.model
                .effects(core, &[e], &self.reps)
                .map_err(violation)?;
            let ReplicaEffect::Completed(done) = e;
            if let Some((invoke, op)) = self.invoked[core as usize].take() {
                self.history.push(HistoryOp {
                    core,
                    op,
                    value: done.value,
                    invoke,
                    response: ctx.now(),
                });
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
    fn start(&mut self, _core: u32, ctx: &mut Ctx<'_>) -> Step {
        let think = ctx.rng().below(THINK);
        ctx.timer(think);
        Ok(())
    }

    fn on_message(&mut self, core: u32, m: &Inbound, ctx: &mut Ctx<'_>) -> Step {
        let out = super::deliver(&mut self.reps[core as usize], core, m, ctx)?;
        self.apply(core, out, ctx)
    }

    fn on_timer(&mut self, core: u32, ctx: &mut Ctx<'_>) -> Step {
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
        self.model.invoke(core, op).map_err(violation)?;
        let mut out = Out::new();
        self.reps[c]
            .invoke(op, &mut out)
            .map_err(|e| Violation::new(format!("core {core} refused its client: {e}")))?;
        self.apply(core, out, ctx)
    }

    fn check(&mut self) -> Step {
        self.model.step(&self.reps).map_err(violation)
    }

    fn finish(&mut self, failed: &[bool]) -> Step {
        if super::degraded(failed) {
            return Ok(());
        }
        self.model.finish(&self.reps).map_err(violation)
    }
}
