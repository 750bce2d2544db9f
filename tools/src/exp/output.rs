//! The files of an experiment run: a CSV with one row per measured point,
//! `meta.json` with where the figures came from, the SVG plot and the raw
//! records.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::Serialize;

use super::e7_consistency::RunCheck;
use super::records::{CheckRow, ConfigResult, SkipRow};
use super::sync::{SyncCheck, SyncSkip};

/// Where and on what an experiment ran.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Meta {
    /// `urpc`, `update-cost`, `locks` or `barriers`.
    pub experiment: String,
    /// The request every core ran, without the core count.
    pub args: String,
    /// Whether this was the short version.
    pub quick: bool,
    /// Repeats per measurement.
    pub rounds: u32,
    /// `3` (ring 3 under the monitor) or `"hosted"` (Linux threads).
    pub ring: serde_json::Value,
    /// `kvm`, `tcg` or `hosted`.
    pub accelerator: String,
    /// Why that accelerator.
    pub accelerator_reason: String,
    /// The QEMU machine, or `host`.
    pub machine: String,
    /// QEMU's version (none for hosted runs).
    pub qemu_version: Option<String>,
    /// The workspace revision.
    pub git_revision: String,
    /// The host CPU's model name.
    pub host_cpu: String,
    /// Host CPUs online.
    pub host_cpus: usize,
    /// The core counts run, one configuration each.
    pub cores: Vec<u32>,
    /// The TSC rate each configuration reported, by core count.
    pub tsc_hz: Vec<TscRate>,
    /// The coarsest timer step any configuration reported, cycles.
    pub timer_resolution_cycles: Option<u64>,
    /// Operations per timed latency sample (E1: round trips; E2: updates).
    pub batch: Option<u64>,
    /// Hosted runs: how the threads were placed, per configuration.
    pub hosted: Vec<HostedNote>,
    /// UTC time the run started.
    pub started_utc: String,
    /// E2 conservation checks (all passed, or there would be no files).
    pub checks: Vec<CheckRow>,
    /// E2 series skipped, and why.
    pub skips: Vec<SkipRow>,
    /// E5 and E6 checks of mutual exclusion and of barrier episodes (all
    /// passed, or there would be no files).
    pub sync_checks: Vec<SyncCheck>,
    /// E5 and E6 series skipped, and why.
    pub sync_skips: Vec<SyncSkip>,
    /// E7: the largest bound on the TSC skew between cores of any
    /// configuration, cycles.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tsc_skew_cycles: Option<u64>,
    /// E7: each run's convergence, staleness and checker verdicts.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub consistency: Vec<RunCheck>,
    /// The files written beside this one.
    pub files: Vec<String>,
}

/// One configuration's TSC rate.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TscRate {
    /// Cores.
    pub cores: u32,
    /// Ticks per second.
    pub tsc_hz: u64,
}

/// How a hosted configuration placed its threads (the `hosted` record).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct HostedNote {
    /// Cores.
    pub cores: u32,
    /// The record's fields.
    pub fields: std::collections::BTreeMap<String, String>,
}

impl Meta {
    /// Fills the per-configuration parts from the results.
    pub fn add_configs(&mut self, configs: &[ConfigResult]) {
        for c in configs {
            self.cores.push(c.cores);
            self.tsc_hz.push(TscRate {
                cores: c.cores,
                tsc_hz: c.tsc_hz,
            });
            self.timer_resolution_cycles = self.timer_resolution_cycles.max(c.timer_resolution);
            self.batch = self.batch.or(c.batch);
            if let Some(fields) = &c.hosted {
                self.hosted.push(HostedNote {
                    cores: c.cores,
                    fields: fields.iter().cloned().collect(),
                });
            }
            self.checks.extend(c.checks.iter().cloned());
            self.skips.extend(c.skips.iter().cloned());
            self.sync_checks.extend(c.sync.checks.iter().cloned());
            self.sync_skips.extend(c.sync.skips.iter().cloned());
            if !c.consistency.points.is_empty() {
                self.tsc_skew_cycles = self
                    .tsc_skew_cycles
                    .max(Some(c.consistency.tsc_skew_cycles));
            }
        }
    }

    /// The ring as CSVs print it: `3` or `hosted`.
    pub fn ring_text(&self) -> String {
        ring_text(self)
    }
}

fn ring_text(meta: &Meta) -> String {
    match &meta.ring {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Writes `<name>.csv`, `<name>.svg`, `records.log` and `meta.json` into
/// `dir`; returns their paths.
pub fn write_all(
    dir: &Path,
    name: &str,
    meta: &mut Meta,
    csv: &str,
    svg: &str,
    records: &str,
) -> Result<Vec<PathBuf>> {
    let files = [
        (format!("{name}.csv"), csv),
        (format!("{name}.svg"), svg),
        ("records.log".to_owned(), records),
    ];
    let mut written = Vec::new();
    for (file, contents) in files {
        let path = dir.join(&file);
        std::fs::write(&path, contents).with_context(|| format!("writing {}", path.display()))?;
        meta.files.push(file);
        written.push(path);
    }
    let path = dir.join("meta.json");
    std::fs::write(&path, serde_json::to_string_pretty(meta)? + "\n")
        .with_context(|| format!("writing {}", path.display()))?;
    written.push(path);
    Ok(written)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::exp::records::tests::update_lines;
    use crate::exp::records::{from_lines, parse};
    use services::exp::ExpKind;

    pub(crate) fn meta(experiment: &str) -> Meta {
        Meta {
            experiment: experiment.to_owned(),
            args: format!("exp={experiment},quick"),
            quick: true,
            rounds: 2,
            ring: serde_json::json!("hosted"),
            accelerator: "hosted".into(),
            accelerator_reason: "Linux threads".into(),
            machine: "host".into(),
            qemu_version: None,
            git_revision: "abc".into(),
            host_cpu: "cpu".into(),
            host_cpus: 2,
            cores: vec![],
            tsc_hz: vec![],
            timer_resolution_cycles: None,
            batch: None,
            hosted: vec![],
            started_utc: "2026-01-01T00:00:00Z".into(),
            checks: vec![],
            skips: vec![],
            sync_checks: vec![],
            sync_skips: vec![],
            tsc_skew_cycles: None,
            consistency: vec![],
            files: vec![],
        }
    }

    #[test]
    fn writes_every_file_and_well_formed_json() {
        let dir = std::env::temp_dir().join(format!("flotilla-exp-out-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let configs = [parse(ExpKind::UpdateCost, 2, &from_lines(&update_lines(2, 1.0))).unwrap()];
        let mut m = meta("update-cost");
        m.add_configs(&configs);
        let files =
            write_all(&dir, "update-cost", &mut m, "a,b\n1,2\n", "<svg/>", "log\n").unwrap();
        assert_eq!(files.len(), 4);
        let json: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("meta.json")).unwrap()).unwrap();
        assert_eq!(json["experiment"], "update-cost");
        assert_eq!(json["ring"], "hosted");
        assert_eq!(json["cores"], serde_json::json!([2]));
        assert_eq!(json["tsc_hz"][0]["tsc_hz"], 2_800_000_000u64);
        assert_eq!(json["timer_resolution_cycles"], 24);
        assert_eq!(json["batch"], 16);
        assert_eq!(json["checks"][0]["conserved"], true);
        assert_eq!(
            json["files"],
            serde_json::json!(["update-cost.csv", "update-cost.svg", "records.log"])
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
