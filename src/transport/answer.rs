//! The answer of a poll and a long poll: `{"events":[...],"last_seq":N,"missed":K,"epoch":E}`
//! (and `"reset"` when the client's resume belonged to another run), and what the meter learns
//! from it. Shared by both polling transports, so they count alike.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use actix_web::{HttpResponse, web::Bytes};

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
///
/// A client that says it was away (`catch_up`: `?catch_up=1`, sent by a page whose panel was
/// paused, or that was cut off, when it asks again) gets as live only what is published from
/// its request on: what it missed meanwhile waited for the client, not for the transport, even
/// when its `since` was handed to its address a moment before it went away.
pub fn live_since(
    state: &AppState,
    client: ClientKey,
    transport: Transport,
    since: Option<u64>,
    catch_up: bool,
    started: Instant,
    window: Duration,
) -> LiveSince {
    if catch_up {
        return LiveSince::from_start(started);
    }
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
    response.body(batch_body(batch, state.hub.epoch(), reset))
}

/// The last body this worker thread wrote, and what it was made of: the events (kept alive, so
/// that a pointer cannot name another event later), `last_seq`, `missed` and the epoch.
struct LastBody {
    first: Option<Arc<Event>>,
    last: Option<Arc<Event>>,
    len: usize,
    last_seq: u64,
    missed: u64,
    epoch: Arc<str>,
    body: Bytes,
}

impl LastBody {
    fn is_of(&self, batch: &Batch, epoch: &Arc<str>) -> bool {
        let same = |mine: &Option<Arc<Event>>, theirs: Option<&Arc<Event>>| {
            mine.as_ref().map(Arc::as_ptr) == theirs.map(Arc::as_ptr)
        };
        self.len == batch.events.len()
            && self.last_seq == batch.last_seq
            && self.missed == batch.missed
            && Arc::ptr_eq(&self.epoch, epoch)
            && same(&self.first, batch.events.first())
            && same(&self.last, batch.events.last())
    }
}

/// Longest body kept for the next poll of a thread, in bytes: a live answer is a few events,
/// a catch-up (the replay buffer, or a broker's backlog read back) is written for itself.
const MAX_SHARED_BODY: usize = 64 * 1024;

thread_local! {
    /// One body per worker thread: at a publish every held long poll of the thread gets the
    /// same batch, and its JSON is written once, not once per poll. Bound: one body of at most
    /// [`MAX_SHARED_BODY`] bytes and two events per thread, kept until the thread's next poll
    /// answer.
    static LAST_BODY: std::cell::RefCell<Option<LastBody>> = const { std::cell::RefCell::new(None) };
}

/// [`batch_json`] as shared bytes, written once for the polls of a thread that get the same
/// batch (a batch's events are a run of the feed: its first and last event, its length, its
/// `last_seq`, `missed` and epoch name it). A reset's answer, and a body longer than
/// [`MAX_SHARED_BODY`], are written for themselves.
fn batch_body(batch: &Batch, epoch: &Arc<str>, reset: Option<&Reset>) -> Bytes {
    if reset.is_some() {
        return Bytes::from(batch_json(batch, epoch, reset));
    }
    LAST_BODY.with_borrow_mut(|last| {
        if let Some(last) = last.as_ref().filter(|l| l.is_of(batch, epoch)) {
            return last.body.clone();
        }
        let body = Bytes::from(batch_json(batch, epoch, None));
        if body.len() > MAX_SHARED_BODY {
            return body;
        }
        *last = Some(LastBody {
            first: batch.events.first().cloned(),
            last: batch.events.last().cloned(),
            len: batch.events.len(),
            last_seq: batch.last_seq,
            missed: batch.missed,
            epoch: epoch.clone(),
            body: body.clone(),
        });
        body
    })
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::feed::{Hub, Kind};

    #[test]
    fn the_polls_that_get_the_same_batch_share_one_body_and_no_other_does() {
        let hub = Hub::new(8);
        for _ in 0..3 {
            hub.publish(Kind::Tick, &serde_json::json!({}));
        }
        let epoch = hub.epoch();
        let body = |cursor| batch_body(&hub.since(cursor, usize::MAX).unwrap(), epoch, None);
        let (one, same) = (body(1), body(1));
        assert_eq!(
            one.as_ptr(),
            same.as_ptr(),
            "written once for the same batch"
        );
        assert_eq!(
            one,
            Bytes::from(batch_json(&hub.since(1, 8).unwrap(), epoch, None))
        );
        let other = body(2);
        assert_ne!(other, one, "another cursor, another body");
        assert_eq!(
            other,
            Bytes::from(batch_json(&hub.since(2, 8).unwrap(), epoch, None))
        );
        // The same cursor after a publish: the same first event, a later last one.
        let before = body(1);
        hub.publish(Kind::Tick, &serde_json::json!({}));
        let after = body(1);
        assert_ne!(before, after);
        assert!(after.starts_with(b"{\"events\":[") && after.ends_with(b"}"));
        // Another feed with the same events' numbers: its own body.
        let elsewhere = Hub::new(8);
        for _ in 0..4 {
            elsewhere.publish(Kind::Chat, &serde_json::json!({"text": "x"}));
        }
        let theirs = batch_body(&elsewhere.since(1, 8).unwrap(), elsewhere.epoch(), None);
        assert_ne!(theirs, after);
    }
}
