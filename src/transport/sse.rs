//! Server-Sent Events: `GET /api/sse` keeps one response open and writes each event as
//! `id: <epoch>:<seq>` / `event: <kind>` / `data: <event json>` (WHATWG HTML §9.2).
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
    cursor::{QueryParams, Resume},
    follower::Follower,
};
use crate::{
    error::ApiError,
    limits::client_key,
    meter::{ConnectionHistory, Owed},
    network::dropped_error,
    state::AppState,
    transport_kind::Transport,
};

/// A comment line this often keeps proxies and browsers from closing an idle stream.
const KEEP_ALIVE: Duration = Duration::from_secs(15);
/// The reconnection delay suggested to `EventSource` (the `retry:` field).
const RETRY_MS: u64 = 2000;
/// Most events written in one chunk; the rest follow in the next poll of the stream.
const MAX_EVENTS_PER_CHUNK: usize = 256;

/// `GET /api/sse`, resumed from `Last-Event-ID` (what a reconnecting `EventSource` sends), its
/// polyfills' `lastEventId`, or `?since=S&epoch=E` (see `cursor`).
pub async fn sse(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let resume = Resume::of(&req, &QueryParams::of(&req)?)?;
    let (start, backlog) = state.resume(resume.since, resume.epoch.as_deref()).await;
    let span = tracing::debug_span!(
        "sse",
        connection = state.connection_id(),
        cursor = start.cursor
    );
    tracing::debug!(parent: &span, resumed = resume.since.is_some(), reset = start.reset.is_some(), "open");
    // Before any event: `retry:` for EventSource, and the notice of a new run if the client
    // resumed from another one (an EventSource keeps only the last id, so it needs telling).
    let mut greeting = format!("retry: {RETRY_MS}\n\n");
    if let Some(reset) = &start.reset {
        let json = serde_json::to_string(reset).unwrap_or_default();
        greeting.push_str(&format!("event: reset\ndata: {json}\n\n"));
    }
    let stream = EventStream {
        span,
        follower: Follower::new(&state, Transport::Sse, start.cursor, client_key(&req))
            .with_backlog(backlog),
        shutdown: state.shutdown.clone(),
        keep_alive: tokio::time::interval_at(tokio::time::Instant::now() + KEEP_ALIVE, KEEP_ALIVE),
        greeting: Some(Bytes::from(greeting)),
        dropped: state.faults.drop_token(Transport::Sse),
        owed: Some(state.meter.owed(Transport::Sse)),
        history: req.conn_data::<std::rc::Rc<ConnectionHistory>>().cloned(),
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
    /// What goes first, once.
    greeting: Option<Bytes>,
    dropped: CancellationToken,
    /// Settled when the server ends the stream (shutdown, a drop fault); still owed when the
    /// stream is dropped because its client left: abandoned.
    owed: Option<Owed>,
    /// The connection's memory: whether the server closed it for an unwritable client.
    history: Option<std::rc::Rc<ConnectionHistory>>,
}

impl Drop for EventStream {
    fn drop(&mut self) {
        // However the stream ends: shutdown, a drop, or the client going away.
        // Closed by the server for reading nothing: counted in closed_unwritable, not abandoned.
        if self.history.as_ref().is_some_and(|h| h.closed_unwritable()) {
            self.end::<()>(None);
        }
        let by_client = self.owed.is_some();
        tracing::debug!(parent: &self.span, by_client, "closed");
    }
}

impl EventStream {
    /// The next bytes to write, `None` to end the stream (shutdown), or an error to break the
    /// connection off (a drop).
    async fn next_chunk(&mut self) -> Option<Result<Bytes, std::io::Error>> {
        if let Some(greeting) = self.greeting.take() {
            return Some(Ok(greeting));
        }
        loop {
            if self.shutdown.is_cancelled() {
                return self.end(None);
            }
            if self.dropped.is_cancelled() {
                return self.end(Some(Err(dropped_error())));
            }
            if let Some(delivery) = self.follower.take(MAX_EVENTS_PER_CHUNK) {
                if let (None, [event]) = (&delivery.missed_notice, delivery.events.as_slice()) {
                    // The common case: the event's shared record, no copy.
                    return Some(Ok(event.sse_record().clone()));
                }
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
                return self.end(None);
            }
            tokio::select! {
                _ = self.follower.ready() => {}
                _ = self.keep_alive.tick() => return Some(Ok(Bytes::from_static(b": keep-alive\n\n"))),
                _ = self.shutdown.cancelled() => return self.end(None),
                _ = self.dropped.cancelled() => return self.end(Some(Err(dropped_error()))),
            }
        }
    }

    /// The server ends the stream (`None`: its last chunk; an error: cut off): not abandoned.
    fn end<T>(&mut self, last: Option<T>) -> Option<T> {
        if let Some(owed) = self.owed.take() {
            owed.settled();
        }
        last
    }
}
