//! **Guarantee:** a capability-protocol message decodes only from its own
//! tag, with its own length and valid fields (a known operation, a region
//! that does not wrap, a flag that is 0 or 1); anything else is a typed
//! [`Malformed`].
//!
//! Every message has the same 56-byte wire form, [`Wire`]: five words and
//! three half-words, whose meaning depends on the tag. One form keeps the
//! codec one function each way; each tag still has its own type, so a
//! message of one tag never decodes as another's.

use bytemuck::{CheckedBitPattern, NoUninit};
use urpc::RawMessage;

use super::{Obj, Outcome, Request};
use crate::wire::registry::CAPS;
use crate::wire::{self, Malformed};

crate::tag_module! {
    /// The capability protocol's tags (range [`CAPS`]).
    CAPS:
    CapsMsg::Ask => ASK, CapsMsg::Answer => ANSWER, CapsMsg::Grant => GRANT, CapsMsg::Mark => MARK,
    CapsMsg::Marked => MARKED, CapsMsg::Restore => RESTORE, CapsMsg::Sweep => SWEEP,
    CapsMsg::Query => QUERY, CapsMsg::Holds => HOLDS, CapsMsg::Dropped => DROPPED,
}

/// A message of the capability protocol. `op` numbers an operation at the
/// owner that runs it; `req` numbers a request at the core that made it;
/// `settled` (from an owner) says that every operation of that owner
/// numbered below it has been decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CapsMsg {
    /// Requester to owner: run `what` on `obj` for request `req`.
    Ask {
        /// The requester's request number.
        req: u64,
        /// The capability.
        obj: Obj,
        /// The operation.
        what: Request,
    },
    /// Owner to requester: request `req` ended with `outcome`.
    Answer {
        /// The requester's request number.
        req: u64,
        /// How it ended.
        outcome: Outcome,
        /// The owner's settled bound.
        settled: u64,
        /// A retype's child: the number of the copy sent (0 for none).
        seq: u64,
        /// The owner's operation that ran the request (a revoke's marks
        /// on the requester are decided with it).
        op: u64,
    },
    /// Owner to a core: it now holds a copy of `obj` (owned by the sender).
    Grant {
        /// The capability.
        obj: Obj,
        /// The owner's settled bound.
        settled: u64,
        /// The number of the copy (the owner numbers every copy it sends).
        seq: u64,
    },
    /// Owner to a holder: mark every copy and descendant of `obj` but one
    /// copy on core `keep` (revoke, first phase or only phase).
    Mark {
        /// The owner's operation.
        op: u64,
        /// The capability revoked.
        obj: Obj,
        /// The core whose one copy stays (the requester).
        keep: u32,
        /// The owner's settled bound.
        settled: u64,
    },
    /// Holder to owner: operation `op`'s marks are made (or, after a
    /// [`CapsMsg::Sweep`], the marked capabilities are gone).
    Marked {
        /// The owner's operation.
        op: u64,
    },
    /// Owner to a holder: operation `op` was abandoned; undo its marks.
    Restore {
        /// The owner's operation.
        op: u64,
    },
    /// Owner to every core (broadcast revoke, second phase): delete what
    /// operation `op` marked.
    Sweep {
        /// The owner's operation.
        op: u64,
    },
    /// Owner to every core (broadcast retype and delete): does the receiver
    /// hold a copy of `obj` or anything inside `within` below it?
    Query {
        /// The owner's operation.
        op: u64,
        /// The capability.
        obj: Obj,
        /// The region asked about (a retype's child, or `obj`'s own).
        within: Obj,
    },
    /// Core to owner: the answer to [`CapsMsg::Query`].
    Holds {
        /// The owner's operation.
        op: u64,
        /// Whether it holds something there.
        holds: bool,
    },
    /// Holder to owner: the sender deleted its last copy of `obj`.
    Dropped {
        /// The capability.
        obj: Obj,
        /// The number of the last copy of `obj` the sender received.
        seen: u64,
    },
}

/// The one wire form: five words, three half-words and a pad.
#[derive(Clone, Copy, NoUninit, CheckedBitPattern)]
#[repr(C)]
struct Body {
    w: [u64; 5],
    h: [u32; 3],
    _pad: u32,
}

crate::tagged_wire! {
    Body:
    Ask => tag::ASK,
    Answer => tag::ANSWER,
    Grant => tag::GRANT,
    Mark => tag::MARK,
    Marked => tag::MARKED,
    Restore => tag::RESTORE,
    Sweep => tag::SWEEP,
    Query => tag::QUERY,
    Holds => tag::HOLDS,
    Dropped => tag::DROPPED,
}

/// `obj` as two words and a half-word (type and depth).
fn obj_words(o: Obj) -> (u64, u64, u32) {
    (o.base, o.size, u32::from(o.ty) | u32::from(o.depth) << 16)
}

/// The object of two words and a half-word, if it is one.
fn obj_of(base: u64, size: u64, td: u32, tag: u16) -> Result<Obj, Malformed> {
    let obj = Obj {
        base,
        size,
        ty: td as u16,
        depth: (td >> 16) as u16,
    };
    if obj.is_valid() {
        Ok(obj)
    } else {
        Err(Malformed::BadValue { tag })
    }
}

