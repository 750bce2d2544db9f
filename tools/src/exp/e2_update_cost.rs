//! E2 (`exp=update-cost`) on the host: its CSV, its plot and its summary.
//!
//! The plot is cycles per update against cores, a line per series
//! (SHM1..SHM8, SHM atomic, SHM lock, MSG client and server), as in
//! Multikernel Figure 3.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use anyhow::Result;
use plotters::prelude::*;

use super::anchors;
use super::output::Meta;
use super::plot::{PALETTE, chart, cores_mesh, legend, line, svg};
use super::records::{ConfigResult, UpdateRow};

/// The CSV of E2: one row per configuration, series and `k`.
pub fn update_csv(meta: &Meta, configs: &[ConfigResult]) -> String {
    let mut out = String::from(
        "experiment,ring,accel,cores,series,k,label,cycles_per_update,p99,min_core,max_core,samples,updates,lost,tsc_overhead,tsc_hz\n",
    );
    let ring = meta.ring_text();
    for c in configs {
        for r in &c.update {
            let _ = writeln!(
                out,
                "update-cost,{ring},{},{},{},{},{},{:.2},{:.2},{:.2},{:.2},{},{},{},{},{}",
                meta.accelerator,
                c.cores,
                r.series,
                r.k,
                r.label(),
                r.cycles,
                r.p99,
                r.min_core,
                r.max_core,
                r.samples,
                r.updates,
                r.lost,
                r.tsc_overhead,
                c.tsc_hz
            );
        }
    }
    out
}

fn series_rank(r: &UpdateRow) -> (u8, u32) {
    let rank = match r.series.as_str() {
        "shm" => 0,
        "shm-atomic" => 1,
        "shm-lock" => 2,
        "msg-client" => 3,
        "msg-server" => 4,
        _ => 5,
    };
    (rank, r.k)
}

/// One E2 line: its label, whether it is a message-passing series, and
/// its (cores, cycles) points.
type Line = (String, bool, Vec<(f64, f64)>);

/// The E2 plot.
pub fn update_svg(title: &str, configs: &[ConfigResult]) -> Result<String> {
    let mut lines: BTreeMap<(u8, u32), Line> = BTreeMap::new();
    for c in configs {
        for r in &c.update {
            let entry = lines
                .entry(series_rank(r))
                .or_insert_with(|| (r.label(), r.series.starts_with("msg"), Vec::new()));
            entry.2.push((f64::from(c.cores), r.cycles));
        }
    }
    let max_cores = configs.iter().map(|c| c.cores).max().unwrap_or(1).max(2);
    let top = lines
        .values()
        .flat_map(|(_, _, pts)| pts.iter().map(|p| p.1))
        .fold(1.0f64, f64::max)
        * 1.1;
    svg(|root| {
        let x = 0.5f64..(f64::from(max_cores) + 0.5);
        let mut chart = chart(root, title, 80, x, 0f64..top)?;
        cores_mesh(&mut chart, max_cores, "latency (cycles per update)")?;
        for (i, (label, msg, mut pts)) in lines.into_values().enumerate() {
            pts.sort_by(|a, b| a.0.total_cmp(&b.0));
            let width = if msg { 3 } else { 2 };
            line(&mut chart, label, pts, PALETTE[i % PALETTE.len()], width)?;
        }
        legend(&mut chart, SeriesLabelPosition::UpperLeft, 14)
    })
}

/// An E2 series: its label and its rows by core count.
type Series<'a> = (String, BTreeMap<u32, &'a UpdateRow>);

/// The series present, in the paper's order, with their rows by cores.
fn series(configs: &[ConfigResult]) -> Vec<Series<'_>> {
    let mut by: BTreeMap<(u8, u32), Series<'_>> = BTreeMap::new();
    for c in configs {
        for r in &c.update {
            let rank = ["shm", "shm-atomic", "shm-lock", "msg-client", "msg-server"]
                .iter()
                .position(|s| *s == r.series)
                .unwrap_or(9) as u8;
            by.entry((rank, r.k))
                .or_insert_with(|| (r.label(), BTreeMap::new()))
                .1
                .insert(c.cores, r);
        }
    }
    by.into_values().collect()
}

