//! E1 (`exp=urpc`) on the host: its CSV, its plot and its summary.
//!
//! The plot is the median round trip per core pair, a bar per variant (raw
//! ping-pong, URPC ack line, URPC used bit), over the band of Multikernel
//! Table 2's latencies.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use anyhow::Result;
use plotters::prelude::*;

use super::anchors;
use super::output::Meta;
use super::plot::{chart, err, legend, svg};
use super::records::{ConfigResult, UrpcRow};
use super::summary::{median, range};

/// The CSV of E1: one row per pair and variant.
pub fn urpc_csv(meta: &Meta, configs: &[ConfigResult]) -> String {
    let mut out = String::from(
        "experiment,ring,accel,cores,src,dst,variant,rtt_median,rtt_p99,rtt_min,oneway_median,tput_msgs_per_kcycle,samples,tsc_overhead,tsc_hz\n",
    );
    let ring = meta.ring_text();
    for c in configs {
        for r in &c.urpc {
            let tput = r.tput.map_or(String::new(), |t| format!("{t:.2}"));
            let _ = writeln!(
                out,
                "urpc,{ring},{},{},{},{},{},{},{},{},{:.2},{tput},{},{},{}",
                meta.accelerator,
                c.cores,
                r.src,
                r.dst,
                r.variant,
                r.rtt_median,
                r.rtt_p99,
                r.rtt_min,
                r.oneway_median,
                r.samples,
                r.tsc_overhead,
                c.tsc_hz
            );
        }
    }
    out
}

/// The E1 variants in drawing order, with their legend names.
pub const URPC_VARIANTS: [(&str, &str); 3] = [
    ("raw", "raw cache-line ping-pong"),
    ("ack", "URPC, ack line"),
    ("used", "URPC, used bit"),
];

/// The E1 plot.
pub fn urpc_svg(title: &str, configs: &[ConfigResult]) -> Result<String> {
    let several = configs.len() > 1;
    let mut groups: Vec<(String, [Option<u64>; 3])> = Vec::new();
    for c in configs {
        let mut pairs: BTreeMap<(u32, u32), [Option<u64>; 3]> = BTreeMap::new();
        for r in &c.urpc {
            if let Some(v) = URPC_VARIANTS
                .iter()
                .position(|(name, _)| *name == r.variant)
            {
                pairs.entry((r.src, r.dst)).or_default()[v] = Some(r.rtt_median);
            }
        }
        for ((src, dst), v) in pairs {
            let label = if several {
                format!("{}c {src}→{dst}", c.cores)
            } else {
                format!("{src}→{dst}")
            };
            groups.push((label, v));
        }
    }
    let top = groups
        .iter()
        .flat_map(|(_, v)| v.iter().flatten().copied())
        .chain([anchors::TABLE2_ROUND_TRIP.1])
        .max()
        .unwrap_or(1) as f64
        * 1.15;
    let n = groups.len().max(1);
    svg(|root| {
        let mut chart = chart(root, title, 70, -0.5f64..(n as f64 - 0.5), 0f64..top)?;
        let labels: Vec<String> = groups.iter().map(|(l, _)| l.clone()).collect();
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(n.min(40))
            .x_label_formatter(&|x| {
                let i = x.round();
                if (x - i).abs() < 0.01 && i >= 0.0 {
                    labels.get(i as usize).cloned().unwrap_or_default()
                } else {
                    String::new()
                }
            })
            .label_style(("sans-serif", 14))
            .y_label_formatter(&|y| format!("{y:.0}"))
            .x_desc("core pair (initiator → responder)")
            .y_desc("round trip, median (cycles)")
            .draw()
            .map_err(err)?;
        let (lo, hi) = anchors::TABLE2_ROUND_TRIP;
        let band = RGBColor(255, 200, 120).mix(0.35);
        chart
            .draw_series([Rectangle::new(
                [(-0.5, lo as f64), (n as f64 - 0.5, hi as f64)],
                band.filled(),
            )])
            .map_err(err)?
            .label(format!(
                "Multikernel Table 2, as round trips: {lo}–{hi} cycles"
            ))
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 18, y + 5)], band.filled()));
        let colours = [
            RGBColor(90, 90, 90),
            RGBColor(31, 119, 180),
            RGBColor(214, 39, 40),
        ];
        for (v, (_, name)) in URPC_VARIANTS.iter().enumerate() {
            let colour = colours[v];
            let bars = groups.iter().enumerate().filter_map(|(i, (_, vals))| {
                vals[v].map(|y| {
                    let x0 = i as f64 - 0.36 + v as f64 * 0.24;
                    Rectangle::new([(x0, 0.0), (x0 + 0.22, y as f64)], colour.filled())
                })
            });
            chart
                .draw_series(bars)
                .map_err(err)?
                .label(*name)
                .legend(move |(x, y)| {
                    Rectangle::new([(x, y - 5), (x + 18, y + 5)], colour.filled())
                });
        }
        legend(&mut chart, SeriesLabelPosition::UpperLeft, 14)
    })
}

