//! The hub: the one place that numbers events, keeps the replay buffer and wakes followers.
//!
//! Each event is stored once, in a bounded ring; every follower (poll, long poll, SSE, WebSocket)
//! holds only a cursor, the last `seq` it has seen, as in rumqttd's commit log. A slow follower
//! therefore never slows the publisher or the others, and costs no memory of its own: if it falls
//! behind the ring, the next read tells it how many events it `missed` and resumes at the oldest kept.
//!
//! Each run of the feed has an [`epoch`](Hub::epoch), a short random id: `seq` numbers restart
//! with a new run, so a resume names the run it comes from and the hub never invents a
//! continuation across runs ([`Hub::resume`]; PROTOCOL.md "Runs of the feed").
//!
//! Alone, the hub numbers what it publishes ([`Hub::publish`]). In a cluster (`--broker`) the
//! broker's stream numbers every event once for all servers, and the hub only stores what it is
//! handed, in order ([`Hub::append`], [`Hub::skip_to`]); its run is then the stream's
//! ([`Hub::for_cluster`]).

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
    /// This run's id: new at each start of a hub, or the cluster's.
    epoch: Arc<str>,
    /// How far ahead of this hub a resume of its own run may be and still continue (0 alone,
    /// [`MAX_AHEAD_IN_CLUSTER`] in a cluster, where another server may be a few events ahead).
    ahead_allowance: u64,
    /// A std `RwLock`, not tokio's: it is held for microseconds and never across an `.await`.
    /// Followers read it concurrently; only `publish` writes.
    ring: RwLock<Ring>,
    /// The last published `seq`. A `watch` wakes every waiting follower with one store, and a
    /// follower that was busy sees only the newest value: it then reads the ring from its cursor.
    last_seq: watch::Sender<u64>,
    /// The same seq for the workers' own tasks (`transport::fanout`, `transport::relay`): apart,
    /// so that [`Hub::follower_count`] counts connections only, not one task per worker.
    lanes: watch::Sender<u64>,
}

struct Ring {
    events: VecDeque<Arc<Event>>,
    capacity: usize,
    last_seq: u64,
    last_ts_us: u64,
}

impl Ring {
    /// Stores the next event. The bound of the replay buffer: at capacity the oldest event
    /// leaves, and followers that still needed it will be told how many they missed.
    fn push(&mut self, event: Arc<Event>) {
        if self.events.len() == self.capacity {
            self.events.pop_front();
        }
        self.last_seq = event.seq;
        self.last_ts_us = self.last_ts_us.max(event.ts_us);
        self.events.push_back(event);
    }
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

/// Where a follower starts, as [`Hub::resume`] decided it.
#[derive(Debug, Clone, PartialEq)]
pub struct Start {
    /// Follow events with `seq` > this.
    pub cursor: u64,
    /// Set when the client's resume did not belong to this run: it must drop what it knew.
    pub reset: Option<Reset>,
}

/// The notice of a new run, sent before its events (PROTOCOL.md: `"reset": {"epoch": <new>,
/// "previous_epoch": <E or null>}`).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Reset {
    pub epoch: String,
    /// The run the client resumed from, when it said.
    pub previous_epoch: Option<String>,
}

/// How many characters an epoch may have when a client sends one back (ours have 8).
pub const MAX_EPOCH_CHARS: usize = 64;

/// In a cluster, how many events a resume of this run may be ahead of this server's feed and
/// still continue: the client saw them on a server that read the stream a moment earlier, and
/// this one waits for them. Further ahead, the resume is a reset like any `since` ahead of the
/// feed (a server cut from the broker for longer than that is told apart from a lagging one).
pub const MAX_AHEAD_IN_CLUSTER: u64 = 10_000;

/// Why [`Hub::append`] refused an event numbered elsewhere: the hub stores a gap-free run.
#[derive(Debug, Clone, Copy, thiserror::Error, PartialEq)]
pub enum AppendError {
    /// Already stored (a redelivery after a reconnection): dropped.
    #[error("seq {seq} is already in the feed (last seq {last_seq})")]
    Duplicate { seq: u64, last_seq: u64 },
    /// Events between the last stored and this one are missing: [`Hub::skip_to`] first.
    #[error("seq {seq} leaves a gap after {last_seq}")]
    Gap { seq: u64, last_seq: u64 },
}

/// Events read back from elsewhere (the broker's stream) for a follower that resumed from
/// further back than the replay buffer reaches, delivered before the buffer's own.
#[derive(Debug, Clone, Default)]
pub struct Backlog {
    /// Events after the follower's cursor, oldest first, without gaps between them.
    pub events: Vec<Arc<Event>>,
    /// Events after the cursor, before the first of `events`, that are nowhere any more.
    pub missed: u64,
}

