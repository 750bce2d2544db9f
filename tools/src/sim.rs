//! `flotilla sim`: many seeds of one protocol in the deterministic
//! simulator (`services::platforms::sim`), with faults, each run checked
//! after every step and, for the replicated map, its history checked by
//! the history checker ([`crate::check`]).
//!
//! ```text
//! cargo run --release -- sim --protocol replica --model lin --cores 4 --seeds 10000 --faults delay,stall,lost-notify
//! ```
//!
//! The last line is `sim: N seeds, 0 violations` (exit 0), or, at the
//! first violation, the seed, the end of its trace, the counterexample and
//! the command that replays it (exit 1). `--seed S` runs (replays) one
//! seed and prints its whole trace on a violation. Bad options exit 2. A
//! run in which no violation was found but a history check gave up (SC
//! checking is NP-complete) ends `..., K histories unchecked` with exit 3.
//! Seeds run on every host CPU; which seed fails first does not depend on
//! how many.

use std::process::ExitCode;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Instant;

use anyhow::{Result, bail};
use clap::{Args, ValueEnum};
use services::platforms::sim::scenario::HistoryOp;
use services::platforms::sim::{self, Faults, Inject, Protocol, SeedRun, Spec, Step, Traced};
use services::proto::barrier::BarrierKind;
use services::proto::lock::LockKind;
use services::proto::replica::{Model, Op};

use crate::check::Decided;
use crate::check::history::{History, Op as CheckOp};
use crate::check::outcome::Deadline;

/// Which protocol `flotilla sim` runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ProtocolName {
    /// The replicated key-value map (`--model`).
    Replica,
    /// A message barrier (`--kind msg-central|msg-tree|msg-dissemination`).
    Barrier,
    /// A message lock (`--kind msg-server|msg-token|msg-delegation|msg-queue`).
    Lock,
    /// E2's update server and its clients.
    Update,
    /// The mesh of channels.
    Mesh,
    /// Spawning programs on other cores (`--ops` requests from core 0).
    Spawn,
}

/// Options of `flotilla sim`.
#[derive(Args, Debug, Clone)]
pub struct SimArgs {
    /// The protocol.
    #[arg(long, value_enum)]
    pub protocol: ProtocolName,
    /// Replica: the consistency model (`lin`, `seq`, `eventual`).
    #[arg(long, default_value = "lin")]
    pub model: String,
    /// Barrier or lock: the kind (default: the first of its list).
    #[arg(long)]
    pub kind: Option<String>,
    /// Cores.
    #[arg(long, default_value_t = 4)]
    pub cores: u32,
    /// Seeds to run (0, 1, 2, ...), unless `--seed` is given.
    #[arg(long, default_value_t = 1000)]
    pub seeds: u64,
    /// Run (replay) this one seed and print its whole trace on a violation.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Faults, comma separated: delay, stall, lost-notify, fail (or none).
    #[arg(long, default_value = "delay,stall,lost-notify")]
    pub faults: String,
    /// Operations (replica), episodes (barrier), acquisitions (lock) or
    /// updates (update) per core.
    #[arg(long, default_value_t = 12)]
    pub ops: u32,
    /// A deliberately broken variant: early-reply, commit-short (replica
    /// lin), barrier-early (barrier), lock-forgets (lock),
    /// spawn-hides-end (spawn), update-loses (update).
    #[arg(long)]
    pub inject: Option<String>,
    /// Replica (lin): do not check at each write's completion that every
    /// replica holds it; leave the finding to the history checker.
    #[arg(long)]
    pub history_only: bool,
    /// Give up a history's check after this many seconds.
    #[arg(long, default_value_t = 10.0)]
    pub check_timeout_s: f64,
}

/// The most cores a simulated run takes.
const MAX_CORES: u32 = 255;
/// Trace lines shown at a violation found in a batch.
const SHOWN: usize = 40;

