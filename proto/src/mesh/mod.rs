//! **Guarantee:** when monitor 0's broker reports the mesh complete, every
//! pair of cores has its own duplex URPC channel in frames no other channel
//! uses, and a message has crossed every channel in both directions.
//!
//! Building the full mesh of channels, as a sans-IO protocol. Every monitor
//! `i ≥ 1` starts with one bootstrap channel to monitor 0 (see
//! `services::shm::pool`). Over those, monitor 0's [`Broker`] pairs the cores
//! up until every pair has its own channel: `n·(n−1)/2` channels.
//!
//! 1. Each monitor `i` sends [`MeshMsg::Hello`] to monitor 0.
//! 2. With every hello in, the broker gives each pair `(a, b)`, `a < b`, two
//!    pool frames and sends [`MeshMsg::Connect`] to both: `a` is side A and
//!    formats the channel, `b` is side B and attaches once it is formatted.
//! 3. Each [`Member`] opens its side ([`MeshEffect::Open`]), sends
//!    [`MeshMsg::Ping`] on the new channel and answers the peer's ping with
//!    [`MeshMsg::Pong`]. A link counts when a message went both ways *on
//!    the mesh channel*; the member then sends [`MeshMsg::Linked`].
//! 4. With every link reported by both ends, the broker sends
//!    [`MeshMsg::MeshDone`].
//!
//! Why it holds: the broker is the only allocator of these frames, so no
//! two channels share one; a ping or pong is accepted only from the mesh
//! channel of the core it names, so `Linked` means that channel carried a
//! message each way. Unexpected messages (unknown core, duplicate, out of
//! order, wrong channel) are typed [`MeshError`]s that change nothing.
//!
//! [`MeshModel`] is the reference model and the invariants that the tests
//! and the simulator check runs against; [`Mesh::broken`] is the
//! deliberately wrong broker they must catch.

mod broker;
mod member;
mod model;
mod msg;
#[cfg(test)]
mod tests;

use alloc::vec::Vec;

use urpc::Side;

pub use broker::{Broker, Outgoing};
pub use member::{Action, Member};
pub use model::{MeshModel, MeshViolation};
pub use msg::{MeshMsg, tag};

use super::{Handled, Inbound, Out, Protocol, Via};
use crate::frames::FrameAllocator;
use crate::wire::{MESH, Malformed, TagRange};

/// A message the protocol refused; its reason ([`Refusal::reason`](crate::Refusal::reason)) is its
/// variant's name in kebab case.
#[derive(Clone, Copy, Debug, PartialEq, Eq, strum::IntoStaticStr)]
#[strum(serialize_all = "kebab-case")]
pub enum MeshError {
    /// The message does not decode.
    Malformed(Malformed),
    /// The message names a core that does not exist.
    UnknownCore(u32),
    /// The message repeats one already received.
    Duplicate,
    /// The message does not fit the protocol's current state.
    OutOfOrder,
    /// The message came on a channel that may not carry it.
    WrongChannel,
    /// The pool has too few frames for the mesh.
    PoolExhausted,
}

crate::refusal! {
    MeshError:
    UnknownCore(c) => "message names unknown core {c}", Duplicate => "duplicate message",
    OutOfOrder => "message out of order", WrongChannel => "message on the wrong channel",
    PoolExhausted => "the shared pool is too small for the mesh";
    fatal: PoolExhausted
}

/// What the mesh asks its monitor to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MeshEffect {
    /// Open this core's end of the channel with `peer` at `first_frame`
    /// (side A formats it, side B attaches once it is formatted), then call
    /// [`Mesh::opened`].
    Open {
        /// The other end.
        peer: u32,
        /// First pool frame of the channel.
        first_frame: u64,
        /// This end's side.
        side: Side,
    },
    /// This core is now linked with every other core.
    AllLinked {
        /// Number of links.
        links: usize,
    },
}

/// One core's mesh machine: the member, and on core 0 the broker.
#[derive(Debug)]
pub struct Mesh {
    core: u32,
    broker: Option<Broker>,
    member: Member,
}

