//! Server-Sent Events: `GET /api/sse` keeps one response open and writes each event as
//! `id: <epoch>:<seq>` / `event: <kind>` / `data: <event json>` (WHATWG HTML §9.2).
//!
//! The stream is a cursor on the hub: it is polled only when the connection can take more bytes,
//! so a slow reader falls behind in the replay buffer instead of queueing copies, and is told
//! `event: missed` if it falls out of it. A reconnecting `EventSource` sends `Last-Event-ID` and
//! resumes where it stopped. An instructor's drop breaks the stream off without its final chunk;
//! an added delay holds each event back until its publish time plus the delay.
//!
//! Over plain HTTP/1.1 the stream writes its own bytes once actix has written its head
//! (`direct`), and a stream that has caught up sits in its worker's fan-out lane (`fanout`), as a
//! WebSocket does: a publish then costs one wake-up per worker, not one per stream.

use std::{future::poll_fn, rc::Rc, sync::Arc, time::Duration};

use actix_web::{
    HttpMessage, HttpRequest, HttpResponse,
    http::Version,
    web::{self, Bytes},
};
use futures_util::stream;
use tokio_util::sync::CancellationToken;

use super::{
    cursor::Resume,
    direct::{ChunkedWriter, CloseDelimited, KEEP_ALIVE_CHUNK, SocketHandle},
    fanout::{self, FastWrite, Seat},
    follower::{Delivery, Follower},
    heads::put_answer_headers,
};
use crate::{
    error::ApiError,
    feed::http_chunk,
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
    let resume = Resume::of_request(&req)?;
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
    // Its own bytes over plain HTTP/1.1 only, where actix chunks the body: HTTP/1.0 has no
    // chunks (see `server::http`), an answer on the upgrade path is close-delimited (see
    // `CloseDelimited`), and TLS records are the TLS layer's to write.
    let chunked =
        req.version() == Version::HTTP_11 && !req.extensions().contains::<CloseDelimited>();
    let seat = chunked
        .then(|| req.conn_data::<SocketHandle>()?.0.upgrade())
        .flatten()
        .map(|socket| Seat::new(ChunkedWriter::new(socket)));
    let stream = EventStream {
        span,
        own: Some(
            Follower::new(&state, Transport::Sse, start.cursor, client_key(&req))
                .with_backlog(backlog),
        ),
        state: state.clone().into_inner(),
        shutdown: state.shutdown.clone(),
        keep_alive: crate::timer_grid::interval(KEEP_ALIVE),
        greeting: Some(Bytes::from(greeting)),
        dropped: state.faults.drop_token(Transport::Sse),
        owed: Some(state.meter.owed(Transport::Sse)),
        history: req.conn_data::<std::rc::Rc<ConnectionHistory>>().cloned(),
        seat,
        direct: false,
    };
    let mut response = HttpResponse::Ok();
    put_answer_headers(&mut response, Transport::Sse);
    Ok(
        response.streaming(stream::unfold(stream, |mut s| async move {
            let chunk = s.next_chunk().await?;
            Some((chunk, s))
        })),
    )
}

/// One SSE response: the follower's deliveries as event records, with keep-alives between.
struct EventStream {
    /// This connection's span: its open and close are logged at debug level.
    span: tracing::Span,
    /// The follower while this stream's own task follows; `None` while its worker's lane does.
    own: Option<Follower>,
    state: Arc<AppState>,
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
    /// Where the stream writes its own bytes and sits in the lane; `None` when it may not
    /// (TLS, HTTP/1.0): actix then writes every chunk.
    seat: Option<Rc<Seat<ChunkedWriter>>>,
    /// The stream writes its own bytes (actix wrote everything before): it hands actix nothing
    /// more but its end.
    direct: bool,
}

impl Drop for EventStream {
    fn drop(&mut self) {
        // Out of the lane: it holds the seat, and the seat the socket, only while seated.
        if let Some(seat) = &self.seat {
            drop(seat.stand_up());
        }
        // However the stream ends: shutdown, a drop, or the client going away.
        // Closed by the server for reading nothing: counted in closed_unwritable, not abandoned.
        if self.history.as_ref().is_some_and(|h| h.closed_unwritable()) {
            self.end::<()>(None);
        }
        let by_client = self.owed.is_some();
        tracing::debug!(parent: &self.span, by_client, "closed");
    }
}

/// What woke a waiting stream.
enum Woken {
    Dropped,
    Shutdown,
    /// Its queue was written (or the socket failed).
    Written(std::io::Result<()>),
    /// actix has written everything the stream handed it: the stream may write its own bytes.
    Drained,
    /// The follower may have more, or the lane sent the seat back.
    Ready,
    KeepAlive,
}

/// A delivery as SSE records: a `missed` notice first if any, then the events' shared records;
/// each record framed as its own chunk when the stream writes its own bytes (`chunked`).
fn records(delivery: &Delivery, chunked: bool) -> Bytes {
    if let (None, [event]) = (&delivery.missed_notice, delivery.events.as_slice()) {
        // The common case: the event's shared record, no copy.
        return if chunked {
            event.sse_chunk().clone()
        } else {
            event.sse_record().clone()
        };
    }
    let mut out = Vec::new();
    if let Some(notice) = &delivery.missed_notice {
        let record = format!("event: missed\ndata: {notice}\n\n");
        if chunked {
            out.extend_from_slice(&http_chunk(record.as_bytes()));
        } else {
            out.extend_from_slice(record.as_bytes());
        }
    }
    for event in &delivery.events {
        out.extend_from_slice(if chunked {
            event.sse_chunk()
        } else {
            event.sse_record()
        });
    }
    Bytes::from(out)
}

