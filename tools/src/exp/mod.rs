//! `flotilla exp`: running the experiments and writing their results.
//!
//! ```text
//! cargo run -- exp urpc --cores 2                  # E1 in ring 3, one boot
//! cargo run -- exp update-cost --cores 1,2,4       # E2, one boot per core count
//! cargo run -- exp urpc --hosted --quick --cores 2 # on Linux threads, no QEMU
//! cargo run -- exp update-cost --args "k=1;8,series=shm;msg"
//! cargo run -- exp locks --cores 1,2,4,8 --cs-lines 4      # E5
//! cargo run -- exp barriers --cores 1,2,4,8                  # E6
//! cargo run -- exp consistency --cores 2,4,8 --models lin,seq,eventual  # E7
//! ```
//!
//! Each configuration (core count) boots the image once with the kernel
//! option `user=<request>` (the monitor's argument string: `exp=urpc,quick`
//! and so on, see `services::exp::request`), or with `--hosted` runs the same
//! experiment code in whole monitors on host threads (`services::platforms::hosted`). A configuration
//! counts only if its boot passed and its records are complete and
//! consistent ([`records::parse`]); otherwise the command fails and prints
//! the boot's failure report.
//!
//! Results go to `results/<experiment>/<UTC timestamp>/`:
//!
//! | file | contents |
//! |---|---|
//! | `<experiment>.csv` | one row per measured point: E1 per configuration, pair and variant; E2 per configuration, series and `k` |
//! | `<experiment>.svg` | the plot (drawn by the experiment's module over [`plot`]) |
//! | `records.log` | every experiment record, as printed (`[core N] @flotilla/1 ...`) |
//! | `history-<model>-<cores>.csv` | E7: every completed operation of one run, for the history checker ([`e7_consistency`]) |
//! | `meta.json` | [`output::Meta`]: git revision, QEMU version, accelerator and why, machine, host CPU, cores, TSC rate per configuration, timer step (`timer_resolution_cycles`) and operations per timed sample (`batch`), ring (`3` or `"hosted"`), quick or full, the request, conservation checks |
//!
//! The terminal summary (the experiment's module: [`e1_urpc`],
//! [`e2_update_cost`], [`e5_locks`], [`e6_barriers`], [`e7_consistency`]) prints a table and the
//! paper's anchor figures beside ours. An E1 run ends with the line
//! `urpc one-way / raw one-way = X.XX`: the median one-way latency of the
//! faster URPC variant over the raw ping-pong's, from the same run (the
//! last configuration).
//!
//! The structured records are documented in `services::exp`; this module
//! reads version 1 of the format.

pub mod anchors;
pub mod e1_urpc;
pub mod e2_update_cost;
pub mod e4_caps;
pub mod e5_locks;
pub mod e6_barriers;
pub mod e7_consistency;
pub mod output;
pub mod plot;
pub mod records;
mod rows;
pub mod summary;
pub mod sync;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::Args;
use qemu::{Accel, Machine, OwnedRecord, QemuConfig};
use services::exp::{ExpKind, Request};
use services::platforms::hosted::{self, PinPolicy};

use crate::cmdline_merge::{self, Added};
use crate::show::{Console, Echo};
use crate::{boot, image, results};
use output::Meta;
use records::ConfigResult;

