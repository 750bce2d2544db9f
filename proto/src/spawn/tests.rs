//! The spawn protocol on several cores, against a reference model: every
//! request gets exactly the answers the model says, in order, whatever the
//! interleaving of the channels.

use alloc::collections::VecDeque;
use alloc::vec;
use alloc::vec::Vec;

use super::*;
use crate::Refusal;
use crate::Via;
use crate::rng::Rng;

fn deliver(
    to: &mut Spawns,
    from: u32,
    msg: RawMessage,
) -> Result<Out<SpawnEffect>, SpawnProtoError> {
    crate::testnet::deliver(to, from, Via::Mesh, msg)
}

/// What the serving platform does with a request in the model.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Outcome {
    Fail(u32),
    End(Status),
}

/// Runs requests (`(core, outcome)`) from core 0 on `n` cores of machines
/// made by `make`, delivering messages of the per-pair FIFO channels in a
/// seeded order, and returns the model's verdict on the run.
fn run(
    make: fn(u32) -> Spawns,
    n: u32,
    requests: &[(u32, Outcome)],
    seed: u64,
) -> Result<(), SpawnViolation> {
    let mut cores: Vec<Spawns> = (0..n).map(|_| make(n)).collect();
    let mut model = SpawnModel::new();
    let mut rng = Rng::new(seed);
    // One FIFO per (from, to).
    let mut chans: Vec<VecDeque<RawMessage>> = vec![VecDeque::new(); (n * n) as usize];
    let mut out = Out::new();
    let name = Name::new("hello").unwrap();
    for (i, (core, _)) in requests.iter().enumerate() {
        let id = cores[0].request("hello", *core, &mut out).unwrap();
        assert_eq!(id, i as u32);
        model.requested(0, id, *core, name);
    }
    for (to, msg) in out.sends.drain(..) {
        chans[to as usize].push_back(msg);
    }
    // Served requests waiting to end: (core, from, id).
    let mut running: Vec<(u32, u32, u32)> = Vec::new();
    loop {
        let busy: Vec<usize> = (0..chans.len()).filter(|&c| !chans[c].is_empty()).collect();
        if busy.is_empty() && running.is_empty() {
            break;
        }
        if !running.is_empty() && (busy.is_empty() || rng.chance(30)) {
            let k = rng.index(running.len());
            let (core, from, id) = running.remove(k);
            let Outcome::End(status) = requests[id as usize].1 else {
                unreachable!()
            };
            model.ended(core, from, id, status)?;
            let mut o = Out::new();
            cores[core as usize]
                .ended(from, id, status, &mut o)
                .unwrap();
            for (to, msg) in o.sends {
                chans[(core * n + to) as usize].push_back(msg);
            }
            continue;
        }
        let c = busy[rng.index(busy.len())];
        let (from, to) = (c as u32 / n, c as u32 % n);
        let msg = chans[c].pop_front().unwrap();
        let got = deliver(&mut cores[to as usize], from, msg).unwrap();
        model.effects(to, &got.effects)?;
        for (dest, msg) in got.sends {
            chans[(to * n + dest) as usize].push_back(msg);
        }
        for e in got.effects {
            let SpawnEffect::Start { from, id, .. } = e else {
                continue;
            };
            let result = match requests[id as usize].1 {
                Outcome::Fail(code) => Err(code),
                Outcome::End(_) => {
                    running.push((to, from, id));
                    Ok(99)
                }
            };
            model.started(to, from, id, result)?;
            let mut o = Out::new();
            cores[to as usize]
                .started(from, id, result, &mut o)
                .unwrap();
            for (dest, msg) in o.sends {
                chans[(to * n + dest) as usize].push_back(msg);
            }
        }
    }
    model.finish(&cores)
}

/// Seeded requests: `(core, outcome)` on a seeded number of cores.
fn requests(seed: u64) -> (u32, Vec<(u32, Outcome)>) {
    let mut rng = Rng::stream(seed, 1);
    let n = 1 + rng.below(5) as u32;
    let requests = (0..1 + rng.below(8))
        .map(|_| {
            let outcome = match rng.below(4) {
                0 => Outcome::Fail(1 + rng.below(9) as u32),
                1 => Outcome::End(Status::Killed(14)),
                2 => Outcome::End(Status::Exited(rng.below(3))),
                _ => Outcome::End(Status::Exited(0)),
            };
            (rng.below(u64::from(n)) as u32, outcome)
        })
        .collect();
    (n, requests)
}

