//! E7 (consistency), quick, in whole monitors on hosted threads: every
//! model runs, every core completes all its operations, every operation is
//! in the history, and the replicas converge.

mod common;

use std::collections::BTreeSet;

use common::{Rec, of, run};

fn consistency_quick(cores: u32) {
    let (ops, keys) = (120u64, 8u64);
    let recs = run(
        &format!("exp=consistency,quick,ops={ops},keys={keys}"),
        cores,
    );
    let start = of(&recs, "exp-start");
    assert_eq!(start.len(), 1);
    assert_eq!(start[0].get("exp"), "consistency");
    let skew = of(&recs, "exp-skew");
    assert_eq!(skew.len(), cores as usize - 1, "{skew:?}");
    for s in &skew {
        assert!(s.num("rtt") > 0.0, "{s:?}");
        assert_eq!(s.core, 0);
    }
    let bound = start[0].num("tsc_skew_cycles");
    assert!(skew.iter().all(|s| s.num("bound") <= bound));
    let points = of(&recs, "replica-point");
    let models: Vec<&str> = points.iter().map(|p| p.get("model")).collect();
    assert_eq!(models, ["lin", "seq", "eventual"]);
    for p in &points {
        assert_eq!(p.get("converged"), "1", "{p:?}");
        assert_eq!(p.num("cores"), f64::from(cores));
        assert_eq!(p.num("ops"), (ops * u64::from(cores)) as f64, "{p:?}");
        assert_eq!(p.num("min_core"), ops as f64, "{p:?}");
        assert_eq!(p.num("reads") + p.num("writes"), p.num("ops"));
        assert!(p.num("tput") > 0.0, "{p:?}");
        assert!(p.num("read_p99") >= p.num("read_median"), "{p:?}");
        assert!(p.num("write_p99") >= p.num("write_median"), "{p:?}");
    }
    for model in ["lin", "seq", "eventual"] {
        let history: Vec<&Rec> = of(&recs, "replica-op")
            .into_iter()
            .filter(|r| r.get("model") == model)
            .collect();
        for core in 0..cores {
            let mine: Vec<_> = history
                .iter()
                .filter(|r| r.num("core") == f64::from(core))
                .collect();
            assert_eq!(mine.len() as u64, ops, "{model} core {core}");
            let mut last = 0.0;
            let mut values = BTreeSet::new();
            for r in mine {
                assert_eq!(r.core, core, "printed by its own core");
                assert!(r.num("key") < keys as f64);
                assert!(r.num("invoke") <= r.num("response"), "{r:?}");
                assert!(r.num("invoke") >= last, "program order: {r:?}");
                last = r.num("response");
                if r.get("op") == "w" {
                    let v: u64 = r.get("value").parse().unwrap();
                    assert_eq!(v >> 32, u64::from(core), "{r:?}");
                    assert!(v != 0 && values.insert(v), "{r:?}");
                } else {
                    assert_eq!(r.get("op"), "r");
                }
            }
        }
    }
    let done = of(&recs, "exp-done");
    assert_eq!(done.len(), 1);
    assert_eq!(done[0].get("ok"), "1");
}

#[test]
fn every_model_converges_on_1_and_2_threads() {
    consistency_quick(1);
    consistency_quick(2);
}

#[test]
fn a_read_only_run_reads_zero_everywhere() {
    let recs = run("exp=consistency,quick,ops=50,writes=0,models=eventual", 2);
    let ops = of(&recs, "replica-op");
    assert_eq!(ops.len(), 100);
    assert!(
        ops.iter()
            .all(|r| r.get("op") == "r" && r.get("value") == "0")
    );
    let points = of(&recs, "replica-point");
    assert_eq!(points.len(), 1);
    assert_eq!(points[0].get("converged"), "1");
    assert_eq!(points[0].get("writes"), "0");
}
