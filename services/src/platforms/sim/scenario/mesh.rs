//! **Checks:** no machine refuses a message of a correct run; the rest is
//! the reference models of the mesh ([`MeshModel`]) and of the job phase
//! ([`JobModel`]), told every effect, every channel a monitor opened and
//! every part of the job that ended, and checked at the end of a run
//! without a failed core, when no monitor left a channel with messages
//! unpolled.
//!
//! The mesh of channels (`proto::mesh`): each core's machine, with the
//! monitor's choice of channel (the mesh channel with a peer once both
//! ends opened it, else the bootstrap channel with core 0), and a channel
//! that opens some cycles after the machine asks for it. Then, as the
//! monitors do, the job phase (`proto::job`) over the bootstrap channels:
//! once its mesh is done, core 0 hands every core an arena, and each
//! core's part ends after a random time, mostly with success.

use alloc::format;
use alloc::vec;
use alloc::vec::Vec;

use super::super::world::{Ctx, Scenario, Violation};
use super::{Step, violation};
use crate::proto::host::Machines;
use crate::proto::job::{JobEffect, JobModel, JobPhase};
use crate::proto::mesh::{Mesh, MeshEffect, MeshModel};
use crate::proto::{Inbound, Out, Refusal, Via};
use crate::shm::FrameAllocator;

/// Cycles to format or attach a channel: up to this many.
const OPEN: u64 = 20_000;
/// Cycles a core's part of the job runs: up to this many.
const JOB: u64 = 50_000;
/// Pool frames of the job's arena.
const ARENA: u64 = 4;

/// The mesh and job-phase machines of every core.
#[derive(Debug)]
pub struct MeshScenario {
    machines: Vec<Mesh>,
    /// `open[a][b]`: core a opened its end of the channel with b.
    open: Vec<Vec<bool>>,
    /// Per core, the peers whose channel it is opening.
    opening: Vec<Vec<u32>>,
    /// Per core, the peers whose channel is open at both ends.
    ready: Vec<Vec<u32>>,
    /// `polled[a][b]`: core a's monitor polls its channel with b (it
    /// called `opened`); what b sends earlier waits in the channel.
    polled: Vec<Vec<bool>>,
    /// Per core, mesh messages waiting in channels it does not poll yet.
    waiting: Vec<Vec<Inbound>>,
    model: MeshModel,
    jobs: Vec<JobPhase>,
    job_model: JobModel,
    job_started: bool,
    /// Per core, when its part of the job ends, while it runs.
    job_ends: Vec<Option<u64>>,
}

impl MeshScenario {
    /// The mesh of `cores` cores, then the job phase; with `broken_mesh`,
    /// core 0's broker is [`Mesh::broken`], with `broken_job`, every job
    /// machine is [`JobPhase::broken`].
    pub fn new(cores: u32, broken_mesh: bool, broken_job: bool) -> MeshScenario {
        let frames = FrameAllocator::new(64, 64 + u64::from(cores * cores) * 8);
        let make = if broken_mesh { Mesh::broken } else { Mesh::new };
        let job = if broken_job {
            JobPhase::broken
        } else {
            JobPhase::new
        };
        MeshScenario {
            machines: (0..cores).map(|c| make(c, cores, frames)).collect(),
            open: vec![vec![false; cores as usize]; cores as usize],
            opening: vec![Vec::new(); cores as usize],
            ready: vec![Vec::new(); cores as usize],
            polled: vec![vec![false; cores as usize]; cores as usize],
            waiting: vec![Vec::new(); cores as usize],
            model: MeshModel::new(cores),
            jobs: (0..cores).map(|c| job(c, cores)).collect(),
            job_model: JobModel::new(cores),
            job_started: false,
            job_ends: vec![None; cores as usize],
        }
    }

    /// Core 0, once its mesh is done: hands every core the job's arena.
    fn start_job(&mut self, ctx: &mut Ctx<'_>) -> Step {
        if self.job_started || !self.machines[0].is_done() {
            return Ok(());
        }
        self.job_started = true;
        let first = self.machines[0]
            .frames()
            .and_then(|mut f| f.take(ARENA))
            .unwrap_or(0);
        self.job_model.started(first, ARENA).map_err(violation)?;
        let mut out = Out::new();
        self.jobs[0]
            .start(first, ARENA, &mut out)
            .map_err(|e| Violation::new(format!("core 0 could not start the job: {e}")))?;
        self.job_out(0, out, ctx)
    }

