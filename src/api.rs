//! The JSON endpoints that are not a transport: time, health, stats, metrics, client reports,
//! the handshake log, and the instructor's settings.
//!
//! Their traffic is never counted in a compared transport (`Transport::for_path` gives `None`).

use std::time::Duration;

use actix_web::{HttpRequest, HttpResponse, http::header, web};
use futures_util::{StreamExt, stream};
use serde::Serialize;
use serde_json::json;

use crate::{
    feed::{FeedSettings, SettingsUpdate, unix_micros},
    meter::{ClientReport, FeedGauges, MeterSnapshot, WindowSample, encode_prometheus},
    server::{AppState, error::ApiError},
};

/// `GET /api/time`: the server clock, for clients estimating their offset (Cristian's method).
pub async fn time() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(json!({ "ts": unix_micros() }))
}

/// `GET /healthz`: 200 while the server serves and is not shutting down.
pub async fn healthz(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    if state.shutdown.is_cancelled() {
        return Err(ApiError::unavailable("shutting down"));
    }
    Ok(HttpResponse::Ok().json(json!({ "status": "ok", "last_seq": state.hub.last_seq() })))
}

#[derive(Serialize)]
pub struct FeedStats {
    pub last_seq: u64,
    pub rate_hz: f64,
    pub buffer: usize,
    pub payload_bytes: usize,
    pub paused: bool,
}

#[derive(Serialize)]
pub struct Stats {
    #[serde(flatten)]
    pub meter: MeterSnapshot,
    pub feed: FeedStats,
}

pub fn stats(state: &AppState) -> Stats {
    let settings = state.settings.borrow().clone();
    Stats {
        meter: state.meter.snapshot(),
        feed: FeedStats {
            last_seq: state.hub.last_seq(),
            rate_hz: settings.rate_hz,
            buffer: state.hub.capacity(),
            payload_bytes: settings.payload_bytes,
            paused: settings.paused,
        },
    }
}

/// `GET /api/stats`: totals since the last reset (PROTOCOL.md "The stats").
pub async fn get_stats(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(stats(&state))
}

/// `GET /api/stats/window`: the last 60 one-second samples, oldest first.
pub async fn get_window(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok().json(json!({ "samples": state.meter.window() }))
}

/// How often the stats stream sends an update.
const STATS_STREAM_PERIOD: Duration = Duration::from_secs(1);

/// `GET /api/stats/stream`: SSE for the dashboard. First `event: window` (the 60 s series), then
/// every second `event: stats` with the totals and the newest sample. Never counted itself.
pub async fn stats_stream(state: web::Data<AppState>) -> HttpResponse {
    let first = format!(
        "retry: 2000\nevent: window\ndata: {}\n\n",
        json!({ "samples": state.meter.window() })
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
        #[derive(Serialize)]
        struct Update<'a> {
            #[serde(flatten)]
            stats: Stats,
            sample: Option<&'a WindowSample>,
        }
        let window = state.meter.window();
        let update = Update {
            stats: stats(&state),
            sample: window.last(),
        };
        let text = format!(
            "event: stats\ndata: {}\n\n",
            serde_json::to_string(&update).unwrap_or_default()
        );
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
    let settings = state.settings.borrow().clone();
    let gauges = FeedGauges {
        last_seq: state.hub.last_seq(),
        rate_hz: settings.rate_hz,
        buffer: state.hub.capacity(),
    };
    HttpResponse::Ok()
        .content_type("application/openmetrics-text; version=1.0.0; charset=utf-8")
        .body(encode_prometheus(&state.meter, gauges))
}

/// `POST /api/client-metrics`: latencies measured by a client, folded into the stats.
pub async fn client_metrics(
    state: web::Data<AppState>,
    report: web::Json<ClientReport>,
) -> Result<HttpResponse, ApiError> {
    let (transport, latencies) = report
        .validate()
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    state.meter.client_latencies(transport, &latencies);
    Ok(HttpResponse::Accepted().json(json!({ "recorded": latencies.len() })))
}

/// `GET /api/handshake/{tag}`: the upgrade a page opened with `?inspect=<tag>`.
pub async fn handshake(
    state: web::Data<AppState>,
    tag: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    state
        .handshakes
        .find(&tag)
        .map(|record| HttpResponse::Ok().json(record))
        .ok_or_else(|| ApiError {
            status: actix_web::http::StatusCode::NOT_FOUND,
            message: format!("no handshake tagged {tag}"),
        })
}

/// Checks `Authorization: Bearer <token>` in constant time (no early exit on the first
/// different byte, so response time says nothing about the token).
pub fn require_admin(req: &HttpRequest, state: &AppState) -> Result<(), ApiError> {
    let given = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or_else(|| ApiError::unauthorized("send Authorization: Bearer <admin token>"))?;
    if constant_time_eq(given.trim().as_bytes(), state.admin_token.as_bytes()) {
        Ok(())
    } else {
        Err(ApiError::unauthorized("wrong admin token"))
    }
}

pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let mut diff = a.len() ^ b.len();
    for i in 0..a.len().max(b.len()) {
        let x = a.get(i).copied().unwrap_or(0);
        let y = b.get(i).copied().unwrap_or(0);
        diff |= usize::from(x ^ y);
    }
    diff == 0
}

/// `GET /api/admin/settings`.
pub async fn get_settings(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    require_admin(&req, &state)?;
    Ok(HttpResponse::Ok().json(&*state.settings.borrow()))
}

/// `PUT /api/admin/settings`: a partial update, applied to every client at once.
pub async fn put_settings(
    req: HttpRequest,
    state: web::Data<AppState>,
    update: web::Json<SettingsUpdate>,
) -> Result<HttpResponse, ApiError> {
    require_admin(&req, &state)?;
    let current: FeedSettings = state.settings.borrow().clone();
    let next = current
        .updated(&update)
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    tracing::info!(before = ?current, after = ?next, "feed settings changed");
    state.settings.send_replace(next.clone());
    Ok(HttpResponse::Ok().json(next))
}

/// `POST /api/admin/reset`: zero the stats.
pub async fn reset(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    require_admin(&req, &state)?;
    state.meter.reset();
    tracing::info!("stats reset");
    Ok(HttpResponse::Ok().json(json!({ "reset": true })))
}
