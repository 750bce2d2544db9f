//! `flotilla`: build the Flotilla multikernel, boot it in QEMU and measure it.
//!
//! `cargo run` with no arguments boots 4 cores; see `flotilla --help`.

use std::io::Write as _;
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Result;
use boot::kernel_cmdline::SelfTest;
use clap::{Args, Parser, Subcommand};
use qemu::runner::Observer;
use qemu::{Accel, Machine, QemuConfig};
use tools::cmdline_merge::{self, Added};
use tools::show::{Console, Echo};
use tools::{bench, boot as run_boot, image};

/// Build, boot and measure the Flotilla multikernel.
#[derive(Parser, Debug)]
#[command(name = "flotilla", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Build the kernel and boot it in QEMU (the default command).
    Boot(BootArgs),
    /// Build the kernel and the initrd and print their paths.
    Build,
    /// Boot repeatedly and record how long the cores take to come up.
    BenchBoot(BenchArgs),
    /// Run an experiment (urpc, update-cost, locks, barriers) and write its
    /// results.
    Exp(tools::exp::ExpArgs),
    /// Check a recorded history (history.csv) for linearizability and
    /// sequential consistency, and measure its staleness.
    Check(tools::check::CheckArgs),
    /// Run many seeds of a protocol in the deterministic simulator, with
    /// faults, and check every run.
    Sim(tools::sim::SimArgs),
    /// Fuzz the capability invocations from ring 3 on every core while the
    /// kernels check their capability databases.
    Fuzz(tools::fuzz_command::FuzzArgs),
}

#[derive(Args, Debug, Clone)]
struct BootArgs {
    /// Number of cores.
    #[arg(long, default_value_t = 4)]
    cores: u32,
    /// QEMU machine type.
    #[arg(long, default_value_t = Machine::Microvm)]
    machine: Machine,
    /// NUMA nodes (q35 and pc only); cores and memory are split evenly.
    #[arg(long, default_value_t = 0)]
    numa: u32,
    /// Guest memory in MiB (default: 256 + 16 per core).
    #[arg(long)]
    memory: Option<u64>,
    /// Accelerator: auto picks KVM only where the CPU shows vmx or svm.
    #[arg(long, default_value_t = Accel::Auto)]
    accel: Accel,
    /// QEMU vCPU model, passed as `-cpu MODEL` (default: `max` under TCG,
    /// `host,-arch-capabilities` under KVM). Under KVM the vCPUs get only
    /// what the host CPU offers.
    #[arg(long, value_name = "MODEL")]
    cpu: Option<String>,
    /// Kernel log level (off, error, warn, info, debug, trace) [default:
    /// info]. `--append log=...` may give it instead.
    #[arg(long, value_name = "LEVEL")]
    log: Option<String>,
    /// Run a deliberate test scenario (isolation, page-fault, divide-error,
    /// ap-panic, stack-overflow, ap-stall).
    #[arg(long)]
    test: Option<String>,
    /// More kernel command-line options. They win over the command's own
    /// defaults (`log=info`); one that contradicts --log or --test is
    /// refused.
    #[arg(long, default_value = "")]
    append: String,
    /// Wait for a debugger on port 1234 before the first instruction.
    #[arg(long)]
    gdb: bool,
    /// Seconds before the run is killed (ignored with --gdb).
    #[arg(long, default_value_t = 120)]
    timeout: u64,
    /// Do not echo the serial output.
    #[arg(long, short)]
    quiet: bool,
    /// Echo every serial line as printed, the structured `@flotilla/1`
    /// records included (by default they are shown as short sentences).
    #[arg(long, short = 'v', visible_alias = "verbose")]
    records: bool,
    /// Print the QEMU command line and exit without booting.
    #[arg(long)]
    dry_run: bool,
    /// Boot the kernel alone, without the ring-3 programs (no monitors).
    #[arg(long)]
    kernel_only: bool,
    /// Programs for monitor 0 to start once the mesh is up, as
    /// `NAME@CORE` (comma separated, or the flag repeated): each is built
    /// from user level through capabilities by that core's monitor, and
    /// the run passes only when each exits with 0.
    #[arg(long, value_delimiter = ',', value_name = "NAME@CORE")]
    spawn: Vec<String>,
}

