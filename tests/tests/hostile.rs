//! Attacks on the CPU driver from ring 3 (`test=hostile-NAME`): the last
//! core runs the `hostile` program before its monitor, which makes one
//! attack, mostly from inside a domain of its own. None may end in a ring-0
//! fault, a hang or the attacker's chosen result: the offending program is
//! ended with a record that says why, or its call gets a typed error and it
//! goes on; and the monitors finish the run as usual.

use flotilla_tests::{boot_ok, passed_checks, with_monitors};
use tools::boot::BootReport;

/// Boots two cores with attack `name`, checks that the run passed (every
/// monitor finished), that every check of the attack passed and that the
/// program reported its end; returns the report.
fn attack(name: &str) -> BootReport {
    attack_under(name, qemu::Accel::Tcg)
}

/// [`attack`] under accelerator `accel`.
fn attack_under(name: &str, accel: qemu::Accel) -> BootReport {
    let report = boot_ok(&with_monitors(2, &format!("test=hostile-{name}")).accel(accel));
    let log = &report.failure_report;
    passed_checks(&report, "hostile-check");
    let done: Vec<_> = report.records_of("hostile-done").collect();
    assert_eq!(done.len(), 1, "{log}");
    assert_eq!(done[0].get("attack"), Some(name), "{log}");
    assert_eq!(done[0].get("failed"), Some("0"), "{log}");
    assert!(report.records_of("fault").next().is_none(), "{log}");
    report
}

/// How the attack's domain ended: its status and detail (code or vector).
fn domain_end(report: &BootReport) -> (String, u64) {
    let log = &report.failure_report;
    let ends: Vec<_> = report.records_of("hostile-domain").collect();
    assert_eq!(ends.len(), 1, "{log}");
    (
        ends[0].get("status").unwrap_or("?").to_owned(),
        ends[0].get_u64("detail").unwrap_or(u64::MAX),
    )
}

/// The kernel's `user-killed` record for the attack's domain.
fn killed_for(report: &BootReport, reason: &str, rip: Option<&str>) {
    let log = &report.failure_report;
    let killed: Vec<_> = report
        .records_of("user-killed")
        .filter(|r| r.get("program") == Some("hostile"))
        .collect();
    assert_eq!(killed.len(), 1, "{log}");
    assert_eq!(killed[0].get("reason"), Some(reason), "{log}");
    if let Some(rip) = rip {
        assert_eq!(killed[0].get("rip"), Some(rip), "{log}");
    }
    assert_eq!(domain_end(report), ("killed".to_owned(), 13), "{log}");
}

/// The attacks on the entry and return paths depend on the CPU: under KVM
/// the host's CPU runs ring 3 (on this project's hosts SYSCALL even arrives
/// as a page fault), so they are made there too, where KVM answers.
#[test]
fn the_entry_path_attacks_fail_under_kvm_too() {
    if !qemu::kvm_usable() {
        eprintln!("skipped: /dev/kvm does not answer here");
        return;
    }
    let report = attack_under("sysret", qemu::Accel::Kvm);
    killed_for(&report, "noncanonical-rip", Some("0x800000000000"));
    let report = attack_under("forged-entry", qemu::Accel::Kvm);
    assert_eq!(domain_end(&report), ("killed".to_owned(), 13));
    let report = attack_under("nt-flag", qemu::Accel::Kvm);
    assert_eq!(domain_end(&report), ("killed".to_owned(), 14));
}

#[test]
fn a_return_to_a_non_canonical_rip_ends_the_domain() {
    let report = attack("sysret");
    killed_for(&report, "noncanonical-rip", Some("0x800000000000"));
}

#[test]
fn a_forged_syscall_entry_gets_no_io_privilege() {
    let report = attack("forged-entry");
    let log = &report.failure_report;
    // The port write raised #GP in ring 3: the run was not ended by it.
    assert_eq!(domain_end(&report), ("killed".to_owned(), 13), "{log}");
    let faults: Vec<_> = report
        .records_of("user-fault")
        .filter(|r| r.get("program") == Some("hostile"))
        .collect();
    assert_eq!(faults.len(), 1, "{log}");
    assert_eq!(faults[0].get("vector"), Some("13"), "{log}");
}

