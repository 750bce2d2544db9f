//! E7 (consistency): its records, the histories for the checker, the
//! staleness of reads, the CSV, the plot and the terminal report.
//!
//! The records are `exp-skew`, `replica-op` and `replica-point`,
//! documented in `services::exp`. A configuration is usable only if every
//! `replica-point` says `converged=1` and the history of every model holds
//! every core's operations ([`RecordsError::Diverged`],
//! [`RecordsError::HistoryIncomplete`]).
//!
//! **Histories.** Each run (model × core count) is written as
//! `history-<model>-<cores>.csv`: the header `core,op,key,value,invoke,response`,
//! `op` `read` or `write`, one row per completed operation, times in each
//! core's raw TSC (the run's `tsc_skew_cycles` bounds how far two cores'
//! clocks may disagree).
//!
//! **Verdicts** come from the history checker (`crate::check`):
//! linearizability key by key and sequential consistency over the whole
//! history, every interval widened by the run's skew bound.
//!
//! **Staleness** is the checker's measure (`crate::check::stale`): per
//! read, how many writes of its key it missed (completed before it began,
//! begun after the write it returned completed) and how many cycles it
//! trails the newest of them.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result};
use serde::Serialize;

use super::anchors;
use super::output::Meta;
use super::records::{ConfigResult, RecordsError};
use crate::check::history::{History, Op as CheckOp};
use crate::check::outcome::{Deadline, Verdict};
use crate::check::{lin, seq, stale};

/// One operation of a history.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct HistoryOp {
    /// The core whose client ran it.
    pub core: u32,
    /// Whether it was a write.
    pub write: bool,
    /// The key.
    pub key: u64,
    /// What a read returned, or what a write wrote.
    pub value: u64,
    /// The core's TSC before the invocation.
    pub invoke: u64,
    /// The core's TSC at the completion.
    pub response: u64,
}

/// One `replica-point` record.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ReplicaPoint {
    /// Cores.
    pub cores: u32,
    /// `lin`, `seq` or `eventual`.
    pub model: String,
    /// Operations completed, all cores.
    pub ops: u64,
    /// Operations asked of each core.
    pub per_core: u64,
    /// Reads, all cores.
    pub reads: u64,
    /// Writes, all cores.
    pub writes: u64,
    /// Median cycles per read (median over cores).
    pub read_median: f64,
    /// Largest per-core 99th percentile of reads.
    pub read_p99: f64,
    /// Median cycles per write.
    pub write_median: f64,
    /// Largest per-core 99th percentile of writes.
    pub write_p99: f64,
    /// Operations per million cycles, all cores.
    pub tput: f64,
}

/// One `exp-skew` record.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct SkewRow {
    /// Cores in the configuration.
    pub cores: u32,
    /// The core measured against core 0.
    pub core: u32,
    /// Its TSC less core 0's, cycles.
    pub offset: i64,
    /// The round trip of the kept round, cycles.
    pub rtt: u64,
}

/// E7's results of one configuration.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ConsistencyResult {
    /// The bound on the TSC skew (`exp-start`'s `tsc_skew_cycles`).
    pub tsc_skew_cycles: u64,
    /// Per-core skews.
    pub skews: Vec<SkewRow>,
    /// One row per model.
    pub points: Vec<ReplicaPoint>,
    /// Each model's history, in record order.
    #[serde(skip)]
    pub histories: BTreeMap<String, Vec<HistoryOp>>,
}

/// Checks, once a configuration's records are read, that every model's
/// history holds each core's operations.
pub fn check_complete(cores: u32, out: &ConsistencyResult) -> Result<(), RecordsError> {
    for p in &out.points {
        let history = out.histories.get(&p.model).map_or(&[][..], Vec::as_slice);
        for core in 0..cores {
            let found = history.iter().filter(|o| o.core == core).count() as u64;
            if found != p.per_core {
                return Err(RecordsError::HistoryIncomplete {
                    cores,
                    model: p.model.clone(),
                    core,
                    found,
                    expected: p.per_core,
                });
            }
        }
    }
    Ok(())
}

