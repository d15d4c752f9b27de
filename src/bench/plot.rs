//! `--plot FILE.svg`: the latency CDF of every transport of a run, one line each, for reports.
//!
//! x is the end-to-end latency on a log scale (a poll's seconds and a socket's milliseconds fit
//! on one chart), y the fraction of events delivered within it.

use std::path::Path;

use plotters::{
    prelude::*,
    style::text_anchor::{HPos, Pos, VPos},
};

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

/// Size of the title, in plotters' font units (the SVG writes size / 1.24 px: 21 px).
const TITLE_FONT: f64 = 26.0;
/// Size of the axis names, in plotters' font units (19 px).
const AXIS_NAME_FONT: f64 = 24.0;
/// Size of the axis numbers and the legend, in plotters' font units (18 px): they read as
/// well as the title from a report printed or projected.
const TEXT_FONT: f64 = 22.0;
/// Smallest text of the plot, in SVG px: what [`TEXT_FONT`] gives, checked by the tests.
#[cfg(test)]
const MIN_TEXT_PX: f64 = 17.0;
/// The SVG's size in px: wide enough for the title (the run) on one line at [`TITLE_FONT`].
const SIZE_PX: (u32, u32) = (1200, 750);
/// Width of the legend's column, right of the plot, in px: the longest name ("Server-Sent
/// Events", "socketio-polling") at [`TEXT_FONT`] after its colour swatch.
const LEGEND_WIDTH_PX: u32 = 230;
/// Where the legend's first line sits below the title, in px (level with the top of the plot).
const LEGEND_TOP_PX: i32 = 32;
/// From one legend line to the next, in px.
const LEGEND_LINE_PX: i32 = 32;
/// Length of a legend line's colour swatch, in px.
const LEGEND_SWATCH_PX: i32 = 30;

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
    let root = SVGBackend::new(path, SIZE_PX).into_drawing_area();
    root.fill(&WHITE)?;
    let caption = format!(
        "End-to-end latency: {} clients per transport, {} events/s, short poll every {} ms, {} s each",
        context.clients, context.rate_hz, context.poll_interval_ms, context.duration_s
    );
    let below_title = root.titled(&caption, ("sans-serif", TITLE_FONT))?;
    // The legend in a column of its own: inside the plot, any corner hides some run's curve.
    let (plot_area, legend_area) = below_title.split_horizontally(SIZE_PX.0 - LEGEND_WIDTH_PX);
    let mut chart = ChartBuilder::on(&plot_area)
        .margin(20)
        .x_label_area_size(70)
        .y_label_area_size(90)
        .build_cartesian_2d((min_ms..max_ms * 1.1).log_scale(), 0.0..1.0)?;
    chart
        .configure_mesh()
        .x_desc("latency, publish to client (ms, log scale)")
        .y_desc("events delivered within that latency (%)")
        .label_style(("sans-serif", TEXT_FONT))
        .axis_desc_style(("sans-serif", AXIS_NAME_FONT))
        .x_label_formatter(&|ms| axis_number(*ms))
        .y_label_formatter(&|fraction| format!("{}%", axis_number(fraction * 100.0)))
        .draw()?;
    for row in rows {
        let (color, _) = look(row.transport);
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
        chart.draw_series(LineSeries::new(points, color.stroke_width(2)))?;
    }
    let text = ("sans-serif", TEXT_FONT)
        .into_text_style(&legend_area)
        .pos(Pos::new(HPos::Left, VPos::Center));
    for (index, row) in rows.iter().enumerate() {
        let (color, name) = look(row.transport);
        let y = LEGEND_TOP_PX + index as i32 * LEGEND_LINE_PX;
        legend_area.draw(&PathElement::new(
            vec![(0, y), (LEGEND_SWATCH_PX, y)],
            color.stroke_width(3),
        ))?;
        legend_area.draw(&Text::new(name, (LEGEND_SWATCH_PX + 10, y), text.clone()))?;
    }
    root.present()?;
    Ok(())
}

