//! What every experiment's SVG plot shares, drawn with `plotters` in the
//! style of the paper's figures: the size, the errors, and the log-scale
//! line plot of E5, E6 and E7. Each experiment's module draws its own.

use std::collections::BTreeMap;

use anyhow::{Result, anyhow};
use plotters::prelude::*;

/// The size of every plot, pixels.
pub(crate) const SIZE: (u32, u32) = (1000, 600);

/// A drawing error as an `anyhow` error.
pub(crate) fn err<E: std::fmt::Debug>(e: E) -> anyhow::Error {
    anyhow!("drawing the plot: {e:?}")
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

/// A line per series of (cores, value) points, on a log scale: E5's
/// throughput and E6's cycles per episode against cores.
pub(crate) fn log_lines_svg(
    title: &str,
    y_desc: &str,
    lines: BTreeMap<(usize, String), Vec<(f64, f64)>>,
    max_cores: u32,
) -> Result<String> {
    let values = lines.values().flatten().map(|p| p.1).filter(|v| *v > 0.0);
    let (lo, hi) = values.fold((f64::MAX, 1.0f64), |(lo, hi), v| (lo.min(v), hi.max(v)));
    let (lo, hi) = ((lo.min(hi) / 2.0).max(0.01), hi * 2.0);
    let max_cores = max_cores.max(2);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 20))
            .margin(20)
            .x_label_area_size(50)
            .y_label_area_size(90)
            .build_cartesian_2d(0.5f64..(f64::from(max_cores) + 0.5), (lo..hi).log_scale())
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
            .y_desc(y_desc)
            .draw()
            .map_err(err)?;
        for (i, ((_, label), mut pts)) in lines.into_iter().enumerate() {
            pts.retain(|p| p.1 > 0.0);
            pts.sort_by(|a, b| a.0.total_cmp(&b.0));
            let colour = PALETTE[i % PALETTE.len()];
            let style = if label.starts_with("msg-") {
                colour.stroke_width(3)
            } else {
                colour.stroke_width(1)
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
            .position(SeriesLabelPosition::UpperRight)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .label_font(("sans-serif", 13))
            .draw()
            .map_err(err)?;
        root.present().map_err(err)?;
    }
    Ok(svg)
}