/// A history as the checker reads it (see the module documentation).
pub fn history_csv(history: &[HistoryOp]) -> String {
    let mut out = String::from("core,op,key,value,invoke,response\n");
    for o in history {
        let op = if o.write { "write" } else { "read" };
        let _ = writeln!(
            out,
            "{},{op},{},{},{},{}",
            o.core, o.key, o.value, o.invoke, o.response
        );
    }
    out
}

/// What the history checker said of one history.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdicts {
    /// No checker ran.
    Unchecked,
    /// The checker's answers.
    Checked {
        /// Whether the history is linearizable (`None`: not decided).
        linearizable: Option<bool>,
        /// Whether it is sequentially consistent (`None`: not decided).
        sequential: Option<bool>,
        /// Operations in the minimal linearizability counterexample.
        counterexample: Option<usize>,
    },
}

impl Verdicts {
    /// `yes`, `no` or `unchecked` for linearizability.
    pub fn linearizable(&self) -> &'static str {
        match self {
            Verdicts::Checked {
                linearizable: Some(v),
                ..
            } => yes_no(*v),
            _ => "unchecked",
        }
    }

    /// `yes`, `no` or `unchecked` for sequential consistency.
    pub fn sequential(&self) -> &'static str {
        match self {
            Verdicts::Checked {
                sequential: Some(v),
                ..
            } => yes_no(*v),
            _ => "unchecked",
        }
    }
}

fn yes_no(v: bool) -> &'static str {
    if v { "yes" } else { "no" }
}

/// The history as the checker takes it.
fn to_check(history: &[HistoryOp]) -> History {
    History::new(
        history
            .iter()
            .map(|o| {
                let make = if o.write {
                    CheckOp::write
                } else {
                    CheckOp::read
                };
                make(o.core, o.key, o.value, o.invoke, o.response)
            })
            .collect(),
    )
}

/// Seconds each model's check may take before it gives up.
const CHECK_SECONDS: u64 = 60;

/// The history checker's verdicts on `history`, every interval widened by
/// `skew` cycles of clock uncertainty between cores (`None` where a check
/// gave up after [`CHECK_SECONDS`]).
pub fn verdicts(history: &[HistoryOp], skew: u64) -> Verdicts {
    let h = to_check(history);
    let limit = Duration::from_secs(CHECK_SECONDS);
    let decided = |v: &Verdict| match v {
        Verdict::Holds => Some(true),
        Verdict::Violated(_) => Some(false),
        Verdict::GaveUp(_) => None,
    };
    let lin = lin::check(&h, skew, &Deadline::new(limit)).verdict;
    Verdicts::Checked {
        linearizable: decided(&lin),
        sequential: decided(&seq::check(&h, &Deadline::new(limit)).verdict),
        counterexample: match &lin {
            Verdict::Violated(c) => Some(c.ops.len()),
            _ => None,
        },
    }
}

/// Staleness of a history's reads (see the module documentation).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Staleness {
    /// Reads looked at.
    pub reads: u64,
    /// Reads that returned a value no write wrote (0 in a correct run).
    pub unknown: u64,
    /// Median, 99th percentile and largest versions behind.
    pub versions: (u64, u64, u64),
    /// Median, 99th percentile and largest cycles behind.
    pub cycles: (u64, u64, u64),
}

/// Measures the staleness of every read of `history` with a skew bound
/// of `skew` cycles (the checker's measure, `crate::check::stale`).
pub fn staleness(history: &[HistoryOp], skew: u64) -> Staleness {
    let m = stale::measure(&to_check(history), skew);
    let (v, c) = (m.versions(), m.lag());
    Staleness {
        reads: (m.reads.len() + m.unexplained) as u64,
        unknown: m.unexplained as u64,
        versions: (v.median, v.p99, v.max),
        cycles: (c.median, c.p99, c.max),
    }
}

