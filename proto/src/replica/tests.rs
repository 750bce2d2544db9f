//! The replica protocols on a simulated network of FIFO channels with
//! seeded random interleavings, against the reference model
//! ([`ReplicaModel`], told every step) and, for the whole history, a
//! brute-force linearizability check per key (linearizability is local)
//! and a brute-force sequential-consistency check.

use alloc::collections::{BTreeMap, BTreeSet};
use alloc::vec;
use alloc::vec::Vec;

use super::*;
use crate::Refusal;
use crate::testnet::{Net, Rng};

/// One completed operation, with logical invoke and response times.
#[derive(Clone, Copy, Debug)]
struct Event {
    core: u32,
    op: Op,
    value: u64,
    invoke: u64,
    response: u64,
}

/// Keeps the first violation.
fn first(verdict: &mut Result<(), ReplicaViolation>, r: Result<(), ReplicaViolation>) {
    if verdict.is_ok() {
        *verdict = r;
    }
}

/// Runs `ops` random operations per core over `keys` keys and returns the
/// history and the model's verdict on the run.
fn run(
    kind: Model,
    bug: Option<Bug>,
    cores: u32,
    ops: u32,
    keys: u64,
    seed: u64,
) -> (Vec<Event>, Result<(), ReplicaViolation>) {
    let mut rng = Rng::new(seed);
    let mut reps: Vec<Replica> = (0..cores)
        .map(|c| match bug {
            Some(b) => Replica::broken(kind, c, cores, b),
            None => Replica::new(kind, c, cores),
        })
        .collect();
    let mut model = ReplicaModel::new(kind, cores, ops, true);
    let mut verdict = Ok(());
    let mut net = Net::new(cores);
    let mut left = vec![ops; cores as usize];
    let mut started = vec![0u64; cores as usize];
    let mut hist = Vec::new();
    let mut now = 0u64;
    let mut next_value = 1u64;
    loop {
        now += 1;
        let idle: Vec<u32> = (0..cores)
            .filter(|&c| left[c as usize] > 0 && !reps[c as usize].busy())
            .collect();
        let deliver = net.in_flight() > 0 && (idle.is_empty() || rng.below(3) != 0);
        let mut out = Out::new();
        let at = if deliver {
            let (to, m) = net.deliver(&mut rng).expect("in flight");
            reps[to as usize]
                .on_message(now, &m, &mut out)
                .expect("a correct message refused");
            to
        } else if let Some(&c) = idle.get(rng.index(idle.len())) {
            let key = rng.below(keys);
            let op = if rng.below(2) == 0 {
                Op::Read { key }
            } else {
                next_value += 1;
                Op::Write {
                    key,
                    value: next_value,
                }
            };
            left[c as usize] -= 1;
            started[c as usize] = now;
            first(&mut verdict, model.invoke(c, op));
            reps[c as usize].invoke(op, &mut out).expect("not busy");
            c
        } else if let Some(c) = (0..cores).find(|&c| !reps[c as usize].quiescent()) {
            // Every client is done: the replicas send what they held back.
            reps[c as usize].flush(&mut out);
            c
        } else {
            break;
        };
        first(&mut verdict, model.effects(at, &out.effects, &reps));
        first(&mut verdict, model.step(&reps));
        for e in out.effects.drain(..) {
            let ReplicaEffect::Completed(done) = e;
            hist.push(Event {
                core: at,
                op: done.op,
                value: done.value,
                invoke: started[at as usize],
                response: now,
            });
        }
        net.send(at, core::mem::take(&mut out.sends));
    }
    first(&mut verdict, model.finish(&reps));
    (hist, verdict)
}

/// Whether the operations on one key can be linearized as a register
/// starting at 0 (brute force with memoisation on (done set, value)).
fn linearizable_key(ops: &[Event]) -> bool {
    fn go(ops: &[Event], done: u64, value: u64, seen: &mut BTreeSet<(u64, u64)>) -> bool {
        if done.count_ones() as usize == ops.len() {
            return true;
        }
        if !seen.insert((done, value)) {
            return false;
        }
        let open = |i: usize| done & (1 << i) == 0;
        let first_response = (0..ops.len())
            .filter(|&i| open(i))
            .map(|i| ops[i].response)
            .min()
            .unwrap_or(u64::MAX);
        for i in (0..ops.len()).filter(|&i| open(i)) {
            let e = ops[i];
            if e.invoke > first_response {
                continue;
            }
            let next = match e.op {
                Op::Read { .. } if e.value != value => continue,
                Op::Read { .. } => value,
                Op::Write { value, .. } => value,
            };
            if go(ops, done | (1 << i), next, seen) {
                return true;
            }
        }
        false
    }
    assert!(ops.len() < 64);
    go(ops, 0, 0, &mut BTreeSet::new())
}

