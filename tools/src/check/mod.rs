//! `flotilla check`: is a recorded E7 history linearizable, sequentially
//! consistent, and how stale are its reads?
//!
//! ```text
//! cargo run --release -- check results/e7/<run>/history.csv --model both --meta results/e7/<run>/meta.json
//! ```
//!
//! The input is `history.csv` ([`history`]): one row per completed
//! operation on a map of `u64` registers, every key starting at 0. Every
//! interval is widened by the TSC skew between cores (`--skew N`, or
//! `tsc_skew_cycles` from `--meta meta.json`) before real time is used.
//!
//! - [`lin`]: linearizability, key by key (it is local), with the
//!   Wing–Gong–Lowe search; why no crate is used is told there.
//! - [`seq`]: sequential consistency, which is not local: a fast
//!   sufficient check, a fast necessary one, then a search of the whole
//!   history; what each proves is told there.
//! - [`stale`]: how many versions and cycles each read is behind.
//! - [`shrink`]: a failing set cut down until no operation can be dropped.
//! - [`report`]: the output lines; [`generate`]: random histories with known
//!   answers; [`model`]: the register specification.
//!
//! Exit status: 0 when every model checked holds, 1 when one does not, 2
//! for bad input (the error names the line and field), 3 when a check ran
//! out of time (`--timeout-s`, per model) without an answer.

pub mod generate;
pub mod hash;
pub mod history;
pub mod lin;
pub mod model;
pub mod outcome;
pub mod report;
pub mod seq;
pub mod shrink;
pub mod stale;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::{Args, ValueEnum};

use history::History;
use outcome::Deadline;
use report::ModelName;

/// Which models `flotilla check` checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Models {
    /// Linearizability.
    Lin,
    /// Sequential consistency.
    Seq,
    /// Both.
    Both,
}

/// Options of `flotilla check`.
#[derive(Args, Debug, Clone)]
pub struct CheckArgs {
    /// The history: `history.csv` with header `core,op,key,value,invoke,response`.
    pub history: PathBuf,
    /// The consistency model(s) to check.
    #[arg(long, value_enum, default_value_t = Models::Both)]
    pub model: Models,
    /// TSC skew bound between cores, in cycles: every interval is widened
    /// by this much on each side.
    #[arg(long, conflicts_with = "meta")]
    pub skew: Option<u64>,
    /// Read the skew from this `meta.json`: the `tsc_skew_cycles` of the run
    /// that wrote the history (by file name, else by core count), else the
    /// largest.
    #[arg(long)]
    pub meta: Option<PathBuf>,
    /// Give up a model's check after this many seconds (exit status 3).
    #[arg(long, default_value_t = 60.0)]
    pub timeout_s: f64,
}

/// Runs `flotilla check` and prints its report.
pub fn main(args: &CheckArgs) -> Result<ExitCode> {
    let limit = Duration::try_from_secs_f64(args.timeout_s)
        .ok()
        .filter(|d| !d.is_zero())
        .with_context(|| {
            format!(
                "--timeout-s {}: expected a positive number of seconds",
                args.timeout_s
            )
        })?;
    let history = History::load(&args.history)?;
    let skew = match (&args.meta, args.skew) {
        (Some(meta), _) => history::skew_from_meta(meta, &args.history, &history)?,
        (None, Some(skew)) => skew,
        (None, None) => 0,
    };
    if history.ops.len() > u32::MAX as usize / 2 {
        bail!("{}: too many operations", args.history.display());
    }
    let keys = history.keys();
    let skew_note = if skew > 0 {
        format!(", intervals widened by {skew} cycles")
    } else {
        String::new()
    };
    let mut verdicts = Vec::new();
    if matches!(args.model, Models::Lin | Models::Both) {
        let report = lin::check(&history, skew, &Deadline::new(limit));
        println!(
            "{}",
            report::verdict_line(ModelName::Lin, &history, keys, &report.verdict)
        );
        let note = if report.failing_keys > 1 {
            format!(
                "{skew_note}; {} keys fail, the smallest shown",
                report.failing_keys
            )
        } else {
            skew_note.clone()
        };
        for line in report::details(ModelName::Lin, &history, &report.verdict, &note) {
            println!("{line}");
        }
        verdicts.push(report.verdict);
    }
    if matches!(args.model, Models::Seq | Models::Both) {
        let report = seq::check(&history, &Deadline::new(limit));
        println!(
            "{}",
            report::verdict_line(ModelName::Seq, &history, keys, &report.verdict)
        );
        let note = format!("; found by {}", report.method.describe());
        for line in report::details(ModelName::Seq, &history, &report.verdict, &note) {
            println!("{line}");
        }
        verdicts.push(report.verdict);
    }
    println!(
        "{}",
        report::staleness_line(&stale::measure(&history, skew))
    );
    let refs: Vec<&outcome::Verdict> = verdicts.iter().collect();
    Ok(ExitCode::from(report::exit_status(&refs)))
}

/// Why a history fails a model, for callers that check many histories
/// (the simulator): one sentence and the counterexample's rows.
pub type Failure = (String, Vec<String>);

/// A check that found no violation: it proved the model, or it ran out of
/// time (saying so).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decided {
    /// The model holds.
    Holds,
    /// The check gave up; the sentence says after how long.
    GaveUp(String),
}

fn failure(
    model: ModelName,
    history: &History,
    verdict: outcome::Verdict,
) -> Result<Decided, Failure> {
    match verdict {
        outcome::Verdict::Holds => Ok(Decided::Holds),
        outcome::Verdict::GaveUp(g) => {
            Ok(Decided::GaveUp(format!("the {} check {g}", model.name())))
        }
        outcome::Verdict::Violated(c) => {
            let rows = c.ops.iter().map(|&i| history.ops[i].row()).collect();
            let on = c.key.map_or(String::new(), |k| format!(" on key {k}"));
            Err((
                format!(
                    "not {}{on}: {} operations cannot be ordered",
                    model.property(),
                    c.ops.len()
                ),
                rows,
            ))
        }
    }
}

/// Checks `history` for linearizability (intervals widened by `skew`).
pub fn verdict_lin(history: &History, skew: u64, deadline: &Deadline) -> Result<Decided, Failure> {
    failure(
        ModelName::Lin,
        history,
        lin::check(history, skew, deadline).verdict,
    )
}

/// Checks `history` for sequential consistency.
pub fn verdict_seq(history: &History, deadline: &Deadline) -> Result<Decided, Failure> {
    failure(
        ModelName::Seq,
        history,
        seq::check(history, deadline).verdict,
    )
}
