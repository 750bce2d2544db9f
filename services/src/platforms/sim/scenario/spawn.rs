//! **Checks:** every request core 0 makes is answered exactly once, with
//! the outcome its serving core chose (started, or failed with that code),
//! and a started domain's end arrives exactly once, after its start, with
//! the status its core saw; at the end of a run without a failed core no
//! request is pending, and the verdict passes exactly when every domain
//! exited with 0.
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
use crate::proto::spawn::{SpawnEffect, Spawns};
use crate::proto::{Inbound, Out};

/// What a serving core chose for a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Chosen {
    /// Not served yet.
    Open,
    /// Failed with this code.
    Fail(u32),
    /// Started; it ends with this status.
    Start(Status),
}

/// What core 0 has heard of a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Heard {
    Nothing,
    Spawned,
    Failed,
    Ended,
}

/// One request: its core, the server's choice, what core 0 heard.
#[derive(Clone, Copy, Debug)]
struct Request {
    core: u32,
    chosen: Chosen,
    heard: Heard,
}

/// The spawn machines of every core, and a model of every request.
#[derive(Debug)]
pub struct SpawnScenario {
    machines: Vec<Spawns>,
    count: u32,
    requests: Vec<Request>,
    /// Per core: domains to end, as (cycle, requester, id).
    ends: Vec<Vec<(u64, u32, u32)>>,
}

impl SpawnScenario {
    /// `requests` spawns on `cores` cores; with `broken`, the serving
    /// machines are [`Spawns::broken`].
    pub fn new(cores: u32, requests: u32, broken: bool) -> SpawnScenario {
        let make = if broken { Spawns::broken } else { Spawns::new };
        SpawnScenario {
            machines: (0..cores).map(|_| make(cores)).collect(),
            count: requests.max(1),
            requests: Vec::new(),
            ends: vec![Vec::new(); cores as usize],
        }
    }

    fn request(&mut self, id: u32) -> Result<&mut Request, Violation> {
        self.requests
            .get_mut(id as usize)
            .ok_or_else(|| Violation::new(format!("an answer for request {id}, never made")))
    }

    /// Carries out an effect of core `core`'s machine.
    fn effect(&mut self, core: u32, e: SpawnEffect, ctx: &mut Ctx<'_>) -> Result<(), Violation> {
        match e {
            SpawnEffect::Start { from, id, .. } => self.serve(core, from, id, ctx),
            SpawnEffect::Spawned { id, core: at, .. } => {
                let r = self.request(id)?;
                if !matches!(r.chosen, Chosen::Start(_))
                    || r.heard != Heard::Nothing
                    || at != r.core
                {
                    return Err(Violation::new(format!(
                        "request {id}: spawned on core {at}, but chosen {:?} on core {}, heard {:?}",
                        r.chosen, r.core, r.heard
                    )));
                }
                r.heard = Heard::Spawned;
                Ok(())
            }
            SpawnEffect::Failed { id, failure, .. } => {
                let r = self.request(id)?;
                if r.chosen != Chosen::Fail(failure) || r.heard != Heard::Nothing {
                    return Err(Violation::new(format!(
                        "request {id}: failed with {failure}, but chosen {:?}, heard {:?}",
                        r.chosen, r.heard
                    )));
                }
                r.heard = Heard::Failed;
                Ok(())
            }
            SpawnEffect::Ended { id, status, .. } => {
                let r = self.request(id)?;
                if r.chosen != Chosen::Start(status) || r.heard != Heard::Spawned {
                    return Err(Violation::new(format!(
                        "request {id}: ended {status:?}, but chosen {:?}, heard {:?}",
                        r.chosen, r.heard
                    )));
                }
                r.heard = Heard::Ended;
                Ok(())
            }
        }
    }

