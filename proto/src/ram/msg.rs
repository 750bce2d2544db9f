//! **Guarantee:** a RAM message decodes only from its own tag, with its
//! own length and a region that is not empty and does not wrap; anything
//! else is a typed [`Malformed`].

use bytemuck::{CheckedBitPattern, NoUninit};
use urpc::RawMessage;

use super::Region;
use crate::wire::registry::RAM;
use crate::wire::{self, Malformed};

crate::tag_module! {
    /// The RAM protocol's tags (range [`RAM`]).
    RAM:
    RamMsg::Ask => ASK, RamMsg::Give => GIVE, RamMsg::NoRoom => NO_ROOM, RamMsg::Return => RETURN,
}

/// A message of the RAM protocol.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RamMsg {
    /// A core short of RAM asks a peer for `size` bytes.
    Ask {
        /// The asker's request number.
        req: u64,
        /// Bytes wanted.
        size: u64,
    },
    /// The peer gives `region` for request `req`; the asker now holds it,
    /// and returns it to the giver when it frees it.
    Give {
        /// The asker's request number.
        req: u64,
        /// The region.
        region: Region,
    },
    /// The peer has no free region that large.
    NoRoom {
        /// The asker's request number.
        req: u64,
    },
    /// A region the receiver gave comes back, free.
    Return {
        /// The region.
        region: Region,
    },
}

#[derive(Clone, Copy, NoUninit, CheckedBitPattern)]
#[repr(C)]
struct Body {
    w: [u64; 3],
}

crate::tagged_wire! {
    Body:
    Ask => tag::ASK,
    Give => tag::GIVE,
    NoRoom => tag::NO_ROOM,
    Return => tag::RETURN,
}

fn region(base: u64, size: u64, tag: u16) -> Result<Region, Malformed> {
    let r = Region { base, size };
    if r.is_valid() {
        Ok(r)
    } else {
        Err(Malformed::BadValue { tag })
    }
}

impl RamMsg {
    /// Encodes the message.
    pub fn encode(&self) -> RawMessage {
        match *self {
            RamMsg::Ask { req, size } => wire::encode(&Ask(Body { w: [req, size, 0] })),
            RamMsg::Give { req, region } => wire::encode(&Give(Body {
                w: [req, region.base, region.size],
            })),
            RamMsg::NoRoom { req } => wire::encode(&NoRoom(Body { w: [req, 0, 0] })),
            RamMsg::Return { region } => wire::encode(&Return(Body {
                w: [region.base, region.size, 0],
            })),
        }
    }

    /// Decodes a message, checking its tag, length and fields.
    pub fn decode(m: &RawMessage) -> Result<RamMsg, Malformed> {
        let t = m.tag();
        Ok(match t {
            tag::ASK => {
                let w = wire::decode::<Ask>(m)?.0.w;
                if w[1] == 0 {
                    return Err(Malformed::BadValue { tag: t });
                }
                RamMsg::Ask {
                    req: w[0],
                    size: w[1],
                }
            }
            tag::GIVE => {
                let w = wire::decode::<Give>(m)?.0.w;
                RamMsg::Give {
                    req: w[0],
                    region: region(w[1], w[2], t)?,
                }
            }
            tag::NO_ROOM => RamMsg::NoRoom {
                req: wire::decode::<NoRoom>(m)?.0.w[0],
            },
            tag::RETURN => {
                let w = wire::decode::<Return>(m)?.0.w;
                RamMsg::Return {
                    region: region(w[0], w[1], t)?,
                }
            }
            other => return Err(Malformed::UnknownTag(other)),
        })
    }
}
