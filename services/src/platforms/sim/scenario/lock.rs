//! **Checks:** at most one core holds the lock at any time (delegation:
//! each client's results grow); no machine refuses a message of a correct
//! run; at the end of a run without a failed core, every participant got
//! every acquisition it asked for and every machine is at rest.
//!
//! A message lock (`proto::lock`) on every core; each participant acquires
//! it `rounds` times and holds it a random while.

use alloc::format;
use alloc::vec;
use alloc::vec::Vec;

use super::super::world::{Ctx, Scenario, Violation};
use crate::proto::lock::{LockEffect, LockKind, MsgLock};
use crate::proto::{Inbound, Out, Refusal};

/// The core that serves the server, delegation and queue locks.
const SERVER: u32 = 0;
/// Cycles a core holds the lock, or works between acquisitions: up to this.
const THINK: u64 = 2_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Idle,
    Asked,
    Holding,
    Finished,
}

/// A lock on every core.
#[derive(Debug)]
pub struct LockScenario {
    kind: LockKind,
    locks: Vec<MsgLock>,
    phase: Vec<Phase>,
    left: Vec<u32>,
    holder: Option<u32>,
    last_count: Vec<u64>,
}

fn participates(kind: LockKind, core: u32) -> bool {
    match kind {
        LockKind::Server | LockKind::Delegation => core != SERVER,
        LockKind::Token | LockKind::Queue => true,
    }
}

impl LockScenario {
    /// `kind` on `cores` cores, `rounds` acquisitions per participant;
    /// `broken` takes the lock server that forgets its holder.
    pub fn new(kind: LockKind, cores: u32, rounds: u32, broken: bool) -> LockScenario {
        let kind = if broken { LockKind::Server } else { kind };
        LockScenario {
            kind,
            locks: (0..cores)
                .map(|c| {
                    if broken {
                        MsgLock::broken(c, cores, SERVER)
                    } else {
                        MsgLock::new(kind, c, cores, SERVER, 1)
                    }
                })
                .collect(),
            phase: (0..cores)
                .map(|c| {
                    if participates(kind, c) {
                        Phase::Idle
                    } else {
                        Phase::Finished
                    }
                })
                .collect(),
            left: (0..cores)
                .map(|c| if participates(kind, c) { rounds } else { 0 })
                .collect(),
            holder: None,
            last_count: vec![0; cores as usize],
        }
    }

    fn apply(
        &mut self,
        core: u32,
        out: Out<LockEffect>,
        ctx: &mut Ctx<'_>,
    ) -> Result<(), Violation> {
        ctx.send_all(out.sends);
        let c = core as usize;
        for e in out.effects {
            if self.phase[c] != Phase::Asked {
                return Err(Violation::new(format!(
                    "core {core} was granted a lock it did not ask for"
                )));
            }
            match e {
                LockEffect::Granted => {
                    if let Some(h) = self.holder {
                        return Err(Violation::new(format!(
                            "core {core} was granted the lock while core {h} holds it"
                        )));
                    }
                    self.holder = Some(core);
                    self.phase[c] = Phase::Holding;
                }
                LockEffect::Executed { count } => {
                    if count <= self.last_count[c] {
                        return Err(Violation::new(format!(
                            "core {core}'s delegated section ran out of order ({count} after {})",
                            self.last_count[c]
                        )));
                    }
                    self.last_count[c] = count;
                    self.phase[c] = Phase::Idle;
                }
            }
            let think = ctx.rng().below(THINK);
            ctx.timer(think);
        }
        Ok(())
    }
}

impl Scenario for LockScenario {
    fn start(&mut self, core: u32, ctx: &mut Ctx<'_>) -> Result<(), Violation> {
        if participates(self.kind, core) {
            let think = ctx.rng().below(THINK);
            ctx.timer(think);
        }
        Ok(())
    }

    fn on_message(&mut self, core: u32, m: &Inbound, ctx: &mut Ctx<'_>) -> Result<(), Violation> {
        let out = super::deliver(&mut self.locks[core as usize], core, m, ctx)?;
        self.apply(core, out, ctx)
    }

    fn on_timer(&mut self, core: u32, ctx: &mut Ctx<'_>) -> Result<(), Violation> {
        let c = core as usize;
        let mut out = Out::new();
        let refused = |e: crate::proto::lock::LockError| {
            Violation::new(format!(
                "core {core}'s lock refused its caller: {}",
                e.reason()
            ))
        };
        match self.phase[c] {
            Phase::Holding => {
                self.holder = None;
                self.locks[c].release(&mut out).map_err(refused)?;
                self.phase[c] = Phase::Idle;
                ctx.timer(0);
            }
            Phase::Idle if self.left[c] > 0 => {
                self.left[c] -= 1;
                self.phase[c] = Phase::Asked;
                self.locks[c].acquire(&mut out).map_err(refused)?;
            }
            Phase::Idle => {
                self.locks[c].finish(&mut out);
                self.phase[c] = Phase::Finished;
            }
            Phase::Asked | Phase::Finished => {}
        }
        self.apply(core, out, ctx)
    }

    fn finish(&mut self, failed: &[bool]) -> Result<(), Violation> {
        if super::degraded(failed) {
            return Ok(());
        }
        if let Some(c) = self.phase.iter().position(|&p| p != Phase::Finished) {
            return Err(Violation::new(format!(
                "core {c} did not finish: {:?} with {} acquisitions left",
                self.phase[c], self.left[c]
            )));
        }
        match self.locks.iter().position(|l| !l.quiescent()) {
            Some(c) => Err(Violation::new(format!(
                "core {c}'s lock is not at rest at the end"
            ))),
            None => Ok(()),
        }
    }
}
