//! E5 (locks) and E6 (barriers): their records, CSVs, plots and terminal
//! reports.
//!
//! The records are `lock-point`, `barrier-point`, `sync-check` and
//! `sync-skip`, documented in `services::exp`. A `sync-check` that is not
//! `ok=1` makes the configuration unusable ([`RecordsError::SyncViolation`]).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use anyhow::Result;
use qemu::OwnedRecord;
use serde::Serialize;
use services::exp::{BARRIER_SERIES, LOCK_SERIES};

use super::anchors;
use super::output::Meta;
use super::plot::log_lines_svg;
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

/// The CSV of E5: one row per configuration and lock.
pub fn locks_csv(meta: &Meta, configs: &[ConfigResult]) -> String {
    let mut out = String::from(
        "experiment,ring,accel,cores,series,kind,cs_lines,participants,acquisitions,tput_per_mcycle,latency_cycles,p99,min_core,max_core,max_run,tsc_hz\n",
    );
    for c in configs {
        for r in &c.sync.locks {
            let run = r.max_run.map_or(String::new(), |v| v.to_string());
            let _ = writeln!(
                out,
                "locks,{},{},{},{},{},{},{},{},{:.2},{:.2},{:.2},{},{},{run},{}",
                meta.ring_text(),
                meta.accelerator,
                c.cores,
                r.series,
                kind(&r.series),
                r.cs_lines,
                r.participants,
                r.acquisitions,
                r.tput,
                r.latency,
                r.p99,
                r.min_core,
                r.max_core,
                c.tsc_hz
            );
        }
    }
    out
}

/// The CSV of E6: one row per configuration and barrier.
pub fn barriers_csv(meta: &Meta, configs: &[ConfigResult]) -> String {
    let mut out = String::from(
        "experiment,ring,accel,cores,series,kind,cycles_per_episode,p99,min_core,max_core,episodes,tsc_hz\n",
    );
    for c in configs {
        for r in &c.sync.barriers {
            let _ = writeln!(
                out,
                "barriers,{},{},{},{},{},{:.2},{:.2},{:.2},{:.2},{},{}",
                meta.ring_text(),
                meta.accelerator,
                c.cores,
                r.series,
                kind(&r.series),
                r.cycles,
                r.p99,
                r.min_core,
                r.max_core,
                r.episodes,
                c.tsc_hz
            );
        }
    }
    out
}

/// `messages` or `shared-memory`.
fn kind(series: &str) -> &'static str {
    if series.starts_with("msg-") {
        "messages"
    } else {
        "shared-memory"
    }
}

/// A series' place in the legend: the order of the series tables.
fn rank(series: &str) -> usize {
    LOCK_SERIES
        .iter()
        .chain(BARRIER_SERIES.iter())
        .position(|s| *s == series)
        .unwrap_or(usize::MAX)
}

fn max_cores(configs: &[ConfigResult]) -> u32 {
    configs.iter().map(|c| c.cores).max().unwrap_or(1)
}

/// The E5 plot: throughput against cores, a line per lock (log scale;
/// message locks drawn thick).
pub fn locks_svg(title: &str, configs: &[ConfigResult]) -> Result<String> {
    let mut lines: BTreeMap<(usize, String), Vec<(f64, f64)>> = BTreeMap::new();
    for c in configs {
        for r in &c.sync.locks {
            lines
                .entry((rank(&r.series), r.series.clone()))
                .or_default()
                .push((f64::from(c.cores), r.tput));
        }
    }
    log_lines_svg(
        title,
        "acquisitions per million cycles (log)",
        lines,
        max_cores(configs),
    )
}

/// The E6 plot: cycles per episode against cores, a line per barrier (log
/// scale).
pub fn barriers_svg(title: &str, configs: &[ConfigResult]) -> Result<String> {
    let mut lines: BTreeMap<(usize, String), Vec<(f64, f64)>> = BTreeMap::new();
    for c in configs {
        for r in &c.sync.barriers {
            lines
                .entry((rank(&r.series), r.series.clone()))
                .or_default()
                .push((f64::from(c.cores), r.cycles));
        }
    }
    log_lines_svg(title, "cycles per episode (log)", lines, max_cores(configs))
}