/// Options of `flotilla exp`.
#[derive(Args, Debug, Clone)]
pub struct ExpArgs {
    /// The experiment: `urpc` (E1, URPC latency and throughput per core
    /// pair), `update-cost` (E2, shared memory vs messages), `locks` (E5),
    /// `barriers` (E6) or `consistency` (E7).
    pub experiment: String,
    /// Comma-separated core counts, one boot each (default: 2 for urpc,
    /// 1,2,4 for update-cost).
    #[arg(long, value_delimiter = ',')]
    pub cores: Vec<u32>,
    /// Run on Linux threads pinned to host cores instead of in QEMU.
    #[arg(long)]
    pub hosted: bool,
    /// The short version (seconds under TCG).
    #[arg(long)]
    pub quick: bool,
    /// Accelerator: auto picks KVM only where the CPU shows vmx or svm.
    #[arg(long, default_value_t = Accel::Auto)]
    pub accel: Accel,
    /// QEMU machine type.
    #[arg(long, default_value_t = Machine::Microvm)]
    pub machine: Machine,
    /// Repeats of every measurement (the request's `rounds=`).
    #[arg(long)]
    pub repeat: Option<u32>,
    /// E5: shared cache lines the critical section touches (the
    /// request's `cs-lines=`).
    #[arg(long)]
    pub cs_lines: Option<u32>,
    /// E7: the consistency models, comma separated, among `lin`, `seq`
    /// and `eventual` (the request's `models=`).
    #[arg(long, value_delimiter = ',')]
    pub models: Vec<String>,
    /// More experiment options, comma separated (`pairs=adjacent`,
    /// `k=1;8`, ...; see the README).
    #[arg(long, default_value = "")]
    pub args: String,
    /// Hosted runs: `round-robin` pins logical core i to host core
    /// i mod H; `none` leaves placement to the scheduler.
    #[arg(long, default_value = "round-robin")]
    pub pin: String,
    /// Seconds before a boot is killed.
    #[arg(long, default_value_t = 600)]
    pub timeout: u64,
    /// More kernel command-line options. They win over the command's own
    /// `log=warn`; a `user=` other than the experiment's request is
    /// refused (give experiment options with --args).
    #[arg(long, default_value = "")]
    pub append: String,
    /// Do not echo the boots' serial output.
    #[arg(long, short)]
    pub quiet: bool,
    /// Echo every serial line as printed, the structured `@flotilla/1`
    /// records included (by default they are shown as short sentences).
    /// Hosted runs print their lines after each run.
    #[arg(long, short = 'v', visible_alias = "verbose")]
    pub records: bool,
    /// Directory under which `results/` is written (default: the
    /// workspace).
    #[arg(long)]
    pub results: Option<PathBuf>,
}

impl ExpArgs {
    /// The experiment request every core runs.
    pub fn request(&self) -> Result<Request> {
        let experiment = ExpKind::from_name(&self.experiment).with_context(|| {
            format!(
                "unknown experiment '{}' (known: urpc, update-cost, caps, locks, barriers, consistency)",
                self.experiment
            )
        })?;
        let mut items = vec![format!("exp={experiment}")];
        if self.quick {
            items.push("quick".to_owned());
        }
        if let Some(r) = self.repeat {
            items.push(format!("rounds={r}"));
        }
        if let Some(k) = self.cs_lines {
            items.push(format!("cs-lines={k}"));
        }
        if !self.models.is_empty() {
            items.push(format!("models={}", self.models.join(";")));
        }
        items.extend(
            self.args
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned),
        );
        let text = items.join(",");
        match Request::parse(&text) {
            Ok(Some(req)) => Ok(req),
            Ok(None) => bail!("'{text}' holds no experiment"),
            Err(e) => bail!("bad experiment options '{text}': {e}"),
        }
    }

    /// The core counts to run.
    pub fn core_counts(&self, experiment: ExpKind) -> Result<Vec<u32>> {
        let cores = if self.cores.is_empty() {
            match experiment {
                ExpKind::Urpc => vec![2],
                ExpKind::UpdateCost
                | ExpKind::Caps
                | ExpKind::Locks
                | ExpKind::Barriers
                | ExpKind::Consistency => vec![1, 2, 4],
            }
        } else {
            self.cores.clone()
        };
        if cores.contains(&0) {
            bail!("a core count must be at least 1");
        }
        if experiment == ExpKind::Urpc && cores.iter().any(|&c| c < 2) {
            bail!("the urpc experiment needs at least 2 cores (it measures core pairs)");
        }
        Ok(cores)
    }

    /// The kernel command line of the boots that run `req`: `log=warn`
    /// and `user=<req>`, merged with `--append`.
    pub fn kernel_cmdline(&self, req: &Request) -> Result<String> {
        let added = [
            Added::default("log", "warn"),
            Added::flag("user", req.to_string(), "the experiment request"),
        ];
        Ok(cmdline_merge::merge(&added, &self.append)?)
    }

    /// The configuration of the boot of `cores` cores with the kernel
    /// command line `cmdline`, booting `kernel` with `initrd`.
    pub fn qemu_config(
        &self,
        kernel: &Path,
        initrd: &Path,
        cmdline: &str,
        cores: u32,
    ) -> QemuConfig {
        QemuConfig::new(kernel)
            .machine(self.machine)
            .cores(cores)
            .accel(self.accel)
            .append(cmdline)
            .initrd(initrd)
            .timeout(Duration::from_secs(self.timeout))
    }

    fn pin(&self) -> Result<PinPolicy> {
        match self.pin.as_str() {
            "round-robin" => Ok(PinPolicy::RoundRobin),
            "none" => Ok(PinPolicy::None),
            other => bail!("unknown --pin '{other}' (known: round-robin, none)"),
        }
    }
}

