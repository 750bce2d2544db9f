//! Helpers shared by the tests that run the `flotilla` binary.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Mutex, MutexGuard};

/// The binary under test.
pub const FLOTILLA: &str = env!("CARGO_BIN_EXE_flotilla");

/// One run at a time in a test binary: QEMU and hosted runs each want
/// every host core.
pub fn one_at_a_time() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|p| p.into_inner())
}

/// Lossy UTF-8 of a process's output.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Runs `flotilla args`, one at a time.
pub fn flotilla(args: &[&str]) -> Output {
    let _one = one_at_a_time();
    Command::new(FLOTILLA)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run flotilla")
}

/// Runs `flotilla args --results root`, one at a time.
pub fn flotilla_in(args: &[&str], root: &Path) -> Output {
    let _one = one_at_a_time();
    Command::new(FLOTILLA)
        .args(args)
        .arg("--results")
        .arg(root)
        .stdin(Stdio::null())
        .output()
        .expect("run flotilla")
}

/// A fresh directory for one test's `results/`.
pub fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("flotilla-test-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The one run directory under `root/results/<experiment>/`.
pub fn run_dir(root: &Path, experiment: &str) -> PathBuf {
    let runs: Vec<PathBuf> = std::fs::read_dir(root.join("results").join(experiment))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(runs.len(), 1, "{runs:?}");
    runs[0].clone()
}

/// The run's `meta.json`.
pub fn meta(dir: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("meta.json")).unwrap()).unwrap()
}
