//! The monitor's protocol machines: one set on the one host
//! (`proto::host`), which hands each received message to the machine that
//! owns its tag range (`wire::registry`) and takes every machine's
//! deadline.
//!
//! Adding a protocol to the monitor is one line in [`Router`]; the monitor
//! then carries out the new variant of [`Effect`].

use alloc::vec::Vec;

use urpc::RawMessage;

use crate::proto::Out;
use crate::proto::job::JobPhase;
use crate::proto::mesh::Mesh;
use crate::proto::spawn::Spawns;

crate::proto::machines! {
    /// The protocol machines of one monitor.
    pub(crate) struct Router;
    /// An effect of one of the monitor's machines.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub(crate) enum Effect {
        /// The mesh of channels.
        mesh: Mesh => Mesh,
        /// The job phase.
        job: JobPhase => Job,
        /// Spawning on other cores.
        spawn: Spawns => Spawn,
    }
}

/// What the machines gave out for one input.
pub(crate) type Output = (Vec<(u32, RawMessage)>, Vec<Effect>);

/// Converts what one machine gave out when the monitor called it directly
/// (not through a message).
pub(crate) fn collect<E>(out: Out<E>, wrap: fn(E) -> Effect) -> Output {
    (out.sends, out.effects.into_iter().map(wrap).collect())
}