    /// Core `core`'s platform starts request `id` of `from`, or fails it.
    fn serve(&mut self, core: u32, from: u32, id: u32, ctx: &mut Ctx<'_>) -> Result<(), Violation> {
        let rng = ctx.rng();
        let chosen = if rng.chance(20) {
            Chosen::Fail(1 + rng.below(9) as u32)
        } else {
            let status = match rng.below(10) {
                0 => Status::Exited(1 + rng.below(5)),
                1 => Status::Killed(14),
                2 => Status::Revoked,
                _ => Status::Exited(0),
            };
            Chosen::Start(status)
        };
        let after = ctx.rng().between(1_000, 200_000);
        let r = self.request(id)?;
        if r.chosen != Chosen::Open || r.core != core {
            return Err(Violation::new(format!(
                "request {id} served on core {core}, asked of core {}, already {:?}",
                r.core, r.chosen
            )));
        }
        r.chosen = chosen;
        let mut out = Out::new();
        let result = match chosen {
            Chosen::Fail(code) => Err(code),
            _ => Ok(after),
        };
        self.machines[core as usize]
            .started(from, id, result, &mut out)
            .map_err(|e| Violation::new(format!("core {core} refused its own start: {e}")))?;
        ctx.send_all(out.sends);
        if matches!(chosen, Chosen::Start(_)) {
            self.ends[core as usize].push((ctx.now() + after, from, id));
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
    fn start(&mut self, core: u32, ctx: &mut Ctx<'_>) -> Result<(), Violation> {
        if core != 0 {
            return Ok(());
        }
        let cores = self.machines.len() as u64;
        let mut out = Out::new();
        for _ in 0..self.count {
            let at = ctx.rng().below(cores) as u32;
            self.machines[0]
                .request("hello", at, &mut out)
                .map_err(|e| Violation::new(format!("core 0 refused its own request: {e}")))?;
            self.requests.push(Request {
                core: at,
                chosen: Chosen::Open,
                heard: Heard::Nothing,
            });
        }
        ctx.send_all(out.sends);
        Ok(())
    }

    fn on_message(&mut self, core: u32, m: &Inbound, ctx: &mut Ctx<'_>) -> Result<(), Violation> {
        let out = super::deliver(&mut self.machines[core as usize], core, m, ctx)?;
        ctx.send_all(out.sends);
        for e in out.effects {
            self.effect(core, e, ctx)?;
        }
        Ok(())
    }

    fn on_timer(&mut self, core: u32, ctx: &mut Ctx<'_>) -> Result<(), Violation> {
        let now = ctx.now();
        let (due, rest): (Vec<_>, Vec<_>) =
            self.ends[core as usize].iter().partition(|e| e.0 <= now);
        self.ends[core as usize] = rest;
        for (_, from, id) in due {
            let Chosen::Start(status) = self.request(id)?.chosen else {
                return Err(Violation::new(format!(
                    "request {id} ends, but never started"
                )));
            };
            let mut out = Out::new();
            self.machines[core as usize]
                .ended(from, id, status, &mut out)
                .map_err(|e| Violation::new(format!("core {core} refused its own end: {e}")))?;
            ctx.send_all(out.sends);
        }
        self.arm(core, ctx);
        Ok(())
    }

    fn finish(&mut self, failed: &[bool]) -> Result<(), Violation> {
        if super::degraded(failed) {
            return Ok(());
        }
        if let Some((id, r)) = self
            .requests
            .iter()
            .enumerate()
            .find(|(_, r)| !matches!(r.heard, Heard::Failed | Heard::Ended))
        {
            return Err(Violation::new(format!(
                "request {id} (core {}) unfinished: chosen {:?}, heard {:?}",
                r.core, r.chosen, r.heard
            )));
        }
        if self.machines[0].pending() != 0 {
            return Err(Violation::new("core 0 still counts a pending request"));
        }
        let all_zero = self
            .requests
            .iter()
            .all(|r| r.chosen == Chosen::Start(Status::Exited(0)));
        if self.machines[0].all_passed() != all_zero {
            return Err(Violation::new(format!(
                "the verdict is {} but every domain exiting with 0 is {all_zero}",
                self.machines[0].all_passed()
            )));
        }
        Ok(())
    }
}
