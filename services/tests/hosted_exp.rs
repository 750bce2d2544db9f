//! Both experiments, quick, on hosted threads: the records are well formed,
//! complete and conserved.

mod common;

use common::{of, run};
use services::exp::{ExpKind, Request};
use services::platforms::hosted::{HostedError, PinPolicy, run_experiment};

fn urpc_quick(cores: u32, args: &str) {
    let recs = run(args, cores);
    assert_eq!(of(&recs, "hosted").len(), 1);
    let start = of(&recs, "exp-start");
    assert_eq!(start.len(), 1);
    assert_eq!(start[0].get("exp"), "urpc");
    assert_eq!(start[0].num("cores"), f64::from(cores));
    let pairs = of(&recs, "urpc-pair");
    let n = (cores * (cores - 1)) as usize;
    assert_eq!(pairs.len(), 3 * n, "three rows per ordered pair");
    for a in 0..cores {
        for b in (0..cores).filter(|&b| b != a) {
            let rows: Vec<_> = pairs
                .iter()
                .filter(|r| r.num("src") == f64::from(a) && r.num("dst") == f64::from(b))
                .collect();
            let variants: Vec<&str> = rows.iter().map(|r| r.get("variant")).collect();
            assert_eq!(variants, ["raw", "ack", "used"], "pair {a}->{b}");
            for r in rows {
                assert_eq!(r.core, a, "printed by the source core");
                assert!(r.num("rtt_p99") >= r.num("rtt_median"), "{r:?}");
                assert!(r.num("rtt_min") <= r.num("rtt_median"), "{r:?}");
                assert_eq!(r.num("oneway_median"), r.num("rtt_median") / 2.0);
                assert!(r.num("samples") > 0.0);
                // The raw row's throughput is the raw stream's.
                assert!(r.num("tput") > 0.0, "{r:?}");
                assert!(r.num("tp_samples") > 0.0, "{r:?}");
            }
        }
    }
    let summary = of(&recs, "urpc-summary");
    assert_eq!(summary.len(), 1);
    assert_eq!(summary[0].num("pairs"), n as f64);
    assert!(["ack", "used"].contains(&summary[0].get("faster")));
    assert!(summary[0].num("ratio") >= 0.0);
    let done = of(&recs, "exp-done");
    assert_eq!(done.len(), 1);
    assert_eq!(done[0].get("ok"), "1");
    // The experiment's last record; only the monitors' own follow it.
    let done_at = recs.iter().position(|r| r.kind == "exp-done").unwrap();
    assert!(
        recs[done_at + 1..]
            .iter()
            .all(|r| r.kind.starts_with("monitor-")),
        "{:?}",
        &recs[done_at..]
    );
}

fn update_quick(cores: u32) {
    // A time budget no round reaches: every round then ends when the first
    // core has done all its updates, so each series did at least
    // `updates` per round.
    let (updates, rounds) = (256.0, 2.0);
    let recs = run("exp=update-cost,quick,updates=256,ms=60000,rounds=2", cores);
    let costs = of(&recs, "update-cost");
    let series = |name: &str, k: u32| {
        costs
            .iter()
            .filter(|r| r.get("series") == name && r.num("k") == f64::from(k))
            .count()
    };
    for k in [1, 2, 4, 8] {
        assert_eq!(series("shm", k), 1, "shm k={k}");
    }
    assert_eq!(series("shm-atomic", 8), 1);
    assert_eq!(series("shm-lock", 8), 1);
    for k in [1, 8] {
        assert_eq!(series("msg-client", k), 1, "msg k={k}");
        assert_eq!(series("msg-server", k), 1, "msg k={k}");
    }
    for r in &costs {
        assert_eq!(r.core, 0);
        assert_eq!(r.num("cores"), f64::from(cores));
        assert!(r.num("cycles") >= 0.0, "{r:?}");
        assert!(r.num("min_core") <= r.num("cycles") && r.num("cycles") <= r.num("max_core"));
        assert!(r.num("updates") >= updates * rounds, "{r:?}");
        assert!(r.num("samples") > 0.0, "{r:?}");
    }
    let checks = of(&recs, "update-check");
    assert_eq!(checks.len(), 4, "atomic, lock, msg 1, msg 8");
    for c in checks {
        assert_eq!(c.get("conserved"), "1", "{c:?}");
        assert_eq!(c.num("sent"), c.num("applied"), "{c:?}");
        assert!(c.num("sent") > 0.0);
    }
    // The clients' updates are what the server applied.
    for k in [1, 8] {
        let client = costs
            .iter()
            .find(|r| r.get("series") == "msg-client" && r.num("k") == f64::from(k))
            .unwrap();
        let check = of(&recs, "update-check")
            .into_iter()
            .find(|r| r.get("series") == "msg-client" && r.num("k") == f64::from(k))
            .unwrap();
        assert_eq!(client.num("updates"), check.num("sent"));
    }
    assert_eq!(of(&recs, "exp-done").len(), 1);
}

#[test]
fn urpc_table_on_2_threads() {
    urpc_quick(2, "exp=urpc,quick");
}

#[test]
fn urpc_table_on_4_threads() {
    // Small: with more threads than host cores, a pair can share a host
    // core, and then every round trip waits for the scheduler.
    urpc_quick(
        4,
        "exp=urpc,quick,rounds=1,samples=50,batch=20,tp-samples=5",
    );
}

#[test]
fn update_cost_on_2_threads() {
    update_quick(2);
}

#[test]
fn update_cost_on_4_threads() {
    update_quick(4);
}

#[test]
fn update_cost_on_1_thread_skips_msg_and_says_why() {
    let recs = run("exp=update-cost,quick,updates=500,ms=10,k=1", 1);
    let skips = of(&recs, "update-skip");
    assert_eq!(skips.len(), 2, "msg k=1 and k=8");
    assert!(skips.iter().all(|s| s.get("reason").contains("client")));
    assert_eq!(of(&recs, "update-cost").len(), 3, "shm 1, atomic 8, lock 8");
    assert_eq!(of(&recs, "exp-done").len(), 1);
}

#[test]
fn a_request_the_machine_cannot_run_fails_on_every_core() {
    let req = Request::parse("exp=urpc,quick,from=5").unwrap().unwrap();
    assert_eq!(req.experiment(), ExpKind::Urpc);
    let err = run_experiment(&req, 2, PinPolicy::None).unwrap_err();
    assert!(matches!(err, HostedError::Failed { .. }), "{err:?}");
    assert!(err.to_string().contains("from="), "{err}");
}