#[test]
fn the_nested_task_flag_does_not_reach_the_kernels_iretq() {
    let report = attack("nt-flag");
    let log = &report.failure_report;
    // The handler resumed once (no #GP in ring 0) and gave up the second
    // time: the domain ends with its page fault.
    assert_eq!(domain_end(&report), ("killed".to_owned(), 14), "{log}");
}

#[test]
fn a_non_canonical_stack_pointer_ends_the_domain() {
    let report = attack("bad-rsp");
    killed_for(&report, "noncanonical-rsp", None);
}

#[test]
fn an_upcall_stack_at_the_end_of_the_user_half_is_refused() {
    let report = attack("handler-stack");
    assert_eq!(domain_end(&report), ("exited".to_owned(), 0));
}

#[test]
fn a_domain_cannot_end_the_run() {
    let report = attack("shutdown");
    let log = &report.failure_report;
    assert_eq!(domain_end(&report), ("exited".to_owned(), 0), "{log}");
    assert!(
        report
            .records_of("shutdown")
            .all(|r| r.get("program") == Some("monitor")),
        "{log}"
    );
}

#[test]
fn a_domain_cannot_notify_without_a_capability() {
    let report = attack("notify");
    assert_eq!(domain_end(&report), ("exited".to_owned(), 0));
}

#[test]
fn a_domains_panic_ends_only_the_domain() {
    let report = attack("domain-panic");
    let log = &report.failure_report;
    assert_eq!(domain_end(&report), ("panicked".to_owned(), 0), "{log}");
    let panics: Vec<_> = report.records_of("program-panic").collect();
    assert_eq!(panics.len(), 1, "{log}");
    assert_eq!(panics[0].get("program"), Some("hostile"), "{log}");
    assert_eq!(panics[0].get("domain"), Some("1"), "{log}");
}

// Attacks on capability authority, made by the program itself with the
// core's first cspace: each gets its typed error, the program goes on to
// its later checks, and the run passes.

/// Asserts that every check in `want` was made (and, by [`attack`], passed).
fn checked(report: &BootReport, want: &[&str]) {
    let log = &report.failure_report;
    let names: Vec<String> = passed_checks(report, "hostile-check")
        .into_values()
        .flatten()
        .collect();
    for w in want {
        assert!(names.iter().any(|n| n == w), "no check {w}\n{log}");
    }
}

#[test]
fn an_import_names_no_kernel_memory_and_the_kernel_cap_is_not_copied() {
    let report = attack("import-kernel");
    checked(
        &report,
        &[
            "import-a-frame-over-this-kernels-frames",
            "import-2-mib-of-this-kernels-frames",
            "import-ram-over-this-kernels-frames",
            "import-a-frame-over-the-kernel-image",
            "import-a-frame-across-the-ram-start",
            "import-this-cores-ram-as-core-0s",
            "nothing-was-imported",
            "import-a-frame-of-the-pool",
            "the-kernel-cap-has-no-grant",
            "copy-the-kernel-cap",
            "mint-the-kernel-cap",
            "the-ram-stays",
        ],
    );
}

#[test]
fn one_sender_cannot_fill_the_kernel_cspace() {
    let report = attack("kernel-cspace");
    checked(
        &report,
        &[
            "the-share-is-sent",
            "send-one-past-the-share",
            "a-message-without-a-capability-still-goes",
            "map-it-in-a-fresh-region",
            "send-a-capability-after-the-receivers-ended",
        ],
    );
}

#[test]
fn a_pml4_dropped_in_flight_ends_its_domain_at_once() {
    let report = attack("lmp-reap");
    let log = &report.failure_report;
    checked(
        &report,
        &[
            "send-the-victims-pml4",
            "the-victim-runs-on-the-pml4-in-flight",
            "end-the-receiver",
            "the-victim-ended-at-once",
            "release-a-domain",
            // The same through a receive that drops the capability.
            "the-receiving-domain-runs",
            "receive-the-pml4",
            "its-capability-was-dropped",
            "the-victim-ended-at-the-receive",
            "the-receiver-saw-the-victim-revoked",
            "the-second-victim-is-revoked",
        ],
    );
    let revoked: Vec<_> = report
        .records_of("domain-revoked")
        .filter_map(|r| r.get("object"))
        .collect();
    assert_eq!(revoked.iter().filter(|o| **o == "Pml4").count(), 2, "{log}");
}