/// The order of E2's series in the legend.
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

/// Each URPC variant's median throughput as a fraction of the raw stream
/// over the same lines, measured in the same run (one store per message,
/// one credit line: the most the lines carry).
pub fn stream_line(c: &ConfigResult) -> Option<String> {
    let tput = |variant: &str| median_f(rows(c, variant).filter_map(|r| r.tput).collect());
    let raw = tput("raw").filter(|r| *r > 0.0)?;
    let (ack, used) = (tput("ack")?, tput("used")?);
    Some(format!(
        "ours ({} cores): raw stream over the same lines {raw:.2} msgs/kcycle; ack {ack:.2} ({:.2}× raw), used {used:.2} ({:.2}× raw)",
        c.cores,
        ack / raw,
        used / raw
    ))
}

/// The median of `v` (the mean of the middle two for an even count).
fn median_f(mut v: Vec<f64>) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let m = v.len() / 2;
    Some(if v.len() % 2 == 1 {
        v[m]
    } else {
        (v[m - 1] + v[m]) / 2.0
    })
}

/// The exact closing line of an E1 run.
pub fn ratio_line(ratio: f64) -> String {
    format!("urpc one-way / raw one-way = {ratio:.2}")
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
        if let Some(line) = stream_line(c) {
            let _ = writeln!(out, "{line}");
        }
    }
    let _ = writeln!(out, "{}", anchors::table2_line());
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exp::output::tests::meta;
    use crate::exp::records::tests::URPC2;
    use crate::exp::records::{from_lines, parse};
    use services::exp::ExpKind;

    #[test]
    fn urpc_csv_has_a_row_per_pair_and_variant() {
        let c = parse(ExpKind::Urpc, 2, &from_lines(URPC2)).unwrap();
        let csv = urpc_csv(&meta("urpc"), &[c]);
        let rows: Vec<&str> = csv.lines().collect();
        assert_eq!(rows.len(), 7);
        let width = rows[0].split(',').count();
        assert!(rows.iter().all(|r| r.split(',').count() == width), "{csv}");
        assert_eq!(
            rows[1],
            "urpc,hosted,hosted,2,0,1,raw,300,400,250,150.00,,1800,40,2800000000"
        );
        assert!(
            rows[2].contains(",ack,500,700,450,250.00,12.50,"),
            "{}",
            rows[2]
        );
    }

    #[test]
    fn urpc_plot_names_every_series_and_pair() {
        let c = parse(ExpKind::Urpc, 2, &from_lines(URPC2)).unwrap();
        let svg = urpc_svg("URPC on 2 cores", &[c]).unwrap();
        assert!(svg.starts_with("<svg"), "{}", &svg[..100.min(svg.len())]);
        for name in [
            "raw cache-line ping-pong",
            "URPC, ack line",
            "URPC, used bit",
            "Multikernel Table 2",
            "0→1",
            "1→0",
            "URPC on 2 cores",
        ] {
            assert!(svg.contains(name), "{name} missing");
        }
        assert!(
            svg.matches("<rect").count() >= 6,
            "a bar per pair and variant"
        );
    }

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
}
