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

/// Since when the events of an answer are live for its client (see [`live_since`]).
#[derive(Clone, Copy, Debug)]
pub struct LiveSince {
    /// The client's previous answer of this transport on its connection, else the request's
    /// start minus the time a client that follows live may take to come back.
    follows_from: Instant,
    /// When the request began.
    started: Instant,
}

impl LiveSince {
    /// Live only what is published from `started` on (an answer that shows no new event: an
    /// error page).
    pub fn from_start(started: Instant) -> LiveSince {
        LiveSince {
            follows_from: started,
            started,
        }
    }

    /// The instant before which the events of an answer are catch-up. `first` is when its first
    /// event was published (none: nothing to cut), `missed` whether events before it were lost.
    ///
    /// A client that follows live was given everything up to `follows_from`: an answer whose
    /// first event is older (or that missed some) goes to a client that was behind already,
    /// i.e. resuming from an old `since`, and then everything published before its request
    /// began is catch-up, not only what is older than the grace. Otherwise the events published
    /// since `follows_from` waited for this transport: they are live.
    pub fn cut(&self, first: Option<Instant>, missed: bool) -> Instant {
        let behind = missed || first.is_some_and(|at| at < self.follows_from);
        if behind {
            self.started
        } else {
            self.follows_from
        }
    }
}

/// Since when the events of an answer begun at `started` are live for this client: its previous
/// answer of `transport` on the same connection, else `started` minus the time a client that
/// follows live may take to come back; and a client found behind even then is resuming (see
/// [`LiveSince::cut`]). Older events are catch-up (a resume from an old `since`).
pub fn live_since(
    req: &HttpRequest,
    state: &AppState,
    transport: Transport,
    started: Instant,
) -> LiveSince {
    let previous = req
        .conn_data::<Rc<ConnectionHistory>>()
        .and_then(|history| history.last_answer(transport));
    let follows_from = previous.unwrap_or_else(|| {
        let grace = match transport {
            Transport::LongPoll => LONGPOLL_REASK_GRACE,
            _ => {
                let interval = state.network.borrow().poll_interval_ms;
                (Duration::from_millis(interval) * 2).max(MIN_POLL_GRACE)
            }
        };
        started.checked_sub(grace).unwrap_or(started)
    });
    LiveSince {
        follows_from,
        started,
    }
}

/// Remembers that `transport` answered on this connection now (see [`live_since`]).
pub fn note_answered(req: &HttpRequest, transport: Transport) {
    if let Some(history) = req.conn_data::<Rc<ConnectionHistory>>() {
        history.answered(transport, Instant::now());
    }
}

/// Records the hand-off of `batch` to `client` (delivered, live as `live` cuts it, missed, or
/// an empty answer) and writes the JSON.
pub fn answer(
    state: &AppState,
    transport: Transport,
    client: ClientKey,
    batch: &Batch,
    reset: Option<&Reset>,
    live: LiveSince,
) -> HttpResponse {
    let first = batch.events.first().map(|e| e.published_at);
    let live_since = live.cut(first, batch.missed > 0);
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
