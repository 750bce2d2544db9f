//! `flotilla fuzz`: boots the image with `fuzz=SEED:CALLS`, so that every
//! core's `fuzz` program makes its share of random capability invocations
//! while the CPU drivers check their capability databases, and judges the
//! run.
//!
//! A run passes only when the boot passes (the monitors run after the
//! fuzzers and finish as usual), every core reported `fuzz-done` and the
//! calls add up to the number asked for, every core checked its database
//! whole at the end (`caps-fuzz-check`), and nothing went wrong: no kernel
//! fault or panic, no broken invariant (`caps-violation`), no untyped
//! result (`fuzz-fail`), no fault of the fuzzer. Then the last line is
//! `fuzz: N calls, 0 kernel faults, 0 invariant violations`. Otherwise
//! each problem names the core, the seed and the call, the calls before it
//! are listed (`fuzz-recent`), and the last line says why it failed.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Result, bail};
use boot::kernel_cmdline::{FuzzRun, SelfTest};
use qemu::{Accel, Machine, Outcome, OwnedRecord, QemuConfig, SerialLine};

use crate::boot::BootReport;
use crate::show::{Console, Echo};

/// `flotilla fuzz`'s options.
#[derive(clap::Args, Debug, Clone)]
pub struct FuzzArgs {
    /// Number of cores; each makes its share of the calls.
    #[arg(long, default_value_t = 2)]
    pub cores: u32,
    /// Capability invocations in all.
    #[arg(long, default_value_t = 1_000_000)]
    pub calls: u64,
    /// The seed every core's generator derives its own from.
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// Accelerator: auto picks KVM only where the CPU shows vmx or svm.
    #[arg(long, default_value_t = Accel::Auto)]
    pub accel: Accel,
    /// Seconds before the run is killed.
    #[arg(long, default_value_t = 1800)]
    pub timeout: u64,
    /// Print every call before it is made, and check the kernel's
    /// database after every operation, so that the call that breaks it is
    /// the last one printed (slow: use it with the seed and a few calls).
    #[arg(long)]
    pub trace: bool,
    /// A deliberate broken kernel path (fuzz-corrupt, fuzz-untyped), to see
    /// a run fail.
    #[arg(long)]
    pub test: Option<String>,
    /// Do not echo the serial output.
    #[arg(long, short)]
    pub quiet: bool,
    /// Echo every serial line as printed, records included.
    #[arg(long, short = 'v', visible_alias = "verbose")]
    pub records: bool,
}

/// What one fuzzing run asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FuzzRequest {
    /// Cores.
    pub cores: u32,
    /// The run.
    pub run: FuzzRun,
    /// A deliberate scenario, if any.
    pub test: Option<SelfTest>,
}

impl FuzzRequest {
    /// The kernel command line.
    pub fn cmdline(&self) -> String {
        let trace = if self.run.trace { ":trace" } else { "" };
        let mut line = format!("log=info fuzz={}:{}{trace}", self.run.seed, self.run.calls);
        if let Some(t) = self.test {
            line.push_str(" test=");
            line.push_str(t.name());
        }
        line
    }

    /// The QEMU configuration: microvm with the initrd.
    pub fn config(
        &self,
        kernel: &Path,
        initrd: &Path,
        accel: Accel,
        timeout: Duration,
    ) -> QemuConfig {
        QemuConfig::new(kernel)
            .machine(Machine::Microvm)
            .accel(accel)
            .cores(self.cores)
            .append(self.cmdline())
            .initrd(initrd)
            .timeout(timeout)
    }
}

/// One core's part of a run.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CoreRun {
    /// Calls it made.
    pub calls: u64,
    /// Calls that succeeded.
    pub ok: u64,
    /// Mapped pages the fuzzer read and wrote.
    pub touched: u64,
    /// Seconds from `fuzz-start` to `fuzz-done`, by host time.
    pub seconds: Option<f64>,
    /// Whether the kernel checked its database whole afterwards.
    pub checked: bool,
}

/// What a fuzzing run showed.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FuzzSummary {
    /// The seed.
    pub seed: u64,
    /// Calls asked for.
    pub wanted: u64,
    /// Calls made, over every core that finished.
    pub calls: u64,
    /// Kernel faults and panics.
    pub kernel_faults: usize,
    /// Broken invariants the kernels found.
    pub violations: usize,
    /// Results no `abi::Error` knows, and the fuzzer's other findings.
    pub untyped: usize,
    /// Each core's part.
    pub cores: BTreeMap<u32, CoreRun>,
    /// Everything that went wrong, each naming the core, seed and call.
    pub problems: Vec<String>,
}

