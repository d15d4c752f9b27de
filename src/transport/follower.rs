//! Following the hub from a cursor: the one algorithm every push transport (SSE, WebSocket) runs.
//!
//! A [`Follower`] owns the cursor, the wake-up, the instructor's added delay (events are held
//! back until their publish time plus the delay), the `missed` notice when the cursor fell out of
//! the replay buffer, and the counting of what it hands over. The transport only asks for the
//! next [`Delivery`] when its connection can take more bytes, and chooses the encoding: a slow
//! reader therefore lags in the replay buffer instead of queueing copies of its own.

use std::sync::Arc;

use tokio::{sync::watch, time::Instant};

use crate::{
    feed::{Backlog, Batch, Event, Hub},
    limits::ClientKey,
    meter::{ConnectionGuard, Meter, OpenTally},
    network::NetworkSettings,
    state::AppState,
    transport_kind::Transport,
};

/// Most event bytes (their JSON) one delivery hands a connection: what a stream client holds of
/// its own beyond the shared replay buffer, whatever the payload size the instructor sets. A
/// single larger event still goes, alone (its frames are shared, not copied).
pub const MAX_DELIVERY_BYTES: usize = 64 * 1024;

/// What leaves now: a notice of events lost to the buffer, if any, then events oldest first.
pub struct Delivery {
    /// `{"type":"missed","missed":K,"resume_seq":S,"last_seq":N}` when K > 0 events are lost.
    pub missed_notice: Option<String>,
    pub events: Vec<Arc<Event>>,
}

pub struct Follower {
    hub: Hub,
    meter: Arc<Meter>,
    network: watch::Receiver<NetworkSettings>,
    transport: Transport,
    wake: watch::Receiver<u64>,
    /// The last seq handed over (or skipped as missed): never ahead of the feed.
    cursor: u64,
    /// Events older than the buffer read back from the broker, handed over first.
    backlog: Option<Backlog>,
    /// When the first event held back by an added delay may leave.
    held_until: Option<Instant>,
    /// False once the hub is gone (the server is stopping).
    feeding: bool,
    /// When the connection began: events published before are catch-up, not live.
    opened_at: std::time::Instant,
    /// What this connection sent, for its address's tally (checked against its reports).
    tally: OpenTally,
    _open: ConnectionGuard,
}

impl Follower {
    /// Follows the feed from `cursor` (checked by the caller: not ahead of the feed) for
    /// `client`; counts an open connection of `transport` until dropped.
    pub fn new(state: &AppState, transport: Transport, cursor: u64, client: ClientKey) -> Follower {
        Follower {
            hub: state.hub.clone(),
            meter: state.meter.clone(),
            network: state.network.subscribe(),
            transport,
            wake: state.hub.subscribe(),
            cursor,
            backlog: None,
            held_until: None,
            feeding: true,
            opened_at: std::time::Instant::now(),
            tally: state.ledger.open(client, transport),
            _open: state.meter.connection(transport),
        }
    }

    /// Hands over `backlog` (events after the cursor read back from the broker, see
    /// `AppState::resume`) before anything of the hub's, in deliveries of the usual bounds.
    pub fn with_backlog(mut self, backlog: Option<Backlog>) -> Follower {
        self.backlog = backlog;
        self
    }

    /// The events after the cursor that may leave now, at most `limit` and at most
    /// [`MAX_DELIVERY_BYTES`] of them (at least one), counted as delivered (and the lost ones as
    /// missed); `None` when there is nothing to send yet (then wait on [`Follower::ready`]). The
    /// cursor moves past what is returned.
    pub fn take(&mut self, limit: usize) -> Option<Delivery> {
        // Mark the current seq as seen before reading: a publish after this line wakes us.
        self.wake.borrow_and_update();
        let batch = match self.take_backlog(limit) {
            Some(batch) if !batch.events.is_empty() => batch,
            // Nothing of the backlog to send but, maybe, what it lost (all of it was gone): the
            // hub's events follow, in the same delivery and under one notice of everything lost.
            lost => {
                let lost = lost.map_or(0, |batch| batch.missed);
                // The cursor only moves forward from a checked value: never ahead of the feed.
                let Ok(mut batch) = self.hub.since(self.cursor + lost, limit) else {
                    self.feeding = false;
                    return None;
                };
                batch.missed += lost;
                let delay = self.network.borrow().added_delay_ms.of(self.transport);
                self.held_until = batch.hold_back(delay);
                keep_within_bytes(&mut batch.events, MAX_DELIVERY_BYTES);
                batch
            }
        };
        if batch.is_empty() {
            return None;
        }
        let missed_notice = (batch.missed > 0).then(|| {
            self.meter.missed(self.transport, batch.missed);
            missed_notice(batch.missed, self.cursor, batch.last_seq)
        });
        let cursor = batch.next_cursor(self.cursor);
        self.handed(&batch.events);
        self.cursor = cursor;
        Some(Delivery {
            missed_notice,
            events: batch.events,
        })
    }

    /// Counts `events` (the next ones after the cursor, gap-free, oldest first) as handed to
    /// the connection by someone else (its worker's fan-out lane) and moves the cursor past
    /// them: the same counts as [`Follower::take`] makes.
    pub fn handed(&mut self, events: &[Arc<Event>]) {
        self.meter.delivered(self.transport, events, self.opened_at);
        self.tally.delivered(events.len());
        if let Some(last) = events.last() {
            self.cursor = last.seq;
        }
    }