#[test]
fn a_dispatcher_starts_only_with_a_writable_cnode_and_pml4() {
    let report = attack("run-rights");
    checked(
        &report,
        &[
            "run-with-a-read-only-cnode",
            "run-with-a-read-only-pml4",
            "nothing-started",
            "run-with-writable-copies",
            "it-exits-with-0",
        ],
    );
}

// Forged records. A domain prints records that only the monitors may
// print; the kernel stamps its lines with the domain, and the host counts
// none of them, says which program printed which kind, and fails the run.

#[test]
fn a_domains_forged_records_do_not_count_and_fail_the_run() {
    let (report, lines) =
        flotilla_tests::boot_logged(&with_monitors(2, "test=hostile-forged-record"));
    let log = &report.failure_report;
    // The attack ran: the domain printed its records and exited with 0,
    // and the image itself passed.
    assert_eq!(domain_end(&report), ("exited".to_owned(), 0), "{log}");
    let done: Vec<_> = report.records_of("hostile-done").collect();
    assert_eq!(done.len(), 1, "{log}");
    assert_eq!(done[0].get("failed"), Some("0"), "{log}");
    assert!(report.outcome.is_pass(), "{log}");
    // The host does not.
    assert!(!report.passed(), "{log}");
    let forged = [
        "core 1: domain 'hostile' printed a `sync-check` record, which only boot program 'monitor' may print",
        "core 1: domain 'hostile' printed a `spawn-ended` record, which only boot program 'monitor' may print",
    ];
    assert_eq!(report.analysis.problems, forged, "{log}");
    assert!(
        report
            .verdict()
            .starts_with("boot failed (2/2 cores up): core 1: domain 'hostile'"),
        "{}",
        report.verdict()
    );
    // None of them counts, and the monitors' own records still do.
    assert!(report.records_of("sync-check").next().is_none(), "{log}");
    assert!(report.records_of("spawn-ended").next().is_none(), "{log}");
    assert_eq!(report.analysis.monitors, [0, 1], "{log}");
    assert_eq!(report.analysis.mesh.map(|(channels, _)| channels), Some(1));
    let done: Vec<_> = report.records_of("monitor-done").collect();
    assert_eq!(done.len(), 2, "{log}");
    assert!(
        done.iter()
            .all(|r| r.get("ok") == Some("1") && r.by == qemu::Printer::boot("monitor"))
    );
    // Each forged line is attributed to the domain.
    let found = qemu::forged_records(&lines);
    assert_eq!(found.len(), 2, "{log}");
    for (line, f) in &found {
        assert_eq!(f.record.by, qemu::Printer::domain("hostile"), "{log}");
        assert!(
            line.text
                .starts_with("[core 1] [domain hostile] @flotilla/1 "),
            "{}",
            line.text
        );
    }
    // The records behind line breaks stayed on the domain's own line.
    let broken: Vec<_> = lines
        .iter()
        .filter(|l| l.text.contains("[boot monitor] @flotilla/1 sync-check"))
        .collect();
    assert_eq!(broken.len(), 1, "{log}");
    assert_eq!(
        broken[0].text,
        "[core 1] [domain hostile] hostile [core 0] [boot monitor] @flotilla/1 sync-check \
         exp=locks cores=2 kind=tas violations=0 [core 0] @flotilla/1 program-exit \
         program=monitor code=0"
    );
    // A person sees each forgery flagged.
    let mut console = tools::show::Console::new(tools::show::Echo::People);
    let shown: Vec<String> = lines
        .iter()
        .filter_map(|l| console.show(l))
        .filter(|s| s.contains(" !! core 1: domain 'hostile' printed a `"))
        .collect();
    assert_eq!(shown.len(), 2, "{shown:?}\n{log}");
}
