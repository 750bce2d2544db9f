//! Sharing a core between programs: two `spin` programs that never block,
//! spawned on one core. Under `sched=rr` the local APIC timer ends their
//! turns and their records interleave; under `sched=block` (the control)
//! the first runs to its end before the second starts.

use flotilla_tests::{boot_ok, with_monitors};
use tools::boot::BootReport;

/// The spinners' ids in the order of their `spin` records, and each
/// spinner's `preempted=` count at its exit.
fn spins(report: &BootReport) -> (Vec<u64>, Vec<u64>) {
    let order = report
        .records_of("spin")
        .map(|r| r.get_u64("id").expect("an id"))
        .collect();
    let preempted = report
        .records_of("program-exit")
        .filter(|r| r.get("program") == Some("spin"))
        .map(|r| r.get_u64("preempted").expect("a count"))
        .collect();
    (order, preempted)
}

/// How often consecutive records come from different spinners.
fn switches(order: &[u64]) -> usize {
    order.windows(2).filter(|w| w[0] != w[1]).count()
}

fn run(sched: &str) -> (Vec<u64>, Vec<u64>, String) {
    let append = format!("sched={sched} user=spawn=spin@1,spawn=spin@1");
    let report = boot_ok(&with_monitors(2, &append));
    let (order, preempted) = spins(&report);
    assert_eq!(order.len(), 8, "{}", report.failure_report);
    assert_eq!(preempted.len(), 2, "{}", report.failure_report);
    let policy = report
        .records_of("sched")
        .filter_map(|r| r.get("policy").map(str::to_owned))
        .next();
    assert_eq!(
        policy.as_deref(),
        sched.split(',').next(),
        "{}",
        report.failure_report
    );
    (order, preempted, report.failure_report.clone())
}

#[test]
fn round_robin_interleaves_two_spinners_and_run_to_block_does_not() {
    let (order, preempted, log) = run("rr,slice-us=2000");
    assert!(switches(&order) >= 3, "{order:?}\n{log}");
    assert!(preempted.iter().all(|&p| p > 0), "{preempted:?}\n{log}");

    let (order, preempted, log) = run("block");
    assert_eq!(switches(&order), 1, "{order:?}\n{log}");
    assert_eq!(preempted, [0, 0], "{log}");
}
