//! Spawning from user level on any core: monitor 0 asks other monitors,
//! over the spawn protocol, to build a domain from a program of the boot
//! modules with nothing but capability invocations on their own RAM, and
//! hears of each domain's end.

use flotilla_tests::{boot, boot_ok, with_monitors};
use tools::boot::BootReport;

/// The `(core, field)` of every record of `kind` whose `program` is `name`.
fn of<'a>(report: &'a BootReport, kind: &'a str, name: &'a str) -> Vec<&'a qemu::OwnedRecord> {
    report
        .records_of(kind)
        .filter(|r| r.get("program") == Some(name))
        .collect()
}

#[test]
fn hello_runs_on_cores_3_and_1_and_the_run_passes() {
    let report = boot_ok(&with_monitors(4, "user=spawn=hello@3,spawn=hello@1"));
    let log = &report.failure_report;
    let spawned = of(&report, "spawned", "hello");
    let mut cores: Vec<&str> = spawned.iter().filter_map(|r| r.get("core")).collect();
    cores.sort_unstable();
    assert_eq!(cores, ["1", "3"], "{log}");
    assert!(spawned.iter().all(|r| r.core == 0), "{log}");
    assert!(
        spawned
            .iter()
            .all(|r| r.get_u64("cycles").is_some_and(|c| c > 0)),
        "{log}"
    );
    // Each domain ran on the core it was asked for, held nothing but its
    // own root CNode, and exited with 0.
    let hello: Vec<_> = report.records_of("hello").collect();
    let mut ran: Vec<u32> = hello.iter().map(|r| r.core).collect();
    ran.sort_unstable();
    assert_eq!(ran, [1, 3], "{log}");
    for h in &hello {
        assert_eq!(h.get("core"), Some(h.core.to_string().as_str()), "{log}");
        assert_eq!(h.get("isolated"), Some("1"), "{log}");
    }
    let exits = of(&report, "program-exit", "hello");
    assert_eq!(exits.len(), 2, "{log}");
    assert!(exits.iter().all(|r| r.get("code") == Some("0")), "{log}");
    let ended = of(&report, "spawn-ended", "hello");
    assert_eq!(ended.len(), 2, "{log}");
    assert!(
        ended
            .iter()
            .all(|r| r.get("status") == Some("exited") && r.get("code") == Some("0"))
    );
}

#[test]
fn more_domains_than_a_monitor_holds_at_once_wait_their_turn() {
    // Ten on one core, which holds at most eight at once (fewer when its
    // RAM is smaller): the rest wait for a domain to end, and its RAM then
    // serves the next.
    let items: Vec<String> = (0..10).map(|_| "spawn=hello@1".to_owned()).collect();
    let report = boot_ok(&with_monitors(2, &format!("user={}", items.join(","))));
    let log = &report.failure_report;
    assert_eq!(of(&report, "spawned", "hello").len(), 10, "{log}");
    assert_eq!(of(&report, "program-exit", "hello").len(), 10, "{log}");
    assert_eq!(of(&report, "spawn-ended", "hello").len(), 10, "{log}");
    assert!(report.records_of("spawn-error").next().is_none(), "{log}");
}

#[test]
fn the_documented_most_spawns_all_run_and_one_more_byte_is_refused_before_qemu() {
    use tools::cmdline_merge::{Added, merge};
    // The README's maximum.
    const MAX_SPAWNS: usize = 16;
    // The command line `boot --cores 2 --spawn hello@1,...` builds.
    let items = vec!["hello@1".to_owned(); MAX_SPAWNS];
    let user = tools::spawn_items::user_items(&items, 2).unwrap();
    let line = merge(&[Added::flag("user", &user, "--spawn")], "").unwrap();
    let report = boot_ok(&with_monitors(2, &line));
    let log = &report.failure_report;
    assert_eq!(of(&report, "spawned", "hello").len(), MAX_SPAWNS, "{log}");
    let ended = of(&report, "spawn-ended", "hello");
    assert_eq!(ended.len(), MAX_SPAWNS, "{log}");
    assert!(
        ended
            .iter()
            .all(|r| r.get("status") == Some("exited") && r.get("code") == Some("0")),
        "{log}"
    );
    // One item more, or one byte more than `user=` takes, is refused on
    // the host, naming the limit, before anything boots.
    let more = vec!["hello@1".to_owned(); MAX_SPAWNS + 1];
    let err = tools::spawn_items::user_items(&more, 2)
        .unwrap_err()
        .to_string();
    assert!(err.contains("at most 16 programs"), "{err}");
    let over = "x".repeat(boot::kernel_cmdline::UserArgs::CAPACITY + 1);
    let err = merge(&[Added::flag("user", &over, "--spawn")], "")
        .unwrap_err()
        .to_string();
    assert!(err.ends_with("(at most 1024 bytes)"), "{err}");
}

#[test]
fn a_program_the_modules_lack_fails_the_run_with_the_reason() {
    let report = boot(&with_monitors(2, "user=spawn=nosuch@1"));
    let log = &report.failure_report;
    assert!(!report.passed(), "{log}");
    let failed = of(&report, "spawn-failed", "nosuch");
    assert_eq!(failed.len(), 1, "{log}");
    assert_eq!(failed[0].get("reason"), Some("not-found"), "{log}");
    let error: Vec<_> = report.records_of("spawn-error").collect();
    assert!(
        error
            .iter()
            .any(|r| r.core == 1 && r.get("reason") == Some("not-found")),
        "{log}"
    );
    assert!(of(&report, "spawned", "nosuch").is_empty(), "{log}");
}