impl Backlog {
    /// The cursor after this backlog, for a follower that was at `cursor`.
    pub fn next_cursor(&self, cursor: u64) -> u64 {
        self.events
            .last()
            .map_or(cursor + self.missed, |event| event.seq)
    }

    /// This backlog, then `rest` (what the hub had after [`Backlog::next_cursor`]), as one batch.
    pub fn then(self, rest: Batch) -> Batch {
        let mut events = self.events;
        events.extend(rest.events);
        Batch {
            events,
            last_seq: rest.last_seq,
            missed: self.missed + rest.missed,
        }
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
    /// A hub keeping the last `capacity` events (at least one), for a new run with a random
    /// epoch (8 hex digits: 32 random bits).
    pub fn new(capacity: usize) -> Hub {
        Hub::with_epoch(capacity, &format!("{:08x}", rand::random::<u32>()))
    }

    /// A hub for the run `epoch`, numbering its own events.
    pub fn with_epoch(capacity: usize, epoch: &str) -> Hub {
        Hub::build(capacity, epoch, 0)
    }

    /// A hub of a cluster: the run `epoch` is the broker stream's, named once for all servers,
    /// and events come numbered by the stream ([`Hub::append`]). A resume up to
    /// [`MAX_AHEAD_IN_CLUSTER`] events ahead of this hub continues (it waits for them).
    pub fn for_cluster(capacity: usize, epoch: &str) -> Hub {
        Hub::build(capacity, epoch, MAX_AHEAD_IN_CLUSTER)
    }

    fn build(capacity: usize, epoch: &str, ahead_allowance: u64) -> Hub {
        let capacity = capacity.max(1);
        let (last_seq, _) = watch::channel(0);
        let (lanes, _) = watch::channel(0);
        Hub {
            inner: Arc::new(Inner {
                epoch: Arc::from(epoch),
                ahead_allowance,
                ring: RwLock::new(Ring {
                    events: VecDeque::with_capacity(capacity),
                    capacity,
                    last_seq: 0,
                    last_ts_us: 0,
                }),
                last_seq,
                lanes,
            }),
        }
    }

    /// Wakes every follower and every fan-out lane: `seq` is now the last. Called after the ring
    /// lock is released, so that whoever wakes finds the event already stored.
    fn announce(&self, seq: u64) {
        self.inner.last_seq.send_replace(seq);
        self.inner.lanes.send_replace(seq);
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
            let event = Arc::new(Event::new(
                &self.inner.epoch,
                seq,
                ts_us,
                kind,
                data,
                published_at,
            ));
            ring.push(event.clone());
            event
        };
        self.announce(event.seq);
        event
    }

    /// Stores an event numbered elsewhere (the broker's stream: the same `seq` and `ts` on every
    /// server), encoded once here, and wakes every follower. `seq` must be the next one:
    /// a duplicate (a redelivery) or a gap is refused and nothing changes; a gap that cannot be
    /// filled is declared with [`Hub::skip_to`] first. `published_at`: when it was published, on
    /// this machine's monotonic clock (delivery delays are measured from there).
    pub fn append(
        &self,
        seq: u64,
        ts_us: u64,
        kind: Kind,
        data: &serde_json::Value,
        published_at: Instant,
    ) -> Result<Arc<Event>, AppendError> {
        let event = {
            let mut ring = self.inner.ring.write().unwrap_or_else(|e| e.into_inner());
            let last_seq = ring.last_seq;
            if seq <= last_seq {
                return Err(AppendError::Duplicate { seq, last_seq });
            }
            if seq > last_seq + 1 {
                return Err(AppendError::Gap { seq, last_seq });
            }
            let event = Arc::new(Event::new(
                &self.inner.epoch,
                seq,
                ts_us,
                kind,
                data,
                published_at,
            ));
            ring.push(event.clone());
            event
        };
        self.announce(event.seq);
        Ok(event)
    }

    /// Declares every event up to `last_lost` (after the last stored) lost for good: the feed
    /// continues after it. The buffer is emptied, since it holds a gap-free run, so a follower
    /// behind is told how many it `missed`, as when it falls out of the buffer. Used when the
    /// broker's stream no longer holds them (retention), and by a server joining a cluster
    /// mid-stream (it starts at the oldest event its buffer can hold). A `last_lost` at or
    /// before the last stored changes nothing.
    pub fn skip_to(&self, last_lost: u64) {
        {
            let mut ring = self.inner.ring.write().unwrap_or_else(|e| e.into_inner());
            if last_lost <= ring.last_seq {
                return;
            }
            ring.events.clear();
            ring.last_seq = last_lost;
        }
        self.announce(last_lost);
    }

