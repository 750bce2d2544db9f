//! `flotilla exp` in QEMU: the experiments run in ring 3 under the monitor,
//! one QEMU at a time, and write well-formed results.

mod common;

use std::path::PathBuf;

use common::{flotilla_in as flotilla, meta, run_dir as only_run, scratch, text};

/// Runs `flotilla ARGS --accel ACCEL` (`args` split at spaces) in a
/// fresh scratch folder named `name`; checks that it succeeded and returns
/// the folder and the standard output.
fn run_in_qemu(name: &str, args: &str, accel: &str) -> (PathBuf, String) {
    let root = scratch(name);
    let mut args: Vec<&str> = args.split(' ').collect();
    args.extend(["--accel", accel]);
    let out = flotilla(&args, &root);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", text(&out.stderr));
    (root, stdout)
}

fn ratio_line_ends(stdout: &str) {
    let last = stdout.lines().last().unwrap_or_default();
    let ratio = last
        .strip_prefix("urpc one-way / raw one-way = ")
        .unwrap_or_else(|| panic!("last line: {last}\n{stdout}"));
    assert!(ratio.parse::<f64>().is_ok(), "{last}");
    assert_eq!(ratio.split('.').nth(1).map(str::len), Some(2), "{last}");
}

#[test]
fn urpc_quick_in_ring_3_under_tcg() {
    let (root, stdout) = run_in_qemu("urpc", "exp urpc --quick --cores 2", "tcg");
    ratio_line_ends(&stdout);
    let dir = only_run(&root, "urpc");
    let m = meta(&dir);
    assert_eq!(m["ring"], 3);
    assert_eq!(m["accelerator"], "tcg");
    assert_eq!(m["machine"], "microvm");
    assert!(m["qemu_version"].as_str().is_some_and(|v| !v.is_empty()));
    let csv = std::fs::read_to_string(dir.join("urpc.csv")).unwrap();
    assert_eq!(csv.lines().count(), 1 + 6, "{csv}");
    assert!(
        csv.lines().skip(1).all(|l| l.starts_with("urpc,3,tcg,2,")),
        "{csv}"
    );
    assert!(std::fs::metadata(dir.join("urpc.svg")).unwrap().len() > 0);
    std::fs::remove_dir_all(&root).unwrap();
}

#[test]
fn update_cost_quick_in_ring_3_under_tcg_conserves_updates() {
    let (root, stdout) = run_in_qemu("update", "exp update-cost --quick --cores 1,2", "tcg");
    assert!(!stdout.contains("@flotilla/1"), "{stdout}");
    for cores in ["1 core", "2 cores"] {
        assert!(
            stdout.contains(&format!("experiment update-cost started on {cores}, quick")),
            "{stdout}"
        );
    }
    let dir = only_run(&root, "update-cost");
    let m = meta(&dir);
    assert_eq!(m["ring"], 3);
    assert_eq!(m["cores"], serde_json::json!([1, 2]));
    let checks = m["checks"].as_array().unwrap();
    assert_eq!(checks.len(), 2 + 4, "{checks:?}");
    assert!(
        checks
            .iter()
            .all(|c| c["conserved"] == true && c["sent"] == c["applied"])
    );
    let csv = std::fs::read_to_string(dir.join("update-cost.csv")).unwrap();
    assert_eq!(csv.lines().count(), 1 + 6 + 10, "{csv}");
    std::fs::remove_dir_all(&root).unwrap();
}

#[test]
fn records_flag_echoes_the_records_of_every_boot() {
    let (root, stdout) = run_in_qemu(
        "records",
        "exp update-cost --quick --cores 1 --records",
        "tcg",
    );
    let start = stdout
        .lines()
        .find(|l| {
            l.contains("  [core 0] [boot monitor] @flotilla/1 exp-start exp=update-cost cores=1 ")
        })
        .unwrap_or_else(|| panic!("no exp-start record in\n{stdout}"));
    assert!(start.starts_with('+'), "{start}");
    assert!(
        !stdout.contains("experiment update-cost started"),
        "{stdout}"
    );
    std::fs::remove_dir_all(&root).unwrap();
}

#[test]
fn urpc_under_kvm_ends_with_the_ratio_line() {
    if !qemu::kvm_usable() {
        eprintln!("skipped: /dev/kvm does not answer here");
        return;
    }
    let (root, stdout) = run_in_qemu("kvm", "exp urpc --quick --cores 2", "kvm");
    ratio_line_ends(&stdout);
    assert_eq!(meta(&only_run(&root, "urpc"))["accelerator"], "kvm");
    std::fs::remove_dir_all(&root).unwrap();
}
