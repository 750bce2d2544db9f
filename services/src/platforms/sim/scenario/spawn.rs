//! **Checks:** no machine refuses a message of a correct run, nor its own
//! monitor's report; the rest is the spawn protocol's reference model
//! ([`SpawnModel`]), told every request, effect and report, and checked at
//! the end of a run without a failed core.
//!
//! The spawn protocol (`proto::spawn`) on every core. Core 0 asks for
//! `requests` programs on cores it picks at random (itself included). A
//! serving core stands in for its platform: it fails a start one time in
//! five, with a random code, and otherwise ends the domain after a random
//! time, mostly with exit code 0, sometimes with another code, killed or
//! revoked.

use alloc::format;
use alloc::vec;
use alloc::vec::Vec;

use abi::disp::Status;

use super::super::world::{Ctx, Scenario, Violation};
use super::{Step, violation};
use crate::proto::spawn::{Name, SpawnEffect, SpawnModel, Spawns};
use crate::proto::{Inbound, Out};

/// The program every request starts.
const PROGRAM: &str = "hello";

/// The spawn machines of every core, and the model of every request.
#[derive(Debug)]
pub struct SpawnScenario {
    machines: Vec<Spawns>,
    count: u32,
    model: SpawnModel,
    /// Per core: domains to end, as (cycle, requester, id, status).
    ends: Vec<Vec<(u64, u32, u32, Status)>>,
}

impl SpawnScenario {
    /// `requests` spawns on `cores` cores; with `broken`, the serving
    /// machines are [`Spawns::broken`].
    pub fn new(cores: u32, requests: u32, broken: bool) -> SpawnScenario {
        let make = if broken { Spawns::broken } else { Spawns::new };
        SpawnScenario {
            machines: (0..cores).map(|_| make(cores)).collect(),
            count: requests.max(1),
            model: SpawnModel::new(),
            ends: vec![Vec::new(); cores as usize],
        }
    }

    /// Carries out an effect of core `core`'s machine.
    fn effect(&mut self, core: u32, e: SpawnEffect, ctx: &mut Ctx<'_>) -> Step {
        self.model.effects(core, &[e]).map_err(violation)?;
        match e {
            SpawnEffect::Start { from, id, .. } => self.serve(core, from, id, ctx),
            _ => Ok(()),
        }
    }

    /// Core `core`'s platform starts request `id` of `from`, or fails it.
    fn serve(&mut self, core: u32, from: u32, id: u32, ctx: &mut Ctx<'_>) -> Step {
        let rng = ctx.rng();
        let chosen = if rng.chance(20) {
            Err(1 + rng.below(9) as u32)
        } else {
            Ok(match rng.below(10) {
                0 => Status::Exited(1 + rng.below(5)),
                1 => Status::Killed(14),
                2 => Status::Revoked,
                _ => Status::Exited(0),
            })
        };
        let after = ctx.rng().between(1_000, 200_000);
        let result = chosen.map(|_| after);
        self.model
            .started(core, from, id, result)
            .map_err(violation)?;
        let mut out = Out::new();
        self.machines[core as usize]
            .started(from, id, result, &mut out)
            .map_err(|e| Violation::new(format!("core {core} refused its own start: {e}")))?;
        ctx.send_all(out.sends);
        if let Ok(status) = chosen {
            self.ends[core as usize].push((ctx.now() + after, from, id, status));
            self.arm(core, ctx);
        }
        Ok(())
    }

    /// Asks for the timer of core `core`'s earliest end.
    fn arm(&self, core: u32, ctx: &mut Ctx<'_>) {
        if let Some(at) = self.ends[core as usize].iter().map(|e| e.0).min() {
            ctx.timer(at.saturating_sub(ctx.now()).max(1));
        }
    }
}

impl Scenario for SpawnScenario {
    fn start(&mut self, core: u32, ctx: &mut Ctx<'_>) -> Step {
        if core != 0 {
            return Ok(());
        }
        let cores = self.machines.len() as u64;
        let name = Name::new(PROGRAM).ok_or_else(|| Violation::new("a bad program name"))?;
        let mut out = Out::new();
        for _ in 0..self.count {
            let at = ctx.rng().below(cores) as u32;
            let id = self.machines[0]
                .request(PROGRAM, at, &mut out)
                .map_err(|e| Violation::new(format!("core 0 refused its own request: {e}")))?;
            self.model.requested(0, id, at, name);
        }
        ctx.send_all(out.sends);
        Ok(())
    }

    fn on_message(&mut self, core: u32, m: &Inbound, ctx: &mut Ctx<'_>) -> Step {
        let out = super::deliver(&mut self.machines[core as usize], core, m, ctx)?;
        ctx.send_all(out.sends);
        for e in out.effects {
            self.effect(core, e, ctx)?;
        }
        Ok(())
    }

    fn on_timer(&mut self, core: u32, ctx: &mut Ctx<'_>) -> Step {
        let now = ctx.now();
        let (due, rest): (Vec<_>, Vec<_>) =
            self.ends[core as usize].iter().partition(|e| e.0 <= now);
        self.ends[core as usize] = rest;
        for (_, from, id, status) in due {
            self.model
                .ended(core, from, id, status)
                .map_err(violation)?;
            let mut out = Out::new();
            self.machines[core as usize]
                .ended(from, id, status, &mut out)
                .map_err(|e| Violation::new(format!("core {core} refused its own end: {e}")))?;
            ctx.send_all(out.sends);
        }
        self.arm(core, ctx);
        Ok(())
    }

    fn finish(&mut self, failed: &[bool]) -> Step {
        if super::degraded(failed) {
            return Ok(());
        }
        self.model.finish(&self.machines).map_err(violation)
    }
}
