//! The answer of a poll and a long poll: `{"events":[...],"last_seq":N,"missed":K,"epoch":E}`
//! (and `"reset"` when the client's resume belonged to another run), and what the meter learns
//! from it. Shared by both polling transports, so they count alike.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use actix_web::HttpResponse;

use super::heads::put_answer_headers;
use crate::{
    feed::{Batch, Event, Reset},
    limits::ClientKey,
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

/// How long after being handed a position a long-poll client may ask after it and still be a
/// follower: it asks again at once, or after a short backoff on a failure.
pub const LONGPOLL_FOLLOW: Duration = Duration::from_secs(10);
/// The same for a short poller: twice the longest interval a dashboard offers (60 s). A resume
/// from an older position (a page reopened later, a student's `curl ?since=` on the same
/// machine) is judged by the grace instead, so its replays are not counted live.
pub const POLL_FOLLOW: Duration = Duration::from_secs(120);

/// How long a follower of `transport` may take to ask after the position it was handed; a
/// classic page says its own: twice its `refresh` (else as a short poller, reloaded by hand).
pub fn follow_window(transport: Transport, refresh_s: Option<u32>) -> Duration {
    match (transport, refresh_s) {
        (Transport::LongPoll, _) => LONGPOLL_FOLLOW,
        (Transport::Classic, Some(refresh)) => Duration::from_secs(2 * u64::from(refresh)),
        _ => POLL_FOLLOW,
    }
}

/// Since when the events of an answer are live for its client (see [`live_since`]).
#[derive(Clone, Copy, Debug)]
pub struct LiveSince {
    /// When this address was handed the request's `since` (a follower), else the request's
    /// start minus the time a client that follows live may take to come back.
    follows_from: Instant,
    /// Whether `since` is a position this address was handed: then it follows the feed.
    follower: bool,
    /// When the request began.
    started: Instant,
}

impl LiveSince {
    /// Live only what is published from `started` on (an answer that shows no new event: an
    /// error page).
    pub fn from_start(started: Instant) -> LiveSince {
        LiveSince {
            follows_from: started,
            follower: false,
            started,
        }
    }

    /// The instant before which the events of an answer are catch-up. `first` is when its oldest
    /// event was published (none: nothing to cut), `missed` whether events before it were lost.
    ///
    /// A follower (its `since` was handed to its address) gets as live everything published
    /// since: whatever its interval, that is what it waited for this transport. Otherwise, an
    /// answer whose first event is older than the grace (or that missed some) goes to a client
    /// that was behind already, i.e. resuming from an old `since`: everything published before
    /// its request began is catch-up, not only what is older than the grace.
    pub fn cut(&self, first: Option<Instant>, missed: bool) -> Instant {
        if self.follower {
            // Every event after a handed position came after its hand-off (one published as
            // the answer was read may carry an instant a hair earlier: live all the same).
            return first.map_or(self.follows_from, |at| at.min(self.follows_from));
        }
        let behind = missed || first.is_some_and(|at| at < self.follows_from);
        if behind {
            self.started
        } else {
            self.follows_from
        }
    }

    /// [`LiveSince::cut`] for the events an answer hands over: `first` is their oldest publish
    /// time (the first's, but the meter's tests inject any clock).
    pub fn cut_events(&self, events: &[Arc<Event>], missed: bool) -> Instant {
        self.cut(events.iter().map(|e| e.published_at).min(), missed)
    }
}

/// Since when the events of an answer begun at `started` for `client`, asking after `since`,
/// are live: since `since` was handed to that address within `window` ([`follow_window`]) (browsers share keep-alive connections
/// between tabs, so the address and the position tell a follower, not the connection), else
/// `started` minus the time a client that follows live may take to come back; and a client
/// found behind even then is resuming (see [`LiveSince::cut`]).
pub fn live_since(
    state: &AppState,
    client: ClientKey,
    transport: Transport,
    since: Option<u64>,
    started: Instant,
    window: Duration,
) -> LiveSince {
    let handed = since.and_then(|seq| {
        state
            .positions
            .handed_at(client, transport, seq, started, window)
    });
    let follows_from = handed.unwrap_or_else(|| {
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
        follower: handed.is_some(),
        started,
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
    let live_since = live.cut_events(&batch.events, batch.missed > 0);
    state.meter.delivered(transport, &batch.events, live_since);
    state
        .positions
        .handed(client, transport, batch.last_seq, Instant::now());
    state
        .ledger
        .delivered(client, transport, batch.events.len());
    state.meter.missed(transport, batch.missed);
    if batch.events.is_empty() {
        state.meter.empty(transport);
    }
    let mut response = HttpResponse::Ok();
    put_answer_headers(&mut response, transport);
    response.body(batch_json(batch, state.hub.epoch(), reset))
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