impl Mesh {
    /// The machine of core `core` of `cores`; core 0's broker allocates the
    /// channels from `frames`.
    pub fn new(core: u32, cores: u32, frames: FrameAllocator) -> Mesh {
        Mesh {
            core,
            broker: (core == 0).then(|| Broker::new(cores, frames)),
            member: Member::new(core, cores),
        }
    }

    /// Core `core`'s machine with, on core 0, the deliberately wrong
    /// [`Broker::broken`], for the tests that must catch it.
    pub fn broken(core: u32, cores: u32, frames: FrameAllocator) -> Mesh {
        Mesh {
            broker: (core == 0).then(|| Broker::broken(cores, frames)),
            ..Mesh::new(core, cores, frames)
        }
    }

    /// The first step: hello to the broker, or (core 0) the broker's start.
    pub fn start(&mut self, out: &mut Out<MeshEffect>) -> Result<(), MeshError> {
        match self.broker.as_mut() {
            Some(broker) => {
                let sends = broker.start()?;
                self.broker_out(sends, out);
            }
            None => out.send_raw(0, MeshMsg::Hello { core: self.core }.encode()),
        }
        Ok(())
    }

    /// The monitor opened this core's end of the channel with `peer`.
    pub fn opened(&mut self, peer: u32, out: &mut Out<MeshEffect>) -> Result<(), MeshError> {
        let actions = self.member.on_open(peer)?;
        self.member_out(actions, out);
        Ok(())
    }

    /// Whether this core's part is done: every link up, and on core 0
    /// every pair linked.
    pub fn is_done(&self) -> bool {
        self.member.all_linked() && self.broker.as_ref().is_none_or(Broker::is_done)
    }

    /// Links up so far.
    pub fn linked(&self) -> usize {
        self.member.linked()
    }

    /// Core 0: the frame allocator after the mesh took its frames.
    pub fn frames(&self) -> Option<FrameAllocator> {
        self.broker.as_ref().map(Broker::frames)
    }

    fn broker_out(&mut self, sends: Vec<Outgoing>, out: &mut Out<MeshEffect>) {
        for (to, msg) in sends {
            out.send_raw(to, msg.encode());
        }
    }

    fn member_out(&mut self, actions: Vec<Action>, out: &mut Out<MeshEffect>) {
        for a in actions {
            match a {
                Action::Open {
                    peer,
                    first_frame,
                    side,
                } => out.effect(MeshEffect::Open {
                    peer,
                    first_frame,
                    side,
                }),
                Action::Send { peer, msg } => out.send_raw(peer, msg.encode()),
                Action::Report(msg) => {
                    if self.member.all_linked() {
                        out.effect(MeshEffect::AllLinked {
                            links: self.member.linked(),
                        });
                    }
                    out.send_raw(0, msg.encode());
                }
            }
        }
    }
}

impl Protocol for Mesh {
    type Effect = MeshEffect;
    type Error = MeshError;
    const TAGS: TagRange = MESH;

    fn on_message(&mut self, _now: u64, m: &Inbound, out: &mut Out<MeshEffect>) -> Handled<Self> {
        let msg = MeshMsg::decode(&m.msg).map_err(MeshError::Malformed)?;
        match msg {
            MeshMsg::Hello { .. } | MeshMsg::Linked { .. } => {
                let broker = self.broker.as_mut().ok_or(MeshError::OutOfOrder)?;
                if m.via != Via::Bootstrap && matches!(msg, MeshMsg::Hello { .. }) {
                    return Err(MeshError::WrongChannel);
                }
                let sends = broker.on_message(m.from, msg)?;
                self.broker_out(sends, out);
            }
            MeshMsg::Connect {
                peer,
                side,
                first_frame,
            } => {
                if m.from != 0 {
                    return Err(MeshError::OutOfOrder);
                }
                let actions = self.member.on_connect(peer, side, first_frame)?;
                self.member_out(actions, out);
            }
            MeshMsg::MeshDone { .. } if m.from == 0 => {}
            MeshMsg::MeshDone { .. } => return Err(MeshError::OutOfOrder),
            MeshMsg::Ping { .. } | MeshMsg::Pong { .. } => {
                if m.via != Via::Mesh {
                    return Err(MeshError::WrongChannel);
                }
                let actions = self.member.on_peer(m.from, msg)?;
                self.member_out(actions, out);
            }
        }
        Ok(())
    }
}
