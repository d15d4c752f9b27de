//! The hub: the one place that numbers events, keeps the replay buffer and wakes followers.
//!
//! Each event is stored once, in a bounded ring; every follower (poll, long poll, SSE, WebSocket)
//! holds only a cursor, the last `seq` it has seen, as in rumqttd's commit log. A slow follower
//! therefore never slows the publisher or the others, and costs no memory of its own: if it falls
//! behind the ring, the next read tells it how many events it `missed` and resumes at the oldest kept.

use std::{
    collections::VecDeque,
    sync::{Arc, RwLock},
    time::{Instant, SystemTime, UNIX_EPOCH},
};

use tokio::sync::watch;

use super::{Event, Kind};

/// A cheap-to-clone handle on the feed.
#[derive(Clone)]
pub struct Hub {
    inner: Arc<Inner>,
}

struct Inner {
    /// A std `RwLock`, not tokio's: it is held for microseconds and never across an `.await`.
    /// Followers read it concurrently; only `publish` writes.
    ring: RwLock<Ring>,
    /// The last published `seq`. A `watch` wakes every waiting follower with one store, and a
    /// follower that was busy sees only the newest value: it then reads the ring from its cursor.
    last_seq: watch::Sender<u64>,
}

struct Ring {
    events: VecDeque<Arc<Event>>,
    capacity: usize,
    last_seq: u64,
    last_ts_us: u64,
}

/// What a follower gets when it asks for the events after its cursor.
#[derive(Debug, Clone)]
pub struct Batch {
    /// Events with `seq` > cursor that are still in the buffer, oldest first.
    pub events: Vec<Arc<Event>>,
    /// The newest `seq` published when the batch was taken.
    pub last_seq: u64,
    /// Events after the cursor that have left the buffer and can no longer be sent.
    pub missed: u64,
}

impl Batch {
    /// The cursor a follower should hold after consuming this batch.
    pub fn next_cursor(&self, cursor: u64) -> u64 {
        self.events
            .last()
            .map_or(cursor + self.missed, |event| event.seq)
    }

    pub fn is_empty(&self) -> bool {
        self.events.is_empty() && self.missed == 0
    }

    /// Simulated network latency: keeps only the events published at least `delay` ago (the
    /// rest wait for a later batch) and returns when the first one held back may leave.
    pub fn hold_back(&mut self, delay: std::time::Duration) -> Option<tokio::time::Instant> {
        if delay.is_zero() {
            return None;
        }
        let now = std::time::Instant::now();
        let first_early = self
            .events
            .iter()
            .position(|event| event.published_at + delay > now)?;
        let due = self.events[first_early].published_at + delay;
        self.events.truncate(first_early);
        Some(tokio::time::Instant::from_std(due))
    }
}

/// A client asked for events after a `seq` that was never published (e.g. after a server restart).
#[derive(Debug, Clone, Copy, thiserror::Error, PartialEq)]
#[error("since={since} is ahead of the feed, whose last seq is {last_seq}")]
pub struct AheadOfFeed {
    pub since: u64,
    pub last_seq: u64,
}

impl From<AheadOfFeed> for crate::error::ApiError {
    fn from(err: AheadOfFeed) -> Self {
        crate::error::ApiError::bad_request(err.to_string())
    }
}

impl Hub {
    /// A hub keeping the last `capacity` events (at least one).
    pub fn new(capacity: usize) -> Hub {
        let capacity = capacity.max(1);
        let (last_seq, _) = watch::channel(0);
        Hub {
            inner: Arc::new(Inner {
                ring: RwLock::new(Ring {
                    events: VecDeque::with_capacity(capacity),
                    capacity,
                    last_seq: 0,
                    last_ts_us: 0,
                }),
                last_seq,
            }),
        }
    }

    /// Numbers, timestamps, encodes and stores one event, then wakes every follower.
    pub fn publish(&self, kind: Kind, data: &serde_json::Value) -> Arc<Event> {
        self.publish_at(kind, data, Instant::now())
    }

    /// [`Hub::publish`] of an event that was published at `published_at` on the monotonic clock
    /// (at or before now): delivery delays are measured from there. For events that were born
    /// elsewhere before they reached this hub, and for tests that need an event of a known age
    /// without waiting for it.
    pub fn publish_at(
        &self,
        kind: Kind,
        data: &serde_json::Value,
        published_at: Instant,
    ) -> Arc<Event> {
        let event = {
            let mut ring = self.inner.ring.write().unwrap_or_else(|e| e.into_inner());
            let seq = ring.last_seq + 1;
            // Wall clock for people; never earlier than the previous event, so that `ts` stays
            // ordered like `seq` even if the system clock is stepped back.
            let ts_us = unix_micros().max(ring.last_ts_us);
            let event = Arc::new(Event::new(seq, ts_us, kind, data, published_at));
            if ring.events.len() == ring.capacity {
                // The bound of the replay buffer: the oldest event leaves; followers that still
                // needed it will be told how many they missed.
                ring.events.pop_front();
            }
            ring.events.push_back(event.clone());
            ring.last_seq = seq;
            ring.last_ts_us = ts_us;
            event
        };
        // After the ring lock is released: a woken follower finds the event already stored.
        self.inner.last_seq.send_replace(event.seq);
        event
    }

