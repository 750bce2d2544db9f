//! Isolation by capability: under `test=caps-isolation` every core's
//! `captest` tries to reach what it holds no capability for (another
//! core's partition, memory below its RAM, kernel memory, the channel pool
//! other than through its Frames) and gets a typed error each time; and
//! after a revoke of its RAM, the page of a frame it had mapped is gone
//! from its address space: touching it faults.

use std::collections::BTreeMap;

use boot::protocol::parse_u64;
use flotilla_tests::{assert_checked, boot_ok, passed_cap_checks, with_monitors};

/// Checks every core must report.
const EVERY_CORE: [&str; 18] = [
    "a-pool-frame-maps-only-in-the-window",
    "a-pool-frame-retypes-into-nothing",
    "a-pool-frame-is-not-copied",
    "the-pool-cnode-is-not-copied",
    "an-empty-slot-maps-nothing",
    "retype-past-the-ram-into-the-next-partition",
    "retype-16-mib-past-the-ram",
    "retype-below-the-ram-by-wrapping",
    "retype-at-physical-zero-by-wrapping",
    "the-kernel-cap-maps-nothing",
    "the-kernel-cap-retypes-into-nothing",
    "no-mapping-into-the-kernel-half",
    "identify-writes-no-kernel-memory",
    "the-frame-lies-in-this-cores-ram",
    "the-frame-reads-back",
    "revoke-the-ram",
    "the-frame-is-gone",
    "its-mapping-is-gone",
];

fn range(text: &str) -> (u64, u64) {
    let (a, b) = text.split_once('-').expect("a range");
    (parse_u64(a).expect("start"), parse_u64(b).expect("end"))
}

#[test]
fn without_a_capability_nothing_maps_and_a_revoke_unmaps() {
    let cores = 2;
    let report = boot_ok(&with_monitors(cores, "test=caps-isolation"));
    let log = &report.failure_report;

    let names = passed_cap_checks(&report);
    assert_eq!(names.len() as u32, cores, "{log}");
    for core in names.keys() {
        assert_checked(&names, *core, &EVERY_CORE, log);
    }

    // Each core's RAM is its own: the ranges are disjoint.
    let rams: Vec<(u64, u64)> = report
        .records_of("caps-boot")
        .map(|r| range(r.get("ram").expect("ram")))
        .collect();
    assert_eq!(rams.len() as u32, cores, "{log}");
    assert!(rams[0].1 <= rams[1].0 || rams[1].1 <= rams[0].0, "{rams:?}");

    // After the revoke, the page was gone: the touch faulted at its
    // address, and nothing was read.
    let faults: BTreeMap<u32, _> = report
        .records_of("user-fault")
        .map(|r| (r.core, r))
        .collect();
    for s in report.records_of("captest") {
        assert_eq!(s.get("failed"), Some("0"), "{log}");
        let f = faults
            .get(&s.core)
            .unwrap_or_else(|| panic!("core {}: no fault\n{log}", s.core));
        assert_eq!(f.get("program"), Some("captest"));
        assert_eq!(f.get("vector"), Some("14"));
        assert_eq!(f.get("cr2"), s.get("va"), "{log}");
    }
    assert_eq!(report.records_of("captest").count() as u32, cores, "{log}");
    assert_eq!(report.records_of("captest-touch").count(), 0, "{log}");
    assert_eq!(report.analysis.mesh.map(|m| m.0), Some(1), "{log}");
}
