//! **Guarantee (checked):** the server applies each client's updates
//! exactly once and in the order the client sent them, and applies only
//! updates that were sent; its private copy holds, in every word, the sum
//! of the deltas of the updates it applied; each client's replies come in
//! order, each after its update was applied, counting the client's
//! applied updates. At the end of a run, every client said `Done` with
//! the number it sent, every update sent was applied and answered, and
//! the server's own count ([`UpdateServer::conservation`]) agrees.
//!
//! The reference model of E2's update protocol: a pure record of what
//! each client sent and was answered and what the server's machine did
//! (its [`Effect`]s and its copy), with no I/O and no randomness. A driver
//! (the host tests, the simulator) tells it each event as it happens; the
//! first event that breaks an invariant returns an [`UpdateViolation`]
//! naming the client, and [`UpdateModel::check_end`] checks what must
//! hold once the run settled.
//!
//! [`UpdateServer::conservation`]: super::UpdateServer::conservation

use alloc::vec;
use alloc::vec::Vec;

use super::{Conservation, Effect, Line, UpdateError};

/// A broken invariant of the update protocol.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UpdateViolation {
    /// The client sent an update out of its order or after `Done`.
    ClientOutOfTurn {
        /// The client.
        client: u32,
    },
    /// The server applied update `seq` of `client` when `expected` was
    /// next (twice, skipped or out of order).
    NotOnce {
        /// The client.
        client: u32,
        /// The update applied.
        seq: u64,
        /// The update that was next.
        expected: u64,
    },
    /// The server applied an update the client never sent.
    Unsent {
        /// The client.
        client: u32,
        /// The update.
        seq: u64,
    },
    /// A word of the server's copy is not the sum of the applied deltas.
    Copy {
        /// The word's value.
        word: u64,
        /// The sum of the deltas applied.
        expected: u64,
    },
    /// The client got a reply out of order, with a wrong count, or before
    /// its update was applied.
    Reply {
        /// The client.
        client: u32,
        /// The update the reply names.
        seq: u64,
        /// The applied count it carries.
        applied: u64,
        /// The update whose reply was next.
        expected: u64,
    },
    /// The server heard `Done` with another count than the client sent.
    DoneCount {
        /// The client.
        client: u32,
        /// What the server heard.
        said: u64,
        /// Updates the client sent.
        sent: u64,
    },
    /// At the end: the client did not say `Done`, or not every update it
    /// sent was applied and answered.
    Unfinished {
        /// The client.
        client: u32,
        /// Updates sent.
        sent: u64,
        /// Updates applied.
        applied: u64,
        /// Updates answered.
        answered: u64,
    },
    /// At the end: the server's own count does not add up.
    Conservation(UpdateError),
    /// At the end: the server counted `counted` updates applied, the model
    /// `applied`.
    Total {
        /// The server's total.
        counted: u64,
        /// The model's total.
        applied: u64,
    },
}

crate::display_as! {
    UpdateViolation:
    ClientOutOfTurn { client } => "client {client} sent an update out of turn",
    NotOnce { client, seq, expected } =>
        "the server applied update {seq} of client {client} when {expected} was next",
    Unsent { client, seq } =>
        "the server applied update {seq} of client {client}, which it never sent",
    Copy { word, expected } =>
        "the server's copy holds {word} where the applied updates add up to {expected}",
    Reply { client, seq, applied, expected } =>
        "client {client} got applied={applied} for update {seq}, expected update {expected}, applied first",
    DoneCount { client, said, sent } =>
        "the server heard client {client} sent {said} updates; it sent {sent}",
    Unfinished { client, sent, applied, answered } =>
        "client {client} did not finish: {sent} sent, {applied} applied, {answered} answered",
    Conservation(e) => "conservation: {e}",
    Total { counted, applied } => "the server counted {counted} updates applied, {applied} were",
}

/// One client as the model sees it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Client {
    /// The delta of each update sent.
    deltas: Vec<u64>,
    applied: u64,
    answered: u64,
    /// Whether the client sent `Done`.
    done: bool,
    /// Whether the server heard it.
    heard_done: bool,
}