/// One configuration's raw outcome.
struct Raw {
    /// Lines of a hosted run to print after it, with `--records`.
    lines: Vec<String>,
    records: Vec<OwnedRecord>,
    accel: Option<qemu::AccelDecision>,
}

/// The text of a record line, as the core printed it.
pub fn record_line(r: &OwnedRecord) -> String {
    r.line()
}

fn run_qemu(
    args: &ExpArgs,
    image: &image::Image,
    req: &Request,
    cmdline: &str,
    cores: u32,
    bar: &indicatif::ProgressBar,
) -> Result<Raw> {
    let config = args.qemu_config(&image.kernel, &image.initrd, cmdline, cores);
    let console = Console::new(Echo::from_flags(args.quiet, args.records));
    if console.mode() != Echo::Quiet {
        let on = crate::show::cores(&cores.to_string());
        bar.suspend(|| println!("{} on {on}:", req.experiment()));
    }
    let shown = bar.clone();
    let echo = console.observer(move |line| shown.suspend(|| println!("{line}")));
    let report = boot::run(&config, echo)?;
    if !report.passed() {
        bar.abandon();
        eprintln!("{}", report.failure_report);
        for problem in &report.analysis.problems {
            eprintln!("problem: {problem}");
        }
        bail!("{} cores: {}", cores, report.verdict());
    }
    Ok(Raw {
        lines: Vec::new(),
        records: report.records,
        accel: Some(report.accel),
    })
}

fn run_hosted(
    args: &ExpArgs,
    req: &Request,
    cores: u32,
    bar: &indicatif::ProgressBar,
) -> Result<Raw> {
    match hosted::run_experiment(req, cores, args.pin()?) {
        Ok(run) => Ok(Raw {
            lines: if Echo::from_flags(args.quiet, args.records) == Echo::Records {
                run.lines.clone()
            } else {
                Vec::new()
            },
            records: records::from_lines(&run.lines),
            accel: None,
        }),
        Err(e) => {
            bar.abandon();
            for l in e.lines() {
                eprintln!("{l}");
            }
            bail!("{cores} cores, hosted: {e}")
        }
    }
}