#[test]
fn every_request_is_answered_exactly_as_the_model_says() {
    for seed in 0..300u64 {
        let (n, requests) = requests(seed);
        assert_eq!(run(Spawns::new, n, &requests, seed), Ok(()), "seed {seed}");
    }
}

#[test]
fn the_model_catches_the_broken_server() {
    let caught = (0..300u64).find_map(|seed| {
        let (n, requests) = requests(seed);
        run(Spawns::broken, n, &requests, seed).err()
    });
    assert!(
        matches!(
            caught,
            Some(SpawnViolation::Answer {
                core: 0,
                effect: SpawnEffect::Ended {
                    status: Status::Exited(0),
                    ..
                },
                ..
            })
        ),
        "{caught:?}"
    );
}

#[test]
fn the_verdict_passes_only_when_every_domain_exited_with_zero() {
    let pass = |requests: &[(u32, Outcome)]| {
        let mut cores: Vec<Spawns> = (0..2).map(|_| Spawns::new(2)).collect();
        let mut out = Out::new();
        for (core, _) in requests {
            cores[0].request("hello", *core, &mut out).unwrap();
        }
        for (id, (core, outcome)) in requests.iter().enumerate() {
            let id = id as u32;
            let req = out.sends.remove(0).1;
            deliver(&mut cores[*core as usize], 0, req).unwrap();
            let mut o = Out::new();
            match *outcome {
                Outcome::Fail(code) => cores[*core as usize].started(0, id, Err(code), &mut o),
                Outcome::End(s) => {
                    cores[*core as usize].started(0, id, Ok(1), &mut o).unwrap();
                    cores[*core as usize].ended(0, id, s, &mut o)
                }
            }
            .unwrap();
            for (_, msg) in o.sends {
                deliver(&mut cores[0], *core, msg).unwrap();
            }
        }
        cores[0].all_passed()
    };
    assert!(pass(&[
        (1, Outcome::End(Status::Exited(0))),
        (0, Outcome::End(Status::Exited(0)))
    ]));
    assert!(!pass(&[
        (1, Outcome::End(Status::Exited(0))),
        (1, Outcome::End(Status::Exited(2)))
    ]));
    assert!(!pass(&[(1, Outcome::End(Status::Killed(14)))]));
    assert!(!pass(&[(1, Outcome::Fail(3))]));
    assert!(!pass(&[(1, Outcome::End(Status::Revoked))]));
}

#[test]
fn refuses_bad_requests_answers_and_calls_and_changes_nothing() {
    let mut zero = Spawns::new(2);
    let mut one = Spawns::new(2);
    let mut out = Out::new();
    assert_eq!(
        zero.request("hello", 2, &mut out),
        Err(SpawnProtoError::UnknownCore(2))
    );
    for bad in ["", "a b", "naïve", "x".repeat(33).as_str()] {
        assert_eq!(
            zero.request(bad, 1, &mut out),
            Err(SpawnProtoError::BadName),
            "{bad:?}"
        );
    }
    assert!(out.is_empty());
    // An answer to nothing, from the wrong core, and an end before a start.
    let started = SpawnMsg::Started {
        id: 0,
        failure: 0,
        cycles: 1,
    }
    .encode();
    assert_eq!(
        deliver(&mut zero, 1, started).unwrap_err(),
        SpawnProtoError::UnknownRequest
    );
    let id = zero.request("hello", 1, &mut out).unwrap();
    let request = out.sends.pop().unwrap().1;
    assert_eq!(
        deliver(&mut zero, 0, started).unwrap_err(),
        SpawnProtoError::UnknownRequest
    );
    let end = SpawnMsg::Ended {
        id,
        status: Status::Exited(0),
    }
    .encode();
    assert_eq!(
        deliver(&mut zero, 1, end).unwrap_err(),
        SpawnProtoError::OutOfOrder
    );
    // The server: a repeated request, a report for nothing, an end before
    // the start, a zero failure code, a status that is not an end.
    deliver(&mut one, 0, request).unwrap();
    assert_eq!(
        deliver(&mut one, 0, request).unwrap_err(),
        SpawnProtoError::Duplicate
    );
    let mut o = Out::new();
    assert_eq!(
        one.started(0, 7, Ok(1), &mut o),
        Err(SpawnProtoError::UnknownRequest)
    );
    assert_eq!(
        one.ended(0, id, Status::Exited(0), &mut o),
        Err(SpawnProtoError::OutOfOrder)
    );
    assert_eq!(
        one.started(0, id, Err(0), &mut o),
        Err(SpawnProtoError::OutOfOrder)
    );
    one.started(0, id, Ok(5), &mut o).unwrap();
    assert_eq!(
        one.started(0, id, Ok(5), &mut o),
        Err(SpawnProtoError::Duplicate)
    );
    assert_eq!(
        one.ended(0, id, Status::Running, &mut o),
        Err(SpawnProtoError::OutOfOrder)
    );
    assert_eq!(o.sends.len(), 1);
    // The requester takes the start once, then the end once.
    let (_, msg) = o.sends.pop().unwrap();
    assert_eq!(deliver(&mut zero, 1, msg).unwrap().effects.len(), 1);
    assert_eq!(
        deliver(&mut zero, 1, msg).unwrap_err(),
        SpawnProtoError::Duplicate
    );
    one.ended(0, id, Status::Exited(0), &mut o).unwrap();
    let (_, msg) = o.sends.pop().unwrap();
    assert_eq!(deliver(&mut zero, 1, msg).unwrap().effects.len(), 1);
    assert_eq!(
        deliver(&mut zero, 1, msg).unwrap_err(),
        SpawnProtoError::Duplicate
    );
    assert!(zero.all_passed() && zero.pending() == 0);
}