/// The reference model of an update server and its clients
/// `first_client .. first_client + clients`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UpdateModel {
    first_client: u32,
    clients: Vec<Client>,
    /// The sum of the deltas applied (what every word of the copy holds).
    sum: u64,
}

impl UpdateModel {
    /// The model of a server for clients `first_client .. first_client +
    /// clients`, its copy all zero.
    pub fn new(first_client: u32, clients: u32) -> UpdateModel {
        UpdateModel {
            first_client,
            clients: vec![Client::default(); clients as usize],
            sum: 0,
        }
    }

    fn client(&mut self, client: u32) -> &mut Client {
        &mut self.clients[(client - self.first_client) as usize]
    }

    /// `client` sent update `seq`, adding `delta`.
    pub fn sent(&mut self, client: u32, seq: u64, delta: u64) -> Result<(), UpdateViolation> {
        let c = self.client(client);
        if c.done || seq != c.deltas.len() as u64 {
            return Err(UpdateViolation::ClientOutOfTurn { client });
        }
        c.deltas.push(delta);
        Ok(())
    }

    /// `client` sent `Done`.
    pub fn done(&mut self, client: u32) -> Result<(), UpdateViolation> {
        let c = self.client(client);
        if c.done {
            return Err(UpdateViolation::ClientOutOfTurn { client });
        }
        c.done = true;
        Ok(())
    }

    /// The server's machine gave out `effect`.
    pub fn effect(&mut self, effect: Effect) -> Result<(), UpdateViolation> {
        match effect {
            Effect::Applied { client, seq } => {
                let c = self.client(client);
                if seq != c.applied {
                    return Err(UpdateViolation::NotOnce {
                        client,
                        seq,
                        expected: c.applied,
                    });
                }
                let delta = *c
                    .deltas
                    .get(seq as usize)
                    .ok_or(UpdateViolation::Unsent { client, seq })?;
                c.applied += 1;
                self.sum = self.sum.wrapping_add(delta);
            }
            Effect::ClientDone { client, sent, .. } => {
                let c = self.client(client);
                let own = c.deltas.len() as u64;
                if !c.done || sent != own {
                    return Err(UpdateViolation::DoneCount {
                        client,
                        said: sent,
                        sent: own,
                    });
                }
                c.heard_done = true;
            }
        }
        Ok(())
    }

    /// The server's copy after its last step: every word must hold the
    /// sum of the deltas applied.
    pub fn check_copy(&self, copy: &[Line]) -> Result<(), UpdateViolation> {
        match copy.iter().flat_map(|l| l.0).find(|&w| w != self.sum) {
            Some(word) => Err(UpdateViolation::Copy {
                word,
                expected: self.sum,
            }),
            None => Ok(()),
        }
    }

    /// `client` got the reply that update `seq` was applied, its
    /// `applied`-th.
    pub fn answered(&mut self, client: u32, seq: u64, applied: u64) -> Result<(), UpdateViolation> {
        let c = self.client(client);
        if seq != c.answered || applied != seq + 1 || seq >= c.applied {
            return Err(UpdateViolation::Reply {
                client,
                seq,
                applied,
                expected: c.answered,
            });
        }
        c.answered += 1;
        Ok(())
    }

    /// Replies `client` got so far.
    pub fn answers(&self, client: u32) -> u64 {
        self.clients[(client - self.first_client) as usize].answered
    }

    /// The end of a run: every client said `Done` and the server heard it,
    /// every update sent was applied and answered, and the server's own
    /// count (`conservation`) holds and agrees.
    pub fn check_end(
        &self,
        conservation: Result<Conservation, UpdateError>,
    ) -> Result<(), UpdateViolation> {
        for (i, c) in self.clients.iter().enumerate() {
            let sent = c.deltas.len() as u64;
            if !c.heard_done || c.applied != sent || c.answered != sent {
                return Err(UpdateViolation::Unfinished {
                    client: self.first_client + i as u32,
                    sent,
                    applied: c.applied,
                    answered: c.answered,
                });
            }
        }
        let counted = conservation.map_err(UpdateViolation::Conservation)?;
        let applied = self.clients.iter().map(|c| c.applied).sum();
        if counted.applied != applied || counted.sent != applied {
            return Err(UpdateViolation::Total {
                counted: counted.applied,
                applied,
            });
        }
        Ok(())
    }
}