    /// The last seq handed over (or skipped as missed).
    pub fn cursor(&self) -> u64 {
        self.cursor
    }

    /// True when nothing is owed but the feed's future events: no backlog left and no event
    /// held back by an added delay (call it after [`Follower::take`] returned `None`).
    pub fn is_caught_up(&self) -> bool {
        self.feeding && self.backlog.is_none() && self.held_until.is_none()
    }

    /// The next part of the backlog, within the same bounds as any delivery (its events are
    /// older than the buffer, hence than any added delay: they leave now); `None` once it is
    /// all handed over. The hub's events follow from its last one.
    fn take_backlog(&mut self, limit: usize) -> Option<Batch> {
        let backlog = self.backlog.as_mut()?;
        let mut events: Vec<Arc<Event>> = backlog.events.iter().take(limit).cloned().collect();
        keep_within_bytes(&mut events, MAX_DELIVERY_BYTES);
        backlog.events.drain(..events.len());
        let missed = std::mem::take(&mut backlog.missed);
        if backlog.events.is_empty() {
            self.backlog = None;
        }
        (!events.is_empty() || missed > 0).then(|| Batch {
            events,
            last_seq: self.hub.last_seq(),
            missed,
        })
    }

    /// Resolves when [`Follower::take`] may have something: a publish, or the due time of an
    /// event held back by the added delay. Cancel-safe (for `select!`). Never resolves once the
    /// feed has ended ([`Follower::is_feeding`] is then false).
    pub async fn ready(&mut self) {
        if !self.feeding {
            return std::future::pending().await;
        }
        let held = async {
            match self.held_until {
                Some(due) => tokio::time::sleep_until(due).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            changed = self.wake.changed() => if changed.is_err() { self.feeding = false },
            _ = held => {}
        }
    }

    /// False once the hub is gone: nothing more will come.
    pub fn is_feeding(&self) -> bool {
        self.feeding
    }
}

/// Keeps the first events whose JSON adds up to at most `max_bytes`, and always the first one.
fn keep_within_bytes(events: &mut Vec<Arc<Event>>, max_bytes: usize) {
    let mut total = 0;
    let keep = events
        .iter()
        .position(|event| {
            total += event.json().len();
            total > max_bytes
        })
        .map_or(events.len(), |over| over.max(1));
    events.truncate(keep);
}

/// The notice sent on a stream when the `missed` events after `cursor` (the last seq the client
/// had) are gone: the next event it gets is `resume_seq` = cursor + missed + 1 (seqs have no
/// gaps), whether it is sent with the notice, held back by an added delay, or not yet published;
/// `last_seq` is the feed's newest (README, "Resuming and missed events").
pub fn missed_notice(missed: u64, cursor: u64, last_seq: u64) -> String {
    let resume = cursor + missed + 1;
    format!(
        "{{\"type\":\"missed\",\"missed\":{missed},\"resume_seq\":{resume},\"last_seq\":{last_seq}}}"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{config::Config, feed::Kind, limits::ClientKey};

    #[test]
    fn a_backlog_that_is_all_gone_and_the_buffer_s_loss_make_one_notice_naming_the_next_seq() {
        let mut config = Config::for_tests();
        config.buffer = 8;
        let state = AppState::new(config, "t".into());
        for _ in 0..20 {
            state.hub.publish(Kind::Tick, &serde_json::json!({}));
        }
        // A resume after seq 0 whose backlog (read back from the broker) found 1..=5 gone; the
        // buffer keeps 13..=20, so 6..=12 are gone too.
        let backlog = Backlog {
            events: Vec::new(),
            missed: 5,
        };
        let mut follower =
            Follower::new(&state, Transport::Ws, 0, ClientKey::Unknown).with_backlog(Some(backlog));
        let delivery = follower.take(usize::MAX).expect("a delivery");
        assert_eq!(
            delivery.missed_notice.as_deref(),
            Some(r#"{"type":"missed","missed":12,"resume_seq":13,"last_seq":20}"#)
        );
        assert_eq!(delivery.events.first().map(|e| e.seq), Some(13));
        assert_eq!(follower.cursor(), 20);
        assert!(
            follower.take(usize::MAX).is_none(),
            "nothing more, no second notice"
        );
    }

    #[test]
    fn a_delivery_is_bounded_in_bytes_and_never_empty() {
        let hub = Hub::new(64);
        for _ in 0..10 {
            hub.publish(
                Kind::Tick,
                &serde_json::json!({ "pad": "x".repeat(20_000) }),
            );
        }
        let mut events = hub.since(0, usize::MAX).unwrap().events;
        keep_within_bytes(&mut events, MAX_DELIVERY_BYTES);
        assert_eq!(events.len(), 3); // 3 × ~20 KB fit in 64 KiB, 4 do not
        let mut huge = vec![hub.publish(
            Kind::Tick,
            &serde_json::json!({ "pad": "y".repeat(100_000) }),
        )];
        keep_within_bytes(&mut huge, MAX_DELIVERY_BYTES);
        assert_eq!(huge.len(), 1, "a single larger event still goes");
    }
}
