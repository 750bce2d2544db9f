//! **Checks:** the server applies, counts and conserves; refused
//! messages change nothing; malformed wire messages are typed errors.

use urpc::RawMessage;

use super::*;
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
