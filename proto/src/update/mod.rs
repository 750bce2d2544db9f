//! **Guarantee:** the server applies each client's updates exactly once
//! and in the order the client sent them, and [`UpdateServer::conservation`]
//! succeeds only if every client's applied count equals what it said it
//! sent.
//!
//! The update server of the message-passing update experiment (E2), as a
//! sans-IO state machine. Clients send [`ClientMsg::Update`]s, each asking
//! the server to add a delta to every word of its private copy of `k`
//! cache lines, and end with [`ClientMsg::Done`], saying how many updates
//! they sent. The server applies each update, counts it for its client and
//! replies [`ServerReply::Applied`].
//!
//! The server owns the private copy; it never touches a channel or shared
//! memory. A driver receives a message and passes it, with the id of the
//! client whose channel it came on, to [`UpdateServer::handle_raw`] (or to
//! the [`Protocol`] implementation) and sends the reply back. A message
//! that does not decode or that the protocol refuses (wrong client id, a
//! sequence number out of order, an update after `Done`, an unknown
//! client) is a typed [`UpdateError`] and changes nothing.
//!
//! Messages and their wire forms are in `msg.rs`, the server in
//! `server.rs`, the reference model its tests and the simulator check it
//! against in [`model`].
//!
//! Wire format (tags in range [`UPDATE`](crate::wire::UPDATE)):
//!
//! | message | tag | fields |
//! |---|---|---|
//! | [`ClientMsg::Update`] | [`tag::UPDATE`] | client (u32), 4 bytes of padding, seq, delta (u64) |
//! | [`ClientMsg::Done`] | [`tag::DONE`] | client (u32), padding, sent (u64) |
//! | [`ServerReply::Applied`] | [`tag::APPLIED`] | seq, applied (this client's count so far) |

pub mod model;
mod msg;
mod server;
#[cfg(test)]
mod tests;

use core::fmt;

pub use model::{UpdateModel, UpdateViolation};
pub use msg::{AppliedWire, ClientMsg, ServerReply, UpdateWire, tag};
pub use server::{Conservation, Effect, Step, UpdateServer};

#[cfg(doc)]
use super::Protocol;
use super::Refusal;

/// Words per cache line.
pub const LINE_WORDS: usize = 8;

/// A cache line of the server's private copy.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(C, align(64))]
pub struct Line(pub [u64; LINE_WORDS]);

/// Why the server refused a message, or why the counts do not add up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UpdateError {
    /// A tag the protocol does not have.
    UnknownTag {
        /// The tag.
        tag: u16,
    },
    /// A known tag with the wrong length or a bad field.
    Malformed {
        /// The tag.
        tag: u16,
        /// The length received.
        len: usize,
    },
    /// No client has this id.
    UnknownClient {
        /// The id.
        client: u32,
    },
    /// The message names another client than the channel it came on.
    WrongClient {
        /// The channel's client.
        channel: u32,
        /// The client the message names.
        claimed: u32,
    },
    /// An update whose sequence number is not the next one.
    OutOfOrder {
        /// The client.
        client: u32,
        /// The next sequence number.
        expected: u64,
        /// The one received.
        got: u64,
    },
    /// A message after the client's `Done`.
    AfterDone {
        /// The client.
        client: u32,
    },
    /// A client's applied count differs from what it said it sent.
    NotConserved {
        /// The client.
        client: u32,
        /// Updates it sent.
        sent: u64,
        /// Updates applied.
        applied: u64,
    },
    /// A client has not said `Done`.
    NotDone {
        /// The client.
        client: u32,
    },
}

impl fmt::Display for UpdateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            UpdateError::UnknownTag { tag } => write!(f, "unknown message tag {tag:#x}"),
            UpdateError::Malformed { tag, len } => {
                write!(f, "malformed message (tag {tag:#x}, {len} bytes)")
            }
            UpdateError::UnknownClient { client } => write!(f, "unknown client {client}"),
            UpdateError::WrongClient { channel, claimed } => {
                write!(
                    f,
                    "client {channel}'s channel carried a message of client {claimed}"
                )
            }
            UpdateError::OutOfOrder {
                client,
                expected,
                got,
            } => write!(
                f,
                "client {client}: update {got} out of order (expected {expected})"
            ),
            UpdateError::AfterDone { client } => write!(f, "client {client}: message after done"),
            UpdateError::NotConserved {
                client,
                sent,
                applied,
            } => write!(
                f,
                "client {client} sent {sent} updates but {applied} were applied"
            ),
            UpdateError::NotDone { client } => write!(f, "client {client} never said done"),
        }
    }
}

impl Refusal for UpdateError {
    fn reason(&self) -> &'static str {
        match self {
            UpdateError::UnknownTag { .. } => "unknown-tag",
            UpdateError::Malformed { .. } => "bad-length",
            UpdateError::UnknownClient { .. } => "unknown-core",
            UpdateError::WrongClient { .. } => "wrong-channel",
            UpdateError::OutOfOrder { .. } | UpdateError::AfterDone { .. } => "out-of-order",
            UpdateError::NotConserved { .. } | UpdateError::NotDone { .. } => "not-conserved",
        }
    }
}
