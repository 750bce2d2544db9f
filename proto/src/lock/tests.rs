//! **Checks:** each kind of lock keeps the guarantee of its model
//! ([`model`](super::model): mutual exclusion, FIFO where promised, every
//! request granted, every machine at rest at the end) on random schedules
//! of a simulated network, a deliberately broken server is caught by the
//! same model, and bad input is refused without effect.

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
    Model(LockViolation),
    /// A machine refused a message or call of a correct run.
    Refused { core: u32, error: LockError },
    /// The run did not end: a request never granted, or a token that never
    /// stops.
    Stuck,
    /// A machine's log of grants differs from what the model saw.
    Log { core: u32 },
}

impl From<LockViolation> for Failure {
    fn from(v: LockViolation) -> Failure {
        Failure::Model(v)
    }
}

/// One simulated run.
#[derive(Clone, Copy, Debug)]
struct Setup {
    kind: LockKind,
    cores: u32,
    server: u32,
    cs_lines: u32,
    /// Acquires per participant.
    rounds: u32,
    broken: bool,
}

/// The driver: each core's machine and client, the network, and the
/// model that checks every step.
struct World {
    setup: Setup,
    locks: Vec<MsgLock>,
    net: Net,
    model: LockModel,
    /// Acquisitions each core has left.
    left: Vec<u32>,
}

impl World {
    fn new(setup: Setup) -> World {
        let n = setup.cores;
        let locks = (0..n)
            .map(|c| {
                if setup.broken {
                    MsgLock::broken(c, n, setup.server)
                } else {
                    MsgLock::new(setup.kind, c, n, setup.server, setup.cs_lines)
                }
            })
            .collect();
        let model = LockModel::new(n, |c| setup.kind.participates(c, setup.server));
        World {
            setup,
            locks,
            net: Net::new(n),
            left: (0..n)
                .map(|c| {
                    if model.is_finished(c) {
                        0
                    } else {
                        setup.rounds
                    }
                })
                .collect(),
            model,
        }
    }

    fn apply(&mut self, core: u32, out: Out<LockEffect>) -> Result<(), Failure> {
        for e in out.effects {
            match e {
                LockEffect::Granted => self.model.granted(core)?,
                LockEffect::Executed { count } => self.model.executed(core, count)?,
            }
        }
        self.net.send(core, out.sends);
        Ok(())
    }

    /// Cores that can act now.
    fn actionable(&self) -> Vec<u32> {
        (0..self.setup.cores)
            .filter(|&c| {
                self.model.holds(c)
                    || (!self.model.waiting(c)
                        && (self.left[c as usize] > 0 || !self.model.is_finished(c)))
            })
            .collect()
    }

    fn act(&mut self, core: u32, rng: &mut Rng) -> Result<(), Failure> {
        let c = core as usize;
        let mut out = Out::new();
        let refused = |error| Failure::Refused { core, error };
        if self.model.holds(core) {
            if self.left[c] == 0 && !self.model.is_finished(core) && rng.below(2) == 0 {
                // Finishing while holding: the release still follows.
                self.model.finished(core)?;
                self.locks[c].finish(&mut out);
            } else {
                self.model.released(core)?;
                self.locks[c].release(&mut out).map_err(refused)?;
            }
        } else if self.left[c] > 0 {
            self.model.asked(core)?;
            // The queue's tail keeper alone takes its own request at once.
            if core == self.setup.server
                && self.setup.kind == LockKind::Queue
                && self.setup.cores == 1
            {
                self.model.reached(core);
            }
            self.locks[c].acquire(&mut out).map_err(refused)?;
            self.left[c] -= 1;
        } else {
            self.model.finished(core)?;
            self.locks[c].finish(&mut out);
        }
        self.apply(core, out)
    }