fn linearizable(hist: &[Event]) -> bool {
    let mut by_key: BTreeMap<u64, Vec<Event>> = BTreeMap::new();
    for e in hist {
        by_key.entry(e.op.key()).or_default().push(*e);
    }
    by_key.values().all(|ops| linearizable_key(ops))
}

/// Whether the history is sequentially consistent: one order of all
/// operations keeping each core's order, reads returning the last write.
fn sequential(hist: &[Event], cores: u32) -> bool {
    let mut per: Vec<Vec<Event>> = vec![Vec::new(); cores as usize];
    for e in hist {
        per[e.core as usize].push(*e);
    }
    for p in &mut per {
        p.sort_by_key(|e| e.invoke);
    }
    type Seen = BTreeSet<(Vec<usize>, Vec<(u64, u64)>)>;
    fn go(
        per: &[Vec<Event>],
        at: &mut Vec<usize>,
        map: &mut BTreeMap<u64, u64>,
        seen: &mut Seen,
    ) -> bool {
        if at.iter().zip(per).all(|(&i, p)| i == p.len()) {
            return true;
        }
        let key = (at.clone(), map.iter().map(|(&k, &v)| (k, v)).collect());
        if !seen.insert(key) {
            return false;
        }
        for c in 0..per.len() {
            let Some(e) = per[c].get(at[c]).copied() else {
                continue;
            };
            let old = map.get(&e.op.key()).copied();
            match e.op {
                Op::Read { key } if map.get(&key).copied().unwrap_or(0) != e.value => continue,
                Op::Read { .. } => {}
                Op::Write { key, value } => {
                    map.insert(key, value);
                }
            }
            at[c] += 1;
            if go(per, at, map, seen) {
                return true;
            }
            at[c] -= 1;
            match old {
                Some(v) => map.insert(e.op.key(), v),
                None => map.remove(&e.op.key()),
            };
        }
        false
    }
    go(
        &per,
        &mut vec![0; cores as usize],
        &mut BTreeMap::new(),
        &mut BTreeSet::new(),
    )
}

#[test]
fn the_reference_checks_tell_good_from_bad() {
    let ev = |core, op, value, invoke, response| Event {
        core,
        op,
        value,
        invoke,
        response,
    };
    let w = |value| Op::Write { key: 0, value };
    let r = Op::Read { key: 0 };
    // A read after a completed write returns the old value: neither.
    let stale = [ev(0, w(5), 5, 1, 2), ev(1, r, 0, 3, 4)];
    assert!(!linearizable(&stale));
    assert!(sequential(&stale, 2), "SC may order the read first");
    // Concurrent write and read: either value is fine.
    let concurrent = [ev(0, w(5), 5, 1, 4), ev(1, r, 0, 2, 3)];
    assert!(linearizable(&concurrent));
    // Two cores see two writes in opposite orders: not SC.
    let split = [
        ev(0, w(1), 1, 1, 2),
        ev(1, Op::Write { key: 1, value: 2 }, 2, 1, 2),
        ev(0, Op::Read { key: 1 }, 0, 3, 4),
        ev(1, Op::Read { key: 0 }, 0, 3, 4),
    ];
    assert!(!sequential(&split, 2));
}

#[test]
fn linearizable_histories_are_linearizable_and_replicas_agree() {
    for cores in 1..=5 {
        for seed in 0..150 {
            let (hist, verdict) = run(Model::Lin, None, cores, 4, 2, seed);
            assert_eq!(verdict, Ok(()), "cores={cores} seed={seed}");
            assert!(linearizable(&hist), "cores={cores} seed={seed}: {hist:?}");
        }
    }
}