fn spec_of(args: &SimArgs) -> Result<Spec> {
    if !(args.check_timeout_s.is_finite() && args.check_timeout_s > 0.0) {
        bail!(
            "--check-timeout-s {}: expected a positive number of seconds",
            args.check_timeout_s
        );
    }
    if args.cores == 0 || args.cores > MAX_CORES {
        bail!("--cores {} is outside 1..={MAX_CORES}", args.cores);
    }
    let faults = Faults::parse(&args.faults).map_err(|e| anyhow::anyhow!("--faults: {e}"))?;
    let kind_list = |names: &[&str]| names.join(", ");
    let protocol = match args.protocol {
        ProtocolName::Replica => match Model::from_name(&args.model) {
            Some(m) => Protocol::Replica(m),
            None => bail!(
                "--model `{}` is not a model (accepted: {})",
                args.model,
                kind_list(&Model::ALL.map(Model::name))
            ),
        },
        ProtocolName::Barrier => {
            let all = [
                BarrierKind::Central,
                BarrierKind::Tree,
                BarrierKind::Dissemination,
            ];
            let name = args.kind.as_deref().unwrap_or(all[0].name());
            match BarrierKind::from_name(name) {
                Some(k) => Protocol::Barrier(k),
                None => bail!(
                    "--kind `{name}` is not a barrier (accepted: {})",
                    kind_list(&all.map(BarrierKind::name))
                ),
            }
        }
        ProtocolName::Lock => {
            let name = args.kind.as_deref().unwrap_or(LockKind::ALL[0].name());
            match LockKind::from_name(name) {
                Some(k) => Protocol::Lock(k),
                None => bail!(
                    "--kind `{name}` is not a lock (accepted: {})",
                    kind_list(&LockKind::ALL.map(LockKind::name))
                ),
            }
        }
        ProtocolName::Update => Protocol::Update,
        ProtocolName::Mesh => Protocol::Mesh,
        ProtocolName::Spawn => Protocol::Spawn,
    };
    if args.kind.is_some() && !matches!(args.protocol, ProtocolName::Barrier | ProtocolName::Lock) {
        bail!("--kind is for --protocol barrier or lock");
    }
    let inject = match args.inject.as_deref() {
        None => None,
        Some(name) => match Inject::from_name(name) {
            Some(i) => Some(i),
            None => bail!(
                "--inject `{name}` is not a known bug (accepted: {})",
                kind_list(&Inject::ALL.map(|(_, n)| n))
            ),
        },
    };
    let spec = Spec {
        protocol,
        cores: args.cores,
        faults,
        ops: args.ops,
        inject,
        write_check: !args.history_only,
    };
    spec.validate()
        .map_err(|e| anyhow::anyhow!("--inject: {e}"))?;
    Ok(spec)
}

/// What was wrong with one seed.
#[derive(Debug, Clone)]
struct Failure {
    seed: u64,
    what: String,
    counterexample: Vec<String>,
    trace: Vec<Traced>,
}

/// The history of a run as the checker takes it (a write that never
/// completed is open to the end of time).
fn to_check(history: &[HistoryOp]) -> History {
    History::new(
        history
            .iter()
            .map(|h| match h.op {
                Op::Read { key } => CheckOp::read(h.core, key, h.value, h.invoke, h.response),
                Op::Write { key, value } => {
                    CheckOp::write(h.core, key, value, h.invoke, h.response)
                }
            })
            .collect(),
    )
}

/// Whether the history of an eventual run is linearizable (the negative
/// control: the model does not promise it).
fn eventual_linearizable(run: &SeedRun, timeout_s: f64) -> bool {
    let deadline = Deadline::new(std::time::Duration::from_secs_f64(timeout_s));
    crate::check::verdict_lin(&to_check(&run.history), 0, &deadline) == Ok(Decided::Holds)
}

/// What one seed's run came to.
enum Judgement {
    /// Every check passed.
    Pass,
    /// No violation, but the history check gave up.
    Unchecked,
    /// A violation: what broke, and the counterexample's rows.
    Fail(String, Vec<String>),
}

