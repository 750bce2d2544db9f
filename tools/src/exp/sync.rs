//! What E5 (locks) and E6 (barriers) share on the host: their records
//! and rows. Each one's CSV, plot and report are in [`super::e5_locks`]
//! and [`super::e6_barriers`].
//!
//! The records are `lock-point`, `barrier-point`, `sync-check` and
//! `sync-skip`, documented in `services::exp`. A `sync-check` that is not
//! `ok=1` makes the configuration unusable ([`RecordsError::SyncViolation`]).

use anyhow::Result;
use qemu::OwnedRecord;
use serde::Serialize;
use services::exp::{BARRIER_SERIES, LOCK_SERIES};

use super::records::{ConfigResult, RecordsError, typed};
use services::exp::record::Record;
use services::exp::{BarrierPoint, LockPoint, SyncCheck as CheckRecord, SyncSkip as SkipRecord};

/// One `lock-point` record.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LockRow {
    /// Cores in the configuration.
    pub cores: u32,
    /// The lock (`tas`, ..., `msg-queue`).
    pub series: String,
    /// Shared cache lines of the critical section.
    pub cs_lines: u32,
    /// Cores that took the lock.
    pub participants: u32,
    /// Acquisitions, all participants and rounds.
    pub acquisitions: u64,
    /// Acquisitions per million cycles.
    pub tput: f64,
    /// Median cycles per acquisition.
    pub latency: f64,
    /// Largest per-core 99th percentile.
    pub p99: f64,
    /// Fewest acquisitions of one core.
    pub min_core: u64,
    /// Most acquisitions of one core.
    pub max_core: u64,
    /// Longest run of grants to one core (`None` for delegation).
    pub max_run: Option<u64>,
    /// Mean cycles per acquisition and core over the wall time: far above
    /// the median when a few batches took most of it.
    pub mean: f64,
    /// The slowest timed batch, per acquisition (`None` in older logs).
    pub slowest: Option<f64>,
}

/// One `barrier-point` record.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BarrierRow {
    /// Cores in the configuration.
    pub cores: u32,
    /// The barrier (`sense`, ..., `msg-dissemination`).
    pub series: String,
    /// Median cycles per episode.
    pub cycles: f64,
    /// Largest per-core 99th percentile.
    pub p99: f64,
    /// Smallest per-core median.
    pub min_core: f64,
    /// Largest per-core median.
    pub max_core: f64,
    /// Episodes per core, all rounds.
    pub episodes: u64,
}

/// One `sync-check` record (all passed, or the run failed).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SyncCheck {
    /// Cores.
    pub cores: u32,
    /// `locks` or `barriers`.
    pub exp: String,
    /// The series checked.
    pub series: String,
    /// Acquisitions or checked episodes.
    pub expected: u64,
    /// What the check counted.
    pub counted: u64,
    /// Violations found (0).
    pub violations: u64,
}

/// One `sync-skip` record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SyncSkip {
    /// Cores.
    pub cores: u32,
    /// The series skipped.
    pub series: String,
    /// Why.
    pub reason: String,
}

/// E5's and E6's rows of one configuration.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct SyncResult {
    /// E5 rows.
    pub locks: Vec<LockRow>,
    /// E6 rows.
    pub barriers: Vec<BarrierRow>,
    /// Checks.
    pub checks: Vec<SyncCheck>,
    /// Skipped series.
    pub skips: Vec<SyncSkip>,
}

/// Reads one record into `out` if it is one of E5's or E6's; returns
/// whether it was.
pub fn parse_record(
    r: &OwnedRecord,
    cores: u32,
    out: &mut SyncResult,
) -> Result<bool, RecordsError> {
    match r.kind.as_str() {
        LockPoint::KIND => {
            let l: LockPoint = typed(r)?;
            out.locks.push(LockRow {
                cores,
                series: l.series.to_owned(),
                cs_lines: l.cs_lines,
                participants: l.participants,
                acquisitions: l.acquisitions,
                tput: l.tput.as_f64(),
                latency: l.latency.as_f64(),
                p99: l.p99.as_f64(),
                min_core: l.min_core,
                max_core: l.max_core,
                max_run: l.max_run,
                mean: l.cycles as f64 * f64::from(l.participants) / l.acquisitions.max(1) as f64,
                slowest: l.slowest.map(|c| c.as_f64()),
            });
        }
        BarrierPoint::KIND => {
            let b: BarrierPoint = typed(r)?;
            out.barriers.push(BarrierRow {
                cores,
                series: b.series.to_owned(),
                cycles: b.cycles.as_f64(),
                p99: b.p99.as_f64(),
                min_core: b.min_core.as_f64(),
                max_core: b.max_core.as_f64(),
                episodes: b.episodes,
            });
        }
        CheckRecord::KIND => {
            let c: CheckRecord = typed(r)?;
            let check = SyncCheck {
                cores,
                exp: c.exp.to_owned(),
                series: c.series.to_owned(),
                expected: c.expected,
                counted: c.counted,
                violations: c.violations,
            };
            if !c.ok || check.violations > 0 || check.expected != check.counted {
                return Err(RecordsError::SyncViolation {
                    cores,
                    series: check.series,
                    violations: check.violations,
                    expected: check.expected,
                    counted: check.counted,
                });
            }
            out.checks.push(check);
        }
        SkipRecord::KIND => {
            let s: SkipRecord = typed(r)?;
            out.skips.push(SyncSkip {
                cores,
                series: s.series.to_owned(),
                reason: s.reason.to_owned(),
            });
        }
        _ => return Ok(false),
    }
    Ok(true)
}

/// `messages` or `shared-memory`.
pub(crate) fn kind(series: &str) -> &'static str {
    if series.starts_with("msg-") {
        "messages"
    } else {
        "shared-memory"
    }
}

/// A series' place in the legend: the order of the series tables.
pub(crate) fn rank(series: &str) -> usize {
    LOCK_SERIES
        .iter()
        .chain(BARRIER_SERIES.iter())
        .position(|s| *s == series)
        .unwrap_or(usize::MAX)
}

/// The most cores of any configuration.
pub(crate) fn max_cores(configs: &[ConfigResult]) -> u32 {
    configs.iter().map(|c| c.cores).max().unwrap_or(1)
}