#[test]
fn malformed_messages_are_refused() {
    let mut m = Spawns::new(2);
    let short = RawMessage::new(tag::REQUEST, &[1, 2]).unwrap();
    assert!(matches!(
        deliver(&mut m, 1, short),
        Err(SpawnProtoError::Malformed(Malformed::BadLength { .. }))
    ));
    let name = Name::new("ok").unwrap();
    let good = SpawnMsg::Request { id: 0, name }.encode();
    let mut words = good.bytes().to_vec();
    words[4] = 40; // len past the name field
    let long = RawMessage::new(tag::REQUEST, &words).unwrap();
    assert!(matches!(
        deliver(&mut m, 1, long),
        Err(SpawnProtoError::Malformed(Malformed::BadValue { .. }))
    ));
    let bad_status = RawMessage::new(tag::ENDED, &[0u8; 16]).unwrap();
    assert!(matches!(
        deliver(&mut m, 1, bad_status),
        Err(SpawnProtoError::Malformed(Malformed::BadValue { .. }))
    ));
    assert_eq!(
        deliver(&mut m, 5, good).unwrap_err(),
        SpawnProtoError::UnknownCore(5)
    );
    for msg in [
        SpawnMsg::Request { id: 3, name },
        SpawnMsg::Started {
            id: 1,
            failure: 4,
            cycles: 9,
        },
        SpawnMsg::Ended {
            id: 2,
            status: Status::Killed(13),
        },
    ] {
        assert_eq!(SpawnMsg::decode(&msg.encode()), Ok(msg));
    }
}

#[test]
fn the_broken_server_hides_a_failed_end_and_the_model_test_sees_it() {
    // The same exchange as the model test, with one domain killed: the
    // correct server reports the kill, the broken one an exit with 0.
    for (server, want) in [
        (Spawns::new(2), Status::Killed(14)),
        (Spawns::broken(2), Status::Exited(0)),
    ] {
        let mut zero = Spawns::new(2);
        let mut one = server;
        let mut out = Out::new();
        let id = zero.request("hello", 1, &mut out).unwrap();
        deliver(&mut one, 0, out.sends.pop().unwrap().1).unwrap();
        let mut o = Out::new();
        one.started(0, id, Ok(1), &mut o).unwrap();
        one.ended(0, id, Status::Killed(14), &mut o).unwrap();
        let mut ended = None;
        for (_, msg) in o.sends {
            for e in deliver(&mut zero, 1, msg).unwrap().effects {
                if let SpawnEffect::Ended { status, .. } = e {
                    ended = Some(status);
                }
            }
        }
        assert_eq!(ended, Some(want));
        assert_eq!(zero.all_passed(), want == Status::Exited(0));
    }
}

#[test]
fn the_refusals_print_their_pinned_reasons() {
    let reasons = [
        SpawnProtoError::UnknownCore(3),
        SpawnProtoError::BadName,
        SpawnProtoError::UnknownRequest,
        SpawnProtoError::Duplicate,
        SpawnProtoError::OutOfOrder,
    ]
    .map(|e| e.reason());
    assert_eq!(
        reasons,
        [
            "unknown-core",
            "bad-value",
            "unknown-request",
            "duplicate",
            "out-of-order"
        ]
    );
    let m = Malformed::UnknownTag(7);
    assert_eq!(SpawnProtoError::Malformed(m).reason(), m.reason());
}
