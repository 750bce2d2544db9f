//! The router: hands each received message to the protocol machine that
//! owns its tag range (`crate::wire::registry`), and collects what the
//! machine gives out.
//!
//! Adding a protocol to the monitor is one line in [`Router::route`] (and
//! its machine in [`Router`], its effects in [`Effect`]).

use alloc::vec::Vec;

use urpc::RawMessage;

use crate::proto::job::{JobEffect, JobPhase};
use crate::proto::mesh::{Mesh, MeshEffect};
use crate::proto::spawn::{SpawnEffect, Spawns};
use crate::proto::{Inbound, Out, Protocol, Refusal};
use crate::wire::{self, Owner};

/// An effect of one of the monitor's machines.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Effect {
    /// Of the mesh.
    Mesh(MeshEffect),
    /// Of the job phase.
    Job(JobEffect),
    /// Of the spawn protocol.
    Spawn(SpawnEffect),
}

/// Why a message was not taken.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Dropped {
    /// The reason, as `dropped` records print it.
    pub reason: &'static str,
    /// Whether the monitor cannot go on.
    pub fatal: bool,
}

/// The protocol machines of one monitor.
#[derive(Debug)]
pub(crate) struct Router {
    /// The mesh of channels.
    pub mesh: Mesh,
    /// The job phase.
    pub job: JobPhase,
    /// Spawning on other cores.
    pub spawn: Spawns,
}

/// What the machines gave out for one input.
pub(crate) type Output = (Vec<(u32, RawMessage)>, Vec<Effect>);

fn deliver<M: Protocol>(
    machine: &mut M,
    now: u64,
    m: &Inbound,
    wrap: fn(M::Effect) -> Effect,
) -> Result<Output, Dropped> {
    let mut out = Out::new();
    machine.on_message(now, m, &mut out).map_err(|e| Dropped {
        reason: e.reason(),
        fatal: e.is_fatal(),
    })?;
    Ok((out.sends, out.effects.into_iter().map(wrap).collect()))
}

/// Converts what a machine gave out outside [`Router::route`].
pub(crate) fn collect<E>(out: Out<E>, wrap: fn(E) -> Effect) -> Output {
    (out.sends, out.effects.into_iter().map(wrap).collect())
}

impl Router {
    /// Hands `m` to the machine that owns its tag.
    pub(crate) fn route(&mut self, now: u64, m: &Inbound) -> Result<Output, Dropped> {
        match wire::owner(m.msg.tag()) {
            Some(Owner::Mesh) => deliver(&mut self.mesh, now, m, Effect::Mesh),
            Some(Owner::Job) => deliver(&mut self.job, now, m, Effect::Job),
            Some(Owner::Spawn) => deliver(&mut self.spawn, now, m, Effect::Spawn),
            // Tags of protocols that do not run in the monitor, and tags
            // nobody owns.
            Some(
                Owner::Update | Owner::UrpcBench | Owner::Lock | Owner::Barrier | Owner::Replica,
            )
            | None => Err(Dropped {
                reason: "unknown-tag",
                fatal: false,
            }),
        }
    }

    /// The earliest deadline of any machine.
    pub(crate) fn deadline(&self) -> Option<u64> {
        [self.mesh.deadline(), self.job.deadline()]
            .into_iter()
            .flatten()
            .min()
    }

    /// Gives every machine whose deadline passed its turn.
    pub(crate) fn on_deadlines(&mut self, now: u64) -> Output {
        let mut acc = (Vec::new(), Vec::new());
        tick(&mut self.mesh, now, Effect::Mesh, &mut acc);
        tick(&mut self.job, now, Effect::Job, &mut acc);
        acc
    }
}

fn tick<M: Protocol>(machine: &mut M, now: u64, wrap: fn(M::Effect) -> Effect, acc: &mut Output) {
    if machine.deadline().is_some_and(|d| d <= now) {
        let mut out = Out::new();
        machine.on_deadline(now, &mut out);
        acc.0.extend(out.sends);
        acc.1.extend(out.effects.into_iter().map(wrap));
    }
}