#[derive(Args, Debug, Clone)]
struct BenchArgs {
    /// Comma-separated core counts.
    #[arg(long, value_delimiter = ',', default_values_t = [2u32, 8, 64])]
    cores: Vec<u32>,
    /// Boots per core count.
    #[arg(long, default_value_t = 10)]
    repeat: u32,
    /// QEMU machine type.
    #[arg(long, default_value_t = Machine::Microvm)]
    machine: Machine,
    /// Accelerator.
    #[arg(long, default_value_t = Accel::Tcg)]
    accel: Accel,
    /// More kernel command-line options; they win over the command's own
    /// `log=warn`.
    #[arg(long, default_value = "")]
    append: String,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let command = cli
        .command
        .unwrap_or_else(|| Command::Boot(BootArgs::parse_default()));
    let result = match command {
        Command::Boot(args) => boot(&args),
        Command::Build => build().map(|image| {
            println!("{}", image.kernel.display());
            println!("{}", image.initrd.display());
            ExitCode::SUCCESS
        }),
        Command::BenchBoot(args) => bench_boot(&args),
        Command::Exp(args) => tools::exp::main(&args),
        Command::Check(args) => tools::check::main(&args),
        Command::Sim(args) => tools::sim::main(&args),
        Command::Fuzz(args) => tools::fuzz_command::main(&args),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(2)
        }
    }
}

impl BootArgs {
    fn parse_default() -> BootArgs {
        #[derive(Parser)]
        struct Wrapper {
            #[command(flatten)]
            args: BootArgs,
        }
        Wrapper::parse_from(["flotilla"]).args
    }

    fn kernel_cmdline(&self) -> Result<String> {
        let mut added = vec![match &self.log {
            Some(level) => Added::flag("log", level, "--log"),
            None => Added::default("log", "info"),
        }];
        if let Some(test) = &self.test {
            if SelfTest::from_name(test).is_none() {
                let known: Vec<&str> = SelfTest::ALL.iter().map(|t| t.name()).collect();
                anyhow::bail!("unknown test '{test}' (known: {})", known.join(", "));
            }
            added.push(Added::flag("test", test, "--test"));
        }
        if !self.spawn.is_empty() {
            let items = tools::spawn_items::user_items(&self.spawn, self.cores)?;
            added.push(Added::flag("user", &items, "--spawn"));
        }
        Ok(cmdline_merge::merge(&added, &self.append)?)
    }
}

impl BootArgs {
    /// The QEMU configuration these options ask for, booting `kernel` with
    /// `cmdline` and no initrd.
    fn qemu_config(&self, kernel: &Path, cmdline: String) -> QemuConfig {
        let mut config = QemuConfig::new(kernel)
            .machine(self.machine)
            .cores(self.cores)
            .numa_nodes(self.numa)
            .accel(self.accel)
            .append(cmdline)
            .gdb(self.gdb)
            .timeout(Duration::from_secs(self.timeout));
        if let Some(mib) = self.memory {
            config = config.memory_mib(mib);
        }
        if let Some(model) = &self.cpu {
            config = config.cpu(model);
        }
        config
    }
}

fn build() -> Result<image::Image> {
    eprintln!("building the image: {}", image::build_command_line());
    image::build()
}