/// An axis number with no useless decimal, to 3 significant digits: 1, 10, 1000, 0.5, 0.05.
fn axis_number(value: f64) -> String {
    if value == 0.0 || !value.is_finite() {
        return "0".to_owned();
    }
    let decimals = (2 - value.abs().log10().floor() as i32).max(0) as usize;
    let text = format!("{value:.decimals$}");
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A row whose latencies are `values_us`.
    fn row(transport: &'static str, values_us: impl Iterator<Item = u64>) -> Row {
        let mut latency = crate::meter::new_latency_histogram();
        for v in values_us {
            crate::meter::record_latency(&mut latency, v);
        }
        Row {
            transport,
            clients: 20,
            connected: 20,
            expected: latency.len(),
            received: latency.len(),
            gaps: 0,
            duplicates: 0,
            missed: 0,
            requests: 20,
            empty: 0,
            errors: 0,
            bytes_per_event: 100.0,
            latency_us: crate::meter::summarize(&latency),
            server_cpu_ms_per_1000_events: None,
            server_user_ms_per_1000_events: None,
            server_kernel_ms_per_1000_events: None,
            server_rss_kib_per_connection: None,
            seconds: 8.0,
            requests_per_second: 0.0,
            loopback_rtt_us: 30,
            p50_over_rtt: 0.0,
            servers: 1,
            complete: 10,
            divergent: 0,
            rate_hz: 0.0,
            feed_rate_hz: 0.0,
            interrupted: None,
            latency,
        }
    }

    /// Every text of the SVG as (font size in px, text).
    fn texts(svg: &str) -> Vec<(f64, String)> {
        svg.split("<text")
            .skip(1)
            .map(|element| {
                let size = element
                    .split("font-size=\"")
                    .nth(1)
                    .and_then(|s| s.split('"').next())
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(0.0);
                let text = element
                    .split_once('>')
                    .map(|(_, rest)| rest.split("</text>").next().unwrap_or(""))
                    .unwrap_or("")
                    .trim()
                    .to_owned();
                (size, text)
            })
            .collect()
    }

    /// The SVG of the tester's run (sockets around a millisecond, short polls up to a second),
    /// drawn to a file of this `test`'s own.
    fn svg(test: &str) -> String {
        let rows = [
            row("ws", (600..3_000).step_by(10)),
            row("poll", (1_000..1_000_000).step_by(4_000)),
        ];
        let path = std::env::temp_dir().join(format!("pushlab-{}-{test}.svg", std::process::id()));
        let context = PlotContext {
            clients: 20,
            rate_hz: 10.0,
            poll_interval_ms: 1000,
            duration_s: 8,
        };
        plot_cdf(&rows, &path, &context).expect("plots");
        let svg = std::fs::read_to_string(&path).expect("written");
        let _ = std::fs::remove_file(&path);
        svg
    }

    /// The numbers of attribute `name` in every element `<tag` of the SVG.
    fn attribute(svg: &str, tag: &str, name: &str) -> Vec<f64> {
        svg.split(tag)
            .skip(1)
            .filter_map(|element| {
                element
                    .split(&format!(" {name}=\""))
                    .nth(1)?
                    .split('"')
                    .next()?
                    .parse()
                    .ok()
            })
            .collect()
    }

    #[test]
    fn the_legend_stands_beside_the_curves_not_on_them() {
        // Inside the plot, the lower right corner hid short polling's first half.
        let svg = svg("legend");
        let plot_right = attribute(&svg, "<line", "x1")
            .into_iter()
            .chain(attribute(&svg, "<line", "x2"))
            .fold(0.0, f64::max);
        for name in ["WebSocket", "Short polling"] {
            let element = svg
                .split("<text")
                .find(|e| e.contains(name))
                .unwrap_or_else(|| panic!("{name} in the legend"));
            let x = attribute(&format!("<text{element}"), "<text", "x")[0];
            assert!(
                x > plot_right,
                "{name} at x {x}, the plot ends at {plot_right}"
            );
        }
    }

    /// The texts of [`svg`].
    fn plotted(test: &str) -> Vec<(f64, String)> {
        texts(&svg(test))
    }

    #[test]
    fn axis_numbers_keep_only_the_decimals_they_need() {
        assert_eq!(axis_number(1000.0), "1000");
        assert_eq!(axis_number(1.0), "1");
        assert_eq!(axis_number(0.999_999_9), "1");
        assert_eq!(axis_number(0.5), "0.5");
        assert_eq!(axis_number(0.05), "0.05");
        assert_eq!(axis_number(2.5), "2.5");
        assert_eq!(axis_number(30.000_000_4), "30");
        assert_eq!(axis_number(0.0), "0");
    }

    #[test]
    fn every_text_reads_at_the_size_of_the_legend() {
        let texts = plotted("sizes");
        let legend = texts
            .iter()
            .find(|(_, t)| t == "WebSocket")
            .map(|(size, _)| *size)
            .expect("a legend");
        let title = texts[0].0;
        assert!(legend >= MIN_TEXT_PX, "legend {legend} px");
        for (size, text) in &texts {
            assert!(
                *size >= MIN_TEXT_PX && *size >= 0.7 * title,
                "{text:?} at {size} px beside a {title} px title"
            );
        }
    }

    #[test]
    fn axis_numbers_have_no_useless_decimals_and_the_axes_their_units() {
        let texts = plotted("numbers");
        let labels: Vec<&str> = texts.iter().map(|(_, t)| t.as_str()).collect();
        for label in &labels {
            assert!(
                !label.ends_with(".0") && !label.contains(".0%"),
                "{label:?} in {labels:?}"
            );
        }
        for number in ["1", "10", "100", "1000", "0%", "50%", "100%"] {
            assert!(labels.contains(&number), "{number:?} in {labels:?}");
        }
        assert!(
            labels
                .iter()
                .any(|l| l.starts_with("latency") && l.contains("(ms")),
            "{labels:?}"
        );
        assert!(labels.iter().any(|l| l.contains("(%)")), "{labels:?}");
    }
}