    /// Carries out what core `core`'s job machine gave out: messages on
    /// the bootstrap channels, and a part of the job that runs for a while.
    fn job_out(&mut self, core: u32, out: Out<JobEffect>, ctx: &mut Ctx<'_>) -> Step {
        self.job_model
            .effects(core, &out.effects)
            .map_err(violation)?;
        for (to, msg) in out.sends {
            let via = if to == core {
                Via::Local
            } else {
                Via::Bootstrap
            };
            ctx.send_via(to, via, msg);
        }
        if out
            .effects
            .iter()
            .any(|e| matches!(e, JobEffect::Run { .. }))
        {
            let t = ctx.rng().below(JOB);
            self.job_ends[core as usize] = Some(ctx.now() + t);
            ctx.timer(t);
        }
        Ok(())
    }

    /// Ends core `core`'s part of the job if it is due, else waits for it.
    fn end_job(&mut self, core: u32, ctx: &mut Ctx<'_>) -> Step {
        let Some(at) = self.job_ends[core as usize] else {
            return Ok(());
        };
        if at > ctx.now() {
            ctx.timer(at - ctx.now());
            return Ok(());
        }
        self.job_ends[core as usize] = None;
        let ok = ctx.rng().chance(90);
        self.job_model.finished(core, ok).map_err(violation)?;
        let mut out = Out::new();
        self.jobs[core as usize]
            .finished(ok, &mut out)
            .map_err(|e| Violation::new(format!("core {core} could not end its part: {e}")))?;
        self.job_out(core, out, ctx)
    }

    fn apply(&mut self, core: u32, out: Out<MeshEffect>, ctx: &mut Ctx<'_>) -> Step {
        self.model.effects(core, &out.effects).map_err(violation)?;
        for (to, msg) in out.sends {
            let via = if to == core {
                Via::Local
            } else if self.open[core as usize][to as usize] && self.open[to as usize][core as usize]
            {
                Via::Mesh
            } else {
                Via::Bootstrap
            };
            ctx.send_via(to, via, msg);
        }
        for e in out.effects {
            if let MeshEffect::Open { peer, .. } = e {
                self.opening[core as usize].push(peer);
                let t = ctx.rng().below(OPEN);
                ctx.timer(t);
            }
        }
        if core == 0 {
            self.start_job(ctx)?;
        }
        Ok(())
    }
}

impl Scenario for MeshScenario {
    fn start(&mut self, core: u32, ctx: &mut Ctx<'_>) -> Step {
        let mut out = Out::new();
        self.machines[core as usize]
            .start(&mut out)
            .map_err(|e| Violation::new(format!("core {core} could not start: {}", e.reason())))?;
        self.apply(core, out, ctx)
    }

    fn on_message(&mut self, core: u32, m: &Inbound, ctx: &mut Ctx<'_>) -> Step {
        if m.via == Via::Mesh && !self.polled[core as usize][m.from as usize] {
            self.waiting[core as usize].push(*m);
            return Ok(());
        }
        if self.jobs[core as usize].owns(m.msg.tag()) {
            let out = super::deliver(&mut self.jobs[core as usize], core, m, ctx)?;
            return self.job_out(core, out, ctx);
        }
        let out = super::deliver(&mut self.machines[core as usize], core, m, ctx)?;
        self.apply(core, out, ctx)
    }

    fn on_timer(&mut self, core: u32, ctx: &mut Ctx<'_>) -> Step {
        // The channels this core was opening are open now; a channel is
        // usable once both ends are, and each end then learns it by its
        // own monitor's poll (side B attaches once side A formatted).
        for peer in core::mem::take(&mut self.opening[core as usize]) {
            self.open[core as usize][peer as usize] = true;
            if self.open[peer as usize][core as usize] {
                self.ready[core as usize].push(peer);
                self.ready[peer as usize].push(core);
                let t = ctx.rng().below(OPEN);
                ctx.timer_for(peer, t);
            }
        }
        for peer in core::mem::take(&mut self.ready[core as usize]) {
            self.model.opened(core, peer).map_err(violation)?;
            let mut out = Out::new();
            self.machines[core as usize]
                .opened(peer, &mut out)
                .map_err(|e| {
                    Violation::new(format!("core {core} opened {peer}: {}", e.reason()))
                })?;
            self.apply(core, out, ctx)?;
            self.polled[core as usize][peer as usize] = true;
            let (now, later): (Vec<Inbound>, Vec<Inbound>) =
                core::mem::take(&mut self.waiting[core as usize])
                    .into_iter()
                    .partition(|m| m.from == peer);
            self.waiting[core as usize] = later;
            for m in now {
                self.on_message(core, &m, ctx)?;
            }
        }
        self.end_job(core, ctx)
    }

    fn finish(&mut self, failed: &[bool]) -> Step {
        if super::degraded(failed) {
            return Ok(());
        }
        if let Some(c) = self.waiting.iter().position(|w| !w.is_empty()) {
            return Err(Violation::new(format!(
                "core {c} never polled a channel that holds messages"
            )));
        }
        self.model.finish(&self.machines).map_err(violation)?;
        self.job_model.finish().map_err(violation)
    }
}