fn boot(args: &BootArgs) -> Result<ExitCode> {
    let cmdline = args.kernel_cmdline()?;
    // Refuse what cannot run before looking for QEMU and building.
    run_boot::check(&args.qemu_config(Path::new("kernel"), cmdline.clone()))?;
    run_boot::check_monitors(args.cores, !args.kernel_only)?;
    qemu::find_qemu(None)?;
    let image = build()?;
    let mut config = args.qemu_config(&image.kernel, cmdline);
    if !args.kernel_only {
        config = config.initrd(&image.initrd);
    }
    let launch = qemu::Launch::prepare(&config)?;
    let accel = launch.accel.accel;
    println!(
        "QEMU: {}, {} core(s), {} MiB, CPU {}, {}",
        args.machine,
        args.cores,
        config.effective_memory_mib(),
        qemu::cpu_model(accel, config.cpu.as_deref()),
        launch.accel
    );
    if let Some(note) = qemu::cpu_note(accel, config.cpu.as_deref()) {
        println!("{note}");
    }
    if args.dry_run {
        println!("{}", launch.command_line());
        return Ok(ExitCode::SUCCESS);
    }
    if let Some(help) = launch.gdb_instructions() {
        println!("{help}");
        let _ = std::io::stdout().flush();
    }
    drop(launch);
    let console = Console::new(Echo::from_flags(args.quiet, args.records));
    if let Some(header) = console.header() {
        println!("{header}");
    }
    let echo: Option<Observer> = console.observer(|shown| println!("{shown}"));
    let report = run_boot::run(&config, echo)?;
    print_summary(&report);
    if !report.passed() {
        eprintln!("{}", report.failure_report);
        for problem in &report.analysis.problems {
            println!("problem: {problem}");
        }
    }
    println!("{}", report.verdict());
    Ok(if report.passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn print_summary(report: &run_boot::BootReport) {
    if report.analysis.cores.is_empty() {
        return;
    }
    println!();
    println!("core  APIC id  node  x2APIC  up at (ms)  features");
    for c in &report.analysis.cores {
        let up_ms = match report.analysis.tsc_hz {
            Some(hz) if hz > 0 => format!("{:.1}", c.up_cycles as f64 / hz as f64 * 1000.0),
            _ => "-".to_owned(),
        };
        println!(
            "{:>4}  {:>7}  {:>4}  {:>6}  {:>10}  {}",
            c.core,
            c.apic,
            c.node,
            if c.x2apic { "yes" } else { "no" },
            up_ms,
            c.features
        );
    }
    if !report.analysis.monitors.is_empty() {
        let mesh = match report.analysis.mesh {
            Some((channels, cycles)) => match report.analysis.tsc_hz {
                Some(hz) if hz > 0 => format!(
                    "mesh of {channels} URPC channels complete in {:.1} ms",
                    cycles as f64 / hz as f64 * 1000.0
                ),
                _ => format!("mesh of {channels} URPC channels complete"),
            },
            None => "mesh incomplete".to_owned(),
        };
        println!(
            "monitors up on {}/{} cores; {mesh}; {} malformed message(s) dropped",
            report.analysis.monitors.len(),
            report.expected_cores,
            report.analysis.dropped
        );
    }
    if let (Some(done), Some(at)) = (report.analysis.done, report.analysis.all_up_at) {
        println!(
            "all {} cores up {:.1} ms after kernel entry ({} TSC cycles at {:.2} GHz); {:.0} ms after QEMU started",
            done.cores,
            done.up_us as f64 / 1000.0,
            done.up_cycles,
            done.tsc_hz as f64 / 1e9,
            at.as_secs_f64() * 1000.0
        );
    }
}

fn bench_boot(args: &BenchArgs) -> Result<ExitCode> {
    let mut req = bench::BenchRequest {
        kernel: "kernel".into(),
        cmdline: bench::kernel_cmdline(&args.append)?,
        cores: args.cores.clone(),
        repeat: args.repeat.max(1),
        machine: args.machine,
        accel: args.accel,
        results_root: image::workspace_root(),
    };
    req.check()?;
    qemu::find_qemu(None)?;
    req.kernel = build()?.kernel;
    let (_, meta, dir) = bench::run(&req)?;
    println!(
        "boot time, {} on {} ({}), QEMU {}, host {} ({} CPUs), revision {}",
        meta.machine,
        meta.accelerator,
        meta.accelerator_reason,
        meta.qemu_version,
        meta.host_cpu,
        meta.host_cpus,
        meta.git_revision
    );
    println!(
        "cores  boots  host ms to all up: median   min    max   kernel us (median)  kernel cycles (median)"
    );
    for s in &meta.summaries {
        println!(
            "{:>5}  {:>5}  {:>26.1} {:>6.1} {:>6.1}  {:>18}  {:>22}",
            s.cores,
            s.runs,
            s.host_ms_median,
            s.host_ms_min,
            s.host_ms_max,
            s.kernel_us_median,
            s.kernel_cycles_median
        );
    }
    println!("results: {}", dir.display());
    Ok(ExitCode::SUCCESS)
}
