//! **Checks:** the invariants of `proto::caps::model` after every effect
//! (no two live objects of one depth overlap, a revoke takes effect only
//! when no other live copy or descendant is left, memory is freed once and
//! only when nothing of its tree is held, every request is answered once)
//! and, at the end of a run without a failed core, that every machine is
//! at rest and every owner's records name exactly the cores that hold
//! copies; no machine refuses a message of a correct run.
//!
//! The capability protocol (`proto::caps`) on every core: each core makes
//! a root of its own memory, then `ops` times copies, retypes, revokes or
//! deletes what it holds, at random. An operation whose participant
//! stalls past the bound is abandoned, as the protocol says.

use alloc::format;
use alloc::vec::Vec;

use super::super::world::{Ctx, Scenario, Violation};
use super::Step;
use crate::proto::caps::model::{CapsModel, Violation as CapsViolation};
use crate::proto::caps::{Bug, Caps, CapsEffect, Obj, Request, Variant};
use crate::proto::{Inbound, Out};

/// Cycles between a core's actions: up to this.
const THINK: u64 = 4_000;
/// Cycles an operation may wait for its replies before it is abandoned:
/// below the simulator's longest stalls, so abandonment is exercised.
const BOUND: u64 = 100_000;

/// Capabilities on every core.
#[derive(Debug)]
pub struct CapsScenario {
    caps: Vec<Caps>,
    model: CapsModel,
    paced: super::Paced,
}

fn broke(v: CapsViolation) -> Violation {
    Violation::new(v.0)
}

/// The root of core `core`'s memory.
fn root(core: u32) -> Obj {
    Obj {
        base: (u64::from(core) + 1) << 32,
        size: 1 << 20,
        ty: 1,
        depth: 0,
    }
}

impl CapsScenario {
    /// `variant` on `cores` cores, `ops` actions each; `broken` takes the
    /// owner whose revoke skips a holder.
    pub fn new(variant: Variant, cores: u32, ops: u32, broken: bool) -> CapsScenario {
        CapsScenario {
            caps: (0..cores)
                .map(|c| {
                    if broken {
                        Caps::broken(c, cores, variant, BOUND, Bug::RevokeSkipsOne)
                    } else {
                        Caps::new(c, cores, variant, BOUND)
                    }
                })
                .collect(),
            model: CapsModel::new(),
            paced: super::Paced::new(cores, ops, THINK),
        }
    }

    /// Sends what core `core`'s machine gave out, checks its effects, and
    /// wakes the core at its next deadline.
    fn apply(&mut self, core: u32, out: Out<CapsEffect>, ctx: &mut Ctx<'_>) -> Step {
        for e in &out.effects {
            self.model.effect(core, e).map_err(broke)?;
        }
        ctx.send_all(out.sends);
        super::wake_for(&self.caps[core as usize], ctx);
        Ok(())
    }

    /// One random action of core `core`.
    fn act(&mut self, core: u32, ctx: &mut Ctx<'_>) -> Step {
        let c = core as usize;
        let cores = self.caps.len() as u64;
        let held: Vec<(Obj, u32, u32)> = self.caps[c].held().collect();
        let Some((obj, ..)) = ctx.rng().pick(&held) else {
            return Ok(());
        };
        let now = ctx.now();
        let mut out = Out::new();
        let what = match ctx.rng().below(8) {
            0 | 1 => Some(Request::Copy {
                to: ctx.rng().below(cores) as u32,
            }),
            2 | 3 if obj.depth < 3 => {
                let size = obj.size / 4;
                let k = ctx.rng().below(4);
                Some(Request::Retype {
                    child: Obj {
                        base: obj.base + k * size,
                        size,
                        ty: obj.ty + 1,
                        depth: obj.depth + 1,
                    },
                })
            }
            4 => Some(Request::Revoke),
            5 => {
                if self.caps[c].copy_here(obj).is_ok() {
                    self.model.copied_here(core, obj);
                }
                None
            }
            _ => {
                self.caps[c]
                    .delete(now, obj, &mut out)
                    .map_err(|e| Violation::new(format!("core {core} could not delete: {e:?}")))?;
                self.model.deleted(core, obj).map_err(broke)?;
                None
            }
        };
        if let Some(what) = what {
            let req = self.caps[c]
                .request(now, obj, what, &mut out)
                .map_err(|e| Violation::new(format!("core {core} could not ask: {e:?}")))?;
            self.model.requested(core, req, obj, what);
        }
        self.apply(core, out, ctx)
    }
}

impl Scenario for CapsScenario {
    fn start(&mut self, core: u32, ctx: &mut Ctx<'_>) -> Step {
        let obj = root(core);
        self.caps[core as usize]
            .create(obj)
            .map_err(|e| Violation::new(format!("core {core} could not make its root: {e:?}")))?;
        self.model.created(core, obj);
        self.paced.start(core, ctx);
        Ok(())
    }

    fn on_message(&mut self, core: u32, m: &Inbound, ctx: &mut Ctx<'_>) -> Step {
        let out = super::deliver(&mut self.caps[core as usize], core, m, ctx)?;
        self.apply(core, out, ctx)
    }

    fn on_timer(&mut self, core: u32, ctx: &mut Ctx<'_>) -> Step {
        let out = super::expire(&mut self.caps[core as usize], ctx);
        self.apply(core, out, ctx)?;
        if self.paced.due(core, ctx) {
            self.act(core, ctx)?;
        }
        Ok(())
    }

    fn finish(&mut self, failed: &[bool]) -> Step {
        if super::degraded(failed) {
            return Ok(());
        }
        super::at_rest(&self.caps, Caps::quiescent, "capability")?;
        self.model.check_rest(&self.caps).map_err(broke)
    }
}