impl FuzzSummary {
    /// Whether the run passed.
    pub fn passed(&self) -> bool {
        self.problems.is_empty()
    }

    /// The closing line.
    pub fn last_line(&self) -> String {
        let counts = format!(
            "{} calls, {} kernel faults, {} invariant violations",
            self.calls, self.kernel_faults, self.violations
        );
        match self.problems.first() {
            None => format!("fuzz: {counts}"),
            Some(p) => format!("fuzz failed (seed {}; {counts}): {p}", self.seed),
        }
    }
}

fn field<'a>(r: &'a OwnedRecord, key: &str) -> &'a str {
    r.get(key).unwrap_or("?")
}

/// The last call a core's kernel or fuzzer listed before a fatal event.
fn last_recent(records: &[OwnedRecord], core: u32) -> Option<String> {
    records
        .iter()
        .rev()
        .find(|r| r.kind == "fuzz-recent" && r.core == core)
        .map(|r| {
            format!(
                "call {} (number {}, args {})",
                field(r, "call"),
                field(r, "number"),
                field(r, "args")
            )
        })
}

/// Judges a run from its records, the serial lines (for host times), the
/// boot's verdict and how QEMU ended.
pub fn summarize(
    req: &FuzzRequest,
    records: &[OwnedRecord],
    lines: &[SerialLine],
    boot_problems: &[String],
    outcome: &Outcome,
) -> FuzzSummary {
    let seed = req.run.seed;
    let mut s = FuzzSummary {
        seed,
        wanted: req.run.calls,
        ..FuzzSummary::default()
    };
    let mut started: BTreeMap<u32, Duration> = BTreeMap::new();
    for line in lines {
        let Ok(r) = OwnedRecord::parse(&line.text) else {
            continue;
        };
        match r.kind.as_str() {
            "fuzz-start" => {
                started.insert(r.core, line.at);
            }
            "fuzz-done" => {
                let c = s.cores.entry(r.core).or_default();
                c.seconds = started
                    .get(&r.core)
                    .map(|t0| line.at.saturating_sub(*t0).as_secs_f64());
            }
            _ => {}
        }
    }
    for r in records {
        let core = r.core;
        match r.kind.as_str() {
            "fuzz-done" => {
                let c = s.cores.entry(core).or_default();
                c.calls = r.get_u64("calls").unwrap_or(0);
                c.ok = r.get_u64("ok").unwrap_or(0);
                c.touched = r.get_u64("touched").unwrap_or(0);
            }
            "caps-fuzz-check" if r.get("ok") == Some("1") => {
                s.cores.entry(core).or_default().checked = true;
            }
            "caps-violation" => {
                s.violations += 1;
                s.problems.push(format!(
                    "core {core}: {} before it; --seed {seed} --trace finds it exactly)",
                    r.fill("invariant violation {violation} found after call {call} ({check} check of every {every} operations: the call that broke it is among the calls listed")
                ));
            }
            "fuzz-fail" => {
                s.untyped += 1;
                s.problems.push(format!(
                    "core {core}: {}",
                    r.fill(
                        "call {call} (number {number}, args {args}) returned rax {rax}: {reason}"
                    )
                ));
            }
            "fault" | "panic" => {
                s.kernel_faults += 1;
                let during =
                    last_recent(records, core).map_or_else(String::new, |c| format!(" during {c}"));
                let what = if r.kind == "fault" {
                    format!(
                        "kernel fault {} (vector {}) at rip {}, cr2 {}",
                        field(r, "name"),
                        field(r, "vector"),
                        field(r, "rip"),
                        field(r, "cr2")
                    )
                } else {
                    format!("kernel panic at {}:{}", field(r, "file"), field(r, "line"))
                };
                s.problems.push(format!("core {core}: {what}{during}"));
            }
            "user-fault" if r.get("program") == Some("fuzz") => {
                let after =
                    last_recent(records, core).map_or_else(String::new, |c| format!(" after {c}"));
                s.problems.push(format!(
                    "core {core}: the fuzzer took a fault (vector {}) at rip {}, cr2 {}{after}",
                    field(r, "vector"),
                    field(r, "rip"),
                    field(r, "cr2")
                ));
            }
            _ => {}
        }
    }
    s.calls = s.cores.values().map(|c| c.calls).sum();
    if s.problems.is_empty() {
        let unfinished: Vec<String> = (0..req.cores)
            .filter(|c| !s.cores.contains_key(c))
            .map(|c| c.to_string())
            .collect();
        if !unfinished.is_empty() {
            s.problems.push(format!(
                "core(s) {} did not finish fuzzing ({outcome})",
                unfinished.join(", ")
            ));
        } else if s.calls != s.wanted {
            s.problems.push(format!(
                "the cores made {} calls, not {}",
                s.calls, s.wanted
            ));
        }
        let unchecked: Vec<String> = s
            .cores
            .iter()
            .filter(|(_, c)| !c.checked)
            .map(|(core, _)| core.to_string())
            .collect();
        if s.problems.is_empty() && !unchecked.is_empty() {
            s.problems.push(format!(
                "core(s) {} did not check the database at the end",
                unchecked.join(", ")
            ));
        }
    }
    if s.problems.is_empty()
        && let Some(p) = boot_problems.first()
    {
        s.problems.push(p.clone());
    }
    if s.problems.is_empty() && !outcome.is_pass() {
        s.problems.push(outcome.to_string());
    }
    s
}

