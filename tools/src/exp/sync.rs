//! What E5 (locks) and E6 (barriers) share on the host: their rows and
//! their log-scale plot of a line per series. Each one's CSV, plot and report are in [`super::e5_locks`]
//! and [`super::e6_barriers`].
//!
//! The records are `lock-point`, `barrier-point`, `sync-check` and
//! `sync-skip`, documented in `services::exp`. A `sync-check` that is not
//! `ok=1` makes the configuration unusable ([`super::records::RecordsError::SyncViolation`]).

use std::collections::BTreeMap;

use anyhow::Result;
use serde::Serialize;
use services::exp::{BARRIER_SERIES, LOCK_SERIES};

use super::plot::log_lines_svg;
use super::records::ConfigResult;

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

/// A log-scale line per series against cores: `points` gives each
/// configuration's (series, value) points.
pub(crate) fn series_svg<'c, I>(
    title: &str,
    y_desc: &str,
    configs: &'c [ConfigResult],
    points: impl Fn(&'c ConfigResult) -> I,
) -> Result<String>
where
    I: Iterator<Item = (&'c str, f64)>,
{
    let mut lines: BTreeMap<(usize, String), Vec<(f64, f64)>> = BTreeMap::new();
    for c in configs {
        for (series, v) in points(c) {
            lines
                .entry((rank(series), series.to_owned()))
                .or_default()
                .push((f64::from(c.cores), v));
        }
    }
    log_lines_svg(title, y_desc, lines, max_cores(configs))
}

/// The most cores of any configuration.
pub(crate) fn max_cores(configs: &[ConfigResult]) -> u32 {
    configs.iter().map(|c| c.cores).max().unwrap_or(1)
}
