//! LMP between two domains of one core, under `test=lmp`: every core's
//! `lmptest` builds two `pingpong` domains with endpoints to each other,
//! and they check the refusals, the buffer, a capability sent along, the
//! badge, and time round trips with handoff against the null invocation.

use flotilla_tests::{assert_checked, boot_ok, passed_checks, with_monitors};

/// Checks every core's domains must report.
const CHECKS: [&str; 15] = [
    "send-to-a-cnode",
    "send-to-an-empty-slot",
    "send-an-empty-slot",
    "fill-the-buffer",
    "send-to-a-full-buffer",
    "the-buffer-is-fifo",
    "receive-from-an-empty-buffer",
    "send-a-frame",
    "the-capability-arrived",
    "pong-got-the-frame",
    "every-round-trip-answered",
    "every-message-carried-the-badge",
    "every-message-to-itself-came-back",
    "send-stop",
    "send-to-an-ended-dispatcher",
];

#[test]
fn two_domains_exchange_messages_and_a_capability_with_handoff() {
    let cores = 2;
    let report = boot_ok(&with_monitors(cores, "test=lmp"));
    let log = &report.failure_report;
    let names = passed_checks(&report, "lmp-check");
    for core in 0..cores {
        assert_checked(&names, core, &CHECKS, log);
        let parent = report
            .records_of("lmptest")
            .find(|r| r.core == core)
            .unwrap_or_else(|| panic!("no lmptest record on core {core}\n{log}"));
        assert_eq!(parent.get("ping"), Some("exited-0"), "{log}");
        assert_eq!(parent.get("pong"), Some("exited-0"), "{log}");
        let bench = report
            .records_of("lmp-bench")
            .find(|r| r.core == core)
            .unwrap_or_else(|| panic!("no lmp-bench record on core {core}\n{log}"));
        let trip = bench.get_u64("round_trip_cycles").unwrap_or(0);
        let null = bench.get_u64("null_invocation_cycles").unwrap_or(0);
        // A round trip is four kernel entries: it cannot cost less than
        // one null invocation.
        assert!(trip > 0 && null > 0 && trip > null, "{trip} {null}\n{log}");
        assert!(
            bench.get_u64("own_endpoint_cycles").is_some_and(|c| c > 0),
            "{log}"
        );
    }
    assert_eq!(
        report.records_of("monitor-done").count() as u32,
        cores,
        "{log}"
    );
}
