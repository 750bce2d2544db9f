//! **Checks:** each kind of barrier keeps the guarantee of its model
//! ([`model`](super::model): nobody leaves an episode before the last core
//! arrived at it, every episode released on every core, in order) on
//! random schedules of a simulated network, a deliberately broken
//! coordinator is caught by the same model, and bad input is refused
//! without effect.

use alloc::vec;
use alloc::vec::Vec;

use urpc::RawMessage;

use super::*;
use crate::Refusal;
use crate::Via;
use crate::testnet::{Net, Rng};

/// Why a run failed.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Failure {
    /// The model found a broken invariant.
    Model(BarrierViolation),
    /// A machine refused a message or call of a correct run.
    Refused { core: u32, error: BarrierError },
    /// The run did not end.
    Stuck,
}

/// Runs `cores` machines, each arriving `episodes` times at random moments,
/// on a network that delivers in a random order chosen by `seed`; the
/// model checks every step. A refused message is dropped, as the monitor
/// drops it, and the run goes on: a later broken invariant is still found
/// and comes first; else the first refusal.
fn simulate(mut bars: Vec<MsgBarrier>, episodes: u64, seed: u64) -> Result<(), Failure> {
    let n = bars.len() as u32;
    let mut rng = Rng::new(seed);
    let mut net = Net::new(n);
    let mut model = BarrierModel::new(n, episodes);
    let mut refused = None;
    let broke = Failure::Model;
    for _ in 0..1_000_000 {
        let ready: Vec<u32> = (0..n)
            .filter(|&c| !bars[c as usize].waiting() && model.has_more(c))
            .collect();
        if ready.is_empty() && net.in_flight() == 0 {
            model
                .check_end(bars.iter().map(|b| !b.waiting()))
                .map_err(broke)?;
            return refused.map_or(Ok(()), Err);
        }
        let mut out = Out::new();
        let core;
        if !ready.is_empty() && (net.in_flight() == 0 || rng.below(3) == 0) {
            core = ready[rng.index(ready.len())];
            model.arrived(core).map_err(broke)?;
            bars[core as usize]
                .arrive(&mut out)
                .map_err(|error| Failure::Refused { core, error })?;
        } else {
            let Some((to, m)) = net.deliver(&mut rng) else {
                continue;
            };
            core = to;
            if let Err(error) = bars[to as usize].on_message(0, &m, &mut out) {
                refused.get_or_insert(Failure::Refused { core: to, error });
            }
        }
        for BarrierEffect::Released { episode } in out.effects {
            model.released(core, episode).map_err(broke)?;
        }
        net.send(core, out.sends);
    }
    Err(Failure::Stuck)
}

fn machines(kind: BarrierKind, cores: u32, arity: u32) -> Vec<MsgBarrier> {
    (0..cores)
        .map(|c| MsgBarrier::new(kind, c, cores, arity))
        .collect()
}

#[test]
fn every_kind_keeps_its_guarantee_on_random_schedules() {
    for kind in BarrierKind::ALL {
        for cores in 1..=9 {
            for seed in 0..60 {
                let arity = 2 + (seed % 3) as u32;
                let episodes = 1 + seed % 6;
                let bars = machines(kind, cores, arity);
                if let Err(v) = simulate(bars, episodes, seed) {
                    panic!("{kind:?} on {cores} cores, arity {arity}, seed {seed}: {v:?}");
                }
            }
        }
    }
}

#[test]
fn the_checker_catches_a_coordinator_that_releases_one_arrival_early() {
    for cores in 2..=9 {
        let mut early = 0;
        for seed in 0..20 {
            let bars = (0..cores).map(|c| MsgBarrier::broken(c, cores)).collect();
            let v = simulate(bars, 3, seed);
            // When the missing arrival is already on its way, the early
            // release happens to be safe, but the arrival is then refused.
            assert!(v.is_err(), "{cores} cores, seed {seed}: not caught");
            early += usize::from(matches!(
                v,
                Err(Failure::Model(BarrierViolation::EarlyRelease { .. }))
            ));
        }
        assert!(early > 0, "{cores} cores: no early release seen");
    }
    // With one core, N − 1 = 0 arrivals: an arrival still comes first.
    assert_eq!(simulate(vec![MsgBarrier::broken(0, 1)], 3, 0), Ok(()));
}