/// Boots `req` and judges it; every serial line also goes to `echo`.
pub fn run(
    req: &FuzzRequest,
    config: &QemuConfig,
    mut echo: Option<qemu::runner::Observer>,
) -> Result<(FuzzSummary, BootReport)> {
    let lines = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&lines);
    let observer: qemu::runner::Observer = Box::new(move |line: &SerialLine| {
        if let Some(e) = echo.as_mut() {
            e(line);
        }
        if line.text.contains("@flotilla/1 fuzz-") {
            sink.lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(line.clone());
        }
    });
    let report = crate::boot::run(config, Some(observer))?;
    let lines = std::mem::take(&mut *lines.lock().unwrap_or_else(|p| p.into_inner()));
    let summary = summarize(
        req,
        &report.records,
        &lines,
        &report.analysis.problems,
        &report.outcome,
    );
    Ok((summary, report))
}

/// `flotilla fuzz`.
pub fn main(args: &FuzzArgs) -> Result<ExitCode> {
    let test = match &args.test {
        None => None,
        Some(name) => match SelfTest::from_name(name) {
            Some(t @ (SelfTest::FuzzCorrupt | SelfTest::FuzzUntyped)) => Some(t),
            _ => bail!("--test takes fuzz-corrupt or fuzz-untyped, not '{name}'"),
        },
    };
    if args.calls == 0 || args.calls > FuzzRun::MAX_CALLS {
        bail!("--calls takes 1 to {}", FuzzRun::MAX_CALLS);
    }
    let req = FuzzRequest {
        cores: args.cores,
        run: FuzzRun {
            seed: args.seed,
            calls: args.calls,
            trace: args.trace,
        },
        test,
    };
    let timeout = Duration::from_secs(args.timeout);
    let probe = req.config(
        Path::new("kernel"),
        Path::new("initrd"),
        args.accel,
        timeout,
    );
    crate::boot::check(&probe)?;
    crate::boot::check_monitors(probe.cores, true)?;
    qemu::find_qemu(None)?;
    eprintln!("building the image: {}", crate::image::build_command_line());
    let image = crate::image::build()?;
    let config = req.config(&image.kernel, &image.initrd, args.accel, timeout);
    let launch = qemu::Launch::prepare(&config)?;
    println!(
        "QEMU: microvm, {} core(s), {} MiB, {}; kernel command line: {}",
        args.cores,
        config.effective_memory_mib(),
        launch.accel,
        req.cmdline()
    );
    drop(launch);
    let console = Console::new(Echo::from_flags(args.quiet, args.records));
    if let Some(header) = console.header() {
        println!("{header}");
    }
    let echo = console.observer(|shown| println!("{shown}"));
    let (summary, report) = run(&req, &config, echo)?;
    for (core, c) in &summary.cores {
        let rate = c
            .seconds
            .filter(|s| *s > 0.0)
            .map_or_else(String::new, |s| {
                format!(" in {s:.1} s ({:.0} calls/s)", c.calls as f64 / s)
            });
        println!(
            "core {core}: {} calls{rate}, {} succeeded, {} mapped pages touched",
            c.calls, c.ok, c.touched
        );
    }
    if !summary.passed() {
        eprintln!("{}", report.failure_report);
        for p in &summary.problems {
            println!("problem: {p}");
        }
    }
    println!("{}", summary.last_line());
    Ok(if summary.passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use boot::protocol::ExitCode as Code;

    fn req(calls: u64) -> FuzzRequest {
        FuzzRequest {
            cores: 2,
            run: FuzzRun {
                seed: 7,
                calls,
                trace: false,
            },
            test: None,
        }
    }

    fn recs(lines: &[&str]) -> Vec<OwnedRecord> {
        lines
            .iter()
            .map(|l| OwnedRecord::parse(l).expect("record"))
            .collect()
    }

    const DONE: [&str; 4] = [
        "[core 0] [boot fuzz] @flotilla/1 fuzz-done seed=7 calls=5 ok=2 errors=3 touched=1",
        "[core 1] [boot fuzz] @flotilla/1 fuzz-done seed=7 calls=5 ok=1 errors=4 touched=0",
        "[core 0] @flotilla/1 caps-fuzz-check ok=1 invocations=5 records=9",
        "[core 1] @flotilla/1 caps-fuzz-check ok=1 invocations=5 records=4",
    ];

    #[test]
    fn a_clean_run_ends_with_the_counts() {
        let pass = Outcome::Exit(Code::Pass);
        let s = summarize(&req(10), &recs(&DONE), &[], &[], &pass);
        assert!(s.passed(), "{:?}", s.problems);
        assert_eq!(
            s.last_line(),
            "fuzz: 10 calls, 0 kernel faults, 0 invariant violations"
        );
        let s = summarize(&req(11), &recs(&DONE), &[], &[], &pass);
        assert_eq!(s.problems, ["the cores made 10 calls, not 11"]);
        let s = summarize(&req(10), &recs(&DONE[..3]), &[], &[], &pass);
        assert_eq!(
            s.problems,
            ["core(s) 1 did not check the database at the end"]
        );
    }

    #[test]
    fn violations_untyped_results_and_faults_name_the_call() {
        let fail = Outcome::Exit(Code::Fail);
        let r = recs(&[
            "[core 0] @flotilla/1 fuzz-recent by=kernel call=998 number=12 args=0x1,0x2,0x3,0x4,0x5,0x6 rax=0x0",
            "[core 0] @flotilla/1 caps-violation seed=7 call=999 check=fuzz-mode every=64 violation=slot-mismatch@0x10:4",
        ]);
        let s = summarize(&req(10), &r, &[], &[], &fail);
        assert_eq!(s.violations, 1);
        assert!(!s.passed());
        let last = s.last_line();
        assert!(last.starts_with("fuzz failed (seed 7; 0 calls, 0 kernel faults, 1 invariant violations): core 0: invariant violation slot-mismatch@0x10:4 found after call 999"), "{last}");
        let r = recs(&[
            "[core 0] [boot fuzz] @flotilla/1 fuzz-fail seed=7 call=999 number=12 args=0x1,0x2,0x3,0x4,0x5,0x6 rax=0x7777 rdx=0x0 reason=untyped-result",
        ]);
        let s = summarize(&req(10), &r, &[], &[], &fail);
        assert_eq!(s.untyped, 1);
        assert_eq!(
            s.problems,
            [
                "core 0: call 999 (number 12, args 0x1,0x2,0x3,0x4,0x5,0x6) returned rax 0x7777: untyped-result"
            ]
        );
        let r = recs(&[
            "[core 1] @flotilla/1 fuzz-recent by=kernel call=41 number=16 args=0x1,0x2,0x3,0x4,0x5,0x6 rax=0xffffffffffffffff",
            "[core 1] @flotilla/1 fault vector=14 name=page-fault error=0x2 rip=0xffff cr2=0x10",
        ]);
        let s = summarize(&req(10), &r, &[], &[], &Outcome::Exit(Code::Fault));
        assert_eq!(s.kernel_faults, 1);
        assert_eq!(
            s.problems,
            [
                "core 1: kernel fault page-fault (vector 14) at rip 0xffff, cr2 0x10 during call 41 (number 16, args 0x1,0x2,0x3,0x4,0x5,0x6)"
            ]
        );
    }

    #[test]
    fn the_command_line_carries_the_run() {
        let mut r = req(1000);
        assert_eq!(r.cmdline(), "log=info fuzz=7:1000");
        r.run.trace = true;
        r.test = Some(SelfTest::FuzzCorrupt);
        assert_eq!(r.cmdline(), "log=info fuzz=7:1000:trace test=fuzz-corrupt");
        assert!(boot::kernel_cmdline::Config::parse(&r.cmdline()).is_ok());
    }
}