    fn deliver(&mut self, step: u64, rng: &mut Rng) -> Result<(), Failure> {
        let Some((to, m)) = self.net.deliver(rng) else {
            return Ok(());
        };
        if to == self.setup.server && matches!(m.msg.tag(), tag::REQUEST | tag::ENQUEUE) {
            self.model.reached(m.from);
        }
        let mut out = Out::new();
        self.locks[to as usize]
            .on_message(step, &m, &mut out)
            .map_err(|error| Failure::Refused { core: to, error })?;
        self.apply(to, out)
    }

    /// Runs to the end; the first failure, if any.
    fn run(&mut self, seed: u64) -> Result<(), Failure> {
        let mut rng = Rng::new(seed);
        for step in 0..1_000_000 {
            let actionable = self.actionable();
            if actionable.is_empty() && self.net.in_flight() == 0 {
                return self.check_end();
            }
            if !actionable.is_empty() && (self.net.in_flight() == 0 || rng.below(3) == 0) {
                let core = actionable[rng.index(actionable.len())];
                self.act(core, &mut rng)?;
            } else {
                self.deliver(step, &mut rng)?;
            }
        }
        Err(Failure::Stuck)
    }

    /// The model's end check, then the machines' own logs against what
    /// the model saw.
    fn check_end(&self) -> Result<(), Failure> {
        let s = self.setup;
        self.model
            .check_end(self.locks.iter().map(|l| l.quiescent() && !l.holds()))?;
        let server = &self.locks[s.server as usize];
        let logs_agree = match s.kind {
            LockKind::Server | LockKind::Queue => server.grant_log() == self.model.grants(),
            LockKind::Token => self.locks.iter().enumerate().all(|(c, l)| {
                l.grant_log().len() as u32 == s.rounds
                    && l.grant_log().iter().all(|&g| g == c as u32)
            }),
            LockKind::Delegation => {
                server.count() == server.grant_log().len() as u64
                    && server.delegation_data_matches()
            }
        };
        if logs_agree {
            Ok(())
        } else {
            Err(Failure::Log { core: s.server })
        }
    }
}

fn setup(kind: LockKind, cores: u32, seed: u64) -> Setup {
    Setup {
        kind,
        cores,
        server: (seed % u64::from(cores)) as u32,
        cs_lines: (seed % 3) as u32,
        rounds: 1 + (seed % 4) as u32,
        broken: false,
    }
}

#[test]
fn every_kind_keeps_its_guarantee_on_random_schedules() {
    for kind in LockKind::ALL {
        for cores in 1..=9 {
            for seed in 0..40 {
                let s = setup(kind, cores, seed);
                let mut w = World::new(s);
                if let Err(v) = w.run(seed) {
                    panic!("{s:?} seed {seed}: {v:?}");
                }
            }
        }
    }
}

#[test]
fn the_checker_catches_a_server_that_grants_before_the_release() {
    for cores in 3..=7 {
        let caught = (0..50).any(|seed| {
            let s = Setup {
                broken: true,
                rounds: 3,
                ..setup(LockKind::Server, cores, seed)
            };
            matches!(
                World::new(s).run(seed),
                Err(Failure::Model(LockViolation::MutualExclusion { .. }))
            )
        });
        assert!(caught, "{cores} cores: the broken server went unnoticed");
    }
    // The same schedules pass with the real server.
    for seed in 0..50 {
        let s = Setup {
            rounds: 3,
            ..setup(LockKind::Server, 5, seed)
        };
        World::new(s).run(seed).unwrap();
    }
}

#[test]
fn kinds_have_names() {
    assert_eq!(
        LockKind::ALL.map(LockKind::name),
        ["msg-server", "msg-token", "msg-delegation", "msg-queue"]
    );
    for k in LockKind::ALL {
        assert_eq!(LockKind::from_name(k.name()), Some(k));
    }
    assert_eq!(LockKind::from_name("msg-queue"), Some(LockKind::Queue));
    assert_eq!(LockKind::from_name("mcs"), None);
    assert_eq!(LockKind::from_name("Server"), None);
}

