//! Deliberate failures end in the documented way: the right exit code, and a
//! report that names the core and what happened.

use boot::protocol::ExitCode;
use flotilla_tests::{boot, tcg};
use qemu::Outcome;
use tools::boot::BootReport;

fn expect_exit(report: &BootReport, code: ExitCode) {
    assert_eq!(
        report.outcome,
        Outcome::Exit(code),
        "{}",
        report.failure_report
    );
    assert!(!report.passed());
}

/// Checks that the first problem the report names says `text`.
fn first_problem_says(report: &BootReport, text: &str) {
    assert!(
        report.analysis.problems[0].contains(text),
        "{:?}",
        report.analysis.problems
    );
}

/// Boots `cores` monitors with `append`, which ends the run by a ring-3
/// panic on `core` that says `text`.
fn program_panics(cores: u32, append: &str, core: u32, text: &str) {
    let started = std::time::Instant::now();
    let report = boot(&flotilla_tests::with_monitors(cores, append));
    expect_program_panic(&report, started.elapsed(), core);
    first_problem_says(&report, text);
}

fn fault_record(report: &BootReport) -> &qemu::OwnedRecord {
    let faults: Vec<_> = report.records_of("fault").collect();
    assert_eq!(faults.len(), 1, "{}", report.failure_report);
    faults[0]
}

#[test]
fn kernel_page_fault_is_reported_with_its_address() {
    let report = boot(&tcg(2, "test=page-fault"));
    expect_exit(&report, ExitCode::Fault);
    let f = fault_record(&report);
    assert_eq!(
        (f.core, f.get("vector"), f.get("name")),
        (0, Some("14"), Some("page-fault"))
    );
    assert_eq!(f.get("cr2"), Some("0xdead0000"));
    assert!(report.analysis.problems[0].starts_with("core 0 took a page-fault (vector 14)"));
}

#[test]
fn divide_error_is_reported() {
    let report = boot(&tcg(2, "test=divide-error"));
    expect_exit(&report, ExitCode::Fault);
    let f = fault_record(&report);
    assert_eq!(
        (f.core, f.get("vector"), f.get("name")),
        (0, Some("0"), Some("divide-error"))
    );
}

#[test]
fn stack_overflow_becomes_a_double_fault_on_its_own_stack() {
    let report = boot(&tcg(1, "test=stack-overflow"));
    expect_exit(&report, ExitCode::Fault);
    let f = fault_record(&report);
    assert_eq!((f.core, f.get("vector")), (0, Some("8")));
    assert!(
        report
            .failure_report
            .contains("guard page below the Kernel stack"),
        "{}",
        report.failure_report
    );
}

#[test]
fn panic_on_an_ap_names_the_core() {
    let report = boot(&tcg(4, "test=ap-panic"));
    expect_exit(&report, ExitCode::Panic);
    let panics: Vec<_> = report.records_of("panic").collect();
    assert_eq!(panics.len(), 1);
    assert_eq!(panics[0].core, 3);
    first_problem_says(&report, "core 3 panicked");
    first_problem_says(&report, "deliberate panic on core 3");
}

#[test]
fn a_core_that_does_not_come_up_is_named_with_its_stage() {
    let report = boot(&tcg(4, "test=ap-stall ap-timeout-ms=2000"));
    expect_exit(&report, ExitCode::Fail);
    let timeouts: Vec<_> = report.records_of("core-timeout").collect();
    assert_eq!(timeouts.len(), 1, "{}", report.failure_report);
    assert_eq!(timeouts[0].get("core"), Some("3"));
    assert_eq!(timeouts[0].get("stage"), Some("Initialised"));
    assert!(
        report
            .analysis
            .problems
            .iter()
            .any(|p| p.contains("core 3 (APIC id 3) did not come up")),
        "{:?}",
        report.analysis.problems
    );
}

#[test]
fn unknown_test_name_fails_cleanly() {
    let report = boot(&tcg(2, "test=no-such-test"));
    expect_exit(&report, ExitCode::Fail);
    assert!(report.records_of("fault").next().is_none());
    assert!(report.records_of("panic").next().is_none());
    first_problem_says(&report, "option 'test' cannot take 'no-such-test'");
}

#[test]
fn unknown_option_is_refused() {
    let report = boot(&tcg(1, "colour=red"));
    expect_exit(&report, ExitCode::Fail);
    first_problem_says(&report, "unknown option 'colour'");
}

/// Checks a run ended by a ring-3 panic: at once, with the panic exit
/// code, and a `program-panic` record and problem that name the core and
/// the program.
fn expect_program_panic(report: &BootReport, elapsed: std::time::Duration, core: u32) {
    expect_exit(report, ExitCode::Panic);
    assert!(
        elapsed < flotilla_tests::BOOT_TIMEOUT / 2,
        "the run took {elapsed:?}\n{}",
        report.failure_report
    );
    let panics: Vec<_> = report.records_of("program-panic").collect();
    assert_eq!(panics.len(), 1, "{}", report.failure_report);
    let p = panics[0];
    let core_text = core.to_string();
    assert_eq!(
        (p.core, p.get("core"), p.get("program")),
        (core, Some(core_text.as_str()), Some("monitor")),
        "{}",
        report.failure_report
    );
    assert!(p.get_u64("line").is_some_and(|l| l > 0), "{p:?}");
    assert!(p.get("file").is_some_and(|f| f.ends_with(".rs")), "{p:?}");
    assert!(
        report.analysis.problems[0].starts_with(&format!(
            "core {core}: ring-3 program 'monitor' panicked at "
        )),
        "{:?}",
        report.analysis.problems
    );
}

#[test]
fn a_ring_3_panic_on_an_ap_ends_the_whole_run_at_once() {
    program_panics(
        3,
        "test=user-panic",
        2,
        "deliberate panic in ring 3 on core 2",
    );
}

#[test]
fn running_out_of_heap_in_monitor_0_ends_the_whole_run_at_once() {
    program_panics(
        2,
        "test=user-oom",
        0,
        "memory allocation of 65536 bytes failed",
    );
}
