//! What every experiment's SVG plot shares, drawn with `plotters` in the
//! style of the paper's figures: the size, the errors, the frame, axes,
//! lines and legend, and the log-scale line plot of E5, E6 and E7. Each
//! experiment's module draws its own from these.

use std::collections::BTreeMap;
use std::ops::Range;

use anyhow::{Result, anyhow};
use plotters::coord::Shift;
use plotters::coord::ranged1d::{AsRangedCoord, ValueFormatter};
use plotters::coord::types::RangedCoordf64;
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

/// The drawing area of one SVG plot.
pub(crate) type Area<'s> = DrawingArea<SVGBackend<'s>, Shift>;

/// A chart of one plot: `f64` across, `Y` up.
pub(crate) type Chart<'a, 's, Y> = ChartContext<'a, SVGBackend<'s>, Cartesian2d<RangedCoordf64, Y>>;

/// An SVG plot of [`SIZE`], drawn by `draw` on a white area.
pub(crate) fn svg(draw: impl FnOnce(&Area<'_>) -> Result<()>) -> Result<String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        draw(&root)?;
        root.present().map_err(err)?;
    }
    Ok(svg)
}

/// A chart titled `title` on `root`, `y_area` pixels left of it for the
/// values, over `x` across and `y` up.
pub(crate) fn chart<'a, 's, Y: AsRangedCoord>(
    root: &'a Area<'s>,
    title: &str,
    y_area: u32,
    x: Range<f64>,
    y: Y,
) -> Result<Chart<'a, 's, Y::CoordDescType>> {
    ChartBuilder::on(root)
        .caption(title, ("sans-serif", 20))
        .margin(20)
        .x_label_area_size(50)
        .y_label_area_size(y_area)
        .build_cartesian_2d(x, y)
        .map_err(err)
}

/// The grid and axes of a plot against cores, 1 to `max_cores`, with
/// whole numbers up the side.
pub(crate) fn cores_mesh<Y>(
    chart: &mut Chart<'_, '_, Y>,
    max_cores: u32,
    y_desc: &str,
) -> Result<()>
where
    Y: Ranged<ValueType = f64> + ValueFormatter<f64>,
{
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
        .map_err(err)
}

/// A line through `pts`, `width` pixels wide, with a dot at each point
/// and `label` in the legend.
pub(crate) fn line<Y: Ranged<ValueType = f64>>(
    chart: &mut Chart<'_, '_, Y>,
    label: String,
    pts: Vec<(f64, f64)>,
    colour: RGBColor,
    width: u32,
) -> Result<()> {
    let style = colour.stroke_width(width);
    chart
        .draw_series(LineSeries::new(pts.clone(), style))
        .map_err(err)?
        .label(label)
        .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], style));
    chart
        .draw_series(pts.into_iter().map(|p| Circle::new(p, 3, colour.filled())))
        .map_err(err)?;
    Ok(())
}

/// The legend at `pos`, in `font`-pixel type on a pale box.
pub(crate) fn legend<'a, 's: 'a, Y: Ranged>(
    chart: &mut Chart<'a, 's, Y>,
    pos: SeriesLabelPosition,
    font: i32,
) -> Result<()> {
    chart
        .configure_series_labels()
        .position(pos)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .label_font(("sans-serif", font))
        .draw()
        .map_err(err)
}

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
    svg(|root| {
        let x = 0.5f64..(f64::from(max_cores) + 0.5);
        let mut chart = chart(root, title, 90, x, (lo..hi).log_scale())?;
        cores_mesh(&mut chart, max_cores, y_desc)?;
        for (i, ((_, label), mut pts)) in lines.into_iter().enumerate() {
            pts.retain(|p| p.1 > 0.0);
            pts.sort_by(|a, b| a.0.total_cmp(&b.0));
            let width = if label.starts_with("msg-") { 3 } else { 1 };
            line(&mut chart, label, pts, PALETTE[i % PALETTE.len()], width)?;
        }
        legend(&mut chart, SeriesLabelPosition::UpperRight, 13)
    })
}
