//! The scenarios the simulator runs: each puts one protocol's machines on
//! every core, drives them as their monitors and clients would, and says
//! what must hold (its module doc opens with its checks). The replica,
//! spawn and mesh scenarios (the mesh's with the job phase after it) keep
//! only their workload and check with their protocols' reference models,
//! the ones the host tests use.

mod barrier;
mod caps;
mod lock;
mod mesh;
mod ram;
mod replica;
mod spawn;
mod update;

pub use barrier::BarrierScenario;
pub use caps::CapsScenario;
pub use lock::LockScenario;
pub use mesh::MeshScenario;
pub use ram::RamScenario;
pub use replica::{HistoryOp, ReplicaScenario, ReplicaSetup};
pub use spawn::SpawnScenario;
pub use update::UpdateScenario;

use alloc::format;

use super::world::{Ctx, Violation};
use crate::proto::host::Machines;
use crate::proto::{Inbound, Out};

/// Hands `m` to core `core`'s machine (or set of machines) through the one
/// host; a refusal is a violation, since a correct run never sends a
/// message its receiver cannot take.
fn deliver<M: Machines>(
    machine: &mut M,
    core: u32,
    m: &Inbound,
    ctx: &Ctx<'_>,
) -> Result<Out<M::Effect>, Violation> {
    let mut out = Out::new();
    machine.on_message(ctx.now(), m, &mut out).map_err(|e| {
        Violation::new(format!(
            "core {core} refused tag {:#x} from core {} on the {} channel: {}",
            m.msg.tag(),
            m.from,
            m.via.name(),
            e.reason
        ))
    })?;
    Ok(out)
}

/// Whether some core failed for good (then a scenario checks only safety
/// at the end).
fn degraded(failed: &[bool]) -> bool {
    failed.iter().any(|&f| f)
}

/// What a scenario's step gives: nothing, or the invariant it broke.
type Step = Result<(), Violation>;

/// A reference model's finding, as the world's violation.
fn violation(v: impl core::fmt::Display) -> Violation {
    Violation::new(format!("{v}"))
}

/// A workload of a number of actions per core, each after a random pause:
/// when a core's timer fires, [`Paced::due`] says whether it is time for
/// its next action (other timers, such as a machine's deadline, share the
/// core's timer events).
#[derive(Debug)]
struct Paced {
    left: alloc::vec::Vec<u32>,
    next: alloc::vec::Vec<u64>,
    think: u64,
}

impl Paced {
    /// `ops` actions on each of `cores` cores, pauses up to `think` cycles.
    fn new(cores: u32, ops: u32, think: u64) -> Paced {
        Paced {
            left: alloc::vec![ops; cores as usize],
            next: alloc::vec![0; cores as usize],
            think: think.max(1),
        }
    }

    /// Schedules core `core`'s first action.
    fn start(&mut self, core: u32, ctx: &mut Ctx<'_>) {
        let pause = ctx.rng().below(self.think);
        self.next[core as usize] = ctx.now() + pause;
        ctx.timer(pause);
    }

    /// Whether core `core` acts now; if so, its next action is scheduled.
    fn due(&mut self, core: u32, ctx: &mut Ctx<'_>) -> bool {
        let c = core as usize;
        if self.left[c] == 0 || ctx.now() < self.next[c] {
            return false;
        }
        self.left[c] -= 1;
        let pause = 1 + ctx.rng().below(self.think);
        self.next[c] = ctx.now() + pause;
        ctx.timer(pause);
        true
    }
}

/// Gives `machine` its turn if its deadline passed.
fn expire<M: Machines>(machine: &mut M, ctx: &Ctx<'_>) -> Out<M::Effect> {
    let mut out = Out::new();
    if machine.deadline().is_some_and(|d| d <= ctx.now()) {
        machine.on_deadlines(ctx.now(), &mut out);
    }
    out
}

/// Wakes the core at `machine`'s next deadline.
fn wake_for<M: Machines>(machine: &M, ctx: &mut Ctx<'_>) {
    if let Some(d) = machine.deadline() {
        ctx.timer(d.saturating_sub(ctx.now()).max(1));
    }
}

/// At the end of a run without a failed core: the first core whose
/// machine is not at rest, named.
fn at_rest<M>(machines: &[M], rest: fn(&M) -> bool, what: &str) -> Step {
    match machines.iter().position(|m| !rest(m)) {
        Some(c) => Err(Violation::new(format!(
            "core {c}'s {what} machine is not at rest at the end"
        ))),
        None => Ok(()),
    }
}
