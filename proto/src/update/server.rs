//! **Guarantee:** the server applies each client's updates exactly once
//! and in the order the client sent them, and refuses, changing nothing,
//! a message it cannot take.
//!
//! The update server: a private copy of `k` lines and per-client counts.

use alloc::vec;
use alloc::vec::Vec;

use urpc::RawMessage;

use super::{ClientMsg, Line, ServerReply, UpdateError};
use crate::wire::{TagRange, UPDATE};
use crate::{Handled, Inbound, Out, Protocol};

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
    /// Test only: leaves an update out of the copy when the previous
    /// update came from another client.
    lossy: bool,
    /// The client of the previous update (kept only when `lossy`).
    last: Option<u32>,
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
            lossy: false,
            last: None,
        }
    }

    /// A server that counts and answers an update but leaves it out of its
    /// copy when the previous update it took came from another client (a
    /// lost update): a deliberately wrong variant that the tests and the
    /// simulator must catch.
    pub fn broken(first_client: u32, clients: u32, k: usize) -> UpdateServer {
        UpdateServer {
            lossy: true,
            ..UpdateServer::new(first_client, clients, k)
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
                let lost = self.lossy && self.last.replace(channel).is_some_and(|l| l != channel);
                if !lost {
                    for line in &mut self.copy {
                        for w in &mut line.0 {
                            *w = w.wrapping_add(delta);
                        }
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

/// The server as a [`Protocol`]: the reply goes back to the client's core,
/// and what the update did is the effect.
///
/// E2's measured loop calls [`UpdateServer::handle_raw`] directly, which is
/// the same code without the outbox.
impl Protocol for UpdateServer {
    type Effect = Effect;
    type Error = UpdateError;
    const TAGS: TagRange = UPDATE;

    fn on_message(&mut self, _now: u64, m: &Inbound, out: &mut Out<Effect>) -> Handled<Self> {
        let step = self.handle_raw(m.from, &m.msg)?;
        if let Some(reply) = step.reply {
            out.send_raw(m.from, reply.encode());
        }
        out.effect(step.effect);
        Ok(())
    }
}
