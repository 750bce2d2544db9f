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
//! Wire format (tags in range [`UPDATE`]):
//!
//! | message | tag | fields |
//! |---|---|---|
//! | [`ClientMsg::Update`] | [`tag::UPDATE`] | client (u32), 4 bytes of padding, seq, delta (u64) |
//! | [`ClientMsg::Done`] | [`tag::DONE`] | client (u32), padding, sent (u64) |
//! | [`ServerReply::Applied`] | [`tag::APPLIED`] | seq, applied (this client's count so far) |

use alloc::vec;
use alloc::vec::Vec;
use core::fmt;

use bytemuck::{CheckedBitPattern, NoUninit};
use urpc::RawMessage;

use super::{Inbound, Out, Protocol, Refusal};
use crate::wire::{self, Malformed, TagRange, UPDATE};

/// Words per cache line.
pub const LINE_WORDS: usize = 8;

/// A cache line of the server's private copy.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(C, align(64))]
pub struct Line(pub [u64; LINE_WORDS]);

/// Message tags (range [`UPDATE`]).
pub mod tag {
    /// [`super::ClientMsg::Update`].
    pub const UPDATE: u16 = crate::wire::UPDATE.tag(0);
    /// [`super::ClientMsg::Done`].
    pub const DONE: u16 = crate::wire::UPDATE.tag(1);
    /// [`super::ServerReply::Applied`].
    pub const APPLIED: u16 = crate::wire::UPDATE.tag(2);
    /// Every tag of the protocol.
    pub const ALL: [u16; 3] = [UPDATE, DONE, APPLIED];
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

/// What a handled message did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Effect {
    /// The update was applied to the private copy.
    Applied {
        /// The client.
        client: u32,
        /// Its sequence number.
        seq: u64,
    },
    /// The client is finished.
    ClientDone {
        /// The client.
        client: u32,
        /// Updates it said it sent.
        sent: u64,
        /// Whether every client is now finished.
        all_done: bool,
    },
}

/// The outcome of one handled message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Step {
    /// The reply to send back on the client's channel, if any.
    pub reply: Option<ServerReply>,
    /// What happened.
    pub effect: Effect,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct ClientState {
    applied: u64,
    done: Option<u64>,
}

/// The totals checked by [`UpdateServer::conservation`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Conservation {
    /// Clients.
    pub clients: u32,
    /// Updates the clients said they sent.
    pub sent: u64,
    /// Updates the server applied.
    pub applied: u64,
}

/// The server: a private copy of `k` lines and per-client counts.
#[derive(Clone, Debug)]
pub struct UpdateServer {
    first_client: u32,
    clients: Vec<ClientState>,
    copy: Vec<Line>,
    done: u32,
}

impl UpdateServer {
    /// A server for clients `first_client .. first_client + clients`
    /// with a private copy of `k` lines, all zero.
    pub fn new(first_client: u32, clients: u32, k: usize) -> UpdateServer {
        UpdateServer {
            first_client,
            clients: vec![ClientState::default(); clients as usize],
            copy: vec![Line::default(); k],
            done: 0,
        }
    }

    fn index(&self, client: u32) -> Result<usize, UpdateError> {
        client
            .checked_sub(self.first_client)
            .map(|i| i as usize)
            .filter(|&i| i < self.clients.len())
            .ok_or(UpdateError::UnknownClient { client })
    }

    /// Decodes and handles a message received on `channel`'s channel.
    #[inline]
    pub fn handle_raw(&mut self, channel: u32, msg: &RawMessage) -> Result<Step, UpdateError> {
        let msg = ClientMsg::decode(msg)?;
        self.handle(channel, msg)
    }

