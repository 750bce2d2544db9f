//! E6 (`exp=barriers`) on the host: its CSV, its plot and its summary.

use std::fmt::Write as _;

use anyhow::Result;

use super::anchors;
use super::output::Meta;
use super::records::ConfigResult;
use super::sync::{kind, series_svg};

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

/// The E6 plot: cycles per episode against cores, a line per barrier (log
/// scale).
pub fn barriers_svg(title: &str, configs: &[ConfigResult]) -> Result<String> {
    series_svg(title, "cycles per episode (log)", configs, |c| {
        c.sync
            .barriers
            .iter()
            .map(|r| (r.series.as_str(), r.cycles))
    })
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

    const BARRIERS1: &[&str] = &[
        "[core 0] @flotilla/1 exp-start exp=barriers cores=1 quick=1 rounds=2 episodes=2000 checked=500 arity=4 batch=32 points=2 tsc_hz=2800000000 args=exp=barriers,quick",
        "[core 0] @flotilla/1 barrier-point series=sense cores=1 arity=4 episodes=5032 cycles=20.00 p99=25.00 min_core=20.00 max_core=20.00 samples=126 tsc_overhead=40",
        "[core 0] @flotilla/1 sync-check exp=barriers series=sense cores=1 expected=1000 counted=1000 violations=0 ok=1",
        "[core 0] @flotilla/1 barrier-point series=msg-central cores=1 arity=4 episodes=5032 cycles=60.00 p99=80.00 min_core=60.00 max_core=60.00 samples=126 tsc_overhead=40",
        "[core 0] @flotilla/1 sync-check exp=barriers series=msg-central cores=1 expected=1000 counted=1000 violations=0 ok=1",
        "[core 0] @flotilla/1 exp-done exp=barriers cores=1 ok=1",
    ];

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
}
