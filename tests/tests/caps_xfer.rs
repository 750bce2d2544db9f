//! A capability crosses cores: under `test=caps-xfer` core 0's `captest`
//! retypes a piece of its RAM into a Frame, writes a pattern into it and
//! exports it with the Kernel capability; core 1's imports the bytes, maps
//! the Frame and reads the same pattern. Malformed bytes, a type that may
//! not cross, a wrong owner and an invocation without the Kernel
//! capability each get their typed error; then the monitors, with the same
//! cspaces, build their mesh as usual.

use boot::protocol::parse_u64;
use flotilla_tests::{assert_checked, boot_ok, passed_cap_checks, with_monitors};

/// Checks core 0 must report.
const SENDER: [&str; 14] = [
    "the-pool-has-a-spare-frame",
    "retype-a-frame",
    "map-the-frame",
    "export-without-the-kernel-cap",
    "export-with-an-empty-kernel-slot",
    "export-a-cnode",
    "export-the-kernel-cap",
    "export-without-grant",
    "export-writes-no-kernel-memory",
    "export-with-a-stray-register",
    "export-the-frame",
    "the-bytes-name-the-frame",
    "core-1-is-done-with-the-frame",
    "delete-the-frame",
];

/// Checks core 1 must report.
const RECEIVER: [&str; 20] = [
    "the-bytes-arrive",
    "import-without-the-kernel-cap",
    "import-with-an-empty-kernel-slot",
    "import-an-unknown-version",
    "import-an-unknown-type",
    "import-unknown-rights",
    "import-a-reserved-byte",
    "import-a-misaligned-frame",
    "import-a-short-encoding",
    "import-a-cnode",
    "import-owned-by-this-core",
    "import-owned-by-no-core",
    "import-into-an-occupied-slot",
    "nothing-was-imported",
    "import-the-frame",
    "it-is-the-frame-core-0-made",
    "it-lies-outside-this-cores-ram",
    "map-the-frame",
    "the-pattern-reads-back",
    "delete-the-frame",
];

#[test]
fn a_frame_exported_on_core_0_is_imported_and_read_on_core_1() {
    let cores = 2;
    let report = boot_ok(&with_monitors(cores, "test=caps-xfer"));
    let log = &report.failure_report;

    let names = passed_cap_checks(&report);
    for (core, want) in [(0, &SENDER[..]), (1, &RECEIVER[..])] {
        assert_checked(&names, core, want, log);
    }

    // The same object on both sides, in core 0's RAM, read back whole.
    let xfer: Vec<_> = report.records_of("caps-xfer").collect();
    let side = |s: &str| {
        xfer.iter()
            .find(|r| r.get("side") == Some(s))
            .unwrap_or_else(|| panic!("no caps-xfer side={s}\n{log}"))
    };
    let (send, receive, read) = (side("send"), side("receive"), side("read"));
    assert_eq!(send.core, 0);
    assert_eq!((receive.core, read.core), (1, 1));
    assert_eq!(send.get("base"), receive.get("base"), "{log}");
    assert_eq!(read.get("same"), Some("1"), "{log}");
    let base = parse_u64(send.get("base").expect("base")).expect("a number");
    let ram0 = report
        .records_of("caps-boot")
        .find(|r| r.core == 0)
        .and_then(|r| r.get("ram").map(str::to_owned))
        .expect("core 0's caps-boot");
    let (start, end) = ram0.split_once('-').expect("a range");
    let (start, end) = (parse_u64(start).unwrap(), parse_u64(end).unwrap());
    assert!(start <= base && base + 4096 <= end, "{base:#x} in {ram0}");

    // Both programs ended normally, with nothing failed, and the monitors
    // built their mesh.
    for s in report.records_of("captest") {
        assert_eq!(s.get("failed"), Some("0"), "core {}\n{log}", s.core);
        assert_eq!(s.get("next"), Some("exit"), "{log}");
    }
    assert_eq!(report.records_of("captest").count() as u32, cores, "{log}");
    assert_eq!(report.records_of("user-fault").count(), 0, "{log}");
    assert_eq!(report.analysis.mesh.map(|m| m.0), Some(1), "{log}");
}
