//! The mesh protocol's messages and their wire forms.

use bytemuck::{CheckedBitPattern, NoUninit};
use urpc::{RawMessage, Side};

use crate::wire::{self, MESH, Malformed};

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

#[derive(Clone, Copy, NoUninit, CheckedBitPattern)]
#[repr(C)]
struct Hello {
    core: u32,
}

#[derive(Clone, Copy, NoUninit, CheckedBitPattern)]
#[repr(u8)]
enum WireSide {
    A = 0,
    B = 1,
}

#[derive(Clone, Copy, NoUninit, CheckedBitPattern)]
#[repr(C)]
struct Connect {
    peer: u32,
    side: WireSide,
    _pad: [u8; 3],
    first_frame: u64,
}

#[derive(Clone, Copy, NoUninit, CheckedBitPattern)]
#[repr(C)]
struct Linked {
    peer: u32,
}

#[derive(Clone, Copy, NoUninit, CheckedBitPattern)]
#[repr(C)]
struct MeshDone {
    channels: u64,
}

#[derive(Clone, Copy, NoUninit, CheckedBitPattern)]
#[repr(C)]
struct Ping {
    from: u32,
}

#[derive(Clone, Copy, NoUninit, CheckedBitPattern)]
#[repr(C)]
struct Pong {
    from: u32,
}

crate::pod_messages! {
    Hello => tag::HELLO,
    Connect => tag::CONNECT,
    Linked => tag::LINKED,
    MeshDone => tag::MESH_DONE,
    Ping => tag::PING,
    Pong => tag::PONG,
}

impl MeshMsg {
    /// Encodes the message.
    pub fn encode(&self) -> RawMessage {
        match *self {
            MeshMsg::Hello { core } => wire::encode(&Hello { core }),
            MeshMsg::Connect {
                peer,
                side,
                first_frame,
            } => wire::encode(&Connect {
                peer,
                side: match side {
                    Side::A => WireSide::A,
                    Side::B => WireSide::B,
                },
                _pad: [0; 3],
                first_frame,
            }),
            MeshMsg::Linked { peer } => wire::encode(&Linked { peer }),
            MeshMsg::MeshDone { channels } => wire::encode(&MeshDone { channels }),
            MeshMsg::Ping { from } => wire::encode(&Ping { from }),
            MeshMsg::Pong { from } => wire::encode(&Pong { from }),
        }
    }

    /// Decodes a message, checking its tag, length and fields.
    pub fn decode(m: &RawMessage) -> Result<MeshMsg, Malformed> {
        Ok(match m.tag() {
            tag::HELLO => MeshMsg::Hello {
                core: wire::decode::<Hello>(m)?.core,
            },
            tag::CONNECT => {
                let c = wire::decode::<Connect>(m)?;
                MeshMsg::Connect {
                    peer: c.peer,
                    side: match c.side {
                        WireSide::A => Side::A,
                        WireSide::B => Side::B,
                    },
                    first_frame: c.first_frame,
                }
            }
            tag::LINKED => MeshMsg::Linked {
                peer: wire::decode::<Linked>(m)?.peer,
            },
            tag::MESH_DONE => MeshMsg::MeshDone {
                channels: wire::decode::<MeshDone>(m)?.channels,
            },
            tag::PING => MeshMsg::Ping {
                from: wire::decode::<Ping>(m)?.from,
            },
            tag::PONG => MeshMsg::Pong {
                from: wire::decode::<Pong>(m)?.from,
            },
            other => return Err(Malformed::UnknownTag(other)),
        })
    }
}
