//! `flotilla exp` in QEMU: the experiments run in ring 3 under the monitor,
//! one QEMU at a time, and write well-formed results.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Mutex, MutexGuard};

const FLOTILLA: &str = env!("CARGO_BIN_EXE_flotilla");

/// One QEMU at a time in this binary.
fn slot() -> MutexGuard<'static, ()> {
    static SLOT: Mutex<()> = Mutex::new(());
    SLOT.lock().unwrap_or_else(|p| p.into_inner())
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("flotilla-expq-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn flotilla(args: &[&str], root: &Path) -> Output {
    let _slot = slot();
    Command::new(FLOTILLA)
        .args(args)
        .arg("--results")
        .arg(root)
        .stdin(Stdio::null())
        .output()
        .expect("run flotilla")
}

fn only_run(root: &Path, experiment: &str) -> PathBuf {
    let runs: Vec<PathBuf> = std::fs::read_dir(root.join("results").join(experiment))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(runs.len(), 1, "{runs:?}");
    runs[0].clone()
}

fn meta(dir: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("meta.json")).unwrap()).unwrap()
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
    let root = scratch("urpc");
    let out = flotilla(
        &["exp", "urpc", "--quick", "--cores", "2", "--accel", "tcg"],
        &root,
    );
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", text(&out.stderr));
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
    let root = scratch("update");
    let out = flotilla(
        &[
            "exp",
            "update-cost",
            "--quick",
            "--cores",
            "1,2",
            "--accel",
            "tcg",
        ],
        &root,
    );
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", text(&out.stderr));
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
fn urpc_under_kvm_ends_with_the_ratio_line() {
    if !qemu::kvm_usable() {
        eprintln!("skipped: /dev/kvm does not answer here");
        return;
    }
    let root = scratch("kvm");
    let out = flotilla(
        &["exp", "urpc", "--quick", "--cores", "2", "--accel", "kvm"],
        &root,
    );
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", text(&out.stderr));
    ratio_line_ends(&stdout);
    assert_eq!(meta(&only_run(&root, "urpc"))["accelerator"], "kvm");
    std::fs::remove_dir_all(&root).unwrap();
}
