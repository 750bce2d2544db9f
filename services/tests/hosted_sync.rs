//! E5 (locks) and E6 (barriers), quick, in whole monitors on hosted
//! threads: every series runs, every check passes, and the deliberately
//! broken lock and barrier are caught.

mod common;

use common::{Rec, of, one_at_a_time, run};
use services::exp::{BARRIER_SERIES, ExpError, LOCK_SERIES, Request};
use services::platforms::hosted::{HostedError, PinPolicy, run_experiment};

fn checks_pass(recs: &[Rec], exp: &str, series: usize) {
    let checks = of(recs, "sync-check");
    assert_eq!(checks.len(), series, "{checks:?}");
    for c in checks {
        assert_eq!(c.get("exp"), exp);
        assert_eq!(c.get("ok"), "1", "{c:?}");
        assert_eq!(c.get("violations"), "0", "{c:?}");
        assert_eq!(c.get("expected"), c.get("counted"), "{c:?}");
    }
    assert_eq!(of(recs, "exp-done").len(), 1);
}

#[test]
fn every_lock_runs_and_is_checked_on_2_threads() {
    let recs = run("exp=locks,quick,acquisitions=640,cs-lines=2", 2);
    let points = of(&recs, "lock-point");
    let names: Vec<&str> = points.iter().map(|p| p.get("series")).collect();
    assert_eq!(names, LOCK_SERIES[..12], "broken-tas runs only when named");
    for p in &points {
        assert!(p.num("tput") > 0.0, "{p:?}");
        assert!(p.num("latency") > 0.0, "{p:?}");
        assert_eq!(p.get("cs_lines"), "2");
        let served = ["msg-server", "msg-delegation"].contains(&p.get("series"));
        assert_eq!(
            p.num("participants"),
            if served { 1.0 } else { 2.0 },
            "{p:?}"
        );
        assert!(p.num("min_core") > 0.0 && p.num("min_core") <= p.num("max_core"));
    }
    checks_pass(&recs, "locks", 12);
}

#[test]
fn locks_on_1_and_3_threads() {
    let recs = run("exp=locks,quick,acquisitions=320", 1);
    assert_eq!(of(&recs, "lock-point").len(), 10);
    let skips = of(&recs, "sync-skip");
    assert_eq!(
        skips.len(),
        2,
        "msg-server and msg-delegation need two cores"
    );
    checks_pass(&recs, "locks", 10);
    let recs = run("exp=locks,quick,acquisitions=64,cs-lines=0", 3);
    checks_pass(&recs, "locks", 12);
}

#[test]
fn every_barrier_runs_and_is_checked() {
    // Three threads would share this machine's two cores: spinning waits
    // would then wait for the scheduler; the ring-3 tests cover 4 cores.
    for cores in [1, 2] {
        let recs = run("exp=barriers,quick,episodes=320,arity=2", cores);
        let points = of(&recs, "barrier-point");
        let names: Vec<&str> = points.iter().map(|p| p.get("series")).collect();
        assert_eq!(names, BARRIER_SERIES[..8]);
        for p in &points {
            assert!(p.num("cycles") > 0.0, "{p:?}");
        }
        checks_pass(&recs, "barriers", 8);
    }
}

/// Runs a request that must fail its check; returns the error.
fn caught(args: &str) -> ExpError {
    let req = Request::parse(args).unwrap().unwrap();
    let _one = one_at_a_time();
    match run_experiment(&req, 2, PinPolicy::RoundRobin) {
        Err(HostedError::Failed { error, lines, .. }) => {
            assert!(
                lines
                    .iter()
                    .any(|l| l.contains("@flotilla/1 sync-check") && l.contains(" ok=0")),
                "{lines:#?}"
            );
            error
        }
        other => panic!("the broken variant was not caught: {other:?}"),
    }
}

/// Runs `args`, which must fail with a violation of `series`.
fn caught_in(args: &str, series: &str) {
    let e = caught(args);
    assert!(
        matches!(e, ExpError::SyncViolation { series: s, .. } if s == series),
        "{e:?}"
    );
}

#[test]
fn the_broken_lock_is_caught() {
    caught_in(
        "exp=locks,acquisitions=20000,rounds=3,locks=broken-tas",
        "broken-tas",
    );
}

#[test]
fn the_broken_barrier_is_caught() {
    caught_in(
        "exp=barriers,episodes=4000,rounds=3,barriers=broken-sense",
        "broken-sense",
    );
}
