//! The experiments in ring 3, quick, on 4 cores (E5, E6 and E7 on 3): well-formed results and
//! conserved update counts. (Two cores and the `exp` command are covered
//! by `tools/tests/exp_qemu.rs`.)

use std::collections::BTreeSet;

use flotilla_tests::{boot_ok, with_monitors};

#[test]
fn urpc_table_on_4_cores_measures_every_ordered_pair_and_variant() {
    let report = boot_ok(&with_monitors(4, "log=warn user=exp=urpc,quick"));
    let pairs: Vec<_> = report.records_of("urpc-pair").collect();
    let mut seen = BTreeSet::new();
    for p in &pairs {
        let src = p.get_u64("src").expect("src");
        let dst = p.get_u64("dst").expect("dst");
        let variant = p.get("variant").expect("variant").to_owned();
        assert_ne!(src, dst);
        assert_eq!(
            u64::from(p.core),
            src,
            "records come from the measuring core"
        );
        let rtt = p.get_u64("rtt_median").expect("rtt_median");
        let p99 = p.get_u64("rtt_p99").expect("rtt_p99");
        assert!(rtt > 0 && p99 >= rtt, "{p:?}");
        assert!(p.get_u64("samples").is_some_and(|s| s > 0));
        // Every row has a throughput: the raw row's is the raw stream's.
        match variant.as_str() {
            "raw" | "ack" | "used" => {
                let tput: f64 = p.get("tput").and_then(|t| t.parse().ok()).expect("tput");
                assert!(tput > 0.0, "{p:?}");
            }
            other => panic!("unknown variant {other}"),
        }
        assert!(seen.insert((src, dst, variant)), "measured twice: {p:?}");
    }
    assert_eq!(
        seen.len(),
        4 * 3 * 3,
        "every ordered pair, three variants each"
    );
    let summary: Vec<_> = report.records_of("urpc-summary").collect();
    assert_eq!(summary.len(), 1);
    assert_eq!(summary[0].get("pairs"), Some("12"));
    assert!(
        report
            .records_of("exp-done")
            .any(|d| d.get("ok") == Some("1"))
    );
}

#[test]
fn update_cost_on_4_cores_conserves_every_update() {
    let report = boot_ok(&with_monitors(4, "log=warn user=exp=update-cost,quick"));
    let series: BTreeSet<String> = report
        .records_of("update-cost")
        .map(|r| {
            assert_eq!(r.get("cores"), Some("4"));
            let cycles: f64 = r
                .get("cycles")
                .and_then(|c| c.parse().ok())
                .expect("cycles");
            assert!(cycles > 0.0, "{r:?}");
            format!(
                "{}/{}",
                r.get("series").unwrap_or("?"),
                r.get("k").unwrap_or("?")
            )
        })
        .collect();
    for expected in [
        "shm/1",
        "shm/8",
        "shm-atomic/8",
        "shm-lock/8",
        "msg-client/1",
        "msg-server/8",
    ] {
        assert!(
            series.contains(expected),
            "{expected} missing from {series:?}"
        );
    }
    let checks: Vec<_> = report.records_of("update-check").collect();
    assert!(!checks.is_empty());
    for c in &checks {
        assert_eq!(c.get("conserved"), Some("1"), "{c:?}");
        let sent = c.get_u64("sent").expect("sent");
        assert!(sent > 0);
        assert_eq!(c.get_u64("applied"), Some(sent), "{c:?}");
    }
}

#[test]
fn locks_on_3_cores_in_ring_3_run_every_lock_with_no_violation() {
    // Three vCPUs: every lock has waiters, and the spinning ones still
    // leave the holder a host CPU on a two-CPU machine most of the time.
    let report = boot_ok(&with_monitors(
        3,
        "log=warn user=exp=locks,quick,rounds=1,acquisitions=64,cs-lines=2",
    ));
    let points: Vec<_> = report.records_of("lock-point").collect();
    assert_eq!(points.len(), 10, "{}", report.failure_report);
    // The host's own locks run only on hosted threads.
    let skipped: Vec<_> = report
        .records_of("sync-skip")
        .map(|s| (s.get("series"), s.get("reason")))
        .collect();
    assert_eq!(
        skipped,
        [
            (Some("std-mutex"), Some("hosted-only")),
            (Some("parking-lot"), Some("hosted-only"))
        ]
    );
    let checks: Vec<_> = report.records_of("sync-check").collect();
    assert_eq!(checks.len(), 10);
    for c in &checks {
        assert_eq!(c.get("ok"), Some("1"), "{c:?}");
        assert_eq!(c.get("violations"), Some("0"), "{c:?}");
        assert_eq!(c.get("expected"), c.get("counted"), "{c:?}");
    }
}

#[test]
fn barriers_on_3_cores_in_ring_3_run_every_barrier_with_no_violation() {
    let report = boot_ok(&with_monitors(
        3,
        "log=warn user=exp=barriers,quick,rounds=1,episodes=64",
    ));
    let points: Vec<_> = report.records_of("barrier-point").collect();
    assert_eq!(points.len(), 8, "{}", report.failure_report);
    for c in report.records_of("sync-check") {
        assert_eq!(c.get("ok"), Some("1"), "{c:?}");
    }
}

#[test]
fn consistency_on_3_cores_in_ring_3_converges_and_records_every_operation() {
    let ops = 60u64;
    let report = boot_ok(&with_monitors(
        3,
        &format!("log=warn user=exp=consistency,quick,ops={ops}"),
    ));
    let points: Vec<_> = report.records_of("replica-point").collect();
    let models: Vec<_> = points
        .iter()
        .map(|p| p.get("model").unwrap_or("?"))
        .collect();
    assert_eq!(
        models,
        ["lin", "seq", "eventual"],
        "{}",
        report.failure_report
    );
    for p in &points {
        assert_eq!(p.get("converged"), Some("1"), "{p:?}");
        assert_eq!(p.get_u64("ops"), Some(3 * ops), "{p:?}");
        assert_eq!(p.get_u64("min_core"), Some(ops), "{p:?}");
    }
    let mut per_core = std::collections::BTreeMap::new();
    for r in report.records_of("replica-op") {
        let model = r.get("model").expect("model").to_owned();
        let core = r.get_u64("core").expect("core");
        assert_eq!(u64::from(r.core), core, "printed by its own core");
        assert!(r.get_u64("invoke") <= r.get_u64("response"), "{r:?}");
        *per_core.entry((model, core)).or_insert(0u64) += 1;
    }
    assert_eq!(per_core.len(), 3 * 3, "{per_core:?}");
    assert!(per_core.values().all(|&n| n == ops), "{per_core:?}");
    assert_eq!(report.records_of("exp-skew").count(), 2);
    assert!(
        report
            .records_of("exp-done")
            .any(|d| d.get("ok") == Some("1"))
    );
}
