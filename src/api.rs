//! The JSON endpoints that are not a transport: time, health, stats, metrics, client reports and
//! the handshake log. (The instructor's controls are in `admin`, the downloads in `export`.)
//!
//! Their traffic is never counted in a compared transport (`Transport::for_path` gives `None`).

mod stats_socket;

pub use stats_socket::stats_socket;

use std::time::Duration;

use actix_web::{HttpRequest, HttpResponse, http::header, web};
use futures_util::{StreamExt, stream};
use serde::Serialize;
use serde_json::json;

use crate::{
    broker::BrokerStats,
    error::{ApiError, JsonObject},
    feed::unix_micros,
    limits::client_key,
    meter::{
        ClientReport, ClusterGauges, FeedGauges, MeterSnapshot, WindowSample, encode_prometheus,
    },
    network::FaultState,
    state::{AppState, ServerIdentity, Settings},
    transport_kind::Transport,
    ws,
};

/// `GET /api/time`: the server clock, for clients estimating their offset (Cristian's method).
pub async fn time() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(json!({ "ts": unix_micros() }))
}

/// `GET /healthz`: 200 `{"status":"ok"}` while the server serves and is not shutting down, with
/// the feed's position (`epoch`, the run, and `last_seq`; not counted by the meter, so tools such
/// as the bench read it without showing in the figures). With
/// a broker that cannot be reached, 503 `{"status":"broker unreachable","error":..}` (connected
/// clients are still served, but nothing new comes: a load balancer should send newcomers to
/// another server).
pub async fn healthz(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    if state.shutdown.is_cancelled() {
        return Err(ApiError::unavailable("shutting down"));
    }
    let last_seq = state.hub.last_seq();
    if let Some(why) = state.broker.as_ref().and_then(|b| b.unreachable()) {
        return Ok(HttpResponse::ServiceUnavailable().json(json!({
            "status": "broker unreachable",
            "error": format!("broker unreachable: {why}"),
            "server": state.server.name,
            "epoch": &**state.hub.epoch(),
            "last_seq": last_seq,
        })));
    }
    Ok(HttpResponse::Ok().json(json!({
        "status": "ok",
        "server": state.server.name,
        "epoch": &**state.hub.epoch(),
        "last_seq": last_seq,
    })))
}

/// The feed as the stats show it: its position and buffer, and every live setting as is.
#[derive(Serialize)]
pub struct FeedStats {
    pub last_seq: u64,
    pub buffer: usize,
    /// The generator's rate as measured over the last seconds (events/s), beside the `rate_hz`
    /// it was asked for.
    pub measured_rate_hz: f64,
    #[serde(flatten)]
    pub settings: Settings,
}

#[derive(Serialize)]
pub struct Stats {
    /// The server that gave this answer (a cluster has several).
    pub server: ServerIdentity,
    #[serde(flatten)]
    pub meter: MeterSnapshot,
    pub feed: FeedStats,
    /// The faults in force, per transport.
    pub faults: std::collections::BTreeMap<&'static str, FaultState>,
    /// The broker link and its hop (`--broker`); absent without one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub broker: Option<BrokerStats>,
}

pub fn stats(state: &AppState) -> Stats {
    Stats {
        server: state.server.clone(),
        broker: state.broker.as_ref().map(|b| b.stats()),
        meter: state.meter.snapshot(),
        feed: FeedStats {
            last_seq: state.hub.last_seq(),
            buffer: state.hub.capacity(),
            measured_rate_hz: state.ticks.measured_rate_hz(),
            settings: state.settings(),
        },
        faults: Transport::ALL
            .into_iter()
            .map(|t| (t.as_str(), state.faults.state(t)))
            .collect(),
    }
}

/// `GET /api/stats`: totals since the last reset (PROTOCOL.md "The stats").
pub async fn get_stats(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(stats(&state))
}

/// `GET /api/stats/window`: the last 60 one-second samples, oldest first, and the server they
/// are of.
pub async fn get_window(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok().json(json!({ "samples": state.meter.window(), "server": state.server }))
}

/// How often the stats stream (SSE and WebSocket alike) sends an update.
const STATS_STREAM_PERIOD: Duration = Duration::from_secs(1);

/// One record of the stats stream: `body` as JSON, preceded by `"type": kind` when `kind` is
/// given (the WebSocket's messages name their record; SSE records name it in `event:`).
#[derive(Serialize)]
struct Record<'a, T> {
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    kind: Option<&'static str>,
    #[serde(flatten)]
    body: &'a T,
}

fn record_json<T: Serialize>(kind: Option<&'static str>, body: &T) -> String {
    serde_json::to_string(&Record { kind, body }).unwrap_or_default()
}