/// Checks one seed's run: its own invariants, then its history under the
/// model's promise.
fn judge(spec: &Spec, run: &SeedRun, timeout_s: f64) -> Judgement {
    if let Some(v) = &run.outcome.violation {
        return Judgement::Fail(v.what.clone(), Vec::new());
    }
    let Protocol::Replica(model) = spec.protocol else {
        return Judgement::Pass;
    };
    let history = to_check(&run.history);
    let deadline = Deadline::new(std::time::Duration::from_secs_f64(timeout_s));
    let verdict = match model {
        Model::Lin => crate::check::verdict_lin(&history, 0, &deadline),
        Model::Seq => crate::check::verdict_seq(&history, &deadline),
        Model::Eventual => return Judgement::Pass,
    };
    match verdict {
        Ok(Decided::Holds) => Judgement::Pass,
        Ok(Decided::GaveUp(_)) => Judgement::Unchecked,
        Err((what, rows)) => Judgement::Fail(format!("{} history: {what}", model.name()), rows),
    }
}

/// One seed's result.
struct SeedResult {
    failure: Option<Failure>,
    /// Eventual model: whether its history is linearizable.
    linearizable: bool,
    /// Whether the history check gave up.
    unchecked: bool,
}

/// Runs one seed.
fn failure(spec: &Spec, seed: u64, timeout_s: f64) -> SeedResult {
    let run = sim::run_seed(spec, seed);
    let linearizable = spec.protocol == Protocol::Replica(Model::Eventual)
        && eventual_linearizable(&run, timeout_s);
    let (failure, unchecked) = match judge(spec, &run, timeout_s) {
        Judgement::Pass => (None, false),
        Judgement::Unchecked => (None, true),
        Judgement::Fail(what, counterexample) => (
            Some(Failure {
                seed,
                what,
                counterexample,
                trace: run.outcome.trace.iter().copied().collect(),
            }),
            false,
        ),
    };
    SeedResult {
        failure,
        linearizable,
        unchecked,
    }
}

fn show_step(t: &Traced) -> String {
    let what = match t.step {
        Step::Start => "starts".to_string(),
        Step::Deliver { from, via, tag } => {
            let proto = services::wire::range_of(tag).map_or("?", |r| r.name);
            format!(
                "takes {proto} tag {tag:#06x} from core {from} ({})",
                via.name()
            )
        }
        Step::Timer => "timer (client or monitor work)".to_string(),
        Step::Stopped { until: u64::MAX } => "is stopped for good".to_string(),
        Step::Stopped { until } => format!("is stopped until cycle {until}"),
        Step::LostNotify => "loses a notification".to_string(),
        Step::TimedOut => "wakes: its wait timed out".to_string(),
    };
    format!("  cycle {:>10}  core {:>3}  {what}", t.at, t.core)
}

fn replay_command(args: &SimArgs, seed: u64) -> String {
    let mut cmd = format!(
        "cargo run --release -- sim --protocol {} --cores {} --faults {} --ops {}",
        args.protocol
            .to_possible_value()
            .map_or("?".into(), |v| v.get_name().to_string()),
        args.cores,
        if args.faults.is_empty() {
            "none"
        } else {
            &args.faults
        },
        args.ops
    );
    if args.protocol == ProtocolName::Replica {
        cmd += &format!(" --model {}", args.model);
    }
    if let Some(k) = &args.kind {
        cmd += &format!(" --kind {k}");
    }
    if let Some(i) = &args.inject {
        cmd += &format!(" --inject {i}");
    }
    if args.history_only {
        cmd += " --history-only";
    }
    cmd + &format!(" --seed {seed}")
}

fn report(args: &SimArgs, f: &Failure, all: bool) {
    println!("sim: violation at seed {}: {}", f.seed, f.what);
    if !f.counterexample.is_empty() {
        println!(
            "counterexample ({} operations that cannot be ordered):",
            f.counterexample.len()
        );
        println!("  core,op,key,value,invoke,response");
        for row in &f.counterexample {
            println!("  {row}");
        }
    }
    let skip = if all {
        0
    } else {
        f.trace.len().saturating_sub(SHOWN)
    };
    println!(
        "trace ({} of its last {} steps):",
        f.trace.len() - skip,
        f.trace.len()
    );
    for t in &f.trace[skip..] {
        println!("{}", show_step(t));
    }
    println!("replay: {}", replay_command(args, f.seed));
}