#[test]
fn sequential_histories_are_sequentially_consistent() {
    let mut not_lin = 0;
    for cores in 1..=4 {
        for seed in 0..150 {
            let (hist, verdict) = run(Model::Seq, None, cores, 4, 2, seed);
            assert_eq!(verdict, Ok(()), "cores={cores} seed={seed}");
            assert!(
                sequential(&hist, cores),
                "cores={cores} seed={seed}: {hist:?}"
            );
            not_lin += usize::from(!linearizable(&hist));
        }
    }
    assert!(
        not_lin > 0,
        "local reads never went stale: the test is too weak"
    );
}

#[test]
fn eventual_replicas_converge_but_histories_are_not_linearizable() {
    let mut not_lin = 0;
    for cores in 2..=4 {
        for seed in 0..150 {
            let (hist, verdict) = run(Model::Eventual, None, cores, 4, 2, seed);
            assert_eq!(verdict, Ok(()), "cores={cores} seed={seed}");
            not_lin += usize::from(!linearizable(&hist));
        }
    }
    assert!(not_lin > 0, "the negative control never failed");
}

#[test]
fn each_broken_primary_is_caught_by_the_model_and_the_history() {
    for bug in Bug::ALL {
        let runs: Vec<_> = (0..300)
            .map(|seed| run(Model::Lin, Some(bug), 3, 4, 1, seed))
            .collect();
        assert!(
            runs.iter().any(|(_, verdict)| verdict.is_err()),
            "{bug:?} was never caught by the model"
        );
        assert!(
            runs.iter().any(|(hist, _)| !linearizable(hist)),
            "{bug:?} was never caught by the history check"
        );
    }
}

#[test]
fn the_model_tells_good_from_bad() {
    let w = |value| Op::Write { key: 0, value };
    let r = Op::Read { key: 0 };
    let done = |op, value, version| [ReplicaEffect::Completed(Completion { op, value, version })];
    let reps: Vec<Replica> = (0..2).map(|c| Replica::new(Model::Lin, c, 2)).collect();
    // Core 0 writes 5 as version 1; core 1 then reads the old 0.
    let mut m = ReplicaModel::new(Model::Lin, 2, 1, false);
    m.invoke(0, w(5)).unwrap();
    m.effects(0, &done(w(5), 5, 1), &reps).unwrap();
    m.invoke(1, r).unwrap();
    m.effects(1, &done(r, 0, 0), &reps).unwrap();
    assert_eq!(
        m.finish(&reps),
        Ok(()),
        "without the map's rules a stale read is the history checker's"
    );
    let mut m = ReplicaModel::new(Model::Seq, 2, 2, true);
    m.invoke(0, w(5)).unwrap();
    m.effects(0, &done(w(5), 5, 1), &reps).unwrap();
    m.invoke(1, r).unwrap();
    m.effects(1, &done(r, 0, 0), &reps).unwrap();
    m.invoke(0, r).unwrap();
    assert_eq!(
        m.effects(0, &done(r, 0, 0), &reps),
        Err(ReplicaViolation::Stale {
            core: 0,
            op: r,
            version: 0,
            floor: 1
        }),
        "a core reads its own write"
    );
    let mut m = ReplicaModel::new(Model::Lin, 2, 1, true);
    m.invoke(1, r).unwrap();
    assert_eq!(
        m.effects(1, &done(r, 7, 1), &reps),
        Ok(()),
        "a read may see a write before its writer hears of it"
    );
    m.invoke(0, w(5)).unwrap();
    let held = |v: &ReplicaViolation| matches!(v, ReplicaViolation::NotHeld { replica: 0, .. });
    assert!(
        m.effects(0, &done(w(5), 5, 1), &reps)
            .is_err_and(|v| held(&v))
    );
    assert_eq!(
        m.effects(1, &done(r, 0, 0), &reps),
        Err(ReplicaViolation::Unasked { core: 1 })
    );
}

