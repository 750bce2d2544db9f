//! **Guarantee:** an update message decodes only from its own tag, with
//! its exact length; anything else is a typed [`UpdateError`].
//!
//! The update protocol's messages and their wire forms.

use bytemuck::{CheckedBitPattern, NoUninit};
use urpc::RawMessage;

use super::UpdateError;
use crate::wire::{self, Malformed, UPDATE as RANGE};

crate::tag_module! {
    /// Message tags (range [`crate::wire::UPDATE`]).
    RANGE:
    ClientMsg::Update => UPDATE, ClientMsg::Done => DONE, ServerReply::Applied => APPLIED,
}

/// A message from a client.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientMsg {
    /// Add `delta` to every word of the copy.
    Update {
        /// The sending client.
        client: u32,
        /// Its sequence number: 0, 1, 2, ... per client.
        seq: u64,
        /// What to add.
        delta: u64,
    },
    /// The client is finished and sent `sent` updates.
    Done {
        /// The sending client.
        client: u32,
        /// Updates it sent.
        sent: u64,
    },
}

/// A reply from the server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ServerReply {
    /// Update `seq` was applied; the client has had `applied` updates
    /// applied in all.
    Applied {
        /// The update's sequence number.
        seq: u64,
        /// The client's applied count, this one included.
        applied: u64,
    },
}

/// [`ClientMsg::Update`] on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq, NoUninit, CheckedBitPattern)]
#[repr(C)]
pub struct UpdateWire {
    /// The sending client.
    pub client: u32,
    /// Padding (zero).
    pub pad: u32,
    /// Sequence number.
    pub seq: u64,
    /// What to add.
    pub delta: u64,
}

#[derive(Clone, Copy, NoUninit, CheckedBitPattern)]
#[repr(C)]
struct DoneWire {
    client: u32,
    pad: u32,
    sent: u64,
}

/// [`ServerReply::Applied`] on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq, NoUninit, CheckedBitPattern)]
#[repr(C)]
pub struct AppliedWire {
    /// The update's sequence number.
    pub seq: u64,
    /// The client's applied count.
    pub applied: u64,
}

crate::pod_messages! {
    UpdateWire => tag::UPDATE,
    DoneWire => tag::DONE,
    AppliedWire => tag::APPLIED,
}

fn malformed(m: Malformed) -> UpdateError {
    match m {
        Malformed::UnknownTag(tag) => UpdateError::UnknownTag { tag },
        Malformed::BadLength { tag, len } => UpdateError::Malformed { tag, len },
        Malformed::BadValue { tag } => UpdateError::Malformed { tag, len: 0 },
    }
}

impl ClientMsg {
    /// The message's encoding.
    pub fn encode(&self) -> RawMessage {
        match *self {
            ClientMsg::Update { client, seq, delta } => wire::encode(&UpdateWire {
                client,
                pad: 0,
                seq,
                delta,
            }),
            ClientMsg::Done { client, sent } => wire::encode(&DoneWire {
                client,
                pad: 0,
                sent,
            }),
        }
    }

    /// Decodes a received message; the length must be exact.
    pub fn decode(m: &RawMessage) -> Result<ClientMsg, UpdateError> {
        match m.tag() {
            tag::UPDATE => {
                let u = wire::decode::<UpdateWire>(m).map_err(malformed)?;
                Ok(ClientMsg::Update {
                    client: u.client,
                    seq: u.seq,
                    delta: u.delta,
                })
            }
            tag::DONE => {
                let d = wire::decode::<DoneWire>(m).map_err(malformed)?;
                Ok(ClientMsg::Done {
                    client: d.client,
                    sent: d.sent,
                })
            }
            tag => Err(UpdateError::UnknownTag { tag }),
        }
    }
}

impl ServerReply {
    /// The reply's encoding.
    pub fn encode(&self) -> RawMessage {
        match *self {
            ServerReply::Applied { seq, applied } => wire::encode(&AppliedWire { seq, applied }),
        }
    }

    /// Decodes a received reply; the length must be exact.
    pub fn decode(m: &RawMessage) -> Result<ServerReply, UpdateError> {
        match m.tag() {
            tag::APPLIED => {
                let a = wire::decode::<AppliedWire>(m).map_err(malformed)?;
                Ok(ServerReply::Applied {
                    seq: a.seq,
                    applied: a.applied,
                })
            }
            tag => Err(UpdateError::UnknownTag { tag }),
        }
    }
}
