//! **Guarantee:** a lock message decodes only from its own tag, with its
//! own length and valid fields; anything else is a typed [`Malformed`](crate::wire::Malformed).
//!
//! The lock protocols' messages and their wire forms. Every kind of lock
//! has its own tags, so a message of one kind never reaches the machine of
//! another as something it is not. Each message is a small plain-old-data
//! struct; `seq` is the sender's (or, in replies, the receiver's) request
//! number, counted from 0 on each core.

use crate::wire::registry::LOCK;

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

crate::wire_structs! {
    Request { seq: u64 } Grant { seq: u64 } Release { seq: u64 } Finished { asked: u64 }
    Token { hops: u64, finished: u32, _pad: u32 } Op { seq: u64 } Executed { seq: u64, count: u64 }
    Enqueue { seq: u64 } First { seq: u64 }
    Behind { seq: u64, pred: u32, _pad: u32, pred_seq: u64 } Successor { pred_seq: u64, seq: u64 }
    Pass { seq: u64 } Leave { seq: u64 } Left { seq: u64, emptied: bool, _pad: [u8; 7] }
}

crate::wire_codec! {
    LockMsg:
    Request { seq } => REQUEST, Grant { seq } => GRANT, Release { seq } => RELEASE,
    Finished { asked } => FINISHED, Token { hops, finished } => TOKEN, Op { seq } => OP,
    Executed { seq, count } => EXECUTED, Enqueue { seq } => ENQUEUE, First { seq } => FIRST,
    Behind { seq, pred, pred_seq } => BEHIND, Successor { pred_seq, seq } => SUCCESSOR,
    Pass { seq } => PASS, Leave { seq } => LEAVE, Left { seq, emptied } => LEFT,
}