/// Runs `flotilla exp`.
pub fn main(args: &ExpArgs) -> Result<ExitCode> {
    let req = args.request()?;
    let experiment = req.experiment();
    let cores = args.core_counts(experiment)?;
    let pin = args.pin()?;
    let root = args.results.clone().unwrap_or_else(image::workspace_root);
    let cmdline = args.kernel_cmdline(&req)?;
    let image = if args.hosted {
        None
    } else {
        // Refuse what cannot run before looking for QEMU and building.
        for &n in &cores {
            let planned = args.qemu_config(Path::new("kernel"), Path::new("initrd"), &cmdline, n);
            boot::check(&planned).with_context(|| format!("{experiment} on {n} cores"))?;
            boot::check_monitors(n, true).with_context(|| format!("{experiment} on {n} cores"))?;
        }
        qemu::find_qemu(None)?;
        eprintln!("building the image: {}", image::build_command_line());
        Some(image::build()?)
    };
    let started = chrono::Utc::now();
    if image.is_some()
        && let Some(header) = Console::new(Echo::from_flags(args.quiet, args.records)).header()
    {
        println!("{header}");
    }
    let bar = indicatif::ProgressBar::new(cores.len() as u64).with_style(
        indicatif::ProgressStyle::with_template("{spinner} {bar:30} {pos}/{len} {msg} [{elapsed}]")
            .expect("the template is valid"),
    );
    bar.enable_steady_tick(Duration::from_millis(200));
    let mut configs: Vec<ConfigResult> = Vec::new();
    let mut log = String::new();
    let mut accel = None;
    for &n in &cores {
        let place = if args.hosted { "host threads" } else { "QEMU" };
        bar.set_message(format!("{experiment} on {n} cores ({place})"));
        let raw = match &image {
            Some(image) => run_qemu(args, image, &req, &cmdline, n, &bar)?,
            None => run_hosted(args, &req, n, &bar)?,
        };
        if !raw.lines.is_empty() {
            bar.suspend(|| {
                println!(
                    "{experiment} on {}, hosted:",
                    crate::show::cores(&n.to_string())
                );
                for line in &raw.lines {
                    println!("{line}");
                }
            });
        }
        if accel.is_none() {
            accel = raw.accel;
        }
        let config = records::parse(experiment, n, &raw.records)
            .with_context(|| format!("{experiment} on {n} cores"))?;
        for r in raw.records.iter().filter(|r| is_experiment_record(&r.kind)) {
            log.push_str(&record_line(r));
            log.push('\n');
        }
        configs.push(config);
        bar.inc(1);
    }
    bar.finish_and_clear();

    let (accel_name, reason, machine, qemu_version, ring) = match &accel {
        Some(a) => (
            a.accel.name().to_owned(),
            a.reason.clone(),
            args.machine.to_string(),
            Some(results::qemu_version()),
            serde_json::json!(3),
        ),
        None => (
            "hosted".to_owned(),
            format!("Linux threads on the host, pinning {}", pin.name()),
            "host".to_owned(),
            None,
            serde_json::json!("hosted"),
        ),
    };
    let mut meta = Meta {
        experiment: experiment.name().to_owned(),
        args: req.to_string(),
        quick: req.quick,
        rounds: req.rounds(),
        ring,
        accelerator: accel_name,
        accelerator_reason: reason,
        machine,
        qemu_version,
        git_revision: results::git_revision(&image::workspace_root()),
        host_cpu: results::host_cpu(),
        host_cpus: results::host_cpus(),
        cores: Vec::new(),
        tsc_hz: Vec::new(),
        timer_resolution_cycles: None,
        batch: None,
        hosted: Vec::new(),
        started_utc: started.to_rfc3339(),
        checks: Vec::new(),
        skips: Vec::new(),
        sync_checks: Vec::new(),
        sync_skips: Vec::new(),
        tsc_skew_cycles: None,
        consistency: Vec::new(),
        files: Vec::new(),
    };
    meta.add_configs(&configs);
    let where_ = if args.hosted {
        "hosted threads".to_owned()
    } else {
        format!("ring 3, {} on {}", meta.accelerator, meta.machine)
    };
    let dir = results::create_dir(&root, experiment.name(), started)?;
    if experiment == ExpKind::Consistency {
        meta.consistency = e7_consistency::write_and_check(&dir, &configs)?;
        meta.files
            .extend(meta.consistency.iter().map(|r| r.history.clone()));
    }
    let (csv, svg) = match experiment {
        ExpKind::Urpc => (
            e1_urpc::urpc_csv(&meta, &configs),
            e1_urpc::urpc_svg(
                &format!("URPC round trip per core pair ({where_})"),
                &configs,
            )?,
        ),
        ExpKind::UpdateCost => (
            e2_update_cost::update_csv(&meta, &configs),
            e2_update_cost::update_svg(
                &format!("Cost of updating k shared cache lines ({where_})"),
                &configs,
            )?,
        ),
        ExpKind::Caps => {
            e4_caps::write_extra(&dir, &mut meta, &where_, &configs)?;
            (
                e4_caps::caps_csv(&meta, &configs),
                e4_caps::messages_svg(
                    &format!("Capability operations: messages per operation ({where_})"),
                    &configs,
                )?,
            )
        }
        ExpKind::Locks => (
            e5_locks::locks_csv(&meta, &configs),
            e5_locks::locks_svg(&format!("Lock throughput ({where_})"), &configs)?,
        ),
        ExpKind::Barriers => (
            e6_barriers::barriers_csv(&meta, &configs),
            e6_barriers::barriers_svg(&format!("Barrier episode cost ({where_})"), &configs)?,
        ),
        ExpKind::Consistency => (
            e7_consistency::consistency_csv(&meta, &configs, &meta.consistency),
            e7_consistency::consistency_svg(
                &format!("Replicated map: latency per operation ({where_})"),
                &configs,
            )?,
        ),
    };
    output::write_all(&dir, experiment.name(), &mut meta, &csv, &svg, &log)?;

    println!(
        "{experiment} ({}), {where_}; {}; host {} ({} CPUs); revision {}",
        if req.quick { "quick" } else { "full" },
        meta.accelerator_reason,
        meta.host_cpu,
        meta.host_cpus,
        meta.git_revision
    );
    if let Some(notes) = configs.iter().find_map(|c| c.hosted.as_ref())
        && notes.iter().any(|(k, v)| k == "oversubscribed" && v == "1")
    {
        println!(
            "note: more logical cores than host cores; threads share host cores (pinning {}), so spinning waits include scheduler delays",
            pin.name()
        );
    }
    if args.hosted && cfg!(debug_assertions) {
        println!(
            "note: a debug build measured these; for figures worth reading use `cargo run --release -- exp ...`"
        );
    }
    match experiment {
        ExpKind::Urpc => print!("{}", e1_urpc::urpc_report(&configs)),
        ExpKind::UpdateCost => print!("{}", e2_update_cost::update_report(&configs)),
        ExpKind::Caps => print!("{}", e4_caps::caps_report(&configs)),
        ExpKind::Locks => print!("{}", e5_locks::locks_report(&configs)),
        ExpKind::Barriers => print!("{}", e6_barriers::barriers_report(&configs)),
        ExpKind::Consistency => print!(
            "{}",
            e7_consistency::consistency_report(&configs, &meta.consistency)
        ),
    }
    println!("results: {}", dir.display());
    if experiment == ExpKind::Urpc
        && let Some((variant, ratio)) = configs.last().and_then(e1_urpc::urpc_ratio)
    {
        println!(
            "faster URPC variant: {variant} ({} cores)",
            configs.last().map_or(0, |c| c.cores)
        );
        println!("{}", e1_urpc::ratio_line(ratio));
    }
    if experiment == ExpKind::Consistency {
        let (broken, notes) = e7_consistency::promises(&meta.consistency);
        for n in notes {
            println!("note: {n}");
        }
        if !broken.is_empty() {
            for b in broken {
                println!("!! {b}");
            }
            return Ok(ExitCode::FAILURE);
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Whether a record kind belongs to the experiments (or the hosted
/// runtime), as opposed to the boot.
fn is_experiment_record(kind: &str) -> bool {
    kind.starts_with("exp-")
        || kind.starts_with("urpc-")
        || kind.starts_with("update-")
        || kind.starts_with("lock-")
        || kind.starts_with("barrier-")
        || kind.starts_with("sync-")
        || kind.starts_with("replica-")
        || kind == "hosted"
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        args: ExpArgs,
    }

    fn args(argv: &[&str]) -> ExpArgs {
        Cli::parse_from(std::iter::once("exp").chain(argv.iter().copied())).args
    }

    #[test]
    fn builds_the_request_from_the_options() {
        let a = args(&[
            "update-cost",
            "--quick",
            "--repeat",
            "3",
            "--args",
            "k=1;8, series=shm",
        ]);
        assert_eq!(
            a.request().unwrap().to_string(),
            "exp=update-cost,quick,rounds=3,k=1;8,series=shm"
        );
        assert_eq!(a.core_counts(ExpKind::UpdateCost).unwrap(), [1, 2, 4]);
        let a = args(&["locks", "--cs-lines", "4", "--cores", "1,2"]);
        assert_eq!(a.request().unwrap().to_string(), "exp=locks,cs-lines=4");
        assert!(args(&["urpc", "--cs-lines", "4"]).request().is_err());
        let a = args(&["consistency", "--models", "lin,eventual", "--quick"]);
        assert_eq!(
            a.request().unwrap().to_string(),
            "exp=consistency,quick,models=lin;eventual"
        );
        assert_eq!(a.core_counts(ExpKind::Consistency).unwrap(), [1, 2, 4]);
        assert!(
            args(&["consistency", "--models", "lin,strong"])
                .request()
                .is_err()
        );
        assert!(args(&["locks", "--models", "lin"]).request().is_err());
        assert!(is_experiment_record("replica-op"));
        let a = args(&["urpc", "--cores", "2,4"]);
        assert_eq!(a.request().unwrap().to_string(), "exp=urpc");
        assert_eq!(a.core_counts(ExpKind::Urpc).unwrap(), [2, 4]);
    }

    #[test]
    fn refuses_what_cannot_run() {
        assert!(args(&["nope"]).request().is_err());
        assert!(args(&["urpc", "--args", "k=1"]).request().is_err());
        assert!(
            args(&["urpc", "--cores", "1"])
                .core_counts(ExpKind::Urpc)
                .is_err()
        );
        assert!(
            args(&["update-cost", "--cores", "0"])
                .core_counts(ExpKind::UpdateCost)
                .is_err()
        );
        assert!(args(&["urpc", "--pin", "odd"]).pin().is_err());
    }

    #[test]
    fn the_kernel_command_line_merges_append() {
        let a = args(&["urpc", "--quick"]);
        let req = a.request().unwrap();
        assert_eq!(
            a.kernel_cmdline(&req).unwrap(),
            "log=warn user=exp=urpc,quick"
        );
        let a = args(&["urpc", "--quick", "--append", "log=debug"]);
        assert_eq!(
            a.kernel_cmdline(&req).unwrap(),
            "user=exp=urpc,quick log=debug"
        );
        let a = args(&["urpc", "--quick", "--append", "user=exp=urpc,quick"]);
        assert_eq!(
            a.kernel_cmdline(&req).unwrap(),
            "log=warn user=exp=urpc,quick"
        );
        let a = args(&["urpc", "--append", "user=exp=update-cost"]);
        let err = a.kernel_cmdline(&a.request().unwrap()).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("the experiment request exp=urpc conflicts with --append user="),
            "{err}"
        );
    }

    #[test]
    fn record_lines_read_back_as_the_same_record() {
        let line = "[core 1] [boot monitor] @flotilla/1 urpc-pair src=1 dst=0 variant=ack";
        let r = OwnedRecord::parse(line).unwrap();
        assert_eq!(record_line(&r), line);
        let hosted = "[core 1] @flotilla/1 urpc-pair src=1 dst=0 variant=ack";
        assert_eq!(
            record_line(&OwnedRecord::parse_any(hosted).unwrap()),
            hosted
        );
        assert!(is_experiment_record("update-check"));
        assert!(!is_experiment_record("core-up"));
    }
}