/// Runs `flotilla sim`.
pub fn main(args: &SimArgs) -> Result<ExitCode> {
    let spec = match spec_of(args) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(ExitCode::from(2));
        }
    };
    let faults = spec.faults.names();
    let faults = if faults.is_empty() {
        "none".to_string()
    } else {
        faults.join(",")
    };
    if let Some(seed) = args.seed {
        let started = Instant::now();
        let r = failure(&spec, seed, args.check_timeout_s);
        return Ok(match r.failure {
            Some(f) => {
                report(args, &f, true);
                ExitCode::from(1)
            }
            None if r.unchecked => {
                println!(
                    "sim: seed {seed}: no violation found, but the history check gave up after {} s (raise --check-timeout-s)",
                    args.check_timeout_s
                );
                ExitCode::from(3)
            }
            None => {
                println!(
                    "sim: seed {seed} ({} cores, faults {faults}) passed in {:.3} s",
                    args.cores,
                    started.elapsed().as_secs_f64()
                );
                ExitCode::SUCCESS
            }
        });
    }
    let started = Instant::now();
    let next = AtomicU64::new(0);
    let stop = AtomicBool::new(false);
    let failures: Mutex<Vec<Failure>> = Mutex::new(Vec::new());
    let done = AtomicU64::new(0);
    let linearizable = AtomicU64::new(0);
    let unchecked = AtomicU64::new(0);
    let bar = indicatif::ProgressBar::new(args.seeds).with_style(
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} seeds {per_sec}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                while !stop.load(Ordering::Relaxed) {
                    let seed = next.fetch_add(1, Ordering::Relaxed);
                    if seed >= args.seeds {
                        break;
                    }
                    let r = failure(&spec, seed, args.check_timeout_s);
                    if let Some(f) = r.failure {
                        stop.store(true, Ordering::Relaxed);
                        failures.lock().unwrap_or_else(|e| e.into_inner()).push(f);
                    }
                    linearizable.fetch_add(u64::from(r.linearizable), Ordering::Relaxed);
                    unchecked.fetch_add(u64::from(r.unchecked), Ordering::Relaxed);
                    done.fetch_add(1, Ordering::Relaxed);
                    bar.inc(1);
                }
            });
        }
    });
    bar.finish_and_clear();
    let secs = started.elapsed().as_secs_f64();
    let ran = done.load(Ordering::Relaxed);
    let mut failures = failures.into_inner().unwrap_or_else(|e| e.into_inner());
    failures.sort_by_key(|f| f.seed);
    let per_min = ran as f64 / secs.max(1e-9) * 60.0;
    match failures.first() {
        Some(f) => {
            report(args, f, false);
            println!(
                "sim: found after {} seeds ({ran} seeds run, {:.1} s, {threads} threads)",
                f.seed + 1,
                secs
            );
            Ok(ExitCode::from(1))
        }
        None => {
            if spec.protocol == Protocol::Replica(Model::Eventual) {
                let lin = linearizable.load(Ordering::Relaxed);
                println!(
                    "sim: {} of {ran} eventual histories are not linearizable (the model promises convergence, not that)",
                    ran - lin
                );
            }
            println!(
                "sim: {} cores, faults {faults}, {:.1} s, {:.0} seeds per minute on {threads} threads (hosted, simulated time)",
                args.cores, secs, per_min
            );
            let unchecked = unchecked.load(Ordering::Relaxed);
            if unchecked > 0 {
                println!(
                    "sim: {ran} seeds, 0 violations, {unchecked} histories unchecked (the check gave up after {} s; raise --check-timeout-s)",
                    args.check_timeout_s
                );
                return Ok(ExitCode::from(3));
            }
            println!("sim: {ran} seeds, 0 violations");
            Ok(ExitCode::SUCCESS)
        }
    }
}
