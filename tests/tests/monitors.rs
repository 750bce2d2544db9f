//! Ring 3 and the monitors: a monitor on every core, the full URPC mesh,
//! poll-then-block, malformed messages, bad system calls and ring-3 faults.

use std::collections::BTreeSet;

use boot::protocol::ExitCode;
use flotilla_tests::{boot, boot_ok, image, kvm_2_cores, with_monitors};
use qemu::Outcome;
use tools::boot::BootReport;

/// Checks the monitor records of a passing run of `cores` cores.
fn check_mesh(report: &BootReport, cores: u32) {
    let up: BTreeSet<u32> = report.analysis.monitors.iter().copied().collect();
    assert_eq!(up, (0..cores).collect(), "{}", report.failure_report);
    let n = u64::from(cores);
    assert_eq!(report.analysis.mesh.map(|m| m.0), Some(n * (n - 1) / 2));
    // Every monitor linked with every other one, both ways.
    let members: Vec<_> = report.records_of("mesh-member").collect();
    assert_eq!(
        members.len() as u32,
        if cores > 1 { cores } else { 0 },
        "{}",
        report.failure_report
    );
    for m in &members {
        assert_eq!(m.get_u64("links"), Some(n - 1), "core {}", m.core);
    }
    let done: Vec<_> = report.records_of("monitor-done").collect();
    assert_eq!(done.len() as u32, cores);
    assert!(done.iter().all(|d| d.get("ok") == Some("1")));
    let shutdown: Vec<_> = report.records_of("shutdown").collect();
    assert_eq!(shutdown.len(), 1);
    assert_eq!(
        (shutdown[0].core, shutdown[0].get("result")),
        (0, Some("pass"))
    );
}

flotilla_tests::boot_tests! {
    check_mesh;
    monitors_up_on_1_core: with_monitors(1, "") => 1,
    monitors_up_on_2_cores: with_monitors(2, "") => 2,
    monitors_up_on_4_cores: with_monitors(4, "") => 4,
}

#[test]
fn monitors_up_on_8_cores_and_idle_monitors_block() {
    let report = boot_ok(&with_monitors(8, ""));
    check_mesh(&report, 8);
    // Poll, then block: with more virtual cores than host cores, monitors
    // that wait for others go to sleep rather than spin.
    let blocks: u64 = report
        .records_of("monitor-done")
        .map(|r| r.get_u64("blocks").unwrap_or(0))
        .sum();
    assert!(blocks > 0, "no monitor ever blocked");
}

#[test]
fn malformed_messages_are_dropped_counted_and_the_channel_stays_live() {
    let report = boot_ok(&with_monitors(3, "user=inject=malformed"));
    check_mesh(&report, 3);
    let dropped: Vec<_> = report.records_of("dropped").collect();
    let reasons: Vec<(u32, Option<&str>, Option<&str>)> = dropped
        .iter()
        .map(|d| (d.core, d.get("peer"), d.get("reason")))
        .collect();
    assert_eq!(
        reasons,
        [
            (0, Some("1"), Some("unknown-tag")),
            (0, Some("1"), Some("bad-length"))
        ],
        "{}",
        report.failure_report
    );
    assert_eq!(report.analysis.dropped, 2);
}

#[test]
fn bad_system_call_arguments_return_typed_errors() {
    let report = boot_ok(&with_monitors(2, "test=user-probe"));
    let checks: Vec<_> = report.records_of("syscall-check").collect();
    assert_eq!(checks.len(), 10, "{}", report.failure_report);
    for c in &checks {
        assert_eq!(
            c.get("got"),
            c.get("expected"),
            "{} returned the wrong result",
            c.get("call").unwrap_or("?")
        );
        assert_eq!(c.get("pass"), Some("1"));
    }
}

#[test]
fn a_faulting_ring_3_program_does_not_take_its_core_down() {
    let report = boot_ok(&with_monitors(2, "test=user-probe"));
    let faults: Vec<_> = report.records_of("user-fault").collect();
    assert_eq!(faults.len(), 1, "{}", report.failure_report);
    let f = faults[0];
    assert_eq!(
        (f.core, f.get("program"), f.get("vector")),
        (1, Some("probe"), Some("14"))
    );
    assert_eq!(f.get("cr2"), Some("0x10"));
    // The same core then ran its monitor through the mesh to the end.
    check_mesh(&report, 2);
}

#[test]
fn monitors_and_mesh_under_kvm_where_it_works() {
    let Some(config) = kvm_2_cores() else {
        return;
    };
    let config = config.initrd(&image().initrd);
    check_mesh(&boot_ok(&config), 2);
}

#[test]
fn unknown_repeated_or_oversized_user_items_fail_the_run_and_say_what_is_accepted() {
    for (args, said) in [
        (
            "user=junk",
            "unknown item `junk` (accepted: inject=malformed, spawn=NAME@CORE, exp=urpc",
        ),
        ("user=foo=bar,quick,rounds=5", "unknown item `foo=bar`"),
        (
            "user=inject=malformed,inject=malformed",
            "`inject=malformed` is given more than once",
        ),
        ("user=quick", "no experiment is named"),
        (
            "user=exp=urpc,quick,samples=1000000",
            "the largest samples that fits is",
        ),
    ] {
        let report = boot(&with_monitors(2, args));
        assert_eq!(
            report.outcome,
            Outcome::Exit(ExitCode::Fail),
            "{args}: {}",
            report.failure_report
        );
        assert!(
            report.failure_report.contains(said),
            "{args}: {}",
            report.failure_report
        );
        assert!(
            report
                .records_of("monitor-error")
                .any(|r| r.get("what") == Some("args")),
            "{args}"
        );
    }
}
