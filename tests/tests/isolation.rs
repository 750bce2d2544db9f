//! No shared kernel state: a kernel static incremented once on every core
//! reads 1 on every core, and the frames behind each core's copy of the
//! kernel's writable data are distinct and inside that core's partition.

use std::collections::BTreeSet;

use boot::protocol::parse_u64;
use flotilla_tests::{boot_ok, tcg};

#[test]
fn every_core_has_its_own_copy_of_kernel_data() {
    let cores = 8;
    let report = boot_ok(&tcg(cores, "test=isolation"));
    let records: Vec<_> = report.records_of("isolation").collect();
    assert_eq!(records.len() as u32, cores, "{}", report.failure_report);

    let mut virts = BTreeSet::new();
    let mut physes = BTreeSet::new();
    let mut datas = BTreeSet::new();
    let mut seen = BTreeSet::new();
    for r in &records {
        assert!(seen.insert(r.core), "core {} reported twice", r.core);
        assert_eq!(
            r.get("value"),
            Some("1"),
            "core {} saw a shared static",
            r.core
        );
        let virt = r.get_u64("virt").expect("virt");
        let phys = r.get_u64("phys").expect("phys");
        let data = r.get_u64("data_phys").expect("data_phys");
        let (start, end) = r
            .get("partition")
            .and_then(|p| p.split_once('-'))
            .and_then(|(a, b)| Some((parse_u64(a)?, parse_u64(b)?)))
            .expect("partition");
        assert!(phys != 0 && data != 0);
        assert!(
            (start..end).contains(&phys),
            "core {}: {phys:#x} outside its partition",
            r.core
        );
        assert!(
            (start..end).contains(&data),
            "core {}: {data:#x} outside its partition",
            r.core
        );
        virts.insert(virt);
        physes.insert(phys);
        datas.insert(data);
    }
    assert_eq!(
        virts.len(),
        1,
        "the static must be at the same virtual address everywhere"
    );
    assert_eq!(
        physes.len() as u32,
        cores,
        "frames behind the static are not distinct"
    );
    assert_eq!(datas.len() as u32, cores, "data windows are not distinct");
}
