//! **Checks:** no core leaves episode `e` before every core arrived at
//! `e`; no machine refuses a message of a correct run; at the end of a run
//! without a failed core, every core left every episode.
//!
//! A message barrier (`proto::barrier`) on every core; each core arrives
//! at `episodes` episodes, thinking a random while between them.

use alloc::format;
use alloc::vec;
use alloc::vec::Vec;

use super::super::world::{Ctx, Scenario, Violation};
use crate::proto::barrier::{BarrierEffect, BarrierKind, MsgBarrier};
use crate::proto::{Inbound, Out, Refusal};

/// Cycles a core works between episodes: up to this many.
const THINK: u64 = 5_000;

/// A barrier on every core.
#[derive(Debug)]
pub struct BarrierScenario {
    machines: Vec<MsgBarrier>,
    episodes: u64,
    /// Episodes each core arrived at.
    arrived: Vec<u64>,
    /// Episodes each core left.
    left: Vec<u64>,
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
            episodes,
            arrived: vec![0; cores as usize],
            left: vec![0; cores as usize],
        }
    }

    fn apply(
        &mut self,
        core: u32,
        out: Out<BarrierEffect>,
        ctx: &mut Ctx<'_>,
    ) -> Result<(), Violation> {
        ctx.send_all(out.sends);
        for BarrierEffect::Released { episode } in out.effects {
            if let Some(late) = self.arrived.iter().position(|&a| a <= episode) {
                return Err(Violation::new(format!(
                    "core {core} left episode {episode} before core {late} arrived at it"
                )));
            }
            self.left[core as usize] = episode + 1;
            if episode + 1 < self.episodes {
                let think = ctx.rng().below(THINK);
                ctx.timer(think);
            }
        }
        Ok(())
    }
}

impl Scenario for BarrierScenario {
    fn start(&mut self, _core: u32, ctx: &mut Ctx<'_>) -> Result<(), Violation> {
        if self.episodes > 0 {
            let think = ctx.rng().below(THINK);
            ctx.timer(think);
        }
        Ok(())
    }

    fn on_message(&mut self, core: u32, m: &Inbound, ctx: &mut Ctx<'_>) -> Result<(), Violation> {
        let out = super::deliver(&mut self.machines[core as usize], core, m, ctx)?;
        self.apply(core, out, ctx)
    }

    fn on_timer(&mut self, core: u32, ctx: &mut Ctx<'_>) -> Result<(), Violation> {
        let c = core as usize;
        if self.machines[c].waiting() || self.arrived[c] >= self.episodes {
            return Ok(());
        }
        self.arrived[c] += 1;
        let mut out = Out::new();
        self.machines[c]
            .arrive(&mut out)
            .map_err(|e| Violation::new(format!("core {core} could not arrive: {}", e.reason())))?;
        self.apply(core, out, ctx)
    }

    fn finish(&mut self, failed: &[bool]) -> Result<(), Violation> {
        if super::degraded(failed) {
            return Ok(());
        }
        match self.left.iter().position(|&l| l != self.episodes) {
            Some(c) => Err(Violation::new(format!(
                "core {c} left {} of {} episodes",
                self.left[c], self.episodes
            ))),
            None => Ok(()),
        }
    }
}