#[test]
fn refusals_have_their_reasons() {
    let reasons = [
        (
            LockError::Malformed(Malformed::UnknownTag(tag::GRANT)),
            "unknown-tag",
        ),
        (LockError::UnknownCore(1), "unknown-core"),
        (LockError::NotParticipant(1), "not-participant"),
        (LockError::Duplicate, "duplicate"),
        (LockError::OutOfOrder, "out-of-order"),
        (LockError::AlreadyAsked, "already-asked"),
        (LockError::NotHeld, "not-held"),
        (LockError::NothingToRelease, "nothing-to-release"),
        (LockError::Finished, "finished"),
    ];
    for (e, reason) in reasons {
        assert_eq!(e.reason(), reason, "{e:?}");
    }
}

#[test]
fn messages_round_trip_and_malformed_ones_are_typed() {
    let all = [
        LockMsg::Request { seq: 1 },
        LockMsg::Grant { seq: 2 },
        LockMsg::Release { seq: 3 },
        LockMsg::Finished { asked: 4 },
        LockMsg::Token {
            hops: 5,
            finished: 6,
        },
        LockMsg::Op { seq: 7 },
        LockMsg::Executed { seq: 8, count: 9 },
        LockMsg::Enqueue { seq: 10 },
        LockMsg::First { seq: 11 },
        LockMsg::Behind {
            seq: 12,
            pred: 13,
            pred_seq: 14,
        },
        LockMsg::Successor {
            pred_seq: 15,
            seq: 16,
        },
        LockMsg::Pass { seq: 17 },
        LockMsg::Leave { seq: 18 },
        LockMsg::Left {
            seq: 19,
            emptied: true,
        },
    ];
    let mut tags: Vec<u16> = all.iter().map(|m| m.encode().tag()).collect();
    tags.sort_unstable();
    assert_eq!(tags, tag::ALL);
    for m in all {
        assert_eq!(LockMsg::decode(&m.encode()), Ok(m));
    }
    let unknown = LOCK.tag(15);
    assert_eq!(
        LockMsg::decode(&RawMessage::new(unknown, &[0; 8]).unwrap()),
        Err(Malformed::UnknownTag(unknown))
    );
    assert_eq!(
        LockMsg::decode(&RawMessage::new(tag::GRANT, &[0; 4]).unwrap()),
        Err(Malformed::BadLength {
            tag: tag::GRANT,
            len: 4
        })
    );
    let mut left = [0u8; 16];
    left[8] = 2;
    assert_eq!(
        LockMsg::decode(&RawMessage::new(tag::LEFT, &left).unwrap()),
        Err(Malformed::BadValue { tag: tag::LEFT })
    );
}

fn inbound(from: u32, msg: RawMessage) -> Inbound {
    Inbound {
        from,
        via: Via::Mesh,
        msg,
    }
}

/// Delivers `msg` and asserts that it is refused with `want` and changes
/// nothing.
fn refused(lock: &mut MsgLock, from: u32, msg: RawMessage, want: LockError) {
    let before = lock.clone();
    let mut out = Out::new();
    assert_eq!(
        lock.on_message(0, &inbound(from, msg), &mut out),
        Err(want),
        "{:?} from {from}",
        LockMsg::decode(&msg)
    );
    assert!(out.is_empty());
    assert_eq!(*lock, before);
}

fn take(lock: &mut MsgLock, from: u32, msg: LockMsg) -> Out<LockEffect> {
    let mut out = Out::new();
    lock.on_message(0, &inbound(from, msg.encode()), &mut out)
        .unwrap();
    out
}

