//! **Checks:** the invariants of `proto::lock::model` after every step (at
//! most one core holds the lock; a grant or a delegated result goes only
//! to a core that asked; each client's delegated results grow) and, at the
//! end of a run without a failed core, its end check (every participant
//! finished with every acquisition answered, every machine at rest); no
//! machine refuses a message or call of a correct run.
//!
//! A message lock (`proto::lock`) on every core; each participant acquires
//! it `rounds` times and holds it a random while.

use alloc::format;
use alloc::vec::Vec;

use super::super::world::{Ctx, Scenario, Violation};
use super::{Step, violation};
use crate::proto::lock::{LockEffect, LockError, LockKind, LockModel, MsgLock};
use crate::proto::{Inbound, Out, Refusal};

/// The core that serves the server, delegation and queue locks.
const SERVER: u32 = 0;
/// Cycles a core holds the lock, or works between acquisitions: up to this.
const THINK: u64 = 2_000;

/// A lock on every core.
#[derive(Debug)]
pub struct LockScenario {
    locks: Vec<MsgLock>,
    model: LockModel,
    /// Acquisitions each core has left.
    left: Vec<u32>,
}

impl LockScenario {
    /// `kind` on `cores` cores, `rounds` acquisitions per participant;
    /// `broken` takes the lock server that forgets its holder.
    pub fn new(kind: LockKind, cores: u32, rounds: u32, broken: bool) -> LockScenario {
        let kind = if broken { LockKind::Server } else { kind };
        let model = LockModel::new(cores, |c| kind.participates(c, SERVER));
        LockScenario {
            locks: (0..cores)
                .map(|c| {
                    if broken {
                        MsgLock::broken(c, cores, SERVER)
                    } else {
                        MsgLock::new(kind, c, cores, SERVER, 1)
                    }
                })
                .collect(),
            left: (0..cores)
                .map(|c| if model.is_finished(c) { 0 } else { rounds })
                .collect(),
            model,
        }
    }

    fn apply(&mut self, core: u32, out: Out<LockEffect>, ctx: &mut Ctx<'_>) -> Step {
        ctx.send_all(out.sends);
        for e in out.effects {
            match e {
                LockEffect::Granted => self.model.granted(core),
                LockEffect::Executed { count } => self.model.executed(core, count),
            }
            .map_err(violation)?;
            let think = ctx.rng().below(THINK);
            ctx.timer(think);
        }
        Ok(())
    }
}

impl Scenario for LockScenario {
    fn start(&mut self, core: u32, ctx: &mut Ctx<'_>) -> Step {
        if !self.model.is_finished(core) {
            let think = ctx.rng().below(THINK);
            ctx.timer(think);
        }
        Ok(())
    }

    fn on_message(&mut self, core: u32, m: &Inbound, ctx: &mut Ctx<'_>) -> Step {
        let out = super::deliver(&mut self.locks[core as usize], core, m, ctx)?;
        self.apply(core, out, ctx)
    }

    fn on_timer(&mut self, core: u32, ctx: &mut Ctx<'_>) -> Step {
        let c = core as usize;
        let mut out = Out::new();
        let refused = |e: LockError| {
            Violation::new(format!(
                "core {core}'s lock refused its caller: {}",
                e.reason()
            ))
        };
        if self.model.holds(core) {
            self.model.released(core).map_err(violation)?;
            self.locks[c].release(&mut out).map_err(refused)?;
            ctx.timer(0);
        } else if self.model.waiting(core) || self.model.is_finished(core) {
            return Ok(());
        } else if self.left[c] > 0 {
            self.left[c] -= 1;
            self.model.asked(core).map_err(violation)?;
            self.locks[c].acquire(&mut out).map_err(refused)?;
        } else {
            self.model.finished(core).map_err(violation)?;
            self.locks[c].finish(&mut out);
        }
        self.apply(core, out, ctx)
    }

    fn finish(&mut self, failed: &[bool]) -> Step {
        if super::degraded(failed) {
            return Ok(());
        }
        self.model
            .check_end(self.locks.iter().map(MsgLock::quiescent))
            .map_err(violation)
    }
}
