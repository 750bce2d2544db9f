//! The simulator against its guarantee, and every scenario over many
//! seeds with and without faults; each injected bug must be found.

use super::*;
use crate::proto::barrier::BarrierKind;
use crate::proto::lock::LockKind;

const FAULTS: Faults = Faults {
    delay: true,
    stall: true,
    lost_notify: true,
    fail: false,
};

fn spec(protocol: Protocol, cores: u32, ops: u32) -> Spec {
    Spec {
        protocol,
        cores,
        faults: FAULTS,
        ops,
        inject: None,
        write_check: true,
    }
}

fn every_protocol() -> alloc::vec::Vec<Protocol> {
    let mut v = alloc::vec::Vec::new();
    v.extend(Model::ALL.map(Protocol::Replica));
    v.extend(
        [
            BarrierKind::Central,
            BarrierKind::Tree,
            BarrierKind::Dissemination,
        ]
        .map(Protocol::Barrier),
    );
    v.extend(LockKind::ALL.map(Protocol::Lock));
    v.push(Protocol::Update);
    v.push(Protocol::Mesh);
    v.push(Protocol::Spawn);
    v
}

#[test]
fn a_seed_replays_exactly() {
    let s = spec(Protocol::Replica(Model::Lin), 4, 10);
    let a = run_seed(&s, 42);
    let b = run_seed(&s, 42);
    assert_eq!(a.outcome.steps, b.outcome.steps);
    assert_eq!(a.outcome.end, b.outcome.end);
    assert_eq!(a.outcome.trace, b.outcome.trace);
    assert_eq!(a.history, b.history);
    let c = run_seed(&s, 43);
    assert_ne!(a.outcome.trace, c.outcome.trace, "two seeds, one schedule");
}

#[test]
fn every_protocol_holds_under_delays_stalls_and_lost_notifications() {
    for p in every_protocol() {
        for cores in [1, 2, 4] {
            for seed in 0..60 {
                let r = run_seed(&spec(p, cores, 6), seed);
                assert!(
                    r.outcome.violation.is_none(),
                    "{p:?} cores={cores} seed={seed}: {:?}",
                    r.outcome.violation
                );
            }
        }
    }
}

#[test]
fn lost_notifications_are_recovered_by_the_timeout() {
    let mut timed_out = 0;
    for seed in 0..50 {
        let r = run_seed(&spec(Protocol::Replica(Model::Seq), 3, 10), seed);
        assert!(r.outcome.violation.is_none());
        timed_out += r
            .outcome
            .trace
            .iter()
            .filter(|t| t.step == Step::TimedOut)
            .count();
    }
    assert!(timed_out > 0, "no lost notification was ever recovered");
}

#[test]
fn a_failed_core_is_tolerated_as_far_as_safety_goes() {
    let mut s = spec(Protocol::Replica(Model::Lin), 4, 8);
    s.faults.fail = true;
    let mut degraded = 0;
    for seed in 0..100 {
        let r = run_seed(&s, seed);
        assert!(
            r.outcome.violation.is_none(),
            "seed {seed}: {:?}",
            r.outcome.violation
        );
        degraded += usize::from(r.outcome.degraded);
    }
    assert!(degraded > 50);
}

#[test]
fn every_injected_bug_is_found() {
    for (inject, _) in Inject::ALL {
        let protocol = match inject {
            Inject::Replica(_) => Protocol::Replica(Model::Lin),
            Inject::BarrierEarly => Protocol::Barrier(BarrierKind::Central),
            Inject::LockForgets => Protocol::Lock(LockKind::Server),
            Inject::SpawnHidesEnd => Protocol::Spawn,
            Inject::UpdateLoses => Protocol::Update,
        };
        let mut s = spec(protocol, 4, 8);
        s.inject = Some(inject);
        assert_eq!(s.validate(), Ok(()));
        let found = (0..10_000).find(|&seed| run_seed(&s, seed).outcome.violation.is_some());
        assert!(found.is_some(), "{inject:?} was never found");
    }
}

/// The first seed at which each protocol model's injected bug is found,
/// and what is found there, as `flotilla sim` prints it.
#[test]
fn the_models_find_their_injected_bugs_at_their_first_seeds() {
    let none = Faults::default();
    let lock = Protocol::Lock(LockKind::Server);
    let barrier = Protocol::Barrier(BarrierKind::Central);
    for (inject, protocol, cores, ops, faults, first, what) in [
        (
            Inject::LockForgets,
            lock,
            4,
            8,
            FAULTS,
            0,
            "core 2 was granted the lock while core 1 holds it",
        ),
        (
            Inject::LockForgets,
            lock,
            3,
            1,
            none,
            1,
            "core 1 was granted the lock while core 2 holds it",
        ),
        (
            Inject::BarrierEarly,
            barrier,
            4,
            8,
            FAULTS,
            0,
            "core 0 left episode 0 before core 3 arrived at it",
        ),
        (
            Inject::BarrierEarly,
            barrier,
            3,
            1,
            none,
            0,
            "core 0 left episode 0 before core 0 arrived at it",
        ),
        (
            Inject::UpdateLoses,
            Protocol::Update,
            4,
            8,
            FAULTS,
            0,
            "the server's copy holds 6 where the applied updates add up to 7",
        ),
    ] {
        let mut s = spec(protocol, cores, ops);
        s.faults = faults;
        s.inject = Some(inject);
        let found =
            (0..100).find_map(|seed| run_seed(&s, seed).outcome.violation.map(|v| (seed, v.what)));
        assert_eq!(
            found,
            Some((first, what.into())),
            "{inject:?} on {cores} cores, {ops} ops"
        );
    }
}

#[test]
fn a_bug_of_another_protocol_is_refused() {
    let mut s = spec(Protocol::Replica(Model::Seq), 4, 8);
    s.inject = Some(Inject::BarrierEarly);
    assert!(s.validate().is_err());
    s.inject = Some(Inject::Replica(Bug::EarlyReply));
    assert!(
        s.validate().is_err(),
        "the primary's bugs are of the lin model"
    );
}
