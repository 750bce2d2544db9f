//! Booting Flotilla in QEMU: every core comes up, on every machine type, and
//! reports its APIC id, NUMA node and features.

use std::collections::BTreeSet;

use flotilla_tests::{boot_ok, kvm_2_cores, tcg};
use qemu::Machine;
use tools::boot::BootReport;

/// Checks what every passing boot must show.
fn check_cores(report: &BootReport, cores: u32) {
    let ids: Vec<u32> = report.analysis.cores.iter().map(|c| c.core).collect();
    assert_eq!(ids, (0..cores).collect::<Vec<_>>());
    let apics: BTreeSet<u32> = report.analysis.cores.iter().map(|c| c.apic).collect();
    assert_eq!(apics.len() as u32, cores, "APIC ids are not distinct");
    for c in &report.analysis.cores {
        assert!(
            c.features.contains("nx"),
            "core {} features: {}",
            c.core,
            c.features
        );
        assert!(c.up_cycles > 0);
    }
    let done = report.analysis.done.expect("boot-done");
    assert_eq!(done.cores, cores);
    assert!(
        done.tsc_hz > 100_000_000,
        "implausible TSC frequency {}",
        done.tsc_hz
    );
    assert!(report.verdict() == format!("booted {cores}/{cores} cores"));
}

flotilla_tests::boot_tests! {
    check_cores;
    boots_1_core: tcg(1, "") => 1, boots_2_cores: tcg(2, "") => 2,
    boots_4_cores: tcg(4, "") => 4, boots_8_cores: tcg(8, "") => 8,
    boots_64_cores_under_tcg: tcg(64, "log=warn") => 64,
    pc_machine_boots: tcg(2, "").machine(Machine::Pc) => 2,
}

#[test]
fn q35_with_two_numa_nodes_reports_each_cores_node() {
    let config = tcg(4, "").machine(Machine::Q35).numa_nodes(2);
    let report = boot_ok(&config);
    check_cores(&report, 4);
    let nodes: Vec<u32> = report.analysis.cores.iter().map(|c| c.node).collect();
    assert_eq!(nodes, [0, 0, 1, 1], "nodes from the SRAT");
}

#[test]
fn boots_under_kvm_where_it_works() {
    let Some(config) = kvm_2_cores() else {
        return;
    };
    let report = boot_ok(&config);
    check_cores(&report, 2);
    assert_eq!(report.accel.accel, qemu::ResolvedAccel::Kvm);
}
