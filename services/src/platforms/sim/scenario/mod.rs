//! The scenarios the simulator runs: each puts one protocol's machines on
//! every core, drives them as their monitors and clients would, and says
//! what must hold (its module doc opens with its checks).

mod barrier;
mod lock;
mod mesh;
mod replica;
mod spawn;
mod update;

pub use barrier::BarrierScenario;
pub use lock::LockScenario;
pub use mesh::MeshScenario;
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
