//! Boot-time measurements: repeated boots per core count, timed by the host
//! (QEMU start to the `boot-done` line) and by the kernel (TSC cycles from
//! the boot core's entry to the last core up).
//!
//! Results go to `results/boot-time/<timestamp>/` as `boot-time.csv` (one
//! row per boot) and `meta.json` (the machine and software the figures came
//! from, and the per-configuration medians).

use std::fmt::Write as _;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use qemu::{Accel, Machine, QemuConfig};
use serde::Serialize;

use crate::boot;
use crate::cmdline_merge::{Added, CmdlineError, merge};

/// One boot's figures.
#[derive(Clone, Debug, Serialize)]
pub struct Sample {
    /// Cores booted.
    pub cores: u32,
    /// Repetition number, from 0.
    pub run: u32,
    /// Milliseconds from QEMU's start to the `boot-done` line (host clock).
    pub host_ms_to_all_up: f64,
    /// Microseconds from kernel entry to the last core up (guest TSC).
    pub kernel_up_us: u64,
    /// TSC cycles from kernel entry to the last core up.
    pub kernel_up_cycles: u64,
    /// Cycles of one notification round to every other core.
    pub ipi_round_cycles: u64,
    /// The TSC frequency the kernel measured.
    pub tsc_hz: u64,
}

/// Median, minimum and maximum of one configuration.
#[derive(Clone, Debug, Serialize)]
pub struct Summary {
    /// Cores booted.
    pub cores: u32,
    /// Boots measured.
    pub runs: usize,
    /// Median host milliseconds to all cores up.
    pub host_ms_median: f64,
    /// Fastest host milliseconds.
    pub host_ms_min: f64,
    /// Slowest host milliseconds.
    pub host_ms_max: f64,
    /// Median kernel microseconds to all cores up.
    pub kernel_us_median: u64,
    /// Median kernel TSC cycles to all cores up.
    pub kernel_cycles_median: u64,
}

/// Where and on what the figures were taken.
#[derive(Clone, Debug, Serialize)]
pub struct Meta {
    /// The experiment's name.
    pub experiment: &'static str,
    /// `git describe`-style revision of the workspace, `+dirty` if modified.
    pub git_revision: String,
    /// QEMU's version.
    pub qemu_version: String,
    /// The accelerator used.
    pub accelerator: String,
    /// Why that accelerator.
    pub accelerator_reason: String,
    /// The machine type.
    pub machine: String,
    /// The host CPU's model name.
    pub host_cpu: String,
    /// Host CPUs online.
    pub host_cpus: usize,
    /// UTC time the run started.
    pub started_utc: String,
    /// Per-configuration summaries.
    pub summaries: Vec<Summary>,
}

/// What to measure.
#[derive(Clone, Debug)]
pub struct BenchRequest {
    /// The kernel image.
    pub kernel: PathBuf,
    /// Core counts to boot.
    pub cores: Vec<u32>,
    /// Boots per core count.
    pub repeat: u32,
    /// Machine type.
    pub machine: Machine,
    /// Accelerator.
    pub accel: Accel,
    /// Where `results/` is created.
    pub results_root: PathBuf,
    /// The kernel command line; see [`kernel_cmdline`].
    pub cmdline: String,
}

/// The kernel command line of the boots: `log=warn` unless `append` gives
/// `log=`, then `append`.
pub fn kernel_cmdline(append: &str) -> Result<String, CmdlineError> {
    merge(&[Added::default("log", "warn")], append)
}

impl BenchRequest {
    /// The configuration of one boot of `cores` cores.
    pub fn config(&self, cores: u32) -> QemuConfig {
        QemuConfig::new(&self.kernel)
            .machine(self.machine)
            .cores(cores)
            .accel(self.accel)
            .append(self.cmdline.clone())
            .timeout(std::time::Duration::from_secs(120))
    }

    /// Checks every configuration before anything is built or booted; see
    /// [`boot::check`].
    pub fn check(&self) -> Result<(), qemu::ConfigError> {
        for &cores in &self.cores {
            boot::check(&self.config(cores))?;
        }
        Ok(())
    }
}