/// One run's derived figures: its staleness and the checker's verdicts.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RunCheck {
    /// Cores.
    pub cores: u32,
    /// The model.
    pub model: String,
    /// Operations in the history.
    pub ops: u64,
    /// The history file, relative to the results directory.
    pub history: String,
    /// The skew bound passed to the checker.
    pub tsc_skew_cycles: u64,
    /// Whether the replicas converged (always, or the run failed).
    pub converged: bool,
    /// Staleness of the reads.
    pub staleness: Staleness,
    /// The checker's verdicts.
    pub verdicts: Verdicts,
}

/// Writes every run's history into `dir` and checks it; returns the runs
/// in configuration and model order.
pub fn write_and_check(dir: &Path, configs: &[ConfigResult]) -> Result<Vec<RunCheck>> {
    let mut runs = Vec::new();
    for c in configs {
        let skew = c.consistency.tsc_skew_cycles;
        for p in &c.consistency.points {
            let history = c
                .consistency
                .histories
                .get(&p.model)
                .map_or(&[][..], Vec::as_slice);
            let name = format!("history-{}-{}.csv", p.model, c.cores);
            let path: PathBuf = dir.join(&name);
            std::fs::write(&path, history_csv(history))
                .with_context(|| format!("writing {}", path.display()))?;
            runs.push(RunCheck {
                cores: c.cores,
                model: p.model.clone(),
                ops: history.len() as u64,
                history: name,
                tsc_skew_cycles: skew,
                converged: true,
                staleness: staleness(history, skew),
                verdicts: verdicts(history, skew),
            });
        }
    }
    Ok(runs)
}

fn run_of<'a>(runs: &'a [RunCheck], cores: u32, model: &str) -> Option<&'a RunCheck> {
    runs.iter().find(|r| r.cores == cores && r.model == model)
}

/// The CSV of E7: one row per configuration and model.
pub fn consistency_csv(meta: &Meta, configs: &[ConfigResult], runs: &[RunCheck]) -> String {
    let mut out = String::from(
        "experiment,ring,accel,cores,model,ops,reads,writes,read_median,read_p99,write_median,write_p99,tput_per_mcycle,stale_versions_median,stale_versions_p99,stale_versions_max,stale_cycles_median,stale_cycles_p99,stale_cycles_max,unknown_reads,converged,linearizable,sequential,tsc_skew_cycles,tsc_hz\n",
    );
    for c in configs {
        for p in &c.consistency.points {
            let run = run_of(runs, c.cores, &p.model);
            let s = run.map(|r| r.staleness).unwrap_or_default();
            let v = run.map_or(Verdicts::Unchecked, |r| r.verdicts);
            let _ = writeln!(
                out,
                "consistency,{},{},{},{},{},{},{},{:.2},{:.2},{:.2},{:.2},{:.2},{},{},{},{},{},{},{},1,{},{},{},{}",
                meta.ring_text(),
                meta.accelerator,
                c.cores,
                p.model,
                p.ops,
                p.reads,
                p.writes,
                p.read_median,
                p.read_p99,
                p.write_median,
                p.write_p99,
                p.tput,
                s.versions.0,
                s.versions.1,
                s.versions.2,
                s.cycles.0,
                s.cycles.1,
                s.cycles.2,
                s.unknown,
                v.linearizable(),
                v.sequential(),
                c.consistency.tsc_skew_cycles,
                c.tsc_hz
            );
        }
    }
    out
}

/// The rank of a model in legends and tables.
fn rank(model: &str) -> usize {
    ["lin", "seq", "eventual"]
        .iter()
        .position(|m| *m == model)
        .unwrap_or(usize::MAX)
}