#[test]
fn one_core_releases_every_arrival_at_once() {
    for kind in BarrierKind::ALL {
        let mut b = MsgBarrier::new(kind, 0, 1, 2);
        for e in 0..4 {
            let mut out = Out::new();
            b.arrive(&mut out).unwrap();
            assert!(out.sends.is_empty());
            assert_eq!(out.effects, [BarrierEffect::Released { episode: e }]);
            assert_eq!(b.released(), e + 1);
            assert!(!b.waiting());
        }
    }
}

fn inbound(from: u32, msg: RawMessage) -> Inbound {
    Inbound {
        from,
        via: Via::Mesh,
        msg,
    }
}

fn take(b: &mut MsgBarrier, from: u32, msg: RawMessage) -> Out<BarrierEffect> {
    let mut out = Out::new();
    b.on_message(0, &inbound(from, msg), &mut out).unwrap();
    out
}

#[test]
fn a_message_of_the_next_episode_is_kept_for_it() {
    // Dissemination on two cores: core 1 leaves episode 0 and arrives at 1
    // before core 0 has heard of episode 0.
    let mut b: Vec<MsgBarrier> = machines(BarrierKind::Dissemination, 2, 2);
    let mut o0 = Out::new();
    b[0].arrive(&mut o0).unwrap();
    let mut o1 = Out::new();
    b[1].arrive(&mut o1).unwrap();
    let to1 = take(&mut b[1], 0, o0.sends[0].1);
    assert_eq!(to1.effects, [BarrierEffect::Released { episode: 0 }]);
    let mut o1b = Out::new();
    b[1].arrive(&mut o1b).unwrap();
    // Core 0 gets round 0 of episode 0, then of episode 1.
    let first = take(&mut b[0], 1, o1.sends[0].1);
    assert_eq!(first.effects, [BarrierEffect::Released { episode: 0 }]);
    let early = take(&mut b[0], 1, o1b.sends[0].1);
    assert!(early.is_empty(), "kept, not counted for episode 0");
    assert_eq!(b[0].released(), 1);
    let mut o0b = Out::new();
    b[0].arrive(&mut o0b).unwrap();
    assert_eq!(o0b.effects, [BarrierEffect::Released { episode: 1 }]);

    // Central: the coordinator keeps arrivals that come before its own.
    let mut c = machines(BarrierKind::Central, 3, 2);
    for core in [1, 2] {
        let mut out = Out::new();
        c[core].arrive(&mut out).unwrap();
        assert!(take(&mut c[0], core as u32, out.sends[0].1).is_empty());
    }
    let mut out = Out::new();
    c[0].arrive(&mut out).unwrap();
    assert_eq!(out.effects, [BarrierEffect::Released { episode: 0 }]);
    assert_eq!(out.sends.len(), 2);
}

/// Delivers `msg` and asserts that it is refused with `want` and changes
/// nothing.
fn refused(b: &mut MsgBarrier, from: u32, msg: RawMessage, want: BarrierError) {
    let before = b.clone();
    let mut out = Out::new();
    assert_eq!(
        b.on_message(0, &inbound(from, msg), &mut out),
        Err(want),
        "{:?} from {from}",
        BarrierMsg::decode(&msg)
    );
    assert!(out.is_empty());
    assert_eq!(*b, before);
}

