//! The mesh protocol's messages and their wire forms.

use bytemuck::{CheckedBitPattern, NoUninit};
use urpc::Side;

use crate::wire::MESH;

crate::tag_module! {
    /// The mesh protocol's tags (range [`MESH`]).
    MESH:
    MeshMsg::Hello => HELLO, MeshMsg::Connect => CONNECT, MeshMsg::Linked => LINKED,
    MeshMsg::MeshDone => MESH_DONE, MeshMsg::Ping => PING, MeshMsg::Pong => PONG,
}

/// A message of the mesh protocol.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MeshMsg {
    /// Monitor `core` is up and attached to its bootstrap channel.
    Hello {
        /// The sender's core.
        core: u32,
    },
    /// Open the channel with `peer` at pool frames `first_frame..+2`.
    Connect {
        /// The other end.
        peer: u32,
        /// This end's side: A formats, B attaches.
        side: Side,
        /// First pool frame of the channel.
        first_frame: u64,
    },
    /// The sender's channel with `peer` carried a message both ways.
    Linked {
        /// The other end.
        peer: u32,
    },
    /// Every pair of cores is linked.
    MeshDone {
        /// Number of channels.
        channels: u64,
    },
    /// First message on a new mesh channel.
    Ping {
        /// The sender's core.
        from: u32,
    },
    /// The answer to [`MeshMsg::Ping`].
    Pong {
        /// The sender's core.
        from: u32,
    },
}

#[derive(Clone, Copy, Default, NoUninit, CheckedBitPattern)]
#[repr(u8)]
enum WireSide {
    #[default]
    A = 0,
    B = 1,
}

impl From<Side> for WireSide {
    fn from(side: Side) -> WireSide {
        match side {
            Side::A => WireSide::A,
            Side::B => WireSide::B,
        }
    }
}

impl From<WireSide> for Side {
    fn from(side: WireSide) -> Side {
        match side {
            WireSide::A => Side::A,
            WireSide::B => Side::B,
        }
    }
}

crate::wire_structs! {
    Hello { core: u32 } Connect { peer: u32, side: WireSide, _pad: [u8; 3], first_frame: u64 }
    Linked { peer: u32 } MeshDone { channels: u64 } Ping { from: u32 } Pong { from: u32 }
}

crate::wire_codec! {
    MeshMsg:
    Hello { core } => HELLO, Connect { peer, side, first_frame } => CONNECT,
    Linked { peer } => LINKED, MeshDone { channels } => MESH_DONE, Ping { from } => PING,
    Pong { from } => PONG,
}