#[test]
fn bad_input_is_refused_without_effect() {
    let malformed = [
        (
            RawMessage::new(tag::REQUEST, &[1, 2, 3]).unwrap(),
            LockError::Malformed(Malformed::BadLength {
                tag: tag::REQUEST,
                len: 3,
            }),
        ),
        (
            RawMessage::new(LOCK.tag(14), &[]).unwrap(),
            LockError::Malformed(Malformed::UnknownTag(LOCK.tag(14))),
        ),
        (
            RawMessage::new(tag::LEFT, &[0, 0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0]).unwrap(),
            LockError::Malformed(Malformed::BadValue { tag: tag::LEFT }),
        ),
    ];
    for kind in LockKind::ALL {
        for me in 0..3 {
            let mut lock = MsgLock::new(kind, me, 3, 1, 2);
            for (msg, want) in malformed {
                refused(&mut lock, 0, msg, want);
            }
            let req = LockMsg::Request { seq: 0 }.encode();
            let enq = LockMsg::Enqueue { seq: 0 }.encode();
            let tok = LockMsg::Token {
                hops: 1,
                finished: 0,
            }
            .encode();
            for m in [req, enq, tok] {
                refused(&mut lock, 3, m, LockError::UnknownCore(3));
                refused(&mut lock, 99, m, LockError::UnknownCore(99));
            }
        }
    }

    // Server: the server never requests; replies come only from the
    // server; repeats are refused.
    let mut server = MsgLock::new(LockKind::Server, 1, 3, 1, 0);
    let mut client = MsgLock::new(LockKind::Server, 0, 3, 1, 0);
    let req = |seq| LockMsg::Request { seq }.encode();
    refused(&mut server, 1, req(0), LockError::NotParticipant(1));
    refused(&mut server, 0, req(1), LockError::OutOfOrder);
    refused(
        &mut server,
        0,
        LockMsg::Release { seq: 0 }.encode(),
        LockError::OutOfOrder,
    );
    refused(
        &mut server,
        0,
        LockMsg::Token {
            hops: 1,
            finished: 0,
        }
        .encode(),
        LockError::OutOfOrder,
    );
    assert_eq!(
        take(&mut server, 0, LockMsg::Request { seq: 0 })
            .sends
            .len(),
        1
    );
    refused(&mut server, 0, req(0), LockError::Duplicate);
    refused(&mut server, 0, req(1), LockError::OutOfOrder);
    refused(
        &mut server,
        2,
        LockMsg::Release { seq: 0 }.encode(),
        LockError::OutOfOrder,
    );
    refused(
        &mut server,
        0,
        LockMsg::Finished { asked: 3 }.encode(),
        LockError::OutOfOrder,
    );
    refused(
        &mut client,
        1,
        LockMsg::Grant { seq: 0 }.encode(),
        LockError::OutOfOrder,
    );
    client.acquire(&mut Out::new()).unwrap();
    refused(
        &mut client,
        2,
        LockMsg::Grant { seq: 0 }.encode(),
        LockError::OutOfOrder,
    );
    refused(
        &mut client,
        1,
        LockMsg::Grant { seq: 1 }.encode(),
        LockError::OutOfOrder,
    );
    assert_eq!(
        take(&mut client, 1, LockMsg::Grant { seq: 0 }).effects,
        [LockEffect::Granted]
    );
    refused(
        &mut client,
        1,
        LockMsg::Grant { seq: 0 }.encode(),
        LockError::Duplicate,
    );

    // Token: only from the ring predecessor, never twice, never old.
    let mut t1 = MsgLock::new(LockKind::Token, 1, 3, 0, 0);
    let tok = |hops, finished| LockMsg::Token { hops, finished }.encode();
    refused(&mut t1, 2, tok(1, 0), LockError::OutOfOrder);
    refused(&mut t1, 0, tok(2, 0), LockError::OutOfOrder);
    refused(&mut t1, 0, tok(1, 4), LockError::OutOfOrder);
    let mut t0 = MsgLock::new(LockKind::Token, 0, 3, 0, 0);
    refused(&mut t0, 2, tok(3, 0), LockError::Duplicate);
    let out = take(
        &mut t1,
        0,
        LockMsg::Token {
            hops: 1,
            finished: 1,
        },
    );
    assert_eq!(out.sends, [(2, tok(2, 1))]);
    refused(&mut t1, 0, tok(1, 1), LockError::Duplicate);
    refused(&mut t1, 0, tok(4, 0), LockError::OutOfOrder);

    // Delegation: ops only to the server, in order, once.
    let mut d = MsgLock::new(LockKind::Delegation, 2, 3, 2, 1);
    let op = |seq| LockMsg::Op { seq }.encode();
    refused(&mut d, 2, op(0), LockError::NotParticipant(2));
    refused(&mut d, 0, op(1), LockError::OutOfOrder);
    let out = take(&mut d, 0, LockMsg::Op { seq: 0 });
    assert_eq!(
        out.sends,
        [(0, LockMsg::Executed { seq: 0, count: 1 }.encode())]
    );
    refused(&mut d, 0, op(0), LockError::Duplicate);
    let mut dc = MsgLock::new(LockKind::Delegation, 0, 3, 2, 1);
    refused(
        &mut dc,
        2,
        LockMsg::Executed { seq: 0, count: 1 }.encode(),
        LockError::OutOfOrder,
    );

    // Queue: keeper messages only to the keeper, answers only from it, a
    // predecessor that exists.
    let mut q = MsgLock::new(LockKind::Queue, 0, 3, 1, 0);
    refused(
        &mut q,
        2,
        LockMsg::Enqueue { seq: 0 }.encode(),
        LockError::OutOfOrder,
    );
    q.acquire(&mut Out::new()).unwrap();
    refused(
        &mut q,
        2,
        LockMsg::First { seq: 0 }.encode(),
        LockError::OutOfOrder,
    );
    refused(
        &mut q,
        1,
        LockMsg::Behind {
            seq: 0,
            pred: 7,
            pred_seq: 0,
        }
        .encode(),
        LockError::UnknownCore(7),
    );
    refused(
        &mut q,
        2,
        LockMsg::Pass { seq: 0 }.encode(),
        LockError::OutOfOrder,
    );
    refused(
        &mut q,
        1,
        LockMsg::Left {
            seq: 0,
            emptied: true,
        }
        .encode(),
        LockError::OutOfOrder,
    );
    let mut keeper = MsgLock::new(LockKind::Queue, 1, 3, 1, 0);
    refused(
        &mut keeper,
        0,
        LockMsg::Leave { seq: 0 }.encode(),
        LockError::OutOfOrder,
    );
    take(&mut keeper, 0, LockMsg::Enqueue { seq: 0 });
    refused(
        &mut keeper,
        0,
        LockMsg::Enqueue { seq: 0 }.encode(),
        LockError::Duplicate,
    );
}

