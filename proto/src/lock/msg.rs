//! **Guarantee:** a lock message decodes only from its own tag, with its
//! own length and valid fields; anything else is a typed [`Malformed`].
//!
//! The lock protocols' messages and their wire forms. Every kind of lock
//! has its own tags, so a message of one kind never reaches the machine of
//! another as something it is not. Each message is a small plain-old-data
//! struct; `seq` is the sender's (or, in replies, the receiver's) request
//! number, counted from 0 on each core.

use bytemuck::{CheckedBitPattern, NoUninit};
use urpc::RawMessage;

use crate::wire::registry::LOCK;
use crate::wire::{self, Malformed};

crate::tag_module! {
    /// The lock protocols' tags (range [`LOCK`]).
    LOCK:
    LockMsg::Request => REQUEST, LockMsg::Grant => GRANT, LockMsg::Release => RELEASE,
    LockMsg::Finished => FINISHED, LockMsg::Token => TOKEN, LockMsg::Op => OP,
    LockMsg::Executed => EXECUTED, LockMsg::Enqueue => ENQUEUE, LockMsg::First => FIRST,
    LockMsg::Behind => BEHIND, LockMsg::Successor => SUCCESSOR, LockMsg::Pass => PASS,
    LockMsg::Leave => LEAVE, LockMsg::Left => LEFT,
}

/// A message of one of the lock protocols.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LockMsg {
    /// Server lock, client to server: the sender asks for the lock.
    Request {
        /// The sender's request number.
        seq: u64,
    },
    /// Server lock, server to client: request `seq` now holds the lock.
    Grant {
        /// The receiver's request number.
        seq: u64,
    },
    /// Server lock, holder to server: the sender gives the lock up.
    Release {
        /// The request it was granted for.
        seq: u64,
    },
    /// Server, delegation and queue locks, to the server: the sender will
    /// not ask again.
    Finished {
        /// How many requests it made in all.
        asked: u64,
    },
    /// Token lock: the token, passed on to the next core of the ring.
    Token {
        /// Times the token has been passed on, this pass included.
        hops: u64,
        /// Participants that have finished and will not ask again.
        finished: u32,
    },
    /// Delegation, client to server: run one critical section for the
    /// sender.
    Op {
        /// The sender's request number.
        seq: u64,
    },
    /// Delegation, server to client: the server ran op `seq`.
    Executed {
        /// The receiver's request number.
        seq: u64,
        /// The server's counter after the critical section.
        count: u64,
    },
    /// Queue lock, requester to tail keeper: the sender joins the queue.
    Enqueue {
        /// The sender's request number.
        seq: u64,
    },
    /// Queue lock, tail keeper to requester: the queue was empty, request
    /// `seq` holds the lock.
    First {
        /// The receiver's request number.
        seq: u64,
    },
    /// Queue lock, tail keeper to requester: request `seq` waits right
    /// behind request `pred_seq` of core `pred`.
    Behind {
        /// The receiver's request number.
        seq: u64,
        /// The predecessor's core.
        pred: u32,
        /// The predecessor's request number.
        pred_seq: u64,
    },
    /// Queue lock, requester to its predecessor: the sender's request `seq`
    /// comes right after the receiver's request `pred_seq`.
    Successor {
        /// The receiver's request number.
        pred_seq: u64,
        /// The sender's request number.
        seq: u64,
    },
    /// Queue lock, holder to its successor: request `seq` now holds the
    /// lock.
    Pass {
        /// The receiver's request number.
        seq: u64,
    },
    /// Queue lock, holder to tail keeper: the sender released request `seq`
    /// and knows no successor; empty the queue if it is still the tail.
    Leave {
        /// The sender's request number.
        seq: u64,
    },
    /// Queue lock, tail keeper to releaser: the answer to
    /// [`LockMsg::Leave`].
    Left {
        /// The receiver's request number.
        seq: u64,
        /// Whether the queue is now empty; if not, a successor has
        /// enqueued and its [`LockMsg::Successor`] is on its way.
        emptied: bool,
    },
}

#[derive(Clone, Copy, NoUninit, CheckedBitPattern)]
#[repr(C)]
struct Seq {
    seq: u64,
}

/// One wire type per tag that carries only a request number.
macro_rules! seq_wire {
    ($($name:ident),+) => {
        $(#[derive(Clone, Copy, NoUninit, CheckedBitPattern)]
        #[repr(C)]
        struct $name(Seq);)+
    };
}

seq_wire!(Request, Grant, Release, Op, Enqueue, First, Pass, Leave);

#[derive(Clone, Copy, NoUninit, CheckedBitPattern)]
#[repr(C)]
struct Finished {
    asked: u64,
}

#[derive(Clone, Copy, NoUninit, CheckedBitPattern)]
#[repr(C)]
struct Token {
    hops: u64,
    finished: u32,
    _pad: u32,
}

#[derive(Clone, Copy, NoUninit, CheckedBitPattern)]
#[repr(C)]
struct Executed {
    seq: u64,
    count: u64,
}

