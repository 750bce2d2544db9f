//! The invocations that build and start domains from user level, under
//! `test=caps-dispatch`: every core's `disptest` starts domains through
//! the monitor's loader, makes each refusal of the dispatcher and VNode
//! invocations happen, ends two running domains by deleting their
//! Dispatcher and their PML4, and sees a third exit with 0. The monitors
//! run beside it (time-sliced) and finish as usual.

use flotilla_tests::{assert_checked, boot_ok, passed_cap_checks, with_monitors};

/// Checks every core must report.
const CHECKS: [&str; 35] = [
    "a-boot-program-registers-no-fault-handler",
    "a-boot-program-registers-no-run-upcall",
    "a-boot-program-receives-no-lmp",
    "resume-outside-a-fault-handler",
    "spawn-forever-to-revoke-by-dispatcher",
    "a-started-dispatcher-is-running",
    "start-a-started-dispatcher",
    "status-of-an-unstarted-dispatcher",
    "status-of-a-frame",
    "run-a-frame",
    "run-without-write",
    "run-with-a-frame-as-cspace",
    "run-with-a-cnode-as-vspace",
    "run-with-a-pdpt-as-vspace",
    "run-with-an-empty-cspace-slot",
    "run-with-a-kernel-entry",
    "run-with-the-stack-at-the-user-end",
    "run-with-a-misaligned-stack",
    "run-with-no-name",
    "run-with-a-non-utf8-name",
    "run-with-a-short-block",
    "run-with-an-unmapped-block",
    "refused-runs-start-nothing",
    "map-a-pdpt-into-the-kernel-half",
    "map-a-frame-into-a-pml4",
    "map-the-pdpt-again",
    "unmap-an-empty-entry",
    "unmap-past-the-table",
    "delete-a-running-dispatcher",
    "its-status-is-gone-with-it",
    "delete-a-running-pml4",
    "a-domain-without-its-pml4-is-revoked",
    "the-third-exits-with-0",
    "release-the-third",
    "hand-everything-back",
];

#[test]
fn dispatcher_invocations_refuse_bad_input_and_deleting_a_domains_objects_ends_it() {
    for cores in [2u32, 4] {
        let report = boot_ok(&with_monitors(cores, "test=caps-dispatch"));
        let log = &report.failure_report;
        let names = passed_cap_checks(&report);
        for core in 0..cores {
            assert_checked(&names, core, &CHECKS, log);
        }
        let summaries: Vec<_> = report.records_of("disptest").collect();
        assert_eq!(summaries.len() as u32, cores, "{log}");
        assert!(
            summaries.iter().all(|s| s.get("failed") == Some("0")),
            "{log}"
        );
        // Per core: the two `forever` domains were ended by the deletions,
        // and `hello` ran once, holding nothing but its root CNode.
        for core in 0..cores {
            let revoked: Vec<_> = report
                .records_of("domain-revoked")
                .filter(|r| r.core == core)
                .filter_map(|r| r.get("object"))
                .collect();
            assert_eq!(revoked, ["Dispatcher", "Pml4"], "core {core}\n{log}");
            let hello: Vec<_> = report
                .records_of("hello")
                .filter(|r| r.core == core)
                .collect();
            assert_eq!(hello.len(), 1, "core {core}\n{log}");
            assert_eq!(hello[0].get("isolated"), Some("1"), "{log}");
        }
        assert_eq!(
            report.records_of("monitor-done").count() as u32,
            cores,
            "{log}"
        );
    }
}
