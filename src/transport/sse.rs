//! Server-Sent Events: `GET /api/sse` keeps one response open and writes each event as
//! `id: <seq>` / `event: <kind>` / `data: <event json>`.
//!
//! The stream is a cursor on the hub: it is polled only when the connection can take more bytes,
//! so a slow reader falls behind in the replay buffer instead of queueing copies, and is told
//! `event: missed` if it falls out of it. A reconnecting `EventSource` sends `Last-Event-ID` and
//! resumes where it stopped. An instructor's drop breaks the stream off without its final chunk;
//! an added delay holds each event back until its publish time plus the delay.

use std::time::Duration;

use actix_web::{
    HttpRequest, HttpResponse,
    http::header,
    web::{self, Bytes},
};
use futures_util::stream;
use tokio_util::sync::CancellationToken;

use super::{
    cursor::{SinceQuery, cursor_or_now},
    follower::Follower,
};
use crate::{error::ApiError, network::dropped_error, state::AppState, transport_kind::Transport};

/// A comment line this often keeps proxies and browsers from closing an idle stream.
const KEEP_ALIVE: Duration = Duration::from_secs(15);
/// The reconnection delay suggested to `EventSource` (the `retry:` field).
const RETRY_MS: u64 = 2000;
/// Most events written in one chunk; the rest follow in the next poll of the stream.
const MAX_EVENTS_PER_CHUNK: usize = 256;

pub async fn sse(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<SinceQuery>,
) -> Result<HttpResponse, ApiError> {
    // A reconnecting EventSource sends the last id it saw: it wins over the URL's `since`.
    let since = match req.headers().get("last-event-id") {
        Some(value) => Some(
            value
                .to_str()
                .ok()
                .and_then(|v| v.trim().parse::<u64>().ok())
                .ok_or_else(|| {
                    ApiError::bad_request("Last-Event-ID must be a seq (a whole number)")
                })?,
        ),
        None => query.since,
    };
    let cursor = cursor_or_now(since, state.hub.last_seq());
    state.hub.since(cursor, 0)?; // refuse a cursor ahead of the feed before answering 200

    let span = tracing::debug_span!("sse", connection = state.connection_id(), cursor);
    tracing::debug!(parent: &span, resumed = since.is_some(), "open");
    let stream = EventStream {
        span,
        follower: Follower::new(&state, Transport::Sse, cursor),
        shutdown: state.shutdown.clone(),
        keep_alive: tokio::time::interval_at(tokio::time::Instant::now() + KEEP_ALIVE, KEEP_ALIVE),
        greeted: false,
        dropped: state.faults.drop_token(Transport::Sse),
    };
    Ok(HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header(("x-accel-buffering", "no"))
        .streaming(stream::unfold(stream, |mut s| async move {
            let chunk = s.next_chunk().await?;
            Some((chunk, s))
        })))
}

/// One SSE response: the follower's deliveries as event records, with keep-alives between.
struct EventStream {
    /// This connection's span: its open and close are logged at debug level.
    span: tracing::Span,
    follower: Follower,
    shutdown: CancellationToken,
    keep_alive: tokio::time::Interval,
    greeted: bool,
    dropped: CancellationToken,
}

impl Drop for EventStream {
    fn drop(&mut self) {
        // However the stream ends: shutdown, a drop, or the client going away.
        tracing::debug!(parent: &self.span, "closed");
    }
}

impl EventStream {
    /// The next bytes to write, `None` to end the stream (shutdown), or an error to break the
    /// connection off (a drop).
    async fn next_chunk(&mut self) -> Option<Result<Bytes, std::io::Error>> {
        if !self.greeted {
            self.greeted = true;
            return Some(Ok(Bytes::from(format!("retry: {RETRY_MS}\n\n"))));
        }
        loop {
            if self.shutdown.is_cancelled() {
                return None;
            }
            if self.dropped.is_cancelled() {
                return Some(Err(dropped_error()));
            }
            if let Some(delivery) = self.follower.take(MAX_EVENTS_PER_CHUNK) {
                let mut chunk = Vec::new();
                if let Some(notice) = delivery.missed_notice {
                    chunk
                        .extend_from_slice(format!("event: missed\ndata: {notice}\n\n").as_bytes());
                }
                for event in &delivery.events {
                    chunk.extend_from_slice(event.sse_record());
                }
                return Some(Ok(Bytes::from(chunk)));
            }
            if !self.follower.is_feeding() {
                return None;
            }
            tokio::select! {
                _ = self.follower.ready() => {}
                _ = self.keep_alive.tick() => return Some(Ok(Bytes::from_static(b": keep-alive\n\n"))),
                _ = self.shutdown.cancelled() => return None,
                _ = self.dropped.cancelled() => return Some(Err(dropped_error())),
            }
        }
    }
}
