//! `--plot FILE.svg`: the latency CDF of every transport of a run, one line each, for reports.
//!
//! x is the end-to-end latency on a log scale (a poll's seconds and a socket's milliseconds fit
//! on one chart), y the fraction of events delivered within it.

use std::path::Path;

use plotters::prelude::*;

use super::Row;

/// Okabe-Ito: distinguishable with every common colour-vision deficiency (as on the dashboard).
const PALETTE: [RGBColor; 6] = [
    RGBColor(0, 114, 178),
    RGBColor(230, 159, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(86, 180, 233),
    RGBColor(213, 94, 0),
];

pub fn plot_cdf(rows: &[Row], path: &Path) -> anyhow::Result<()> {
    let max_ms = rows
        .iter()
        .map(|r| r.latency.max() as f64 / 1000.0)
        .fold(1.0, f64::max);
    let min_ms = rows
        .iter()
        .filter(|r| !r.latency.is_empty())
        .map(|r| r.latency.min().max(1) as f64 / 1000.0)
        .fold(max_ms, f64::min)
        .min(max_ms / 10.0);
    let root = SVGBackend::new(path, (960, 600)).into_drawing_area();
    root.fill(&WHITE)?;
    let clients = rows.first().map_or(0, |r| r.clients);
    let mut chart = ChartBuilder::on(&root)
        .caption(
            format!("End-to-end latency, {clients} clients per transport"),
            ("sans-serif", 22),
        )
        .margin(16)
        .x_label_area_size(44)
        .y_label_area_size(56)
        .build_cartesian_2d((min_ms..max_ms * 1.1).log_scale(), 0.0..1.0)?;
    chart
        .configure_mesh()
        .x_desc("latency (ms, log scale)")
        .y_desc("fraction of events")
        .draw()?;
    for (row, color) in rows.iter().zip(PALETTE.iter().cycle()) {
        let points: Vec<(f64, f64)> = row
            .latency
            .iter_recorded()
            .map(|v| {
                (
                    row.latency.highest_equivalent(v.value_iterated_to()) as f64 / 1000.0,
                    v.percentile() / 100.0,
                )
            })
            .collect();
        chart
            .draw_series(LineSeries::new(points, color.stroke_width(2)))?
            .label(row.transport)
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
            });
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .position(SeriesLabelPosition::LowerRight)
        .draw()?;
    root.present()?;
    Ok(())
}