    /// An event of this run encoded like a stored one, but not stored: for events read back
    /// from the broker's stream for one follower (a [`Backlog`]).
    pub fn encode(
        &self,
        seq: u64,
        ts_us: u64,
        kind: Kind,
        data: &serde_json::Value,
        published_at: Instant,
    ) -> Arc<Event> {
        Arc::new(Event::new(
            &self.inner.epoch,
            seq,
            ts_us,
            kind,
            data,
            published_at,
        ))
    }

    /// The oldest `seq` still in the replay buffer (`last_seq + 1` when it is empty): a
    /// follower at a cursor before `oldest_kept() - 1` would miss events.
    pub fn oldest_kept(&self) -> u64 {
        let ring = self.inner.ring.read().unwrap_or_else(|e| e.into_inner());
        ring.events.front().map_or(ring.last_seq + 1, |e| e.seq)
    }

    /// The events after `cursor`, at most `limit` of them (the oldest first).
    ///
    /// In a cluster, a cursor at most [`MAX_AHEAD_IN_CLUSTER`] ahead of this hub is another
    /// server's position that this one has not read yet: an empty batch whose `last_seq` is the
    /// cursor (the cluster did publish it), so that a poller keeps its place.
    pub fn since(&self, cursor: u64, limit: usize) -> Result<Batch, AheadOfFeed> {
        let ring = self.inner.ring.read().unwrap_or_else(|e| e.into_inner());
        if cursor > ring.last_seq {
            if cursor - ring.last_seq <= self.inner.ahead_allowance {
                return Ok(Batch {
                    events: Vec::new(),
                    last_seq: cursor,
                    missed: 0,
                });
            }
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

    /// This run's id.
    pub fn epoch(&self) -> &Arc<str> {
        &self.inner.epoch
    }

    /// Where a client resuming with `since` (events after it) from the run `epoch` starts.
    ///
    /// - no `since`: from now, whatever the epoch (the client claims no continuation);
    /// - `since` of this run (the epoch matches or was not given) and not ahead of the feed:
    ///   from `since`;
    /// - another run's epoch, or a `since` ahead of the feed (the client saw a run that has
    ///   ended: a restart): a [`Reset`], then this run's events from the oldest still buffered
    ///   (those the buffer lost count as missed). A continuation is never invented.
    ///
    /// In a cluster the run outlives every server, and a `since` that names this run's epoch up
    /// to [`MAX_AHEAD_IN_CLUSTER`] ahead of this server continues: another server had read it. A
    /// bare `since` ahead of the feed is a new run there too: it may come from a run that has
    /// ended (the stream's queues deleted, seqs from 1 again) or from a typo, and waiting for it
    /// would leave the client silent for as many events, with no reset to tell it why.
    pub fn resume(&self, since: Option<u64>, epoch: Option<&str>) -> Start {
        let last_seq = self.last_seq();
        let Some(since) = since else {
            return Start {
                cursor: last_seq,
                reset: None,
            };
        };
        let same_run = epoch.is_none_or(|e| *e == *self.inner.epoch);
        let allowance = if epoch.is_some() {
            self.inner.ahead_allowance
        } else {
            0
        };
        if same_run && since <= last_seq.saturating_add(allowance) {
            return Start {
                cursor: since,
                reset: None,
            };
        }
        Start {
            cursor: 0,
            reset: Some(Reset {
                epoch: self.inner.epoch.to_string(),
                previous_epoch: epoch.map(str::to_owned),
            }),
        }
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

    /// A wake-up handle for a worker's own task (its fan-out lane, its long-poll relay): like
    /// [`Hub::subscribe`], but not counted by [`Hub::follower_count`] (the task follows for
    /// connections that are counted already).
    pub fn subscribe_lane(&self) -> watch::Receiver<u64> {
        self.inner.lanes.subscribe()
    }

    /// True when `other` is a handle on this same feed.
    pub fn is_same(&self, other: &Hub) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }

    /// A handle that names this feed without keeping it: a task that must end with the feed
    /// (its watch closes when the last [`Hub`] is dropped) keeps this one.
    pub fn identity(&self) -> HubIdentity {
        HubIdentity(Arc::downgrade(&self.inner))
    }
}

/// Names a feed without keeping it alive ([`Hub::identity`]): a weak reference, so no other
/// feed can ever take its place at the same address.
pub struct HubIdentity(std::sync::Weak<Inner>);

impl HubIdentity {
    /// True when `hub` is the feed this names.
    pub fn is(&self, hub: &Hub) -> bool {
        std::sync::Weak::ptr_eq(&self.0, &Arc::downgrade(&hub.inner))
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

    #[test]
    fn a_resume_from_another_run_or_ahead_of_the_feed_is_a_reset() {
        let hub = hub_with(4, 10); // keeps 7..=10
        let epoch = hub.epoch().to_string();
        assert_eq!(hub.resume(None, Some("old")).cursor, 10);
        assert_eq!(hub.resume(Some(8), None).reset, None);
        assert_eq!(hub.resume(Some(8), Some(&epoch)).cursor, 8);
        let other = hub.resume(Some(8), Some("old"));
        assert_eq!(other.cursor, 0);
        let reset = other.reset.unwrap();
        assert_eq!(&*reset.epoch, epoch.as_str());
        assert_eq!(reset.previous_epoch.as_deref(), Some("old"));
        let ahead = hub.resume(Some(11), None);
        assert_eq!(
            (ahead.cursor, ahead.reset.unwrap().previous_epoch),
            (0, None)
        );
        // After a reset the client gets this run from the oldest kept, the rest counted missed.
        let batch = hub.since(0, usize::MAX).unwrap();
        assert_eq!((batch.events[0].seq, batch.missed), (7, 6));
        assert_ne!(Hub::new(4).epoch(), Hub::new(4).epoch());
    }

    #[test]
    fn append_takes_only_the_next_seq_and_a_skip_empties_the_buffer() {
        let hub = Hub::for_cluster(4, "c1u5");
        let data = json!({ "value": 1 });
        let at = Instant::now();
        assert_eq!(hub.append(1, 10, Kind::Tick, &data, at).unwrap().seq, 1);
        assert_eq!(hub.append(2, 11, Kind::Tick, &data, at).unwrap().ts_us, 11);
        assert_eq!(
            hub.append(2, 11, Kind::Tick, &data, at).unwrap_err(),
            AppendError::Duplicate {
                seq: 2,
                last_seq: 2
            }
        );
        assert_eq!(
            hub.append(5, 12, Kind::Tick, &data, at).unwrap_err(),
            AppendError::Gap {
                seq: 5,
                last_seq: 2
            }
        );
        assert_eq!(hub.last_seq(), 2);
        // 3 and 4 are gone for good: a follower at 1 misses them and the one before.
        hub.skip_to(4);
        assert_eq!((hub.last_seq(), hub.oldest_kept()), (4, 5));
        hub.append(5, 12, Kind::Tick, &data, at).unwrap();
        let batch = hub.since(1, usize::MAX).unwrap();
        assert_eq!((batch.missed, batch.events[0].seq), (3, 5));
        // A skip backwards changes nothing.
        hub.skip_to(3);
        assert_eq!((hub.last_seq(), hub.oldest_kept()), (5, 5));
    }

    #[test]
    fn in_a_cluster_a_resume_a_little_ahead_waits_instead_of_resetting() {
        let hub = Hub::for_cluster(8, "c1u5");
        let epoch = hub.epoch().to_string();
        let start = hub.resume(Some(3), Some(&epoch));
        assert_eq!((start.cursor, start.reset), (3, None));
        let batch = hub.since(3, usize::MAX).unwrap();
        assert_eq!((batch.events.len(), batch.last_seq), (0, 3));
        let far = MAX_AHEAD_IN_CLUSTER + 1;
        assert!(hub.resume(Some(far), Some(&epoch)).reset.is_some());
        assert!(hub.since(far, 1).is_err());
        // Alone, any since ahead is a restart.
        assert!(Hub::new(8).resume(Some(1), None).reset.is_some());
        // In a cluster too, for a bare since: it names no run, and may be an ended one's (the
        // queues deleted) or a typo; a client waiting for it would hear nothing for minutes.
        let bare = hub.resume(Some(4), None);
        assert_eq!((bare.cursor, bare.reset.is_some()), (0, true));
    }

    #[test]
    fn a_backlog_comes_before_the_buffer() {
        let hub = hub_with(2, 6); // keeps 5, 6
        let old = |seq| hub.encode(seq, seq, Kind::Tick, &json!({}), Instant::now());
        let backlog = Backlog {
            events: vec![old(3), old(4)],
            missed: 1, // 2
        };
        let cursor = backlog.next_cursor(1);
        assert_eq!(cursor, 4);
        let batch = backlog.then(hub.since(cursor, usize::MAX).unwrap());
        let seqs: Vec<u64> = batch.events.iter().map(|e| e.seq).collect();
        assert_eq!(
            (seqs, batch.missed, batch.last_seq),
            (vec![3, 4, 5, 6], 1, 6)
        );
    }
}