#[test]
fn calls_out_of_turn_are_refused() {
    let mut out = Out::new();
    for kind in LockKind::ALL {
        let mut l = MsgLock::new(kind, 1, 3, 0, 1);
        assert_eq!(
            l.release(&mut out),
            Err(if kind == LockKind::Delegation {
                LockError::NothingToRelease
            } else {
                LockError::NotHeld
            })
        );
        l.acquire(&mut out).unwrap();
        assert_eq!(l.acquire(&mut out), Err(LockError::AlreadyAsked));
        let mut f = MsgLock::new(kind, 2, 3, 0, 1);
        f.finish(&mut out);
        assert_eq!(f.acquire(&mut out), Err(LockError::Finished));
    }
    for kind in [LockKind::Server, LockKind::Delegation] {
        let mut s = MsgLock::new(kind, 0, 3, 0, 1);
        assert_eq!(s.acquire(&mut out), Err(LockError::NotParticipant(0)));
        let before = s.clone();
        let mut quiet = Out::new();
        s.finish(&mut quiet);
        assert!(quiet.is_empty());
        assert_eq!(s, before);
    }
    assert_eq!(LockError::AlreadyAsked.reason(), "already-asked");
    assert_eq!(LockError::UnknownCore(4).reason(), "unknown-core");
}

#[test]
fn one_core_token_grants_at_once_and_never_moves() {
    let mut t = MsgLock::new(LockKind::Token, 0, 1, 0, 0);
    assert!(t.quiescent());
    for _ in 0..3 {
        let mut out = Out::new();
        t.acquire(&mut out).unwrap();
        assert_eq!(out.effects, [LockEffect::Granted]);
        assert!(!t.quiescent());
        t.release(&mut out).unwrap();
        assert!(out.sends.is_empty());
    }
    let mut out = Out::new();
    t.finish(&mut out);
    assert!(out.is_empty() && t.quiescent());
    assert_eq!(t.grant_log(), [0, 0, 0]);
}