fn body(w: [u64; 5], h: [u32; 3]) -> Body {
    Body { w, h, _pad: 0 }
}

impl CapsMsg {
    /// Encodes the message.
    pub fn encode(&self) -> RawMessage {
        match *self {
            CapsMsg::Ask { req, obj, what } => {
                let (b, s, td) = obj_words(obj);
                let (kind, x, y, z) = what.words();
                wire::encode(&Ask(body([req, b, s, x, y], [td, kind, z])))
            }
            CapsMsg::Answer {
                req,
                outcome,
                settled,
                seq,
                op,
            } => {
                let (code, core) = outcome.words();
                wire::encode(&Answer(body([req, settled, seq, op, 0], [code, core, 0])))
            }
            CapsMsg::Grant { obj, settled, seq } => {
                let (b, s, td) = obj_words(obj);
                wire::encode(&Grant(body([b, s, settled, seq, 0], [td, 0, 0])))
            }
            CapsMsg::Mark {
                op,
                obj,
                keep,
                settled,
            } => {
                let (b, s, td) = obj_words(obj);
                wire::encode(&Mark(body([op, b, s, settled, 0], [td, keep, 0])))
            }
            CapsMsg::Marked { op } => wire::encode(&Marked(body([op, 0, 0, 0, 0], [0; 3]))),
            CapsMsg::Restore { op } => wire::encode(&Restore(body([op, 0, 0, 0, 0], [0; 3]))),
            CapsMsg::Sweep { op } => wire::encode(&Sweep(body([op, 0, 0, 0, 0], [0; 3]))),
            CapsMsg::Query { op, obj, within } => {
                let (b, s, td) = obj_words(obj);
                let (wb, ws, wtd) = obj_words(within);
                wire::encode(&Query(body([op, b, s, wb, ws], [td, wtd, 0])))
            }
            CapsMsg::Holds { op, holds } => {
                wire::encode(&Holds(body([op, 0, 0, 0, 0], [u32::from(holds), 0, 0])))
            }
            CapsMsg::Dropped { obj, seen } => {
                let (b, s, td) = obj_words(obj);
                wire::encode(&Dropped(body([b, s, seen, 0, 0], [td, 0, 0])))
            }
        }
    }

    /// Decodes a message, checking its tag, length and fields.
    pub fn decode(m: &RawMessage) -> Result<CapsMsg, Malformed> {
        let t = m.tag();
        let bad = Malformed::BadValue { tag: t };
        Ok(match t {
            tag::ASK => {
                let Body { w, h, .. } = wire::decode::<Ask>(m)?.0;
                CapsMsg::Ask {
                    req: w[0],
                    obj: obj_of(w[1], w[2], h[0], t)?,
                    what: Request::from_words(h[1], w[3], w[4], h[2]).ok_or(bad)?,
                }
            }
            tag::ANSWER => {
                let Body { w, h, .. } = wire::decode::<Answer>(m)?.0;
                CapsMsg::Answer {
                    req: w[0],
                    outcome: Outcome::from_words(h[0], h[1]).ok_or(bad)?,
                    settled: w[1],
                    seq: w[2],
                    op: w[3],
                }
            }
            tag::GRANT => {
                let Body { w, h, .. } = wire::decode::<Grant>(m)?.0;
                CapsMsg::Grant {
                    obj: obj_of(w[0], w[1], h[0], t)?,
                    settled: w[2],
                    seq: w[3],
                }
            }
            tag::MARK => {
                let Body { w, h, .. } = wire::decode::<Mark>(m)?.0;
                CapsMsg::Mark {
                    op: w[0],
                    obj: obj_of(w[1], w[2], h[0], t)?,
                    keep: h[1],
                    settled: w[3],
                }
            }
            tag::MARKED => CapsMsg::Marked {
                op: wire::decode::<Marked>(m)?.0.w[0],
            },
            tag::RESTORE => CapsMsg::Restore {
                op: wire::decode::<Restore>(m)?.0.w[0],
            },
            tag::SWEEP => CapsMsg::Sweep {
                op: wire::decode::<Sweep>(m)?.0.w[0],
            },
            tag::QUERY => {
                let Body { w, h, .. } = wire::decode::<Query>(m)?.0;
                CapsMsg::Query {
                    op: w[0],
                    obj: obj_of(w[1], w[2], h[0], t)?,
                    within: obj_of(w[3], w[4], h[1], t)?,
                }
            }
            tag::HOLDS => {
                let Body { w, h, .. } = wire::decode::<Holds>(m)?.0;
                CapsMsg::Holds {
                    op: w[0],
                    holds: match h[0] {
                        0 => false,
                        1 => true,
                        _ => return Err(bad),
                    },
                }
            }
            tag::DROPPED => {
                let Body { w, h, .. } = wire::decode::<Dropped>(m)?.0;
                CapsMsg::Dropped {
                    obj: obj_of(w[0], w[1], h[0], t)?,
                    seen: w[2],
                }
            }
            other => return Err(Malformed::UnknownTag(other)),
        })
    }
}
