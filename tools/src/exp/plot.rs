//! SVG plots in the style of the paper's figures, drawn with `plotters`.
//!
//! - E1: median round trip per core pair, a bar per variant (raw
//!   ping-pong, URPC ack line, URPC used bit), over the band of Multikernel
//!   Table 2's latencies.
//! - E2: cycles per update against cores, a line per series (SHM1..SHM8,
//!   SHM atomic, SHM lock, MSG client and server), as in Figure 3.
//! - E5 and E6 are drawn in [`super::sync`], on a log scale.

use std::collections::BTreeMap;

use anyhow::{Result, anyhow};
use plotters::prelude::*;

use super::anchors;
use super::records::{ConfigResult, UpdateRow};

/// The size of every plot, pixels.
pub(crate) const SIZE: (u32, u32) = (1000, 600);

/// The E1 variants in drawing order, with their legend names.
pub const URPC_VARIANTS: [(&str, &str); 3] = [
    ("raw", "raw cache-line ping-pong"),
    ("ack", "URPC, ack line"),
    ("used", "URPC, used bit"),
];

/// A drawing error as an `anyhow` error.
pub(crate) fn err<E: std::fmt::Debug>(e: E) -> anyhow::Error {
    anyhow!("drawing the plot: {e:?}")
}

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
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 20))
            .margin(20)
            .x_label_area_size(50)
            .y_label_area_size(70)
            .build_cartesian_2d(-0.5f64..(n as f64 - 0.5), 0f64..top)
            .map_err(err)?;
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
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .label_font(("sans-serif", 14))
            .draw()
            .map_err(err)?;
        root.present().map_err(err)?;
    }
    Ok(svg)
}

/// The order of E2's series in the legend.
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

/// Line colours, distinguishable on white.
pub(crate) const PALETTE: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(44, 160, 44),
    RGBColor(148, 103, 189),
    RGBColor(23, 190, 207),
    RGBColor(255, 127, 14),
    RGBColor(140, 86, 75),
    RGBColor(214, 39, 40),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
];

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
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 20))
            .margin(20)
            .x_label_area_size(50)
            .y_label_area_size(80)
            .build_cartesian_2d(0.5f64..(f64::from(max_cores) + 0.5), 0f64..top)
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_labels(max_cores as usize + 1)
            .x_label_formatter(&|x| {
                if (x - x.round()).abs() < 0.01 {
                    format!("{}", x.round())
                } else {
                    String::new()
                }
            })
            .label_style(("sans-serif", 14))
            .y_label_formatter(&|y| format!("{y:.0}"))
            .x_desc("cores")
            .y_desc("latency (cycles per update)")
            .draw()
            .map_err(err)?;
        for (i, (label, msg, mut pts)) in lines.into_values().enumerate() {
            pts.sort_by(|a, b| a.0.total_cmp(&b.0));
            let colour = PALETTE[i % PALETTE.len()];
            let style = if msg {
                colour.stroke_width(3)
            } else {
                colour.stroke_width(2)
            };
            chart
                .draw_series(LineSeries::new(pts.clone(), style))
                .map_err(err)?
                .label(label)
                .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], style));
            chart
                .draw_series(pts.into_iter().map(|p| Circle::new(p, 3, colour.filled())))
                .map_err(err)?;
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .label_font(("sans-serif", 14))
            .draw()
            .map_err(err)?;
        root.present().map_err(err)?;
    }
    Ok(svg)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exp::records::tests::{URPC2, update_configs};
    use crate::exp::records::{from_lines, parse};
    use services::exp::ExpKind;

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
}
