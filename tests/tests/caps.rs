//! Capabilities from ring 3: every core's CPU driver builds its own
//! capability database and first cspace, and `captest` (under `test=caps`)
//! invokes them through system calls. Every check it reports must pass,
//! the page it unmapped must fault when touched, and the monitors that get
//! the same cspace next must build their mesh as usual.

use std::collections::BTreeMap;

use flotilla_tests::{assert_checked, boot_ok, passed_cap_checks, with_monitors};

/// Checks every `captest` must report, on every core.
const REQUIRED: [&str; 35] = [
    "identify-root",
    "identify-kernel",
    "identify-ram",
    "retype-ram-into-4-frames",
    "map-frame-rw",
    "a-new-frame-reads-zero",
    "the-frame-reads-back-what-was-written",
    "mint-frame-read-grant",
    "minted-copy-has-fewer-rights",
    "map-read-only-copy-writable",
    "unmap-frame-0",
    "revoke-ram",
    "revoked-minted-copy",
    "revoked-frame-copy",
    "revoked-ram-copy",
    "revoke-took-the-mapping-of-frame-1",
    "identify-empty-slot",
    "retype-the-kernel-cap",
    "retype-misaligned-offset",
    "map-misaligned-address",
    "map-in-the-kernel-half",
    "map-outside-the-window",
    "retype-past-the-end",
    "identify-past-the-root",
    "mark-without-the-kernel-cap",
    "mark-a-frame",
    "mark-marks-both-copies",
    "a-marked-frame-refuses-identify",
    "its-marked-copy-refuses-identify",
    "a-marked-frame-refuses-copy",
    "unmark-restores-both-copies",
    "an-unmarked-frame-identifies",
    "sweep-removes-both-copies",
    "a-swept-slot-is-empty",
    "its-copy-is-gone-too",
];

#[test]
fn capability_invocations_from_ring_3_check_authority_and_map_frames() {
    let cores = 2;
    let report = boot_ok(&with_monitors(cores, "test=caps"));
    let log = &report.failure_report;

    // Each core built its own database: its own RAM, and the pool's
    // Frames (core 0's, and a copy of them everywhere else).
    let boots: BTreeMap<u32, _> = report
        .records_of("caps-boot")
        .map(|r| (r.core, r))
        .collect();
    assert_eq!(boots.len() as u32, cores, "{log}");
    for (core, r) in &boots {
        assert_eq!(r.get("root_slots"), Some("256"));
        assert!(r.get_u64("ram_kib").is_some_and(|k| k >= 2048), "{log}");
        assert!(
            r.get_u64("pool_kib").is_some_and(|k| k > 0),
            "core {core}\n{log}"
        );
        assert!(
            r.get_u64("pool_regions").is_some_and(|n| n >= 1),
            "core {core}\n{log}"
        );
    }
    assert_ne!(boots[&0].get("ram"), boots[&1].get("ram"), "{log}");

    // Every check passed, the expected ones among them, on every core.
    let names = passed_cap_checks(&report);
    assert_eq!(names.len() as u32, cores, "{log}");
    for core in names.keys() {
        assert_checked(&names, *core, &REQUIRED, log);
    }
    for got in names.values() {
        for want in [
            "the-pool-is-a-cnode",
            "a-pool-frame-is-read-write-without-grant",
            "retype-a-pool-frame",
            "copy-a-pool-frame-without-grant",
        ] {
            assert!(got.iter().any(|n| n == want), "{want}\n{log}");
        }
    }

    // The summary counts them, and the touch of the unmapped page ended
    // the program with a page fault at that address.
    let summaries: BTreeMap<u32, _> = report.records_of("captest").map(|r| (r.core, r)).collect();
    assert_eq!(summaries.len() as u32, cores, "{log}");
    let faults: BTreeMap<u32, _> = report
        .records_of("user-fault")
        .map(|r| (r.core, r))
        .collect();
    for (core, s) in &summaries {
        assert_eq!(s.get("failed"), Some("0"), "{log}");
        assert_eq!(s.get_u64("checks"), Some(names[core].len() as u64), "{log}");
        let f = faults
            .get(core)
            .unwrap_or_else(|| panic!("core {core}: no fault\n{log}"));
        assert_eq!(f.get("program"), Some("captest"));
        assert_eq!(f.get("vector"), Some("14"));
        assert_eq!(f.get("cr2"), s.get("va"), "{log}");
    }
    assert_eq!(report.records_of("captest-touch").count(), 0, "{log}");

    // The monitors, holding the same cspaces, went on as usual.
    assert_eq!(report.analysis.monitors.len() as u32, cores, "{log}");
    assert_eq!(report.analysis.mesh.map(|m| m.0), Some(1), "{log}");
    let done: Vec<_> = report.records_of("monitor-done").collect();
    assert_eq!(done.len() as u32, cores, "{log}");
    assert!(done.iter().all(|d| d.get("ok") == Some("1")), "{log}");
}