/// The smallest core count at which MSG8's client cost is below SHM8's.
pub fn crossover(configs: &[ConfigResult]) -> Option<u32> {
    let find = |c: &ConfigResult, s: &str| {
        c.update
            .iter()
            .find(|r| r.series == s && r.k == 8)
            .map(|r| r.cycles)
    };
    let mut cs: Vec<&ConfigResult> = configs.iter().collect();
    cs.sort_by_key(|c| c.cores);
    cs.into_iter()
        .find(|c| matches!((find(c, "msg-client"), find(c, "shm")), (Some(m), Some(s)) if m < s))
        .map(|c| c.cores)
}

/// The E2 table (cycles per update by series and cores) and anchor lines.
pub fn update_report(configs: &[ConfigResult]) -> String {
    let mut out = String::new();
    let mut cores: Vec<u32> = configs.iter().map(|c| c.cores).collect();
    cores.sort_unstable();
    let _ = write!(out, "\ncycles per update (median)\n{:<14}", "series");
    for n in &cores {
        let _ = write!(
            out,
            " {:>10}",
            format!("{n} core{}", if *n == 1 { "" } else { "s" })
        );
    }
    out.push('\n');
    for (label, by_cores) in series(configs) {
        let _ = write!(out, "{label:<14}");
        for n in &cores {
            let cell = by_cores
                .get(n)
                .map_or("-".to_owned(), |r| format!("{:.1}", r.cycles));
            let _ = write!(out, " {cell:>10}");
        }
        out.push('\n');
    }
    for c in configs {
        for s in &c.skips {
            let _ = writeln!(
                out,
                "{} cores: {} k={} skipped ({})",
                c.cores, s.series, s.k, s.reason
            );
        }
        for k in &c.checks {
            let _ = writeln!(
                out,
                "{} cores: {} k={}: {} updates sent, {} applied, conserved",
                c.cores, k.series, k.k, k.sent, k.applied
            );
        }
    }
    let _ = writeln!(out, "{}", anchors::fig3_line());
    if let Some(top) = configs.iter().max_by_key(|c| c.cores) {
        let at = |s: &str| {
            top.update
                .iter()
                .find(|r| r.series == s && r.k == 8)
                .map_or("-".to_owned(), |r| format!("{:.0}", r.cycles))
        };
        let cross = match crossover(configs) {
            Some(n) => format!("MSG8 beats SHM8 from {n} cores"),
            None => "MSG8 does not beat SHM8 at the core counts run".to_owned(),
        };
        let _ = writeln!(
            out,
            "ours: at {} cores SHM8 = {} cycles, MSG8 = {} cycles (client); {cross}",
            top.cores,
            at("shm"),
            at("msg-client")
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exp::output::tests::meta;
    use crate::exp::records::tests::update_configs;

    #[test]
    fn update_csv_has_a_row_per_point() {
        let configs = update_configs(&[1, 2]);
        let mut m = meta("update-cost");
        m.ring = serde_json::json!(3);
        let csv = update_csv(&m, &configs);
        let rows: Vec<&str> = csv.lines().collect();
        assert_eq!(rows.len(), 1 + 6 + 10);
        assert!(
            rows[1].starts_with("update-cost,3,hosted,1,shm,1,SHM1,20.00,"),
            "{}",
            rows[1]
        );
        let width = rows[0].split(',').count();
        assert!(rows.iter().all(|r| r.split(',').count() == width), "{csv}");
    }

    #[test]
    fn update_plot_has_a_line_per_series() {
        let configs = update_configs(&[1, 2, 4]);
        let svg = update_svg("update cost", &configs).unwrap();
        for name in [
            "SHM1",
            "SHM2",
            "SHM4",
            "SHM8",
            "SHM8 atomic",
            "SHM8 lock",
            "MSG1 client",
            "MSG1 server",
            "MSG8 client",
            "MSG8 server",
            "cores",
        ] {
            assert!(
                svg.contains(&format!("\n{name}\n")),
                "{name} missing: {svg}"
            );
        }
        assert!(svg.matches("<polyline").count() >= 10, "a line per series");
    }
    #[test]
    fn update_report_has_every_series_and_the_anchor() {
        let configs = update_configs(&[1, 2, 4]);
        let report = update_report(&configs);
        for needle in [
            "SHM1",
            "SHM8 lock",
            "MSG8 server",
            "4 cores",
            "Figure 3",
            "conserved",
        ] {
            assert!(report.contains(needle), "{needle} missing from {report}");
        }
        // In the synthetic data MSG8 (1000·n) never beats SHM8 (160·n).
        assert_eq!(crossover(&configs), None);
    }
}
