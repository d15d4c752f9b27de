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
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use super::{
    network::dropped_error,
    since::{SinceQuery, cursor_or_now, missed_notice},
};
use crate::{
    feed::{FeedSettings, Hub},
    meter::{ConnectionGuard, Meter, Transport},
    server::{AppState, error::ApiError},
};

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

    let follower = Follower {
        hub: state.hub.clone(),
        meter: state.meter.clone(),
        cursor,
        wake: state.hub.subscribe(),
        shutdown: state.shutdown.clone(),
        keep_alive: tokio::time::interval_at(tokio::time::Instant::now() + KEEP_ALIVE, KEEP_ALIVE),
        greeted: false,
        settings: state.settings.subscribe(),
        dropped: state.faults.drop_token(Transport::Sse),
        _open: state.meter.connection(Transport::Sse),
    };
    Ok(HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header(("x-accel-buffering", "no"))
        .streaming(stream::unfold(follower, |mut f| async move {
            let chunk = f.next_chunk().await?;
            Some((chunk, f))
        })))
}

struct Follower {
    hub: Hub,
    meter: std::sync::Arc<Meter>,
    cursor: u64,
    wake: watch::Receiver<u64>,
    shutdown: CancellationToken,
    keep_alive: tokio::time::Interval,
    greeted: bool,
    settings: watch::Receiver<FeedSettings>,
    dropped: CancellationToken,
    _open: ConnectionGuard,
}

impl Follower {
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
            // Mark the current seq as seen before reading: a publish after this line wakes us.
            self.wake.borrow_and_update();
            // The cursor was checked at the start and only moves forward: never ahead.
            let mut batch = self.hub.since(self.cursor, MAX_EVENTS_PER_CHUNK).ok()?;
            let delay = self.settings.borrow().added_delay_ms.of(Transport::Sse);
            let held_until = batch.hold_back(delay);
            if !batch.is_empty() {
                let mut chunk = Vec::new();
                if batch.missed > 0 {
                    let notice = missed_notice(batch.missed, batch.events.first(), batch.last_seq);
                    chunk
                        .extend_from_slice(format!("event: missed\ndata: {notice}\n\n").as_bytes());
                    self.meter.missed(Transport::Sse, batch.missed);
                }
                for event in &batch.events {
                    chunk.extend_from_slice(event.sse_record());
                }
                self.meter.delivered(Transport::Sse, &batch.events);
                self.cursor = batch.next_cursor(self.cursor);
                return Some(Ok(Bytes::from(chunk)));
            }
            let held = async {
                match held_until {
                    Some(due) => tokio::time::sleep_until(due).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                changed = self.wake.changed() => if changed.is_err() { return None },
                _ = held => {}
                _ = self.keep_alive.tick() => return Some(Ok(Bytes::from_static(b": keep-alive\n\n"))),
                _ = self.shutdown.cancelled() => return None,
                _ = self.dropped.cancelled() => return Some(Err(dropped_error())),
            }
        }
    }
}
