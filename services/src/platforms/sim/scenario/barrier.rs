//! **Checks:** the invariants of `proto::barrier::model` after every step
//! (no core leaves episode `e` before every core arrived at `e`; each core
//! leaves its episodes in order) and, at the end of a run without a failed
//! core, its end check (every core left every episode, no machine still
//! waits); no machine refuses a message of a correct run.
//!
//! A message barrier (`proto::barrier`) on every core; each core arrives
//! at `episodes` episodes, thinking a random while between them.

use alloc::format;
use alloc::vec::Vec;

use super::super::world::{Ctx, Scenario, Violation};
use super::{Step, violation};
use crate::proto::barrier::{BarrierEffect, BarrierKind, BarrierModel, MsgBarrier};
use crate::proto::{Inbound, Out, Refusal};

/// Cycles a core works between episodes: up to this many.
const THINK: u64 = 5_000;

/// A barrier on every core.
#[derive(Debug)]
pub struct BarrierScenario {
    machines: Vec<MsgBarrier>,
    model: BarrierModel,
}

impl BarrierScenario {
    /// `kind` on `cores` cores (k-ary trees of `arity`), `episodes` each;
    /// `broken` takes the central barrier that releases one arrival early.
    pub fn new(kind: BarrierKind, cores: u32, arity: u32, episodes: u64, broken: bool) -> Self {
        BarrierScenario {
            machines: (0..cores)
                .map(|c| {
                    if broken {
                        MsgBarrier::broken(c, cores)
                    } else {
                        MsgBarrier::new(kind, c, cores, arity)
                    }
                })
                .collect(),
            model: BarrierModel::new(cores, episodes),
        }
    }

    fn apply(&mut self, core: u32, out: Out<BarrierEffect>, ctx: &mut Ctx<'_>) -> Step {
        ctx.send_all(out.sends);
        for BarrierEffect::Released { episode } in out.effects {
            self.model.released(core, episode).map_err(violation)?;
            if self.model.has_more(core) {
                let think = ctx.rng().below(THINK);
                ctx.timer(think);
            }
        }
        Ok(())
    }
}

impl Scenario for BarrierScenario {
    fn start(&mut self, core: u32, ctx: &mut Ctx<'_>) -> Step {
        if self.model.has_more(core) {
            let think = ctx.rng().below(THINK);
            ctx.timer(think);
        }
        Ok(())
    }

    fn on_message(&mut self, core: u32, m: &Inbound, ctx: &mut Ctx<'_>) -> Step {
        let out = super::deliver(&mut self.machines[core as usize], core, m, ctx)?;
        self.apply(core, out, ctx)
    }

    fn on_timer(&mut self, core: u32, ctx: &mut Ctx<'_>) -> Step {
        let c = core as usize;
        if self.machines[c].waiting() || !self.model.has_more(core) {
            return Ok(());
        }
        self.model.arrived(core).map_err(violation)?;
        let mut out = Out::new();
        self.machines[c]
            .arrive(&mut out)
            .map_err(|e| Violation::new(format!("core {core} could not arrive: {}", e.reason())))?;
        self.apply(core, out, ctx)
    }

    fn finish(&mut self, failed: &[bool]) -> Step {
        if super::degraded(failed) {
            return Ok(());
        }
        self.model
            .check_end(self.machines.iter().map(|m| !m.waiting()))
            .map_err(violation)
    }
}
