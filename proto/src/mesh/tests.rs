//! The mesh protocol against its guarantee, on a simulated network.

use alloc::collections::VecDeque;
use alloc::vec;
use alloc::vec::Vec;

use urpc::{RawMessage, Side};

use super::*;
use crate::Refusal;
use crate::frames::FrameAllocator;
use crate::{Inbound, Out, Protocol, Via};

#[test]
fn messages_round_trip_and_malformed_ones_are_typed_errors() {
    let all = [
        MeshMsg::Hello { core: 3 },
        MeshMsg::Connect {
            peer: 9,
            side: Side::B,
            first_frame: 77,
        },
        MeshMsg::Linked { peer: 1 },
        MeshMsg::MeshDone { channels: 28 },
        MeshMsg::Ping { from: 2 },
        MeshMsg::Pong { from: 0 },
    ];
    for m in all {
        assert_eq!(MeshMsg::decode(&m.encode()), Ok(m));
    }
    assert_eq!(
        MeshMsg::decode(&RawMessage::new(0x7777, &[1]).unwrap()),
        Err(Malformed::UnknownTag(0x7777))
    );
    assert_eq!(
        MeshMsg::decode(&RawMessage::new(tag::HELLO, &[1, 2, 3]).unwrap()),
        Err(Malformed::BadLength {
            tag: tag::HELLO,
            len: 3
        })
    );
    let mut bad_side = MeshMsg::Connect {
        peer: 1,
        side: Side::A,
        first_frame: 0,
    }
    .encode()
    .bytes()
    .to_vec();
    bad_side[4] = 7;
    assert_eq!(
        MeshMsg::decode(&RawMessage::new(tag::CONNECT, &bad_side).unwrap()),
        Err(Malformed::BadValue { tag: tag::CONNECT })
    );
}

/// Runs `n` mesh machines made by `make` to completion on a network that
/// delivers each message FIFO, over the channel the monitor would pick:
/// the mesh channel once both ends opened it, else the bootstrap channel;
/// returns the model's verdict on the run.
fn simulate(make: fn(u32, u32, FrameAllocator) -> Mesh, n: u32) -> Result<(), MeshViolation> {
    let frames = FrameAllocator::new(100, 100 + u64::from(n * n) * 2);
    let mut cores: Vec<Mesh> = (0..n).map(|c| make(c, n, frames)).collect();
    let mut model = MeshModel::new(n);
    let mut open = vec![vec![false; n as usize]; n as usize];
    let mut net: VecDeque<(u32, Inbound)> = VecDeque::new();
    let mut pending: VecDeque<(u32, Out<MeshEffect>)> = VecDeque::new();
    for c in 0..n {
        let mut out = Out::new();
        cores[c as usize].start(&mut out).unwrap();
        pending.push_back((c, out));
    }
    let mut steps = 0;
    loop {
        steps += 1;
        assert!(steps < 1_000_000, "no progress");
        while let Some((me, out)) = pending.pop_front() {
            model.effects(me, &out.effects)?;
            for (to, msg) in out.sends {
                let via = if to == me {
                    Via::Local
                } else if open[me as usize][to as usize] && open[to as usize][me as usize] {
                    Via::Mesh
                } else {
                    Via::Bootstrap
                };
                net.push_back((to, Inbound { from: me, via, msg }));
            }
            for e in out.effects {
                if let MeshEffect::Open { peer, .. } = e {
                    open[me as usize][peer as usize] = true;
                    // Both ends open before the first ping is sent, as side
                    // B attaches only after side A formatted.
                    if open[peer as usize][me as usize] {
                        for (a, b) in [(me, peer), (peer, me)] {
                            model.opened(a, b)?;
                            let mut out = Out::new();
                            cores[a as usize].opened(b, &mut out).unwrap();
                            pending.push_back((a, out));
                        }
                    }
                }
            }
        }
        let Some((to, inbound)) = net.pop_front() else {
            break;
        };
        let mut out = Out::new();
        cores[to as usize]
            .on_message(0, &inbound, &mut out)
            .unwrap_or_else(|e| panic!("core {to} refused {inbound:?}: {e:?}"));
        pending.push_back((to, out));
    }
    model.finish(&cores)
}

#[test]
fn every_pair_links_over_distinct_frames_and_the_broker_finishes() {
    for n in [1, 2, 3, 4, 8, 16] {
        assert_eq!(simulate(Mesh::new, n), Ok(()), "{n} cores");
    }
}