/// The stream's first record, `window`: `{"samples": [...], "server": {...}}`, the last 60
/// one-second samples and the server they are of.
fn window_record(state: &AppState, kind: Option<&'static str>) -> String {
    #[derive(Serialize)]
    struct Window<'a> {
        samples: Vec<WindowSample>,
        server: &'a ServerIdentity,
    }
    record_json(
        kind,
        &Window {
            samples: state.meter.window(),
            server: &state.server,
        },
    )
}

/// The stream's every-second record, `stats`: the totals of `/api/stats` and the newest sample.
fn stats_record(state: &AppState, kind: Option<&'static str>) -> String {
    #[derive(Serialize)]
    struct Update<'a> {
        #[serde(flatten)]
        stats: Stats,
        sample: Option<&'a WindowSample>,
    }
    let window = state.meter.window();
    let update = Update {
        stats: stats(state),
        sample: window.last(),
    };
    record_json(kind, &update)
}

/// `GET /api/stats/stream`: SSE for outside clients (`curl -N`). First `event: window` (the 60 s
/// series), then every second `event: stats` with the totals and the newest sample. Never
/// counted itself. pushlab's own pages follow [`stats_socket`] instead: a stream held by every
/// tab would take one of the six HTTP/1.1 connections a browser keeps per server.
pub async fn stats_stream(state: web::Data<AppState>) -> HttpResponse {
    let first = format!(
        "retry: 2000\nevent: window\ndata: {}\n\n",
        window_record(&state, None)
    );
    let ticker = tokio::time::interval_at(
        tokio::time::Instant::now() + STATS_STREAM_PERIOD,
        STATS_STREAM_PERIOD,
    );
    let state = state.into_inner();
    let updates = stream::unfold((state, ticker), |(state, mut ticker)| async move {
        tokio::select! {
            _ = ticker.tick() => {}
            _ = state.shutdown.cancelled() => return None,
        }
        let text = format!("event: stats\ndata: {}\n\n", stats_record(&state, None));
        Some((
            Ok::<_, std::convert::Infallible>(web::Bytes::from(text)),
            (state, ticker),
        ))
    });
    HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .streaming(stream::once(async move { Ok(web::Bytes::from(first)) }).chain(updates))
}

/// `GET /metrics`: Prometheus text exposition.
pub async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    let gauges = FeedGauges {
        last_seq: state.hub.last_seq(),
        rate_hz: state.feed_settings.borrow().rate_hz,
        buffer: state.hub.capacity(),
    };
    let cluster = ClusterGauges {
        server_name: state.server.name.clone(),
        server_addr: state.server.addr.clone(),
        broker: state.broker.as_ref().map(|broker| {
            let stats = broker.stats();
            crate::meter::BrokerGauges {
                connected: stats.state == "connected",
                generator_here: broker.holds_generator(),
                read: stats.read,
                lost: stats.lost,
                hop: broker.hop_histogram(),
            }
        }),
    };
    HttpResponse::Ok()
        .content_type("application/openmetrics-text; version=1.0.0; charset=utf-8")
        .body(encode_prometheus(&state.meter, gauges, &cluster))
}

/// `POST /api/client-metrics`: latencies measured by a client, folded into the stats.
///
/// What one address can contribute is bounded three ways: `reports_per_min` reports a minute
/// (429 with `Retry-After` beyond), at most [`crate::meter::MAX_REPORT_LATENCIES`] plausible
/// values per report (0 to the server's age), and no more values in all than the events the
/// transport sent that address (the [`crate::meter::Ledger`]); anything else is a 400 and
/// nothing of the report is recorded.
pub async fn client_metrics(
    req: HttpRequest,
    state: web::Data<AppState>,
    report: web::Json<JsonObject<ClientReport>>,
) -> Result<HttpResponse, ApiError> {
    let client = client_key(&req);
    state.report_limit.check(client).map_err(|refused| {
        let secs = refused.retry_after_secs();
        ApiError::too_many_requests(
            format!("too many latency reports from your address: try again in {secs} s"),
            secs,
        )
    })?;
    let age_us = unix_micros().saturating_sub(state.started_us);
    let (transport, latencies) = report.0.0.validate(age_us)?;
    state
        .ledger
        .admit_report(client, transport, latencies.len())
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    let resolution = report.0.0.resolution_us();
    state
        .meter
        .client_latencies(transport, &latencies, resolution);
    Ok(HttpResponse::Accepted().json(json!({ "recorded": latencies.len() })))
}

/// `GET /api/handshake/{tag}`: the upgrade a page opened with `?inspect=<tag>`.
pub async fn handshake(
    state: web::Data<AppState>,
    tag: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    if !ws::is_tag(&tag) {
        return Err(ApiError::bad_request(format!(
            "a handshake's tag is {} (the page's ?inspect=), got {:?}",
            ws::TAG_RULE,
            tag.as_str()
        )));
    }
    state
        .handshakes
        .find(&tag)
        .map(|record| HttpResponse::Ok().json(record))
        .ok_or_else(|| ApiError::not_found(format!("no handshake tagged {tag}")))
}
