//! **Checks:** the invariants of `proto::ram::model` after every step (no
//! byte free or in use on two cores at once, every request answered once)
//! and, at the end of a run without a failed core, that every machine is
//! at rest and the cores hold, free or in use, exactly the RAM the run
//! began with; no machine refuses a message of a correct run.
//!
//! The RAM protocol (`proto::ram`) on every core, each with a partition of
//! its own, cores on two NUMA nodes by parity: each core `ops` times
//! allocates up to a third of a partition or frees what it holds, so cores
//! run short and borrow from their peers.

use alloc::format;
use alloc::vec::Vec;

use super::super::world::{Ctx, Scenario, Violation};
use super::Step;
use crate::proto::ram::model::{RamModel, Violation as RamViolation};
use crate::proto::ram::{Ram, RamEffect, Region};
use crate::proto::{Inbound, Out};

/// Cycles between a core's actions: up to this.
const THINK: u64 = 4_000;
/// Cycles a core waits for a peer before it asks the next: below the
/// simulator's longest stalls, so passing over is exercised.
const BOUND: u64 = 100_000;
/// Bytes of each partition.
const PART: u64 = 1 << 20;

/// RAM on every core.
#[derive(Debug)]
pub struct RamScenario {
    ram: Vec<Ram>,
    model: RamModel,
    got: Vec<Vec<Region>>,
    paced: super::Paced,
}

fn broke(v: RamViolation) -> Violation {
    Violation::new(v.0)
}

impl RamScenario {
    /// `cores` cores, `ops` actions each; `broken` takes the peers that
    /// keep what they give.
    pub fn new(cores: u32, ops: u32, broken: bool) -> RamScenario {
        let node: Vec<u32> = (0..cores).map(|c| c % 2).collect();
        RamScenario {
            ram: (0..cores)
                .map(|c| {
                    let mine = [Region {
                        base: (u64::from(c) + 1) << 32,
                        size: PART,
                    }];
                    if broken {
                        Ram::broken(c, cores, &node, &mine, BOUND)
                    } else {
                        Ram::new(c, cores, &node, &mine, BOUND)
                    }
                })
                .collect(),
            model: RamModel::new(u64::from(cores) * PART),
            got: (0..cores).map(|_| Vec::new()).collect(),
            paced: super::Paced::new(cores, ops, THINK),
        }
    }

    fn apply(&mut self, core: u32, out: Out<RamEffect>, ctx: &mut Ctx<'_>) -> Step {
        for e in &out.effects {
            self.model.effect(core, e).map_err(broke)?;
            if let RamEffect::Allocated { region, .. } = e {
                self.got[core as usize].push(*region);
            }
        }
        ctx.send_all(out.sends);
        super::wake_for(&self.ram[core as usize], ctx);
        self.model.check(&self.ram).map_err(broke)
    }

    fn act(&mut self, core: u32, ctx: &mut Ctx<'_>) -> Step {
        let c = core as usize;
        let mut out = Out::new();
        let held = self.got[c].len();
        if held > 0 && ctx.rng().chance(45) {
            let region = self.got[c].swap_remove(ctx.rng().index(held));
            self.ram[c]
                .free(region, &mut out)
                .map_err(|e| Violation::new(format!("core {core} could not free: {e:?}")))?;
        } else {
            let size = (1 + ctx.rng().below(6)) << 16;
            let req = self.ram[c]
                .alloc(ctx.now(), size, &mut out)
                .map_err(|e| Violation::new(format!("core {core} could not ask: {e:?}")))?;
            self.model.requested(core, req);
        }
        self.apply(core, out, ctx)
    }
}

impl Scenario for RamScenario {
    fn start(&mut self, core: u32, ctx: &mut Ctx<'_>) -> Step {
        self.paced.start(core, ctx);
        Ok(())
    }

    fn on_message(&mut self, core: u32, m: &Inbound, ctx: &mut Ctx<'_>) -> Step {
        let out = super::deliver(&mut self.ram[core as usize], core, m, ctx)?;
        self.apply(core, out, ctx)
    }

    fn on_timer(&mut self, core: u32, ctx: &mut Ctx<'_>) -> Step {
        let out = super::expire(&mut self.ram[core as usize], ctx);
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
        super::at_rest(&self.ram, Ram::quiescent, "RAM")?;
        self.model.check_rest(&self.ram).map(|_| ()).map_err(broke)
    }
}