#[test]
fn misdirected_and_malformed_messages_change_nothing() {
    let msg = |from, m: ReplicaMsg| Inbound {
        from,
        via: crate::Via::Mesh,
        msg: m.encode(),
    };
    let cases: [(Model, u32, Inbound, ReplicaError); 8] = [
        (
            Model::Lin,
            1,
            msg(
                1,
                ReplicaMsg::LinWrite {
                    seq: 0,
                    key: 0,
                    value: 1,
                },
            ),
            ReplicaError::NotLeader(1),
        ),
        (
            Model::Lin,
            1,
            msg(
                2,
                ReplicaMsg::Prepare {
                    version: 1,
                    key: 0,
                    value: 1,
                },
            ),
            ReplicaError::NotLeader(2),
        ),
        (
            Model::Lin,
            1,
            msg(
                0,
                ReplicaMsg::Prepare {
                    version: 2,
                    key: 0,
                    value: 1,
                },
            ),
            ReplicaError::OutOfOrder,
        ),
        (
            Model::Lin,
            1,
            msg(0, ReplicaMsg::Commit { version: 1 }),
            ReplicaError::OutOfOrder,
        ),
        (
            Model::Lin,
            0,
            msg(1, ReplicaMsg::Vote { version: 1 }),
            ReplicaError::OutOfOrder,
        ),
        (
            Model::Seq,
            1,
            msg(
                0,
                ReplicaMsg::Apply {
                    version: 2,
                    origin: 0,
                    seq: 0,
                    key: 0,
                    value: 1,
                },
            ),
            ReplicaError::OutOfOrder,
        ),
        (
            Model::Eventual,
            1,
            msg(
                2,
                ReplicaMsg::Gossip {
                    clock: 1,
                    origin: 0,
                    key: 0,
                    value: 1,
                },
            ),
            ReplicaError::UnknownCore(0),
        ),
        (
            Model::Eventual,
            1,
            msg(
                9,
                ReplicaMsg::Gossip {
                    clock: 1,
                    origin: 9,
                    key: 0,
                    value: 1,
                },
            ),
            ReplicaError::UnknownCore(9),
        ),
    ];
    for (model, me, m, want) in cases {
        let mut r = Replica::new(model, me, 3);
        let before = r.clone();
        let mut out = Out::new();
        assert_eq!(r.on_message(0, &m, &mut out), Err(want), "{model:?} {m:?}");
        assert!(out.is_empty());
        assert_eq!(r, before);
    }
    // A message of another model, and bytes that do not decode.
    let mut r = Replica::new(Model::Seq, 1, 3);
    let mut out = Out::new();
    let lin = msg(0, ReplicaMsg::Commit { version: 1 });
    assert_eq!(
        r.on_message(0, &lin, &mut out),
        Err(ReplicaError::WrongModel)
    );
    let junk = Inbound {
        from: 0,
        via: crate::Via::Mesh,
        msg: urpc::RawMessage::from_words(tag::APPLY, 3, &[0; urpc::PAYLOAD_WORDS]),
    };
    assert!(matches!(
        r.on_message(0, &junk, &mut out),
        Err(ReplicaError::Malformed(_))
    ));
    assert!(out.is_empty());
    // A second operation while the first is in progress.
    let mut r = Replica::new(Model::Lin, 1, 3);
    r.invoke(Op::Write { key: 0, value: 1 }, &mut out).unwrap();
    assert_eq!(
        r.invoke(Op::Read { key: 0 }, &mut out),
        Err(ReplicaError::Busy)
    );
}

#[test]
fn the_printed_names_are_pinned() {
    assert_eq!(Model::ALL.map(Model::name), ["lin", "seq", "eventual"]);
    assert_eq!(Bug::ALL.map(Bug::name), ["early-reply", "commit-short"]);
    for m in Model::ALL {
        assert_eq!(Model::from_name(m.name()), Some(m));
    }
    for b in Bug::ALL {
        assert_eq!(Bug::from_name(b.name()), Some(b));
    }
    assert_eq!(Model::from_name("strong"), None);
    assert_eq!(Bug::from_name("Early-Reply"), None);
    let reasons = [
        ReplicaError::UnknownCore(3),
        ReplicaError::WrongModel,
        ReplicaError::NotLeader(1),
        ReplicaError::Duplicate,
        ReplicaError::OutOfOrder,
        ReplicaError::Busy,
    ]
    .map(|e| e.reason());
    assert_eq!(
        reasons,
        [
            "unknown-core",
            "wrong-model",
            "not-leader",
            "duplicate",
            "out-of-order",
            "busy"
        ]
    );
    let m = crate::wire::Malformed::UnknownTag(7);
    assert_eq!(ReplicaError::Malformed(m).reason(), m.reason());
}