#[test]
fn a_domain_that_faults_is_ended_and_fails_the_run() {
    // `probe` faults on purpose at its end; spawned, it is ended by that
    // fault, its monitor goes on, and monitor 0 reports it killed.
    let report = boot(&with_monitors(2, "user=spawn=probe@1"));
    let log = &report.failure_report;
    assert!(!report.passed(), "{log}");
    let faults = of(&report, "user-fault", "probe");
    assert_eq!(faults.len(), 1, "{log}");
    assert_eq!(faults[0].core, 1);
    let ended = of(&report, "spawn-ended", "probe");
    assert_eq!(ended.len(), 1, "{log}");
    assert_eq!(ended[0].get("status"), Some("killed"), "{log}");
    assert_eq!(ended[0].get("vector"), Some("14"), "{log}");
    // The monitors were not disturbed: every core finished its part.
    assert_eq!(report.records_of("monitor-done").count(), 2, "{log}");
}

#[test]
fn a_spawned_domain_pages_its_heap_from_its_own_ram() {
    // `grow` fills 256 KiB of a heap that starts unmapped: its own
    // exception handler maps each page from the domain's RAM on first
    // touch, and every byte reads back.
    let report = boot_ok(&with_monitors(2, "user=spawn=grow@1"));
    let log = &report.failure_report;
    let grow: Vec<_> = report.records_of("grow").collect();
    assert_eq!(grow.len(), 1, "{log}");
    assert_eq!(grow[0].core, 1, "{log}");
    assert_eq!(grow[0].get("ok"), Some("1"), "{log}");
    let faults = grow[0].get_u64("faults").unwrap_or(0);
    assert!(faults >= 262_144 / 4096, "{faults} faults\n{log}");
    assert!(report.records_of("user-fault").next().is_none(), "{log}");
    let ended = of(&report, "spawn-ended", "grow");
    assert_eq!(ended.len(), 1, "{log}");
    assert_eq!(ended[0].get("code"), Some("0"), "{log}");
}

#[test]
fn a_domain_that_protects_its_own_page_read_only_is_ended_by_its_write() {
    let report = boot(&with_monitors(2, "user=spawn=readonly@1"));
    let log = &report.failure_report;
    assert!(!report.passed(), "{log}");
    let r: Vec<_> = report.records_of("readonly").collect();
    assert_eq!(r.len(), 1, "a write went through the protection\n{log}");
    for (field, want) in [
        ("lowered", "1"),
        ("read", "1"),
        ("raise", "missing-right"),
        ("unmapped", "not-mapped"),
    ] {
        assert_eq!(r[0].get(field), Some(want), "{field}\n{log}");
    }
    // The write hit a present, read-only page of the heap.
    let fault = of(&report, "user-fault", "readonly");
    assert_eq!(fault.len(), 1, "{log}");
    let error = fault[0].get_u64("error").unwrap_or(0);
    assert_eq!(error & 0x7, 0x7, "user write to a present page\n{log}");
    let cr2 = fault[0].get_u64("cr2").unwrap_or(0);
    assert!(
        (abi::HEAP_BASE..abi::HEAP_BASE + 4096).contains(&cr2),
        "{cr2:#x}\n{log}"
    );
}

#[test]
fn user_level_threads_take_turns_and_wait_split_phase_in_ring_3() {
    let report = boot_ok(&with_monitors(2, "user=spawn=uthreads@1"));
    let log = &report.failure_report;
    let r: Vec<_> = report.records_of("uthreads").collect();
    assert_eq!(r.len(), 1, "{log}");
    assert_eq!(r[0].get("order"), Some("012012012"), "{log}");
    assert_eq!(r[0].get("waited"), Some("1"), "{log}");
}

#[test]
fn a_fault_inside_a_domains_exception_handler_ends_it_at_once() {
    let report = boot(&with_monitors(2, "user=spawn=badpager@1"));
    let log = &report.failure_report;
    assert!(!report.passed(), "{log}");
    assert!(report.records_of("badpager").next().is_none(), "{log}");
    let fault = of(&report, "user-fault", "badpager");
    assert_eq!(fault.len(), 1, "{log}");
    assert_eq!(fault[0].get("handler"), Some("1"), "{log}");
    assert_eq!(fault[0].get("rip"), Some("0x70000000"), "{log}");
    let ended = of(&report, "spawn-ended", "badpager");
    assert_eq!(ended.len(), 1, "{log}");
    assert_eq!(ended[0].get("status"), Some("killed"), "{log}");
}

#[test]
fn a_domain_with_a_run_upcall_gets_it_after_every_lost_turn_and_resumes_intact() {
    let report = boot_ok(&with_monitors(2, "user=spawn=upcalls@1"));
    let log = &report.failure_report;
    let refused: Vec<_> = report
        .records_of("upcalls")
        .filter_map(|r| r.get("bad-registrations-refused"))
        .collect();
    assert_eq!(refused, ["1"], "{log}");
    let r: Vec<_> = report
        .records_of("upcalls")
        .filter(|r| r.get("ok").is_some())
        .collect();
    assert_eq!(r.len(), 1, "{log}");
    assert_eq!(
        r[0].get("ok"),
        Some("1"),
        "a register did not survive\n{log}"
    );
    let upcalls = r[0].get_u64("upcalls").unwrap_or(0);
    assert!(
        upcalls >= 3,
        "{upcalls} upcalls in 100 ms of 10 ms slices\n{log}"
    );
    // One upcall per turn lost while enabled, told how many were lost.
    let exit = of(&report, "program-exit", "upcalls");
    let preempted = exit[0].get_u64("preempted").unwrap_or(0);
    assert!(upcalls <= preempted, "{upcalls} > {preempted}\n{log}");
    assert!(
        r[0].get_u64("turns")
            .is_some_and(|t| t <= preempted && t > 0),
        "{log}"
    );
}