#[test]
fn bad_input_is_refused_without_effect() {
    let arrive = |episode| BarrierMsg::Arrive { episode }.encode();
    let release = |episode| BarrierMsg::Release { episode }.encode();
    let up = |episode| BarrierMsg::TreeArrive { episode }.encode();
    let down = |episode| BarrierMsg::TreeRelease { episode }.encode();
    let round = |episode, round| BarrierMsg::Round { episode, round }.encode();
    for kind in BarrierKind::ALL {
        for me in 0..4 {
            let mut b = MsgBarrier::new(kind, me, 4, 2);
            refused(
                &mut b,
                1,
                RawMessage::new(tag::ARRIVE, &[0; 4]).unwrap(),
                BarrierError::Malformed(Malformed::BadLength {
                    tag: tag::ARRIVE,
                    len: 4,
                }),
            );
            refused(
                &mut b,
                1,
                RawMessage::new(BARRIER.tag(9), &[0; 8]).unwrap(),
                BarrierError::Malformed(Malformed::UnknownTag(BARRIER.tag(9))),
            );
            for m in [arrive(0), up(0), round(0, 0)] {
                refused(&mut b, 4, m, BarrierError::UnknownCore(4));
                refused(&mut b, u32::MAX, m, BarrierError::UnknownCore(u32::MAX));
            }
        }
    }

    // Central: arrivals only to core 0, releases only from it, for the
    // current episode, once.
    let mut c = machines(BarrierKind::Central, 3, 2);
    refused(&mut c[1], 2, arrive(0), BarrierError::OutOfOrder);
    refused(&mut c[1], 2, release(0), BarrierError::OutOfOrder);
    refused(&mut c[1], 0, release(0), BarrierError::OutOfOrder);
    refused(&mut c[0], 0, arrive(0), BarrierError::OutOfOrder);
    refused(
        &mut c[0],
        1,
        arrive(1),
        BarrierError::WrongEpisode {
            expected: 0,
            got: 1,
        },
    );
    refused(&mut c[0], 1, up(0), BarrierError::OutOfOrder);
    take(&mut c[0], 1, arrive(0));
    refused(&mut c[0], 1, arrive(0), BarrierError::Duplicate);
    let mut out = Out::new();
    c[1].arrive(&mut out).unwrap();
    assert_eq!(c[1].arrive(&mut out), Err(BarrierError::AlreadyArrived));
    refused(
        &mut c[1],
        0,
        release(1),
        BarrierError::WrongEpisode {
            expected: 0,
            got: 1,
        },
    );
    assert_eq!(
        take(&mut c[1], 0, release(0)).effects,
        [BarrierEffect::Released { episode: 0 }]
    );
    refused(&mut c[1], 0, release(0), BarrierError::Duplicate);

    // Tree (binary, 4 cores: 0 → 1, 2; 1 → 3): only children arrive, only
    // the parent releases.
    let mut t = machines(BarrierKind::Tree, 4, 2);
    refused(&mut t[1], 2, up(0), BarrierError::OutOfOrder);
    refused(&mut t[1], 0, up(0), BarrierError::OutOfOrder);
    refused(&mut t[3], 0, down(0), BarrierError::OutOfOrder);
    refused(&mut t[3], 1, down(0), BarrierError::OutOfOrder);
    refused(&mut t[1], 3, arrive(0), BarrierError::OutOfOrder);
    take(&mut t[1], 3, up(0));
    refused(&mut t[1], 3, up(0), BarrierError::Duplicate);

    // Dissemination (4 cores, 2 rounds): only the round's partner, only
    // rounds that exist, the current episode or the next.
    let mut d = machines(BarrierKind::Dissemination, 4, 2);
    refused(&mut d[0], 1, round(0, 0), BarrierError::OutOfOrder);
    refused(&mut d[0], 3, round(0, 2), BarrierError::OutOfOrder);
    refused(&mut d[0], 3, round(0, 1), BarrierError::OutOfOrder);
    refused(
        &mut d[0],
        3,
        round(2, 0),
        BarrierError::WrongEpisode {
            expected: 0,
            got: 2,
        },
    );
    refused(&mut d[0], 3, release(0), BarrierError::OutOfOrder);
    take(&mut d[0], 3, round(1, 0));
    refused(&mut d[0], 3, round(1, 0), BarrierError::Duplicate);
    take(&mut d[0], 2, round(0, 1));
    refused(&mut d[0], 2, round(0, 1), BarrierError::Duplicate);
}

#[test]
fn messages_round_trip_and_kinds_have_names() {
    for m in [
        BarrierMsg::Arrive { episode: 1 },
        BarrierMsg::Release { episode: 2 },
        BarrierMsg::TreeArrive { episode: 3 },
        BarrierMsg::TreeRelease { episode: 4 },
        BarrierMsg::Round {
            episode: 5,
            round: 6,
        },
    ] {
        assert_eq!(BarrierMsg::decode(&m.encode()), Ok(m));
    }
    assert_eq!(
        BarrierKind::ALL.map(BarrierKind::name),
        ["msg-central", "msg-tree", "msg-dissemination"]
    );
    for k in BarrierKind::ALL {
        assert_eq!(BarrierKind::from_name(k.name()), Some(k));
    }
    assert_eq!(BarrierKind::from_name("msg-tree"), Some(BarrierKind::Tree));
    assert_eq!(BarrierKind::from_name("tournament"), None);
    let reasons = [
        (
            BarrierError::Malformed(Malformed::BadValue { tag: tag::ARRIVE }),
            "bad-value",
        ),
        (BarrierError::UnknownCore(1), "unknown-core"),
        (BarrierError::OutOfOrder, "out-of-order"),
        (BarrierError::Duplicate, "duplicate"),
        (
            BarrierError::WrongEpisode {
                expected: 0,
                got: 1,
            },
            "wrong-episode",
        ),
        (BarrierError::AlreadyArrived, "already-arrived"),
    ];
    for (e, reason) in reasons {
        assert_eq!(e.reason(), reason, "{e:?}");
    }
}