    /// Handles a message received on the channel of client `channel`.
    #[inline]
    pub fn handle(&mut self, channel: u32, msg: ClientMsg) -> Result<Step, UpdateError> {
        let i = self.index(channel)?;
        let claimed = match msg {
            ClientMsg::Update { client, .. } | ClientMsg::Done { client, .. } => client,
        };
        if claimed != channel {
            return Err(UpdateError::WrongClient { channel, claimed });
        }
        let state = self.clients[i];
        if state.done.is_some() {
            return Err(UpdateError::AfterDone { client: channel });
        }
        match msg {
            ClientMsg::Update { seq, delta, .. } => {
                if seq != state.applied {
                    return Err(UpdateError::OutOfOrder {
                        client: channel,
                        expected: state.applied,
                        got: seq,
                    });
                }
                for line in &mut self.copy {
                    for w in &mut line.0 {
                        *w = w.wrapping_add(delta);
                    }
                }
                let applied = state.applied + 1;
                self.clients[i].applied = applied;
                Ok(Step {
                    reply: Some(ServerReply::Applied { seq, applied }),
                    effect: Effect::Applied {
                        client: channel,
                        seq,
                    },
                })
            }
            ClientMsg::Done { sent, .. } => {
                self.clients[i].done = Some(sent);
                self.done += 1;
                Ok(Step {
                    reply: None,
                    effect: Effect::ClientDone {
                        client: channel,
                        sent,
                        all_done: self.all_done(),
                    },
                })
            }
        }
    }

    /// Whether every client said `Done`.
    pub fn all_done(&self) -> bool {
        self.done as usize == self.clients.len()
    }

    /// Updates applied for `client` (0 for an unknown client).
    pub fn applied(&self, client: u32) -> u64 {
        self.index(client).map_or(0, |i| self.clients[i].applied)
    }

    /// Updates applied in all.
    pub fn total_applied(&self) -> u64 {
        self.clients.iter().map(|c| c.applied).sum()
    }

    /// The private copy.
    pub fn copy(&self) -> &[Line] {
        &self.copy
    }