    /// The events after `cursor`, at most `limit` of them (the oldest first).
    pub fn since(&self, cursor: u64, limit: usize) -> Result<Batch, AheadOfFeed> {
        let ring = self.inner.ring.read().unwrap_or_else(|e| e.into_inner());
        if cursor > ring.last_seq {
            return Err(AheadOfFeed {
                since: cursor,
                last_seq: ring.last_seq,
            });
        }
        let oldest_kept = ring.events.front().map_or(ring.last_seq + 1, |e| e.seq);
        // Events in (cursor, oldest_kept) are gone; the rest are at known offsets.
        let missed = oldest_kept.saturating_sub(cursor + 1);
        let start = (cursor + 1).saturating_sub(oldest_kept) as usize;
        let events = ring
            .events
            .iter()
            .skip(start)
            .take(limit)
            .cloned()
            .collect();
        Ok(Batch {
            events,
            last_seq: ring.last_seq,
            missed,
        })
    }

    /// The newest events, up to `count`, oldest first (for pages that show recent history).
    pub fn latest(&self, count: usize) -> Vec<Arc<Event>> {
        let ring = self.inner.ring.read().unwrap_or_else(|e| e.into_inner());
        let skip = ring.events.len().saturating_sub(count);
        ring.events.iter().skip(skip).cloned().collect()
    }

    pub fn last_seq(&self) -> u64 {
        *self.inner.last_seq.borrow()
    }

    pub fn capacity(&self) -> usize {
        self.inner
            .ring
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .capacity
    }

    /// How many followers hold a wake-up handle now (held long polls, open streams).
    pub fn follower_count(&self) -> usize {
        self.inner.last_seq.receiver_count()
    }

    /// A wake-up handle: `changed()` resolves after the next publish.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.inner.last_seq.subscribe()
    }

    /// Waits until an event after `cursor` exists, `until` passes or `stop` resolves; returns
    /// what is there then (possibly an empty batch). The long poll is this, and nothing else.
    pub async fn wait_since(
        &self,
        cursor: u64,
        limit: usize,
        until: tokio::time::Instant,
        stop: impl std::future::Future<Output = ()>,
    ) -> Result<Batch, AheadOfFeed> {
        // Subscribe before the first look, so that a publish between the look and the wait
        // still wakes us.
        let mut wake = self.subscribe();
        tokio::pin!(stop);
        loop {
            let batch = self.since(cursor, limit)?;
            if !batch.is_empty() {
                return Ok(batch);
            }
            tokio::select! {
                changed = wake.changed() => {
                    if changed.is_err() {
                        return Ok(batch); // the hub is gone: answer with what we have
                    }
                }
                _ = tokio::time::sleep_until(until) => return Ok(batch),
                _ = &mut stop => return Ok(batch),
            }
        }
    }
}

/// Now, as Unix epoch microseconds.
pub fn unix_micros() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn hub_with(capacity: usize, events: u64) -> Hub {
        let hub = Hub::new(capacity);
        for i in 0..events {
            hub.publish(Kind::Tick, &json!({ "value": i }));
        }
        hub
    }

    #[test]
    fn seq_starts_at_one_and_has_no_gaps() {
        let hub = hub_with(8, 5);
        let batch = hub.since(0, usize::MAX).unwrap();
        let seqs: Vec<u64> = batch.events.iter().map(|e| e.seq).collect();
        assert_eq!(seqs, vec![1, 2, 3, 4, 5]);
        assert_eq!((batch.last_seq, batch.missed), (5, 0));
        assert!(batch.events.windows(2).all(|w| w[0].ts_us <= w[1].ts_us));
    }

    #[test]
    fn a_cursor_behind_the_ring_is_told_what_it_missed() {
        let hub = hub_with(4, 10); // keeps 7..=10
        let batch = hub.since(2, usize::MAX).unwrap();
        assert_eq!(batch.missed, 4); // 3, 4, 5, 6
        assert_eq!(batch.events.first().unwrap().seq, 7);
        assert_eq!(batch.next_cursor(2), 10);
        let from_zero = hub.since(0, usize::MAX).unwrap();
        assert_eq!(from_zero.missed, 6);
    }

    #[test]
    fn limit_and_cursor_resume_without_gap() {
        let hub = hub_with(16, 10);
        let first = hub.since(3, 4).unwrap();
        let cursor = first.next_cursor(3);
        assert_eq!(cursor, 7);
        let rest = hub.since(cursor, usize::MAX).unwrap();
        assert_eq!(rest.events.first().unwrap().seq, 8);
        assert_eq!(rest.events.last().unwrap().seq, 10);
    }

    #[test]
    fn a_cursor_ahead_of_the_feed_is_an_error() {
        let hub = hub_with(4, 3);
        assert_eq!(
            hub.since(4, 10).unwrap_err(),
            AheadOfFeed {
                since: 4,
                last_seq: 3
            }
        );
        assert!(hub.since(3, 10).unwrap().is_empty());
    }

    #[tokio::test]
    async fn wait_since_returns_at_the_publish() {
        let hub = hub_with(4, 1);
        let waiter = {
            let hub = hub.clone();
            tokio::spawn(async move {
                let far = tokio::time::Instant::now() + std::time::Duration::from_secs(3600);
                hub.wait_since(1, 10, far, std::future::pending()).await
            })
        };
        // Wait until the waiter has subscribed: then the publish must wake it.
        while hub.inner.last_seq.receiver_count() < 1 {
            tokio::task::yield_now().await;
        }
        hub.publish(Kind::Chat, &json!({}));
        let batch = waiter.await.unwrap().unwrap();
        assert_eq!(batch.events[0].seq, 2);
    }
}