#[derive(Clone, Copy, NoUninit, CheckedBitPattern)]
#[repr(C)]
struct Behind {
    seq: u64,
    pred: u32,
    _pad: u32,
    pred_seq: u64,
}

#[derive(Clone, Copy, NoUninit, CheckedBitPattern)]
#[repr(C)]
struct Successor {
    pred_seq: u64,
    seq: u64,
}

#[derive(Clone, Copy, NoUninit, CheckedBitPattern)]
#[repr(C)]
struct Left {
    seq: u64,
    emptied: bool,
    _pad: [u8; 7],
}

crate::pod_messages! {
    Request => tag::REQUEST,
    Grant => tag::GRANT,
    Release => tag::RELEASE,
    Finished => tag::FINISHED,
    Token => tag::TOKEN,
    Op => tag::OP,
    Executed => tag::EXECUTED,
    Enqueue => tag::ENQUEUE,
    First => tag::FIRST,
    Behind => tag::BEHIND,
    Successor => tag::SUCCESSOR,
    Pass => tag::PASS,
    Leave => tag::LEAVE,
    Left => tag::LEFT,
}

impl LockMsg {
    /// Encodes the message.
    pub fn encode(&self) -> RawMessage {
        match *self {
            LockMsg::Request { seq } => wire::encode(&Request(Seq { seq })),
            LockMsg::Grant { seq } => wire::encode(&Grant(Seq { seq })),
            LockMsg::Release { seq } => wire::encode(&Release(Seq { seq })),
            LockMsg::Finished { asked } => wire::encode(&Finished { asked }),
            LockMsg::Token { hops, finished } => wire::encode(&Token {
                hops,
                finished,
                _pad: 0,
            }),
            LockMsg::Op { seq } => wire::encode(&Op(Seq { seq })),
            LockMsg::Executed { seq, count } => wire::encode(&Executed { seq, count }),
            LockMsg::Enqueue { seq } => wire::encode(&Enqueue(Seq { seq })),
            LockMsg::First { seq } => wire::encode(&First(Seq { seq })),
            LockMsg::Behind {
                seq,
                pred,
                pred_seq,
            } => wire::encode(&Behind {
                seq,
                pred,
                _pad: 0,
                pred_seq,
            }),
            LockMsg::Successor { pred_seq, seq } => wire::encode(&Successor { pred_seq, seq }),
            LockMsg::Pass { seq } => wire::encode(&Pass(Seq { seq })),
            LockMsg::Leave { seq } => wire::encode(&Leave(Seq { seq })),
            LockMsg::Left { seq, emptied } => wire::encode(&Left {
                seq,
                emptied,
                _pad: [0; 7],
            }),
        }
    }

    /// Decodes a message, checking its tag, length and fields.
    pub fn decode(m: &RawMessage) -> Result<LockMsg, Malformed> {
        Ok(match m.tag() {
            tag::REQUEST => LockMsg::Request {
                seq: wire::decode::<Request>(m)?.0.seq,
            },
            tag::GRANT => LockMsg::Grant {
                seq: wire::decode::<Grant>(m)?.0.seq,
            },
            tag::RELEASE => LockMsg::Release {
                seq: wire::decode::<Release>(m)?.0.seq,
            },
            tag::FINISHED => LockMsg::Finished {
                asked: wire::decode::<Finished>(m)?.asked,
            },
            tag::TOKEN => {
                let t = wire::decode::<Token>(m)?;
                LockMsg::Token {
                    hops: t.hops,
                    finished: t.finished,
                }
            }
            tag::OP => LockMsg::Op {
                seq: wire::decode::<Op>(m)?.0.seq,
            },
            tag::EXECUTED => {
                let e = wire::decode::<Executed>(m)?;
                LockMsg::Executed {
                    seq: e.seq,
                    count: e.count,
                }
            }
            tag::ENQUEUE => LockMsg::Enqueue {
                seq: wire::decode::<Enqueue>(m)?.0.seq,
            },
            tag::FIRST => LockMsg::First {
                seq: wire::decode::<First>(m)?.0.seq,
            },
            tag::BEHIND => {
                let b = wire::decode::<Behind>(m)?;
                LockMsg::Behind {
                    seq: b.seq,
                    pred: b.pred,
                    pred_seq: b.pred_seq,
                }
            }
            tag::SUCCESSOR => {
                let s = wire::decode::<Successor>(m)?;
                LockMsg::Successor {
                    pred_seq: s.pred_seq,
                    seq: s.seq,
                }
            }
            tag::PASS => LockMsg::Pass {
                seq: wire::decode::<Pass>(m)?.0.seq,
            },
            tag::LEAVE => LockMsg::Leave {
                seq: wire::decode::<Leave>(m)?.0.seq,
            },
            tag::LEFT => {
                let l = wire::decode::<Left>(m)?;
                LockMsg::Left {
                    seq: l.seq,
                    emptied: l.emptied,
                }
            }
            other => return Err(Malformed::UnknownTag(other)),
        })
    }
}
