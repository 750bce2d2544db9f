//! What every results directory records about where its figures came
//! from, and where the directories go.
//!
//! Results live in `results/<experiment>/<UTC timestamp>/` under the
//! workspace root; the timestamp is [`timestamp`] of the run's start.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result};
use chrono::{DateTime, Utc};

/// The workspace's git revision, `+dirty` when it has uncommitted changes.
pub fn git_revision(root: &Path) -> String {
    let run = |args: &[&str]| {
        Command::new("git")
            .current_dir(root)
            .args(args)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
    };
    let Some(rev) = run(&["rev-parse", "--short=12", "HEAD"]) else {
        return "unknown".to_owned();
    };
    match run(&["status", "--porcelain", "--untracked-files=no"]) {
        Some(s) if !s.is_empty() => format!("{rev}+dirty"),
        _ => rev,
    }
}

/// The host CPU's model name from `/proc/cpuinfo`.
pub fn host_cpu() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines().find_map(|l| {
                l.strip_prefix("model name")
                    .map(|r| r.trim_start_matches([' ', '\t', ':']).to_owned())
            })
        })
        .unwrap_or_else(|| "unknown".to_owned())
}

/// Host CPUs online.
pub fn host_cpus() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// The version of the QEMU that runs images, or `unknown`.
pub fn qemu_version() -> String {
    qemu::find_qemu(None)
        .ok()
        .and_then(|q| qemu::qemu_version(&q).ok())
        .unwrap_or_else(|| "unknown".to_owned())
}

/// The directory name of a run started at `started`: `YYYYMMDD-HHMMSS`.
pub fn timestamp(started: DateTime<Utc>) -> String {
    started.format("%Y%m%d-%H%M%S").to_string()
}

/// Creates and returns `root/results/<experiment>/<timestamp>/`.
pub fn create_dir(root: &Path, experiment: &str, started: DateTime<Utc>) -> Result<PathBuf> {
    let dir = root
        .join("results")
        .join(experiment)
        .join(timestamp(started));
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    Ok(dir)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn directories_are_named_by_utc_start() {
        let t = Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap();
        assert_eq!(timestamp(t), "20260102-030405");
        let root = std::env::temp_dir().join(format!("flotilla-results-{}", std::process::id()));
        let dir = create_dir(&root, "urpc", t).unwrap();
        assert!(dir.is_dir());
        assert!(dir.ends_with("results/urpc/20260102-030405"));
        std::fs::remove_dir_all(&root).unwrap();
    }
}