/// The E7 plot: median latency against cores, a line per model and kind
/// of operation (log scale).
pub fn consistency_svg(title: &str, configs: &[ConfigResult]) -> Result<String> {
    let mut lines: BTreeMap<(usize, String), Vec<(f64, f64)>> = BTreeMap::new();
    for c in configs {
        for p in &c.consistency.points {
            for (i, kind, v, n) in [
                (0, "read", p.read_median, p.reads),
                (1, "write", p.write_median, p.writes),
            ] {
                if n > 0 {
                    lines
                        .entry((2 * rank(&p.model) + i, format!("{} {kind}", p.model)))
                        .or_default()
                        .push((f64::from(c.cores), v));
                }
            }
        }
    }
    let max_cores = configs.iter().map(|c| c.cores).max().unwrap_or(1);
    super::plot::log_lines_svg(title, "median cycles per operation (log)", lines, max_cores)
}

/// The E7 terminal report: a table per core count, the checker's lines,
/// the fastest model at each core count, and the anchors.
pub fn consistency_report(configs: &[ConfigResult], runs: &[RunCheck]) -> String {
    let mut out = String::new();
    for c in configs {
        let _ = writeln!(
            out,
            "{} cores (TSC skew bound {} cycles):",
            c.cores, c.consistency.tsc_skew_cycles
        );
        let _ = writeln!(
            out,
            "  {:<9} {:>10} {:>10} {:>10} {:>10} {:>11} {:>13}",
            "model", "read", "read p99", "write", "write p99", "ops/Mcycle", "stale p99/max"
        );
        for p in &c.consistency.points {
            let s = run_of(runs, c.cores, &p.model)
                .map(|r| r.staleness)
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "  {:<9} {:>10.2} {:>10.2} {:>10.2} {:>10.2} {:>11.2} {:>13}",
                p.model,
                p.read_median,
                p.read_p99,
                p.write_median,
                p.write_p99,
                p.tput,
                format!("{}/{}", s.versions.1, s.versions.2)
            );
        }
    }
    for r in runs {
        let size = match r.verdicts {
            Verdicts::Checked {
                counterexample: Some(n),
                ..
            } => format!(" counterexample={n}"),
            _ => String::new(),
        };
        let _ = writeln!(
            out,
            "check model={} cores={} ops={} linearizable={}{size} sequential={}",
            r.model,
            r.cores,
            r.ops,
            r.verdicts.linearizable(),
            r.verdicts.sequential()
        );
    }
    let _ = writeln!(out, "{}", fastest_line(configs));
    let _ = writeln!(out, "{}", anchors::nr_line());
    let _ = writeln!(out, "{}", anchors::porcupine_line());
    out
}

/// What the runs say about each model's promise: the lines of runs that
/// broke it (a linearizable run the checker rejects, a sequential run not
/// sequentially consistent), and notes (an eventual run on several cores
/// that the checker accepts: the negative control did not show).
pub fn promises(runs: &[RunCheck]) -> (Vec<String>, Vec<String>) {
    let (mut broken, mut notes) = (Vec::new(), Vec::new());
    for r in runs {
        let v = &r.verdicts;
        let at = format!("model={} cores={}", r.model, r.cores);
        match r.model.as_str() {
            "lin" if v.linearizable() != "yes" => broken.push(format!(
                "{at}: the history is not shown linearizable (linearizable={}); see {}",
                v.linearizable(),
                r.history
            )),
            "seq" if v.sequential() != "yes" => broken.push(format!(
                "{at}: the history is not shown sequentially consistent (sequential={}); see {}",
                v.sequential(),
                r.history
            )),
            "eventual" if r.cores > 1 && v.linearizable() == "yes" => notes.push(format!(
                "{at}: linearizable=yes, so this run's negative control did not show (no read saw a stale value)"
            )),
            _ => {}
        }
    }
    (broken, notes)
}