fn median_f64(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn median_u64(mut v: Vec<u64>) -> u64 {
    v.sort_unstable();
    v[v.len() / 2]
}

/// Summarises the samples of one core count.
pub fn summarise(cores: u32, samples: &[Sample]) -> Summary {
    let mine: Vec<&Sample> = samples.iter().filter(|s| s.cores == cores).collect();
    let host: Vec<f64> = mine.iter().map(|s| s.host_ms_to_all_up).collect();
    Summary {
        cores,
        runs: mine.len(),
        host_ms_median: median_f64(host.clone()),
        host_ms_min: host.iter().copied().fold(f64::INFINITY, f64::min),
        host_ms_max: host.iter().copied().fold(0.0, f64::max),
        kernel_us_median: median_u64(mine.iter().map(|s| s.kernel_up_us).collect()),
        kernel_cycles_median: median_u64(mine.iter().map(|s| s.kernel_up_cycles).collect()),
    }
}

pub use crate::results::{git_revision, host_cpu};

/// Renders samples as CSV.
pub fn to_csv(machine: &str, accel: &str, samples: &[Sample]) -> String {
    let mut out = String::from(
        "machine,accel,cores,run,host_ms_to_all_up,kernel_up_us,kernel_up_cycles,ipi_round_cycles,tsc_hz\n",
    );
    for s in samples {
        let _ = writeln!(
            out,
            "{machine},{accel},{},{},{:.3},{},{},{},{}",
            s.cores,
            s.run,
            s.host_ms_to_all_up,
            s.kernel_up_us,
            s.kernel_up_cycles,
            s.ipi_round_cycles,
            s.tsc_hz
        );
    }
    out
}

/// Boots every configuration `repeat` times; returns the samples, the
/// summaries and the results directory written.
pub fn run(req: &BenchRequest) -> Result<(Vec<Sample>, Meta, PathBuf)> {
    let started = chrono::Utc::now();
    let total = req.cores.len() as u64 * u64::from(req.repeat);
    let bar = indicatif::ProgressBar::new(total).with_style(
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} boots {msg}")
            .expect("the template is valid"),
    );
    let mut samples = Vec::new();
    let mut accel = None;
    for &cores in &req.cores {
        for run in 0..req.repeat {
            bar.set_message(format!("({cores} cores)"));
            let report = boot::run(&req.config(cores), None)?;
            if !report.passed() {
                bar.abandon();
                bail!("{}\n{}", report.verdict(), report.failure_report);
            }
            let (Some(done), Some(at)) = (report.analysis.done, report.analysis.all_up_at) else {
                bail!("a passing boot without boot-done");
            };
            accel.get_or_insert(report.accel.clone());
            samples.push(Sample {
                cores,
                run,
                host_ms_to_all_up: at.as_secs_f64() * 1000.0,
                kernel_up_us: done.up_us,
                kernel_up_cycles: done.up_cycles,
                ipi_round_cycles: done.ipi_round_cycles,
                tsc_hz: done.tsc_hz,
            });
            bar.inc(1);
        }
    }
    bar.finish_and_clear();
    let accel = accel.context("nothing was measured")?;
    let accel_name = accel.accel.name();
    let qemu_version = crate::results::qemu_version();
    let meta = Meta {
        experiment: "boot-time",
        git_revision: git_revision(&req.results_root),
        qemu_version,
        accelerator: accel_name.to_owned(),
        accelerator_reason: accel.reason.clone(),
        machine: req.machine.to_string(),
        host_cpu: host_cpu(),
        host_cpus: crate::results::host_cpus(),
        started_utc: started.to_rfc3339(),
        summaries: req.cores.iter().map(|&c| summarise(c, &samples)).collect(),
    };
    let dir = crate::results::create_dir(&req.results_root, "boot-time", started)?;
    std::fs::write(
        dir.join("boot-time.csv"),
        to_csv(&meta.machine, &meta.accelerator, &samples),
    )?;
    std::fs::write(
        dir.join("meta.json"),
        serde_json::to_string_pretty(&meta)? + "\n",
    )?;
    Ok((samples, meta, dir))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(cores: u32, run: u32, ms: f64, us: u64) -> Sample {
        Sample {
            cores,
            run,
            host_ms_to_all_up: ms,
            kernel_up_us: us,
            kernel_up_cycles: us * 3000,
            ipi_round_cycles: 1,
            tsc_hz: 3_000_000_000,
        }
    }

    #[test]
    fn summaries_take_the_median_of_their_own_core_count() {
        let s = [
            sample(2, 0, 30.0, 300),
            sample(2, 1, 10.0, 100),
            sample(2, 2, 20.0, 200),
            sample(8, 0, 99.0, 999),
        ];
        let sum = summarise(2, &s);
        assert_eq!(sum.runs, 3);
        assert_eq!(sum.host_ms_median, 20.0);
        assert_eq!(sum.host_ms_min, 10.0);
        assert_eq!(sum.host_ms_max, 30.0);
        assert_eq!(sum.kernel_us_median, 200);
        assert_eq!(sum.kernel_cycles_median, 600_000);
    }

    #[test]
    fn the_kernel_command_line_takes_the_users_log_level() {
        assert_eq!(kernel_cmdline("").unwrap(), "log=warn");
        assert_eq!(kernel_cmdline("log=debug").unwrap(), "log=debug");
        assert_eq!(
            kernel_cmdline("ap-timeout-ms=99").unwrap(),
            "log=warn ap-timeout-ms=99"
        );
        assert!(kernel_cmdline("log=debug log=info").is_err());
    }

    #[test]
    fn csv_has_a_header_and_a_row_per_sample() {
        let csv = to_csv("microvm", "tcg", &[sample(2, 0, 1.5, 10)]);
        let rows: Vec<&str> = csv.lines().collect();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[1], "microvm,tcg,2,0,1.500,10,30000,1,3000000000");
        assert_eq!(rows[0].split(',').count(), rows[1].split(',').count());
    }
}