#[test]
fn the_token_stops_once_every_participant_finished() {
    let n = 3;
    let mut ring: Vec<MsgLock> = (0..n)
        .map(|c| MsgLock::new(LockKind::Token, c, n, 0, 0))
        .collect();
    assert!(!ring[0].quiescent(), "core 0 must set the token moving");
    let mut pending = Vec::new();
    for (c, l) in ring.iter_mut().enumerate() {
        let mut out = Out::new();
        l.finish(&mut out);
        pending.extend(out.sends.into_iter().map(|s| (c as u32, s)));
    }
    let mut hops = 0;
    while let Some((from, (to, msg))) = pending.pop() {
        hops += 1;
        let mut out = Out::new();
        ring[to as usize]
            .on_message(0, &inbound(from, msg), &mut out)
            .unwrap();
        pending.extend(out.sends.into_iter().map(|s| (to, s)));
    }
    // Core 0 counted itself and passed; 1 and 2 counted themselves; the
    // token stops at 2, the first to see all three counted.
    assert_eq!(hops, 2);
    assert!(ring.iter().all(MsgLock::quiescent));
}

#[test]
fn a_queue_releaser_waits_for_a_successor_that_enqueued_meanwhile() {
    // Core 1 keeps the tail; cores 0 and 2 compete.
    let mut cores: Vec<MsgLock> = (0..3)
        .map(|c| MsgLock::new(LockKind::Queue, c, 3, 1, 0))
        .collect();
    let send = |cores: &mut Vec<MsgLock>, from: u32, out: Out<LockEffect>| {
        let mut effects = Vec::new();
        let mut next = Vec::new();
        for (to, msg) in out.sends {
            let mut o = Out::new();
            cores[to as usize]
                .on_message(0, &inbound(from, msg), &mut o)
                .unwrap();
            next.push((to, o));
        }
        for (to, o) in &next {
            effects.extend(o.effects.iter().map(|e| (*to, *e)));
        }
        (next, effects)
    };
    // 0 enqueues first and holds.
    let mut out = Out::new();
    cores[0].acquire(&mut out).unwrap();
    let (replies, _) = send(&mut cores, 0, out);
    let (_, effects) = send(&mut cores, 1, replies.into_iter().next().unwrap().1);
    assert_eq!(effects, [(0, LockEffect::Granted)]);
    // 2 enqueues: the keeper answers `Behind 0`, but 2's `Successor` is
    // still on its way when 0 releases.
    let mut out = Out::new();
    cores[2].acquire(&mut out).unwrap();
    let (mut behind, _) = send(&mut cores, 2, out);
    let behind = behind.remove(0).1;
    let mut out = Out::new();
    cores[0].release(&mut out).unwrap();
    assert_eq!(out.sends, [(1, LockMsg::Leave { seq: 0 }.encode())]);
    let (mut left, _) = send(&mut cores, 0, out);
    assert_eq!(
        left[0].1.sends,
        [(
            0,
            LockMsg::Left {
                seq: 0,
                emptied: false
            }
            .encode()
        )]
    );
    let (after_left, _) = send(&mut cores, 1, left.remove(0).1);
    assert!(after_left[0].1.is_empty(), "0 waits for its successor");
    assert!(!cores[0].quiescent());
    // 2's answer from the keeper arrives; its `Successor` reaches 0, which
    // passes the lock.
    let (succ, _) = send(&mut cores, 1, behind);
    let (pass, _) = send(&mut cores, 2, succ.into_iter().next().unwrap().1);
    let (_, effects) = send(&mut cores, 0, pass.into_iter().next().unwrap().1);
    assert_eq!(effects, [(2, LockEffect::Granted)]);
    assert!(cores[0].quiescent());
    assert_eq!(cores[1].grant_log(), [0, 2]);
}
