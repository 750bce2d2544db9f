//! Whole monitors on Linux threads: the mesh protocol, the router and the
//! job phase, the same code that runs in ring 3, over the hosted platform
//! (`run_monitors`).

use std::sync::{Mutex, MutexGuard};

use services::exp::Request;
use services::monitor::{Options, UNOWNED_TAG};
use services::platforms::hosted::{HostedError, HostedRun, MonitorOptions, run_monitors};
use services::proto::mesh::tag;

/// One run at a time: the monitors poll before they block.
fn one_at_a_time() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|p| p.into_inner())
}

fn run(cores: u32, options: MonitorOptions) -> HostedRun {
    run_monitors(cores, options).unwrap_or_else(|e| panic!("{e}: {:#?}", e.lines()))
}

fn records<'a>(lines: &'a [String], kind: &str) -> Vec<&'a str> {
    let tag = format!("@flotilla/1 {kind} ");
    lines
        .iter()
        .filter(|l| l.contains(&tag))
        .map(String::as_str)
        .collect()
}

#[test]
fn the_mesh_completes_on_threads() {
    let _one = one_at_a_time();
    for cores in [1u32, 2, 3, 4, 8] {
        let out = run(cores, MonitorOptions::default());
        assert!(out.stats[0].all_ok, "{cores} cores");
        let n = cores as usize;
        let complete = records(&out.lines, "mesh-complete");
        assert_eq!(complete.len(), 1, "{:#?}", out.lines);
        assert!(complete[0].starts_with("[core 0] "));
        assert!(complete[0].contains(&format!(" channels={} ", n * (n - 1) / 2)));
        assert_eq!(records(&out.lines, "monitor-up").len(), n);
        assert_eq!(records(&out.lines, "monitor-done").len(), n);
        if n > 1 {
            let members = records(&out.lines, "mesh-member");
            assert_eq!(members.len(), n);
            for m in members {
                assert!(m.contains(&format!(" links={} ", n - 1)), "{m}");
            }
        }
        assert_eq!(out.stats.iter().map(|s| s.dropped).sum::<u64>(), 0);
    }
}

#[test]
fn malformed_messages_are_dropped_and_counted_on_threads() {
    let _one = one_at_a_time();
    let options = MonitorOptions {
        monitor: Options {
            inject_malformed: true,
            ..Options::default()
        },
        ..MonitorOptions::default()
    };
    let out = run(3, options);
    assert!(out.stats[0].all_ok);
    assert_eq!(out.stats[0].dropped, 2);
    let dropped = records(&out.lines, "dropped");
    assert_eq!(dropped.len(), 2, "{:#?}", out.lines);
    let unknown = format!("channel=bootstrap peer=1 tag={UNOWNED_TAG:#x} reason=unknown-tag");
    assert!(dropped[0].contains(&unknown), "{}", dropped[0]);
    let short = format!("peer=1 tag={:#x} reason=bad-length", tag::HELLO);
    assert!(dropped[1].contains(&short), "{}", dropped[1]);
}

#[test]
fn every_monitor_runs_the_job_and_monitor_0_waits_for_all() {
    let _one = one_at_a_time();
    let req = Request::parse("exp=update-cost,quick,updates=200,ms=5,k=1,sync-k=1,msg-k=1")
        .unwrap()
        .unwrap();
    let options = MonitorOptions {
        job: Some(req),
        ..MonitorOptions::default()
    };
    let out = run(3, options);
    assert!(out.stats.iter().all(|s| s.all_ok));
    let done = records(&out.lines, "monitor-done");
    assert_eq!(done.len(), 3);
    assert!(done.iter().all(|d| d.contains(" ok=1 ")), "{done:#?}");
    // The experiment ran inside the job phase: after the mesh, before the
    // last monitor finished.
    let at = |kind: &str| {
        out.lines
            .iter()
            .position(|l| l.contains(&format!("@flotilla/1 {kind} ")))
            .unwrap_or_else(|| panic!("no {kind}"))
    };
    assert!(at("mesh-complete") < at("exp-start"));
    assert!(at("exp-done") < at("monitor-done"));
}

#[test]
fn a_failing_job_fails_the_run_and_names_the_core() {
    let _one = one_at_a_time();
    let req = Request::parse("exp=urpc,quick,from=5").unwrap().unwrap();
    let options = MonitorOptions {
        job: Some(req),
        ..MonitorOptions::default()
    };
    let err = run_monitors(2, options).unwrap_err();
    assert!(matches!(err, HostedError::Failed { .. }), "{err:?}");
    assert!(!records(err.lines(), "monitor-done").is_empty());
}

#[test]
fn a_panic_on_one_core_ends_the_whole_run_and_names_the_core() {
    let _one = one_at_a_time();
    for core in [0, 2] {
        let options = MonitorOptions {
            panic_on: Some(core),
            ..MonitorOptions::default()
        };
        // Without the abort the other monitors would wait for the mesh
        // forever, and this test would hang.
        match run_monitors(3, options) {
            Err(HostedError::Panicked {
                core: c, message, ..
            }) => {
                assert_eq!(c, core);
                assert!(message.contains("deliberate panic"), "{message}");
            }
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn spawning_on_threads_is_answered_as_unsupported_and_fails_the_run() {
    let _one = one_at_a_time();
    let args =
        services::monitor::args::MonitorArgs::parse("spawn=hello@1,spawn=hello@0,spawn=hello@7")
            .unwrap();
    let options = MonitorOptions {
        monitor: args.options,
        ..MonitorOptions::default()
    };
    let out = run(2, options);
    assert!(!out.stats[0].all_ok, "{:#?}", out.lines);
    let failed = records(&out.lines, "spawn-failed");
    assert_eq!(failed.len(), 3, "{:#?}", out.lines);
    // The core that does not exist is refused by monitor 0 itself; the two
    // that do answer through the spawn protocol, each once.
    assert!(
        failed
            .iter()
            .any(|l| l.contains("program=hello core=7 reason=no-such-core"))
    );
    for core in [0, 1] {
        let want = format!("program=hello core={core} reason=unsupported");
        assert_eq!(
            failed.iter().filter(|l| l.contains(&want)).count(),
            1,
            "{failed:#?}"
        );
    }
    assert!(records(&out.lines, "spawned").is_empty());
}
