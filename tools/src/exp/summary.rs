//! The terminal summary: a table of our figures with the paper's anchors
//! beside them.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::anchors;
use super::records::{ConfigResult, UpdateRow, UrpcRow};

fn median(mut v: Vec<f64>) -> Option<f64> {
    v.sort_by(f64::total_cmp);
    (!v.is_empty()).then(|| v[(v.len() - 1) / 2])
}

fn rows<'a>(c: &'a ConfigResult, variant: &'a str) -> impl Iterator<Item = &'a UrpcRow> + 'a {
    c.urpc.iter().filter(move |r| r.variant == variant)
}

/// Median over pairs of the median one-way latency of `variant`.
fn oneway(c: &ConfigResult, variant: &str) -> Option<f64> {
    median(
        rows(c, variant)
            .map(|r| r.oneway_fine.unwrap_or(r.oneway_median))
            .collect(),
    )
}

/// The URPC variant with the lower median one-way latency over the pairs
/// (the default, `ack`, on a tie), and its ratio to the raw ping-pong's
/// one-way latency.
pub fn urpc_ratio(c: &ConfigResult) -> Option<(&'static str, f64)> {
    let raw = oneway(c, "raw")?;
    let (ack, used) = (oneway(c, "ack"), oneway(c, "used"));
    let (name, best) = match (ack, used) {
        (Some(a), Some(u)) if u < a => ("used", u),
        (Some(a), _) => ("ack", a),
        (None, Some(u)) => ("used", u),
        (None, None) => return None,
    };
    (raw > 0.0).then(|| (name, best / raw))
}

/// The exact closing line of an E1 run.
pub fn ratio_line(ratio: f64) -> String {
    format!("urpc one-way / raw one-way = {ratio:.2}")
}

fn range<T: PartialOrd + Copy>(values: impl Iterator<Item = T>) -> Option<(T, T)> {
    values.fold(None, |acc, v| match acc {
        None => Some((v, v)),
        Some((lo, hi)) => Some((if v < lo { v } else { lo }, if v > hi { v } else { hi })),
    })
}

/// The E1 table and anchor lines (without the closing ratio line).
pub fn urpc_report(configs: &[ConfigResult]) -> String {
    let mut out = String::new();
    for c in configs {
        let _ = writeln!(
            out,
            "\n{} cores, TSC {:.2} GHz",
            c.cores,
            c.tsc_hz as f64 / 1e9
        );
        let _ = writeln!(
            out,
            "pair     flow   rtt median   rtt p99   one-way  msgs/kcyc  samples"
        );
        for r in &c.urpc {
            let tput = r.tput.map_or("-".to_owned(), |t| format!("{t:.2}"));
            let _ = writeln!(
                out,
                "{:<8} {:<6} {:>10} {:>9} {:>9.1} {:>10}  {}",
                format!("{}→{}", r.src, r.dst),
                r.variant,
                r.rtt_median,
                r.rtt_p99,
                r.oneway_median,
                tput,
                r.samples
            );
        }
        let urpc = || c.urpc.iter().filter(|r| r.variant != "raw");
        if let (Some((lo, hi)), Some((tlo, thi))) = (
            range(urpc().map(|r| r.rtt_median)),
            range(urpc().filter_map(|r| r.tput)),
        ) {
            let _ = writeln!(
                out,
                "ours ({} cores): URPC round trip {lo}–{hi} cycles (one-way {:.0}–{:.0}), throughput {tlo:.2}–{thi:.2} msgs/kcycle",
                c.cores,
                lo as f64 / 2.0,
                hi as f64 / 2.0
            );
        }
        if let Some((lo, hi)) = range(rows(c, "raw").map(|r| r.rtt_median)) {
            let _ = writeln!(
                out,
                "ours ({} cores): raw ping-pong round trip {lo}–{hi} cycles",
                c.cores
            );
        }
    }
    let _ = writeln!(out, "{}", anchors::table2_line());
    out
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
    use crate::exp::records::tests::{URPC2, update_configs};
    use crate::exp::records::{from_lines, parse};
    use services::exp::ExpKind;

    #[test]
    fn the_ratio_uses_the_faster_variant() {
        let c = parse(ExpKind::Urpc, 2, &from_lines(URPC2)).unwrap();
        let (name, ratio) = urpc_ratio(&c).unwrap();
        assert_eq!(name, "ack");
        // ack one-way medians 250, 260 -> 250; raw 150, 160 -> 150.
        assert_eq!(ratio_line(ratio), "urpc one-way / raw one-way = 1.67");
        let report = urpc_report(&[c]);
        assert!(report.contains("Multikernel Table 2"), "{report}");
        assert!(report.contains("round trip 500–640 cycles"), "{report}");
    }

    #[test]
    fn the_ratio_prefers_the_unrounded_one_way_latency() {
        let mut lines = URPC2.to_vec();
        let fine = URPC2[2].replace(
            "oneway_median=250.00",
            "oneway_median=250.00 oneway_fine=249.00",
        );
        lines[2] = &fine;
        let c = parse(ExpKind::Urpc, 2, &from_lines(&lines)).unwrap();
        // ack one-way 249 (unrounded) and 260 -> 249; raw 150.
        assert_eq!(urpc_ratio(&c), Some(("ack", 249.0 / 150.0)));
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
