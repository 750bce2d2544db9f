//! **Checks:** the server applies, counts and conserves; refused
//! messages change nothing; malformed wire messages are typed errors; the
//! server and its clients keep the model's invariants on random schedules
//! of a simulated network, and a deliberately broken server is caught by
//! the same model.

use alloc::vec;
use alloc::vec::Vec;

use urpc::RawMessage;

use super::*;
use crate::testnet::{Net, Rng};
use crate::{Inbound, Out, Protocol, Refusal};

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

/// Why a seeded run failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Failure {
    /// The model found a broken invariant.
    Model(UpdateViolation),
    /// The server refused a message of a correct client.
    Refused(UpdateError),
    /// The run did not end.
    Stuck,
}

impl From<UpdateViolation> for Failure {
    fn from(v: UpdateViolation) -> Failure {
        Failure::Model(v)
    }
}

/// The server on core 0 and a client on every other core, each sending
/// `updates` updates of random deltas with up to `window` in flight, then
/// `Done`, on a network that delivers in an order chosen by the seed.
struct Run {
    server: UpdateServer,
    model: UpdateModel,
    net: Net,
    updates: u64,
    window: u64,
    sent: Vec<u64>,
    done: Vec<bool>,
}

impl Run {
    fn new(server: UpdateServer, cores: u32, updates: u64, window: u64) -> Run {
        Run {
            server,
            model: UpdateModel::new(1, cores - 1),
            net: Net::new(cores),
            updates,
            window,
            sent: vec![0; cores as usize],
            done: vec![false; cores as usize],
        }
    }

    /// Clients that can send now.
    fn ready(&self) -> Vec<u32> {
        (1..self.sent.len() as u32)
            .filter(|&c| {
                let (sent, answered) = (self.sent[c as usize], self.model.answers(c));
                (sent < self.updates && sent - answered < self.window)
                    || (answered == self.updates && !self.done[c as usize])
            })
            .collect()
    }

    fn act(&mut self, client: u32, rng: &mut Rng) -> Result<(), Failure> {
        let c = client as usize;
        let msg = if self.sent[c] < self.updates {
            let (seq, delta) = (self.sent[c], 1 + rng.below(5));
            self.sent[c] += 1;
            self.model.sent(client, seq, delta)?;
            ClientMsg::Update { client, seq, delta }
        } else {
            self.done[c] = true;
            self.model.done(client)?;
            ClientMsg::Done {
                client,
                sent: self.updates,
            }
        };
        self.net.send(client, vec![(0, msg.encode())]);
        Ok(())
    }

    fn deliver(&mut self, rng: &mut Rng) -> Result<(), Failure> {
        let Some((to, m)) = self.net.deliver(rng) else {
            return Ok(());
        };
        if to == 0 {
            let mut out = Out::new();
            self.server
                .on_message(0, &m, &mut out)
                .map_err(Failure::Refused)?;
            for e in out.effects {
                self.model.effect(e)?;
            }
            self.model.check_copy(self.server.copy())?;
            self.net.send(0, out.sends);
        } else {
            let ServerReply::Applied { seq, applied } =
                ServerReply::decode(&m.msg).map_err(Failure::Refused)?;
            self.model.answered(to, seq, applied)?;
        }
        Ok(())
    }

    fn run(mut self, seed: u64) -> Result<(), Failure> {
        let mut rng = Rng::new(seed);
        for _ in 0..1_000_000 {
            let ready = self.ready();
            if ready.is_empty() && self.net.in_flight() == 0 {
                return self
                    .model
                    .check_end(self.server.conservation())
                    .map_err(Failure::Model);
            }
            if !ready.is_empty() && (self.net.in_flight() == 0 || rng.below(3) == 0) {
                self.act(ready[rng.index(ready.len())], &mut rng)?;
            } else {
                self.deliver(&mut rng)?;
            }
        }
        Err(Failure::Stuck)
    }
}

#[test]
fn the_server_keeps_the_model_on_random_schedules() {
    for cores in 1..=6 {
        for seed in 0..40 {
            let (updates, window, k) = (seed % 5, 1 + seed % 3, 1 + (seed % 3) as usize);
            let server = UpdateServer::new(1, cores - 1, k);
            if let Err(f) = Run::new(server, cores, updates, window).run(seed) {
                panic!("{cores} cores, seed {seed}: {f:?}");
            }
        }
    }
}

#[test]
fn the_model_catches_a_server_that_loses_an_update() {
    for cores in 3..=6 {
        let caught = (0..20).any(|seed| {
            let server = UpdateServer::broken(1, cores - 1, 2);
            matches!(
                Run::new(server, cores, 3, 2).run(seed),
                Err(Failure::Model(UpdateViolation::Copy { .. }))
            )
        });
        assert!(caught, "{cores} cores: the lossy server went unnoticed");
    }
    // With one client, no update follows another client's: nothing lost.
    for seed in 0..20 {
        let server = UpdateServer::broken(1, 1, 2);
        assert_eq!(Run::new(server, 2, 3, 2).run(seed), Ok(()));
    }
}