/// The E5 terminal report: a table per core count, the best of each kind,
/// and the anchors.
pub fn locks_report(configs: &[ConfigResult]) -> String {
    let mut out = String::new();
    for c in configs {
        let _ = writeln!(out, "{} cores:", c.cores);
        let _ = writeln!(
            out,
            "  {:<15} {:>12} {:>12} {:>10} {:>14}",
            "lock", "acq/Mcycle", "cycles/acq", "p99", "per core"
        );
        for r in &c.sync.locks {
            let _ = writeln!(
                out,
                "  {:<15} {:>12.2} {:>12.2} {:>10.2} {:>14}",
                r.series,
                r.tput,
                r.latency,
                r.p99,
                format!("{}–{}", r.min_core, r.max_core)
            );
        }
        let best = |msg: bool| {
            c.sync
                .locks
                .iter()
                .filter(|r| r.series.starts_with("msg-") == msg)
                .max_by(|a, b| a.tput.total_cmp(&b.tput))
        };
        if let (Some(shm), Some(msg)) = (best(false), best(true)) {
            let _ = writeln!(
                out,
                "  best: {} ({:.2}) on shared memory, {} ({:.2}) by messages: messages {:.2}×",
                shm.series,
                shm.tput,
                msg.series,
                msg.tput,
                msg.tput / shm.tput.max(f64::MIN_POSITIVE)
            );
        }
        for s in &c.sync.skips {
            let _ = writeln!(out, "  skipped {}: {}", s.series, s.reason);
        }
    }
    let checks = configs.iter().map(|c| c.sync.checks.len()).sum::<usize>();
    let _ = writeln!(out, "checks: {checks} sync-check records, 0 violations");
    let _ = writeln!(out, "{}", anchors::mcs_lock_line());
    let _ = writeln!(out, "{}", anchors::ffwd_line());
    out
}

