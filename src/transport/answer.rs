//! The answer of a poll and a long poll: `{"events":[...],"last_seq":N,"missed":K,"epoch":E}`
//! (and `"reset"` when the client's resume belonged to another run), and what the meter learns
//! from it. Shared by both polling transports, so they count alike.

use std::{
    rc::Rc,
    time::{Duration, Instant},
};

use actix_web::{HttpRequest, HttpResponse, http::header};

use crate::{
    feed::{Batch, Reset},
    limits::ClientKey,
    meter::ConnectionHistory,
    state::AppState,
    transport_kind::Transport,
};

/// How long a long-poll client may take to ask again and still be following live: it asks again
/// at once, so an event older than this when its request arrived was not waiting for a held poll.
pub const LONGPOLL_REASK_GRACE: Duration = Duration::from_secs(1);
/// The least time a polling client may take between two requests and still be following live,
/// when its connection tells nothing (a first request on it): twice the suggested interval, and
/// at least this.
pub const MIN_POLL_GRACE: Duration = Duration::from_secs(2);

/// Since when the events of an answer begun at `started` are live for this client: its previous
/// answer of `transport` on the same connection, else `started` minus the time a client that
/// follows live may take to come back. Older events are catch-up (a resume from an old `since`).
pub fn live_since(
    req: &HttpRequest,
    state: &AppState,
    transport: Transport,
    started: Instant,
) -> Instant {
    let previous = req
        .conn_data::<Rc<ConnectionHistory>>()
        .and_then(|history| history.last_answer(transport));
    previous.unwrap_or_else(|| {
        let grace = match transport {
            Transport::LongPoll => LONGPOLL_REASK_GRACE,
            _ => {
                let interval = state.network.borrow().poll_interval_ms;
                (Duration::from_millis(interval) * 2).max(MIN_POLL_GRACE)
            }
        };
        started.checked_sub(grace).unwrap_or(started)
    })
}

/// Remembers that `transport` answered on this connection now (see [`live_since`]).
pub fn note_answered(req: &HttpRequest, transport: Transport) {
    if let Some(history) = req.conn_data::<Rc<ConnectionHistory>>() {
        history.answered(transport, Instant::now());
    }
}

/// Records the hand-off of `batch` to `client` (delivered, live since `live_since`, missed, or
/// an empty answer) and writes the JSON.
pub fn answer(
    state: &AppState,
    transport: Transport,
    client: ClientKey,
    batch: &Batch,
    reset: Option<&Reset>,
    live_since: Instant,
) -> HttpResponse {
    state.meter.delivered(transport, &batch.events, live_since);
    state
        .ledger
        .delivered(client, transport, batch.events.len());
    state.meter.missed(transport, batch.missed);
    if batch.events.is_empty() {
        state.meter.empty(transport);
    }
    HttpResponse::Ok()
        .content_type("application/json")
        // Every poll must reach the server: a cached answer would hide events.
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(batch_json(batch, state.hub.epoch(), reset))
}

/// The body of a poll or long-poll answer, built from the events' pre-encoded JSON without
/// serializing any event again.
pub fn batch_json(batch: &Batch, epoch: &str, reset: Option<&Reset>) -> String {
    let size: usize = batch.events.iter().map(|e| e.json().len() + 1).sum();
    let mut body = String::with_capacity(size + 64);
    body.push_str("{\"events\":[");
    for (i, event) in batch.events.iter().enumerate() {
        if i > 0 {
            body.push(',');
        }
        body.push_str(event.json());
    }
    body.push_str(&format!(
        "],\"last_seq\":{},\"missed\":{},\"epoch\":{}",
        batch.last_seq,
        batch.missed,
        serde_json::Value::from(epoch)
    ));
    if let Some(reset) = reset {
        body.push_str(",\"reset\":");
        body.push_str(&serde_json::to_string(reset).unwrap_or_default());
    }
    body.push('}');
    body
}
