//! Downloads for lab reports: the 60-second window and each transport's latency histograms, as
//! CSV and JSON (`/api/export/*`). The columns are documented in the README ("Exports").
//!
//! CSV is written by hand: every field is a number or one of the fixed transport and metric
//! names, so nothing ever needs quoting.

use std::fmt::Write;

use actix_web::{HttpResponse, http::header, web};
use hdrhistogram::Histogram;
use serde::Serialize;

use crate::{
    api::stats, feed::unix_micros, meter::WindowSample, state::AppState, transport_kind::Transport,
};

/// The window's CSV header, one row per second and transport.
pub const WINDOW_COLUMNS: &str = "t_unix_s,transport,requests_per_s,events_per_s,empty_per_s,\
bytes_per_s,bytes_per_event,delay_p50_us,delay_p99_us,client_p50_us,client_p99_us,client_resolution_us";

/// The histograms' CSV header, one row per recorded bucket.
pub const HISTOGRAM_COLUMNS: &str = "transport,metric,value_us,count,cumulative_count,percentile";

pub fn window_csv(samples: &[WindowSample]) -> String {
    let mut csv = format!("{WINDOW_COLUMNS}\n");
    for sample in samples {
        let t = sample.t as f64 / 1e6;
        for (transport, r) in &sample.transports {
            let _ = writeln!(
                csv,
                "{t:.3},{transport},{},{},{},{},{},{},{},{},{},{}",
                r.requests_per_s,
                r.events_per_s,
                r.empty_per_s,
                r.bytes_per_s,
                r.bytes_per_event,
                r.delay_p50_us,
                r.delay_p99_us,
                r.client_p50_us,
                r.client_p99_us,
                r.client_resolution_us
            );
        }
    }
    csv
}

/// One recorded bucket: values up to `value_us` (hdrhistogram's equivalent-value range).
#[derive(Debug, Serialize)]
pub struct Bucket {
    pub value_us: u64,
    pub count: u64,
    pub cumulative_count: u64,
    pub percentile: f64,
}

fn buckets(histogram: &Histogram<u64>) -> Vec<Bucket> {
    let mut cumulative = 0;
    histogram
        .iter_recorded()
        .map(|v| {
            cumulative += v.count_at_value();
            Bucket {
                value_us: histogram.highest_equivalent(v.value_iterated_to()),
                count: v.count_at_value(),
                cumulative_count: cumulative,
                percentile: (v.percentile() * 1000.0).round() / 1000.0,
            }
        })
        .collect()
}

/// Every transport's two histograms since the last reset: the server's delivery delay and the
/// latency its clients reported.
fn all_buckets(state: &AppState) -> Vec<(Transport, &'static str, Vec<Bucket>)> {
    Transport::ALL
        .into_iter()
        .flat_map(|t| {
            let (delay, client) = state.meter.histograms(t);
            [
                (t, "delay_us", buckets(&delay)),
                (t, "client_latency_us", buckets(&client)),
            ]
        })
        .collect()
}

pub fn histograms_csv(rows: &[(Transport, &'static str, Vec<Bucket>)]) -> String {
    let mut csv = format!("{HISTOGRAM_COLUMNS}\n");
    for (transport, metric, buckets) in rows {
        for b in buckets {
            let _ = writeln!(
                csv,
                "{},{metric},{},{},{},{}",
                transport.as_str(),
                b.value_us,
                b.count,
                b.cumulative_count,
                b.percentile
            );
        }
    }
    csv
}

/// `/api/export/*` (HEAD too, as download managers ask it first: the server's edge serves HEAD
/// wherever GET works). One resource per path, so other methods get 405 with `Allow`.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/api/export/window.csv").get(window_csv_download))
        .service(web::resource("/api/export/window.json").get(window_json_download))
        .service(web::resource("/api/export/histograms.csv").get(histograms_csv_download))
        .service(web::resource("/api/export/histograms.json").get(histograms_json_download))
        .service(web::resource("/api/export/stats.json").get(stats_json_download));
}

/// A download: the body, its type, and a file name with the time it was taken.
fn download(body: String, stem: &str, extension: &str, content_type: &str) -> HttpResponse {
    let name = format!("pushlab-{stem}-{}.{extension}", unix_micros() / 1_000_000);
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{name}\""),
        ))
        .body(body)
}

/// `GET /api/export/window.csv`.
pub async fn window_csv_download(state: web::Data<AppState>) -> HttpResponse {
    download(
        window_csv(&state.meter.window()),
        "window",
        "csv",
        "text/csv; charset=utf-8",
    )
}

/// `GET /api/export/window.json`: the same samples as `/api/stats/window`, as a file.
pub async fn window_json_download(state: web::Data<AppState>) -> HttpResponse {
    let body =
        serde_json::json!({ "samples": state.meter.window(), "server": state.server }).to_string();
    download(body, "window", "json", "application/json")
}

/// `GET /api/export/histograms.csv`.
pub async fn histograms_csv_download(state: web::Data<AppState>) -> HttpResponse {
    download(
        histograms_csv(&all_buckets(&state)),
        "histograms",
        "csv",
        "text/csv; charset=utf-8",
    )
}

/// `GET /api/export/histograms.json`: `{"transports": {"ws": {"delay_us": [bucket..], ..}}}`.
pub async fn histograms_json_download(state: web::Data<AppState>) -> HttpResponse {
    let mut transports = serde_json::Map::new();
    for (transport, metric, buckets) in all_buckets(&state) {
        let entry = transports
            .entry(transport.as_str())
            .or_insert_with(|| serde_json::json!({}));
        entry[metric] = serde_json::json!(buckets);
    }
    let body = serde_json::json!({ "transports": transports }).to_string();
    download(body, "histograms", "json", "application/json")
}

/// `GET /api/export/stats.json`: `/api/stats` as a file (totals, feed settings, faults).
pub async fn stats_json_download(state: web::Data<AppState>) -> HttpResponse {
    let body = serde_json::to_string(&stats(&state)).unwrap_or_default();
    download(body, "stats", "json", "application/json")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::meter::new_latency_histogram;

    #[test]
    fn buckets_add_up_to_the_histogram() {
        let mut h = new_latency_histogram();
        for us in [100, 100, 250, 4000] {
            h.record(us).unwrap();
        }
        let b = buckets(&h);
        assert_eq!(b.iter().map(|b| b.count).sum::<u64>(), 4);
        assert_eq!(b.last().unwrap().cumulative_count, 4);
        assert_eq!(b.last().unwrap().percentile, 100.0);
        assert!(b.windows(2).all(|w| w[0].value_us < w[1].value_us));
        let csv = histograms_csv(&[(Transport::Ws, "delay_us", b)]);
        assert!(csv.starts_with(HISTOGRAM_COLUMNS));
        assert!(csv.contains("\nws,delay_us,100,2,2,50\n"), "{csv}");
    }
}