    /// Checks that every client is done and had exactly as many updates
    /// applied as it said it sent; returns the totals.
    pub fn conservation(&self) -> Result<Conservation, UpdateError> {
        let mut sent = 0;
        for (i, c) in self.clients.iter().enumerate() {
            let client = self.first_client + i as u32;
            let s = c.done.ok_or(UpdateError::NotDone { client })?;
            if s != c.applied {
                return Err(UpdateError::NotConserved {
                    client,
                    sent: s,
                    applied: c.applied,
                });
            }
            sent += s;
        }
        Ok(Conservation {
            clients: self.clients.len() as u32,
            sent,
            applied: self.total_applied(),
        })
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

/// The server as a [`Protocol`]: the reply goes back to the client's core,
/// and what the update did is the effect.
///
/// E2's measured loop calls [`UpdateServer::handle_raw`] directly, which is
/// the same code without the outbox.
impl Protocol for UpdateServer {
    type Effect = Effect;
    type Error = UpdateError;
    const TAGS: TagRange = UPDATE;

    fn on_message(
        &mut self,
        _now: u64,
        m: &Inbound,
        out: &mut Out<Effect>,
    ) -> Result<(), UpdateError> {
        let step = self.handle_raw(m.from, &m.msg)?;
        if let Some(reply) = step.reply {
            out.send_raw(m.from, reply.encode());
        }
        out.effect(step.effect);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn update(client: u32, seq: u64) -> ClientMsg {
        ClientMsg::Update {
            client,
            seq,
            delta: 1,
        }
    }

    #[test]
    fn applies_counts_and_conserves() {
        let mut s = UpdateServer::new(1, 2, 2);
        for seq in 0..3 {
            let step = s.handle(1, update(1, seq)).unwrap();
            assert_eq!(
                step.reply,
                Some(ServerReply::Applied {
                    seq,
                    applied: seq + 1
                })
            );
        }
        s.handle(2, update(2, 0)).unwrap();
        assert_eq!((s.applied(1), s.applied(2), s.total_applied()), (3, 1, 4));
        assert!(s.copy().iter().all(|l| l.0 == [4; LINE_WORDS]));
        assert_eq!(s.conservation(), Err(UpdateError::NotDone { client: 1 }));
        let step = s.handle(1, ClientMsg::Done { client: 1, sent: 3 }).unwrap();
        assert_eq!(step.reply, None);
        assert!(matches!(
            step.effect,
            Effect::ClientDone {
                all_done: false,
                ..
            }
        ));
        let step = s.handle(2, ClientMsg::Done { client: 2, sent: 1 }).unwrap();
        assert!(matches!(
            step.effect,
            Effect::ClientDone { all_done: true, .. }
        ));
        assert_eq!(
            s.conservation(),
            Ok(Conservation {
                clients: 2,
                sent: 4,
                applied: 4
            })
        );
    }

    #[test]
    fn a_lost_update_is_not_conserved() {
        let mut s = UpdateServer::new(1, 1, 1);
        s.handle(1, update(1, 0)).unwrap();
        s.handle(1, ClientMsg::Done { client: 1, sent: 2 }).unwrap();
        assert_eq!(
            s.conservation(),
            Err(UpdateError::NotConserved {
                client: 1,
                sent: 2,
                applied: 1
            })
        );
    }

    #[test]
    fn refused_messages_change_nothing() {
        let mut s = UpdateServer::new(1, 2, 1);
        s.handle(1, update(1, 0)).unwrap();
        let before = s.clone();
        let cases = [
            (
                1,
                update(2, 1),
                UpdateError::WrongClient {
                    channel: 1,
                    claimed: 2,
                },
            ),
            (3, update(3, 0), UpdateError::UnknownClient { client: 3 }),
            (0, update(0, 0), UpdateError::UnknownClient { client: 0 }),
            (
                1,
                update(1, 5),
                UpdateError::OutOfOrder {
                    client: 1,
                    expected: 1,
                    got: 5,
                },
            ),
            (
                1,
                update(1, 0),
                UpdateError::OutOfOrder {
                    client: 1,
                    expected: 1,
                    got: 0,
                },
            ),
        ];
        for (channel, msg, err) in cases {
            assert_eq!(s.handle(channel, msg), Err(err));
            assert_eq!(s.total_applied(), before.total_applied());
            assert_eq!(s.copy(), before.copy());
        }
        s.handle(2, ClientMsg::Done { client: 2, sent: 0 }).unwrap();
        assert_eq!(
            s.handle(2, update(2, 0)),
            Err(UpdateError::AfterDone { client: 2 })
        );
        assert_eq!(
            s.handle(2, ClientMsg::Done { client: 2, sent: 0 }),
            Err(UpdateError::AfterDone { client: 2 })
        );
        assert_eq!(s.applied(2), 0);
    }

    #[test]
    fn the_protocol_replies_to_the_clients_core() {
        use crate::Via;
        let mut s = UpdateServer::new(1, 1, 1);
        let mut out = Out::new();
        let m = Inbound {
            from: 1,
            via: Via::Mesh,
            msg: update(1, 0).encode(),
        };
        s.on_message(0, &m, &mut out).unwrap();
        assert_eq!(
            out.sends,
            [(1, ServerReply::Applied { seq: 0, applied: 1 }.encode())]
        );
        assert_eq!(out.effects, [Effect::Applied { client: 1, seq: 0 }]);
        let wrong = Inbound { from: 2, ..m };
        assert_eq!(
            s.on_message(0, &wrong, &mut Out::new())
                .unwrap_err()
                .reason(),
            "unknown-core"
        );
    }

    #[test]
    fn malformed_wire_messages_are_typed_errors() {
        let mut s = UpdateServer::new(1, 1, 1);
        let raw = update(1, 0).encode();
        assert_eq!((raw.tag(), raw.len()), (tag::UPDATE, 24));
        assert_eq!(ClientMsg::decode(&raw), Ok(update(1, 0)));
        let short = RawMessage::new(tag::UPDATE, &raw.bytes()[..16]).unwrap();
        assert_eq!(
            s.handle_raw(1, &short),
            Err(UpdateError::Malformed {
                tag: tag::UPDATE,
                len: 16
            })
        );
        let unknown = RawMessage::new(0x99, raw.bytes()).unwrap();
        assert_eq!(
            s.handle_raw(1, &unknown),
            Err(UpdateError::UnknownTag { tag: 0x99 })
        );
        assert_eq!(s.total_applied(), 0);
        s.handle_raw(1, &raw).unwrap();
        assert_eq!(s.total_applied(), 1);
        let done = ClientMsg::Done { client: 1, sent: 1 };
        assert_eq!(ClientMsg::decode(&done.encode()), Ok(done));
        let reply = ServerReply::Applied { seq: 4, applied: 5 };
        assert_eq!(ServerReply::decode(&reply.encode()), Ok(reply));
        let cut = RawMessage::new(tag::APPLIED, &[0; 8]).unwrap();
        assert_eq!(
            ServerReply::decode(&cut),
            Err(UpdateError::Malformed {
                tag: tag::APPLIED,
                len: 8
            })
        );
        assert_eq!(
            ServerReply::decode(&raw),
            Err(UpdateError::UnknownTag { tag: tag::UPDATE })
        );
    }
}