/// The E6 terminal report.
pub fn barriers_report(configs: &[ConfigResult]) -> String {
    let mut out = String::new();
    for c in configs {
        let _ = writeln!(out, "{} cores:", c.cores);
        let _ = writeln!(
            out,
            "  {:<18} {:>14} {:>10} {:>20}",
            "barrier", "cycles/episode", "p99", "per core"
        );
        for r in &c.sync.barriers {
            let _ = writeln!(
                out,
                "  {:<18} {:>14.2} {:>10.2} {:>20}",
                r.series,
                r.cycles,
                r.p99,
                format!("{:.0}–{:.0}", r.min_core, r.max_core)
            );
        }
        if let Some(best) = c
            .sync
            .barriers
            .iter()
            .min_by(|a, b| a.cycles.total_cmp(&b.cycles))
        {
            let _ = writeln!(
                out,
                "  fastest: {} ({:.2} cycles)",
                best.series, best.cycles
            );
        }
    }
    let checks = configs.iter().map(|c| c.sync.checks.len()).sum::<usize>();
    let _ = writeln!(out, "checks: {checks} sync-check records, 0 violations");
    let _ = writeln!(out, "{}", anchors::mcs_barrier_line());
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exp::output::tests::meta;
    use crate::exp::records::{from_lines, parse};
    use services::exp::ExpKind;

    const LOCKS2: &[&str] = &[
        "[core 0] @flotilla/1 exp-start exp=locks cores=2 quick=1 rounds=2 acquisitions=2000 cs_lines=1 batch=32 points=3 tsc_hz=2800000000 args=exp=locks,quick",
        "[core 0] @flotilla/1 lock-point series=ticket cores=2 cs_lines=1 participants=2 acquisitions=4096 cycles=900000 tput=4551.11 latency=210.50 p99=400.00 min_core=2016 max_core=2080 max_run=3 samples=128 tsc_overhead=40",
        "[core 0] @flotilla/1 sync-check exp=locks series=ticket cores=2 expected=4096 counted=4096 violations=0 ok=1",
        "[core 0] @flotilla/1 lock-point series=msg-delegation cores=2 cs_lines=1 participants=1 acquisitions=2016 cycles=800000 tput=2520.00 latency=390.00 p99=700.00 min_core=2016 max_core=2016 max_run=na samples=63 tsc_overhead=40",
        "[core 0] @flotilla/1 sync-check exp=locks series=msg-delegation cores=2 expected=2016 counted=2016 violations=0 ok=1",
        "[core 0] @flotilla/1 lock-point series=msg-queue cores=2 cs_lines=1 participants=2 acquisitions=4096 cycles=2000000 tput=2048.00 latency=900.00 p99=1500.00 min_core=2048 max_core=2048 max_run=1 samples=128 tsc_overhead=40",
        "[core 0] @flotilla/1 sync-check exp=locks series=msg-queue cores=2 expected=4096 counted=4096 violations=0 ok=1",
        "[core 0] @flotilla/1 exp-done exp=locks cores=2 ok=1",
    ];

    const BARRIERS1: &[&str] = &[
        "[core 0] @flotilla/1 exp-start exp=barriers cores=1 quick=1 rounds=2 episodes=2000 checked=500 arity=4 batch=32 points=2 tsc_hz=2800000000 args=exp=barriers,quick",
        "[core 0] @flotilla/1 barrier-point series=sense cores=1 arity=4 episodes=5032 cycles=20.00 p99=25.00 min_core=20.00 max_core=20.00 samples=126 tsc_overhead=40",
        "[core 0] @flotilla/1 sync-check exp=barriers series=sense cores=1 expected=1000 counted=1000 violations=0 ok=1",
        "[core 0] @flotilla/1 barrier-point series=msg-central cores=1 arity=4 episodes=5032 cycles=60.00 p99=80.00 min_core=60.00 max_core=60.00 samples=126 tsc_overhead=40",
        "[core 0] @flotilla/1 sync-check exp=barriers series=msg-central cores=1 expected=1000 counted=1000 violations=0 ok=1",
        "[core 0] @flotilla/1 exp-done exp=barriers cores=1 ok=1",
    ];

    #[test]
    fn lock_records_become_rows_csv_plot_and_report() {
        let c = parse(ExpKind::Locks, 2, &from_lines(LOCKS2)).unwrap();
        assert_eq!(c.sync.locks.len(), 3);
        assert_eq!(c.sync.checks.len(), 3);
        assert_eq!(c.sync.locks[1].max_run, None);
        let csv = locks_csv(&meta("locks"), std::slice::from_ref(&c));
        assert_eq!(csv.lines().count(), 4, "{csv}");
        assert!(
            csv.contains(",ticket,shared-memory,1,2,4096,4551.11,"),
            "{csv}"
        );
        assert!(csv.contains(",msg-queue,messages,"), "{csv}");
        let svg = locks_svg("locks", std::slice::from_ref(&c)).unwrap();
        for name in ["ticket", "msg-delegation", "msg-queue", "cores"] {
            assert!(svg.contains(name), "{name} missing");
        }
        let report = locks_report(&[c]);
        assert!(report.contains("best: ticket (4551.11) on shared memory, msg-delegation"));
        assert!(
            report.contains("Mellor-Crummey") && report.contains("ffwd"),
            "{report}"
        );
    }

    #[test]
    fn barrier_records_become_rows_csv_plot_and_report() {
        let c = parse(ExpKind::Barriers, 1, &from_lines(BARRIERS1)).unwrap();
        assert_eq!(c.sync.barriers.len(), 2);
        let csv = barriers_csv(&meta("barriers"), std::slice::from_ref(&c));
        assert_eq!(csv.lines().count(), 3, "{csv}");
        let svg = barriers_svg("barriers", std::slice::from_ref(&c)).unwrap();
        assert!(svg.contains("msg-central"));
        let report = barriers_report(&[c]);
        assert!(report.contains("fastest: sense (20.00 cycles)"), "{report}");
        assert!(report.contains("4-ary arrival"), "{report}");
    }

    #[test]
    fn a_violation_makes_the_configuration_unusable() {
        let mut lines = LOCKS2.to_vec();
        lines[2] = "[core 0] @flotilla/1 sync-check exp=locks series=ticket cores=2 expected=4096 counted=4090 violations=3 ok=0";
        let err = parse(ExpKind::Locks, 2, &from_lines(&lines)).unwrap_err();
        assert!(
            matches!(err, RecordsError::SyncViolation { violations: 3, .. }),
            "{err:?}"
        );
        let mut lines = LOCKS2.to_vec();
        lines[1] = "[core 0] @flotilla/1 lock-point series=ticket cores=2";
        assert!(matches!(
            parse(ExpKind::Locks, 2, &from_lines(&lines)),
            Err(RecordsError::BadField { .. })
        ));
    }
}