impl EventStream {
    /// The next bytes for actix to write, `None` to end the stream (shutdown), or an error to
    /// break the connection off (a drop). Once direct, the stream writes its events itself and
    /// returns only at its end.
    async fn next_chunk(&mut self) -> Option<Result<Bytes, std::io::Error>> {
        if let Some(greeting) = self.greeting.take() {
            return Some(Ok(self.hand_to_actix(greeting)));
        }
        loop {
            if self.shutdown.is_cancelled() {
                return self.finish().await;
            }
            if self.dropped.is_cancelled() {
                return self.end(Some(Err(dropped_error())));
            }
            let seat = self.seat.clone();
            if let Some(seat) = seat.as_ref().filter(|s| s.is_evicted()) {
                self.own = seat.stand_up();
            }
            let queued = seat.as_ref().is_some_and(|s| !s.writer.is_empty());
            // Before it goes direct, a stream that may waits for actix to write what it has.
            let waiting_for_actix = seat.is_some() && !self.direct;
            let may_take = !queued && !waiting_for_actix;
            if let Some(mut follower) = self.own.take_if(|_| may_take) {
                match follower.take(MAX_EVENTS_PER_CHUNK) {
                    Some(delivery) => {
                        self.own = Some(follower);
                        let bytes = records(&delivery, self.direct);
                        match &seat {
                            Some(seat) => seat.writer.send(bytes),
                            None => return Some(Ok(bytes)),
                        }
                        continue;
                    }
                    None if !follower.is_feeding() => {
                        self.own = Some(follower);
                        return self.finish().await;
                    }
                    None => {
                        self.own = match &seat {
                            Some(seat) => fanout::sit(&self.state, Transport::Sse, seat, follower),
                            None => Some(follower),
                        };
                    }
                }
            }
            let seated = self.own.is_none();
            let following = self.own.is_some() && may_take;
            let woken = {
                let (own, keep_alive) = (&mut self.own, &mut self.keep_alive);
                let (dropped, shutdown) = (&self.dropped, &self.shutdown);
                let seat = seat.as_deref();
                tokio::select! {
                    biased;
                    _ = dropped.cancelled() => Woken::Dropped,
                    _ = shutdown.cancelled() => Woken::Shutdown,
                    written = poll_fn(|cx| seat.expect("a seat").writer.poll_write_queued(cx)), if queued => Woken::Written(written),
                    _ = poll_fn(|cx| seat.expect("a seat").writer.socket().poll_drained(cx)), if waiting_for_actix => Woken::Drained,
                    _ = async { own.as_mut().expect("own follower").ready().await }, if following => Woken::Ready,
                    _ = async { seat.expect("a seat").evicted().await }, if seated => Woken::Ready,
                    _ = keep_alive.tick() => Woken::KeepAlive,
                }
            };
            match woken {
                Woken::Dropped => return self.end(Some(Err(dropped_error()))),
                Woken::Shutdown => return self.finish().await,
                Woken::Written(Err(e)) => return Some(Err(e)),
                Woken::Drained => self.direct = true,
                Woken::Written(Ok(())) | Woken::Ready => {}
                Woken::KeepAlive => match &seat {
                    // Written only between events; a part the socket did not take is queued.
                    Some(seat) if self.direct => {
                        if !queued {
                            seat.writer.write_now(&Bytes::from_static(KEEP_ALIVE_CHUNK));
                        }
                    }
                    _ => {
                        let comment = Bytes::from_static(b": keep-alive\n\n");
                        return Some(Ok(self.hand_to_actix(comment)));
                    }
                },
            }
        }
    }

    /// Bytes for actix to write: until it has written them, the stream may not write its own.
    fn hand_to_actix(&mut self, bytes: Bytes) -> Bytes {
        if let Some(seat) = &self.seat {
            seat.writer.socket().handed_to_dispatcher();
            self.direct = false;
        }
        bytes
    }

    /// The stream ends (shutdown, or the feed ended): out of the lane, what it queued written,
    /// then its final chunk, by actix.
    async fn finish(&mut self) -> Option<Result<Bytes, std::io::Error>> {
        if let Some(seat) = self.seat.clone() {
            drop(seat.stand_up());
            let written = tokio::select! {
                written = poll_fn(|cx| seat.writer.poll_write_queued(cx)) => written,
                _ = self.dropped.cancelled() => Err(dropped_error()),
            };
            if let Err(e) = written {
                return self.end(Some(Err(e)));
            }
        }
        self.end(None)
    }

    /// The server ends the stream (`None`: its last chunk; an error: cut off): not abandoned.
    fn end<T>(&mut self, last: Option<T>) -> Option<T> {
        if let Some(owed) = self.owed.take() {
            owed.settled();
        }
        last
    }
}