#[test]
fn the_model_catches_the_broker_that_shares_frames() {
    for n in [1, 2] {
        assert_eq!(simulate(Mesh::broken, n), Ok(()), "one pair shares nothing");
    }
    for n in [3, 4, 8] {
        let found = simulate(Mesh::broken, n);
        assert!(
            matches!(found, Err(MeshViolation::Shared { other: (0, 1), .. })),
            "{n} cores: {found:?}"
        );
    }
}

fn inbound(from: u32, via: Via, msg: MeshMsg) -> Inbound {
    Inbound {
        from,
        via,
        msg: msg.encode(),
    }
}

#[test]
fn unexpected_messages_are_refused_without_effect() {
    let mut b = Broker::new(3, FrameAllocator::new(0, 100));
    assert_eq!(
        b.on_message(5, MeshMsg::Hello { core: 5 }),
        Err(MeshError::UnknownCore(5))
    );
    assert_eq!(
        b.on_message(1, MeshMsg::Linked { peer: 2 }),
        Err(MeshError::OutOfOrder)
    );
    assert_eq!(b.on_message(1, MeshMsg::Hello { core: 1 }), Ok(vec![]));
    assert_eq!(
        b.on_message(1, MeshMsg::Hello { core: 1 }),
        Err(MeshError::Duplicate)
    );
    assert_eq!(
        b.on_message(2, MeshMsg::Hello { core: 1 }),
        Err(MeshError::UnknownCore(1))
    );
    let connects = b.on_message(2, MeshMsg::Hello { core: 2 }).unwrap();
    assert_eq!(connects.len(), 6);
    let mut m = Member::new(1, 3);
    assert_eq!(m.on_connect(1, Side::A, 0), Err(MeshError::UnknownCore(1)));
    assert_eq!(m.on_connect(0, Side::A, 0), Err(MeshError::OutOfOrder));
    assert_eq!(m.on_open(0), Err(MeshError::OutOfOrder));
    assert_eq!(
        m.on_peer(0, MeshMsg::Ping { from: 0 }),
        Err(MeshError::OutOfOrder)
    );
    m.on_connect(0, Side::B, 0).unwrap();
    m.on_open(0).unwrap();
    assert_eq!(
        m.on_peer(0, MeshMsg::Ping { from: 2 }),
        Err(MeshError::UnknownCore(2))
    );
    assert_eq!(m.on_peer(0, MeshMsg::Ping { from: 0 }).unwrap().len(), 1);
    assert_eq!(
        m.on_peer(0, MeshMsg::Ping { from: 0 }),
        Err(MeshError::Duplicate)
    );
}

#[test]
fn a_ping_on_the_wrong_channel_does_not_count_as_a_link() {
    let mut mesh = Mesh::new(1, 2, FrameAllocator::new(0, 0));
    let mut out = Out::new();
    let connect = MeshMsg::Connect {
        peer: 0,
        side: Side::B,
        first_frame: 4,
    };
    mesh.on_message(0, &inbound(0, Via::Bootstrap, connect), &mut out)
        .unwrap();
    mesh.opened(0, &mut out).unwrap();
    let mut out = Out::new();
    for via in [Via::Bootstrap, Via::Local] {
        assert_eq!(
            mesh.on_message(0, &inbound(0, via, MeshMsg::Ping { from: 0 }), &mut out),
            Err(MeshError::WrongChannel)
        );
    }
    assert!(out.is_empty());
    // Hello only on a bootstrap channel, and only to the broker.
    assert_eq!(
        mesh.on_message(
            0,
            &inbound(0, Via::Mesh, MeshMsg::Hello { core: 0 }),
            &mut out
        ),
        Err(MeshError::OutOfOrder)
    );
    assert_eq!(mesh.linked(), 0);
}

#[test]
fn a_pool_without_room_is_fatal() {
    let mut b = Broker::new(3, FrameAllocator::new(0, 3));
    b.on_message(1, MeshMsg::Hello { core: 1 }).unwrap();
    let e = b.on_message(2, MeshMsg::Hello { core: 2 }).unwrap_err();
    assert_eq!(e, MeshError::PoolExhausted);
    assert!(e.is_fatal());
    assert!(!MeshError::Duplicate.is_fatal());
}

#[test]
fn the_refusals_print_their_pinned_reasons() {
    let reasons = [
        MeshError::UnknownCore(3),
        MeshError::Duplicate,
        MeshError::OutOfOrder,
        MeshError::WrongChannel,
        MeshError::PoolExhausted,
    ]
    .map(|e| e.reason());
    assert_eq!(
        reasons,
        [
            "unknown-core",
            "duplicate",
            "out-of-order",
            "wrong-channel",
            "pool-exhausted"
        ]
    );
    let m = Malformed::UnknownTag(7);
    assert_eq!(MeshError::Malformed(m).reason(), m.reason());
}
