//! `--plot FILE.svg`: the latency CDF of every transport of a run, one line each, for reports.
//!
//! x is the end-to-end latency on a log scale (a poll's seconds and a socket's milliseconds fit
//! on one chart), y the fraction of events delivered within it.

use std::path::Path;

use plotters::prelude::*;

use super::Row;

/// What the run was, written on the plot so that it reads on its own in a lab report.
pub struct PlotContext {
    pub clients: usize,
    /// Events per second of the feed.
    pub rate_hz: f64,
    /// Milliseconds between two short polls of one client.
    pub poll_interval_ms: u64,
    /// Seconds measured per transport.
    pub duration_s: u64,
}

/// Each transport's colour and name as the dashboard shows them (static/css/transports.css,
/// Okabe-Ito); other clients (Socket.IO) get the remaining Okabe-Ito colours.
fn look(transport: &str) -> (RGBColor, &str) {
    match transport {
        "classic" => (RGBColor(0xCC, 0x79, 0xA7), "Classic page"),
        "poll" => (RGBColor(0xE6, 0x9F, 0x00), "Short polling"),
        "longpoll" => (RGBColor(0xD5, 0x5E, 0x00), "Long polling"),
        "sse" => (RGBColor(0x00, 0x9E, 0x73), "Server-Sent Events"),
        "ws" => (RGBColor(0x00, 0x72, 0xB2), "WebSocket"),
        other => (RGBColor(0x56, 0xB4, 0xE9), other),
    }
}

pub fn plot_cdf(rows: &[Row], path: &Path, context: &PlotContext) -> anyhow::Result<()> {
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
    let caption = format!(
        "End-to-end latency: {} clients per transport, {} events/s, short poll every {} ms, {} s each",
        context.clients, context.rate_hz, context.poll_interval_ms, context.duration_s
    );
    let mut chart = ChartBuilder::on(&root)
        .caption(caption, ("sans-serif", 20))
        .margin(16)
        .x_label_area_size(44)
        .y_label_area_size(56)
        .build_cartesian_2d((min_ms..max_ms * 1.1).log_scale(), 0.0..1.0)?;
    chart
        .configure_mesh()
        .x_desc("latency (ms, log scale)")
        .y_desc("fraction of events")
        .draw()?;
    for row in rows {
        let (color, name) = look(row.transport);
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
            .label(name)
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