/// One line: the model with the highest throughput at each core count.
pub fn fastest_line(configs: &[ConfigResult]) -> String {
    let parts: Vec<String> = configs
        .iter()
        .filter_map(|c| {
            c.consistency
                .points
                .iter()
                .max_by(|a, b| a.tput.total_cmp(&b.tput))
                .map(|p| format!("{} cores {} ({:.2} ops/Mcycle)", c.cores, p.model, p.tput))
        })
        .collect();
    format!("fastest model: {}", parts.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exp::output::tests::meta;
    use crate::exp::records::{from_lines, parse};
    use services::exp::ExpKind;

    fn op(core: u32, write: bool, key: u64, value: u64, invoke: u64, response: u64) -> HistoryOp {
        HistoryOp {
            core,
            write,
            key,
            value,
            invoke,
            response,
        }
    }

    /// A complete two-core run of one model with two operations per core.
    fn lines(converged: u8) -> Vec<String> {
        let mut l = vec![
            "[core 0] @flotilla/1 exp-start exp=consistency cores=2 quick=1 rounds=1 ops=2 keys=8 writes=50 models=lin points=1 skew_rounds=16 tsc_skew_cycles=60 timer_resolution=24 tsc_overhead=40 tsc_hz=2800000000 args=exp=consistency,quick,ops=2,models=lin".to_owned(),
            "[core 0] @flotilla/1 exp-skew core=1 offset=-20 rtt=80 bound=60".to_owned(),
            "[core 0] @flotilla/1 replica-op model=lin core=0 op=w key=3 value=1 invoke=1000 response=2000".to_owned(),
            "[core 1] @flotilla/1 replica-op model=lin core=1 op=r key=3 value=0 invoke=1100 response=1200".to_owned(),
            "[core 0] @flotilla/1 replica-op model=lin core=0 op=r key=3 value=1 invoke=2100 response=2200".to_owned(),
            "[core 1] @flotilla/1 replica-op model=lin core=1 op=r key=3 value=1 invoke=3000 response=3100".to_owned(),
        ];
        l.push(format!("[core 0] @flotilla/1 replica-point model=lin cores=2 ops=4 per_core=2 min_core=2 reads=3 writes=1 read_median=100.00 read_p99=100.00 write_median=1000.00 write_p99=1000.00 cycles=2100 tput=1904.76 digest=00000000000000ab converged={converged}"));
        l.push("[core 0] @flotilla/1 exp-done exp=consistency cores=2 ok=1".to_owned());
        l
    }

    #[test]
    fn records_become_points_histories_and_files() {
        let c = parse(ExpKind::Consistency, 2, &from_lines(&lines(1))).unwrap();
        let e7 = &c.consistency;
        assert_eq!(e7.tsc_skew_cycles, 60);
        assert_eq!(
            e7.skews,
            [SkewRow {
                cores: 2,
                core: 1,
                offset: -20,
                rtt: 80
            }]
        );
        assert_eq!(e7.points.len(), 1);
        assert_eq!(e7.points[0].tput, 1904.76);
        let history = &e7.histories["lin"];
        assert_eq!(history.len(), 4);
        let csv = history_csv(history);
        let rows: Vec<&str> = csv.lines().collect();
        assert_eq!(rows[0], "core,op,key,value,invoke,response");
        assert_eq!(rows[1], "0,write,3,1,1000,2000");
        assert_eq!(rows[2], "1,read,3,0,1100,1200");
        let dir = std::env::temp_dir().join(format!("flotilla-e7-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let runs = write_and_check(&dir, std::slice::from_ref(&c)).unwrap();
        assert_eq!(runs.len(), 1);
        // Core 1's read of 0 overlaps core 0's write of 1.
        assert_eq!(
            runs[0].verdicts,
            Verdicts::Checked {
                linearizable: Some(true),
                sequential: Some(true),
                counterexample: None
            }
        );
        let written = std::fs::read_to_string(dir.join("history-lin-2.csv")).unwrap();
        assert_eq!(written, csv);
        std::fs::remove_dir_all(&dir).unwrap();
        let table = consistency_csv(&meta("consistency"), std::slice::from_ref(&c), &runs);
        let rows: Vec<&str> = table.lines().collect();
        assert_eq!(rows.len(), 2);
        let width = rows[0].split(',').count();
        assert_eq!(rows[1].split(',').count(), width, "{table}");
        assert!(rows[1].contains(",1,yes,yes,60,"), "{table}");
        let svg = consistency_svg("e7", std::slice::from_ref(&c)).unwrap();
        assert!(svg.contains("lin read") && svg.contains("lin write"));
        let report = consistency_report(std::slice::from_ref(&c), &runs);
        assert!(
            report.contains("check model=lin cores=2 ops=4 linearizable=yes sequential=yes"),
            "{report}"
        );
        assert!(report.contains("fastest model: 2 cores lin"), "{report}");
        assert!(report.contains("Calciu") && report.contains("Porcupine"));
    }

    #[test]
    fn a_divergence_or_a_missing_operation_makes_the_run_unusable() {
        assert_eq!(
            parse(ExpKind::Consistency, 2, &from_lines(&lines(0))),
            Err(RecordsError::Diverged {
                cores: 2,
                model: "lin".into()
            })
        );
        let mut l = lines(1);
        l.remove(5);
        assert!(matches!(
            parse(ExpKind::Consistency, 2, &from_lines(&l)),
            Err(RecordsError::HistoryIncomplete {
                core: 1,
                found: 1,
                expected: 2,
                ..
            })
        ));
        let mut l = lines(1);
        l[2] = l[2].replace("op=w", "op=x");
        assert!(matches!(
            parse(ExpKind::Consistency, 2, &from_lines(&l)),
            Err(RecordsError::BadField { key: "op", .. })
        ));
    }

    #[test]
    fn a_model_that_breaks_its_promise_fails_and_a_silent_control_is_noted() {
        let run = |model: &str, cores, lin, seq| RunCheck {
            cores,
            model: model.into(),
            ops: 10,
            history: format!("history-{model}-{cores}.csv"),
            tsc_skew_cycles: 0,
            converged: true,
            staleness: Staleness::default(),
            verdicts: Verdicts::Checked {
                linearizable: lin,
                sequential: seq,
                counterexample: None,
            },
        };
        let good = [
            run("lin", 2, Some(true), Some(true)),
            run("seq", 2, Some(false), Some(true)),
            run("eventual", 2, Some(false), Some(false)),
            run("eventual", 1, Some(true), Some(true)),
        ];
        assert_eq!(promises(&good), (Vec::new(), Vec::new()));
        let bad = [
            run("lin", 2, Some(false), Some(true)),
            run("seq", 4, Some(false), None),
            run("eventual", 2, Some(true), Some(true)),
        ];
        let (broken, notes) = promises(&bad);
        assert_eq!(broken.len(), 2, "{broken:?}");
        assert!(broken[0].starts_with("model=lin cores=2"), "{broken:?}");
        assert!(broken[1].contains("sequential=unchecked"), "{broken:?}");
        assert_eq!(notes.len(), 1, "{notes:?}");
    }

    #[test]
    fn staleness_counts_writes_surely_between() {
        // Writes 1 and 2 of key 5 complete; a read long after returns 1:
        // one version behind, since write 2's response.
        let h = [
            op(0, true, 5, 1, 0, 100),
            op(0, true, 5, 2, 1000, 1100),
            op(1, false, 5, 1, 5000, 5100),
            op(1, false, 5, 2, 6000, 6100),
            op(1, false, 5, 0, 50, 60),
            op(1, false, 5, 77, 7000, 7100),
        ];
        let s = staleness(&h, 10);
        assert_eq!(s.reads, 4);
        assert_eq!(s.unknown, 1);
        assert_eq!(s.versions, (0, 1, 1));
        assert_eq!(s.cycles.2, 5000 - 1100);
        // A skew bound wider than the gaps hides the staleness.
        assert_eq!(staleness(&h, 10_000).versions, (0, 0, 0));
        assert_eq!(staleness(&[], 0), Staleness::default());
    }
}
