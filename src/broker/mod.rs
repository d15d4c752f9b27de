//! Several pushlab servers, one feed: the feed through a RabbitMQ stream (`--broker`).
//!
//! Every event (generator ticks, chats from any transport on any server) is published to one
//! stream queue, and every server follows that stream: an event's `seq` is its offset + 1, the
//! same on every server, gap-free, so a client resumes on any server with the same `since`. The
//! stream is the log: a server that starts (or restarts) reads it before it answers, and a
//! resume older than its replay buffer is read back from the stream while the stream holds it.
//!
//! The parts, each a task on the broker's own runtime ([`link`]):
//! - the **follower** ([`follower`]) consumes the stream from the next offset the hub needs and
//!   hands each event to [`Hub::append`]; after a lost connection it reconnects by itself (not
//!   lapin's auto-recovery, which would replay the consumer from its first offset) and resumes
//!   at the hub's last seq + 1: nothing lost, nothing twice, and what retention removed in
//!   between is skipped and counted (`lost`), which followers see as `missed`;
//! - the **publisher** ([`publisher`]) holds a channel in confirm mode. A chat is answered only
//!   after the broker confirmed it and this server read it back from the stream (so its answer
//!   carries the stream's `seq`); ticks are pipelined;
//! - the **generator lease**: one generator ticks for the whole cluster. Each server tries, on
//!   its publisher connection, to declare the exclusive queue `STREAM.generator` every
//!   [`publisher::LEASE_RETRY`]; the one that gets it ticks, the others are refused
//!   (RESOURCE_LOCKED). When the holder stops, crashes or loses the broker, its connection
//!   closes, RabbitMQ deletes the queue, and another server takes it at its next try. A hung
//!   holder is dropped by RabbitMQ after missed heartbeats ([`link::HEARTBEAT_SECS`]).
//! - the **epoch** ([`epoch`]): the run's id is the first message of `STREAM.epoch`, written
//!   by the first server that finds it empty and read by all: one run across restarts.
//! - the **feed settings** (rate, payload, pause) are the cluster's, since one generator ticks
//!   for all: an instructor's change on any server is published to `STREAM.settings` and every
//!   server applies what it reads there (a joining server adopts the newest; the server that
//!   takes the generator lease publishes its own, so that all agree). The simulated network
//!   (added delays, long-poll cap, suggested poll interval) stays each server's own.
//!
//! Broker faults are shown, never hidden: unreachable at start, the server does not start;
//! lost while running, chats get 503, `/healthz` and the stats say "unreachable", connected
//! clients stay connected and simply get nothing new until the follower is back.

mod epoch;
mod follower;
mod link;
mod publisher;
mod replay;
mod wire;

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicU64, Ordering::Relaxed},
    },
    time::{Duration, Instant},
};

use hdrhistogram::Histogram;
use serde::Serialize;
use tokio::sync::{Semaphore, mpsc, oneshot, watch};
use tokio_util::sync::CancellationToken;

pub use link::{CONNECT_TIMEOUT_MS, DECLARE_PATIENCE, HEARTBEAT_SECS};
pub use publisher::LEASE_RETRY;
pub use replay::{MAX_REPLAY_EVENTS, MAX_REPLAYS_AT_ONCE, REPLAY_TIMEOUT};
pub use wire::Retention;

use crate::{
    config::Config,
    feed::{Backlog, Event, FeedSettings, Hub, Kind, TickSink, TickSource, unix_micros},
    meter::{MAX_LATENCY_US, Summary, new_latency_histogram, summarize},
};
use link::{BrokerRuntime, Target};

/// Longest wait for the broker to confirm a chat, then for this server to read it back from the
/// stream: past either, the poster gets 503.
pub const CONFIRM_TIMEOUT: Duration = Duration::from_secs(3);
/// See [`CONFIRM_TIMEOUT`].
pub const ECHO_TIMEOUT: Duration = Duration::from_secs(3);
/// Longest catch-up at start: reading the stream up to where it was when the server started.
/// Past it the start fails (the stream is too long for this machine's reading rate, or the
/// broker stalls).
pub const CATCH_UP_TIMEOUT: Duration = Duration::from_secs(120);
/// Ticks waiting to be published, at most (a whole burst fits). Beyond, a tick is dropped and
/// counted (`ticks_dropped`): the generator never waits for the broker.
pub const TICK_QUEUE: usize = crate::feed::MAX_BURST;
/// Upper bounds (µs) of the hop histogram's bars in the stats, log-spaced; a last bar takes
/// what is above.
pub const HOP_BUCKETS_US: [u64; 14] = [
    100, 250, 500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 500_000,
    1_000_000, 10_000_000,
];

/// What the broker part needs from the configuration.
#[derive(Debug, Clone)]
pub struct BrokerSettings {
    /// `--broker`, with its password.
    pub url: String,
    /// The feed's stream queue.
    pub stream: String,
    pub retention: Retention,
    /// This server's name (connection names, message headers).
    pub server: String,
    /// The replay buffer's capacity: a new server reads only this many events before the tail.
    pub capacity: usize,
}

impl BrokerSettings {
    /// The settings of `--broker` and its companions, `None` without `--broker`.
    pub fn of(config: &Config, server: &str) -> Option<BrokerSettings> {
        Some(BrokerSettings {
            url: config.broker.clone()?,
            stream: config.broker_stream.clone(),
            retention: Retention {
                max_bytes: config.broker_max_bytes,
                max_age: config.broker_max_age.clone(),
                segment_bytes: config.broker_segment_bytes,
            },
            server: server.to_owned(),
            capacity: config.buffer,
        })
    }
}

/// Why the server could not start with its broker.
#[derive(Debug, thiserror::Error)]
pub enum BrokerError {
    #[error("{0}")]
    Config(String),
    #[error("broker unreachable at {url}: {error}")]
    Unreachable { url: String, error: String },
    #[error("broker at {url}: {error}")]
    Refused { url: String, error: String },
    #[error(
        "broker at {url}: not caught up with stream {stream} within {}s (read up to seq {reached} of {target}): {last_error}",
        CATCH_UP_TIMEOUT.as_secs()
    )]
    CatchUp {
        url: String,
        stream: String,
        reached: u64,
        target: u64,
        last_error: String,
    },
    #[error("the broker's runtime: {0}")]
    Runtime(String),
}

/// Why a chat was not published (each becomes a 503 with this message).
#[derive(Debug, thiserror::Error, Clone, PartialEq)]
pub enum PublishError {
    #[error("broker unreachable ({0}): the message was not published; try again once it is back")]
    Unreachable(String),
    #[error(
        "the broker did not confirm the message ({0}): it was probably not published, but may still appear in the feed"
    )]
    Unconfirmed(String),
    #[error("the broker refused the message ({0})")]
    Refused(String),
    #[error(
        "the broker confirmed the message, but this server has not read it back from the stream within {} s: it will appear in the feed",
        ECHO_TIMEOUT.as_secs()
    )]
    NotReadBack,
}

impl From<PublishError> for crate::error::ApiError {
    /// 503 Service Unavailable (RFC 9110 §15.6.4): the server works, its broker does not.
    fn from(err: PublishError) -> Self {
        crate::error::ApiError::unavailable(err.to_string())
    }
}

/// The link to the broker, as `/healthz`, the stats and the dashboard show it.
#[derive(Debug, Clone, PartialEq)]
struct Health {
    follower: bool,
    publisher: bool,
    /// The last error, kept while a part is down.
    error: Option<String>,
    /// When the state last changed, Unix µs.
    since_us: u64,
}

impl Health {
    fn connected(&self) -> bool {
        self.follower && self.publisher
    }
}

#[derive(Default)]
struct Counters {
    published: AtomicU64,
    read: AtomicU64,
    duplicates: AtomicU64,
    lost: AtomicU64,
    malformed: AtomicU64,
    reconnects: AtomicU64,
    replays: AtomicU64,
    replayed_events: AtomicU64,
    ticks_dropped: AtomicU64,
}

struct Inner {
    target: Target,
    stream: String,
    lease_queue: String,
    retention: Retention,
    server: String,
    /// Random per process: message ids of this run of this server (`<instance>-<n>`).
    instance: String,
    next_id: AtomicU64,
    hub: Hub,
    ticks: Arc<TickSource>,
    /// The feed's settings, applied from `STREAM.settings`.
    feed_settings: Arc<watch::Sender<FeedSettings>>,
    settings_stream: String,
    /// The next offset of `STREAM.settings` to read.
    settings_next: Mutex<u64>,
    runtime: tokio::runtime::Handle,
    shutdown: CancellationToken,
    health: watch::Sender<Health>,
    /// The publisher's confirm channel while it is connected.
    publisher: Mutex<Option<lapin::Channel>>,
    /// The follower's connection while it is connected (replays open channels on it).
    replay_connection: Mutex<Option<Arc<lapin::Connection>>>,
    /// Whether this server holds the generator lease now.
    lease: AtomicBool,
    ticks_out: mpsc::Sender<(Kind, serde_json::Value)>,
    /// Chats published here waiting for their echo, by message id.
    waiters: Mutex<HashMap<String, oneshot::Sender<Arc<Event>>>>,
    /// Publish → read back, µs: recorded once the start's catch-up is over.
    hop: Mutex<Histogram<u64>>,
    caught_up: AtomicBool,
    /// The offset of the last event read.
    last_offset: Mutex<Option<u64>>,
    counters: Counters,
    replays: Semaphore,
}

impl Inner {
    /// The follower's or the publisher's connection is made: a reconnection (one per outage,
    /// [`Backoff::connected`]) is counted in `reconnects`.
    fn connected(&self, backoff: &mut Backoff) {
        if backoff.connected() {
            self.counters.reconnects.fetch_add(1, Relaxed);
        }
    }

    /// Settings read from `STREAM.settings` at `offset` (`None`: not settings, ignored).
    fn take_settings(&self, offset: u64, settings: Option<FeedSettings>) {
        *self.settings_next.lock().unwrap_or_else(|e| e.into_inner()) = offset + 1;
        if let Some(settings) = settings {
            self.feed_settings.send_if_modified(|current| {
                let changed = *current != settings;
                if changed {
                    tracing::info!(?settings, "the cluster's feed settings");
                    *current = settings;
                }
                changed
            });
        }
    }

    /// Publishes `settings` to `STREAM.settings` (the publisher's channel; dropped with a log
    /// line while the broker is unreachable: the change stays this server's until the next).
    async fn share_settings(&self, settings: &FeedSettings) {
        let channel = self
            .publisher
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let Some(channel) = channel else {
            tracing::warn!("feed settings not shared: the broker is unreachable");
            return;
        };
        let (body, properties) = wire::encode_settings(settings, &self.server);
        let published = async {
            channel
                .basic_publish(
                    "".into(),
                    self.settings_stream.as_str().into(),
                    lapin::options::BasicPublishOptions::default(),
                    &body,
                    properties,
                )
                .await?
                .await
        };
        match tokio::time::timeout(CONFIRM_TIMEOUT, published).await {
            Ok(Ok(confirmation)) if confirmation.is_ack() => {}
            other => tracing::warn!(?other, "feed settings not shared"),
        }
    }

    fn message_id(&self) -> String {
        format!("{}-{}", self.instance, self.next_id.fetch_add(1, Relaxed))
    }

    fn set_part(&self, follower: Option<bool>, publisher: Option<bool>, error: Option<String>) {
        self.health.send_if_modified(|h| {
            let before = h.connected();
            if let Some(up) = follower {
                h.follower = up;
            }
            if let Some(up) = publisher {
                h.publisher = up;
            }
            if let Some(e) = error {
                h.error = Some(e);
            } else if h.connected() {
                h.error = None;
            }
            if before != h.connected() {
                h.since_us = unix_micros();
                if h.connected() {
                    tracing::info!("connected to the broker");
                } else {
                    tracing::warn!(
                        error = h.error.as_deref().unwrap_or(""),
                        "broker unreachable"
                    );
                }
            }
            true
        });
    }

    /// One event read from the stream at `offset`, handed to the hub in order.
    fn take(&self, offset: u64, message: Option<wire::Message>) {
        let seq = offset + 1;
        let last = self.hub.last_seq();
        if seq <= last {
            self.counters.duplicates.fetch_add(1, Relaxed);
            return;
        }
        if seq == last + 2
            && let Some(message) = &message
        {
            // One offset skipped: RabbitMQ's bookkeeping at a new segment (what retention
            // removes is whole segments, never one message alone). Shown as such, on every
            // server alike (see `Kind::Broker`).
            let (at, _) = published_at(message.ts_us);
            let mark = wire::bookkeeping(offset - 1);
            let _ = self
                .hub
                .append(last + 1, message.ts_us, Kind::Broker, &mark, at);
        }
        let last = self.hub.last_seq();
        if seq > last + 1 {
            // Retention removed them while this server was away: gone for good.
            let lost = seq - 1 - last;
            tracing::warn!(lost, from = last + 1, "events no longer in the stream");
            self.counters.lost.fetch_add(lost, Relaxed);
            self.hub.skip_to(seq - 1);
        }
        *self.last_offset.lock().unwrap_or_else(|e| e.into_inner()) = Some(offset);
        let Some(message) = message else {
            // Not pushlab's: its place in the feed is a lost event.
            self.counters.malformed.fetch_add(1, Relaxed);
            self.counters.lost.fetch_add(1, Relaxed);
            self.hub.skip_to(seq);
            return;
        };
        let (published_at, age_us) = published_at(message.ts_us);
        let Ok(event) = self.hub.append(
            seq,
            message.ts_us,
            message.kind,
            &message.data,
            published_at,
        ) else {
            self.counters.duplicates.fetch_add(1, Relaxed);
            return;
        };
        self.counters.read.fetch_add(1, Relaxed);
        if self.caught_up.load(Relaxed) {
            crate::meter::record_latency(
                &mut self.hop.lock().unwrap_or_else(|e| e.into_inner()),
                age_us,
            );
        }
        if message.kind == Kind::Tick {
            self.ticks.observe(&message.data);
        }
        if let Some(id) = &message.id {
            let waiter = self
                .waiters
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(id);
            if let Some(waiter) = waiter {
                let _ = waiter.send(event);
            }
        }
    }
}

/// When an event stamped `ts_us` (Unix µs, another server's clock) was published, on this
/// machine's monotonic clock, and how long ago (µs). Clamped: a `ts` in the future (clocks a
/// little apart) counts as now, one older than [`MAX_LATENCY_US`] as that old.
fn published_at(ts_us: u64) -> (Instant, u64) {
    let age = unix_micros().saturating_sub(ts_us).min(MAX_LATENCY_US);
    let now = Instant::now();
    let at = now.checked_sub(Duration::from_micros(age)).unwrap_or(now);
    (at, age)
}

/// The broker link of one server: cheap to clone.
#[derive(Clone)]
pub struct Broker {
    inner: Arc<Inner>,
    /// Dropped with the last handle: the runtime and its tasks go with it.
    _runtime: Arc<BrokerRuntime>,
}

/// `/api/stats` → `broker` (absent without `--broker`).
#[derive(Debug, Clone, Serialize)]
pub struct BrokerStats {
    /// `connected` or `unreachable`.
    pub state: &'static str,
    /// Why it is unreachable.
    pub error: Option<String>,
    /// Since when (Unix µs).
    pub since: u64,
    /// The broker's URL, password hidden.
    pub url: String,
    pub stream: String,
    /// `here` when this server ticks for the cluster, `elsewhere` otherwise.
    pub generator: &'static str,
    /// Messages this server published (confirmed).
    pub published: u64,
    /// Events read from the stream.
    pub read: u64,
    /// Deliveries dropped because the event was already in the feed (after a reconnection).
    pub duplicates: u64,
    /// Events the stream no longer held when this server came to read them (retention), and
    /// messages pushlab could not read: followers were told they `missed` them.
    pub lost: u64,
    /// Reconnections made after a lost connection, the follower's and the publisher's (each
    /// counts its own: one outage is 2 here), however many attempts each took.
    pub reconnects: u64,
    /// Resumes served (partly) from the stream, and the events read for them.
    pub replays: u64,
    pub replayed_events: u64,
    /// Ticks not published: queue full, or the broker unreachable.
    pub ticks_dropped: u64,
    /// The offset of the last event read (its seq - 1).
    pub last_offset: Option<u64>,
    /// Publish (on any server) → read back by this server, µs.
    pub hop_us: Summary,
    /// The same as bars: how many hops took at most `le_us` (and more than the bar before);
    /// `le_us` null: above the last bound.
    pub hop_histogram: Vec<HopBar>,
}

/// One bar of the hop histogram.
#[derive(Debug, Clone, Copy, Serialize, PartialEq)]
pub struct HopBar {
    pub le_us: Option<u64>,
    pub count: u64,
}

impl Broker {
    /// Connects, declares the stream, reads the cluster's epoch, and catches up with the stream
    /// (up to where it was at the start) before returning the hub that follows it. Every
    /// failure is an error that names the broker (password hidden) and what went wrong.
    pub async fn start(
        settings: BrokerSettings,
        ticks: Arc<TickSource>,
        feed_settings: Arc<watch::Sender<FeedSettings>>,
        shutdown: CancellationToken,
    ) -> Result<(Broker, Hub), BrokerError> {
        let target = Target::parse(&settings.url).map_err(BrokerError::Config)?;
        let runtime =
            Arc::new(BrokerRuntime::new().map_err(|e| BrokerError::Runtime(e.to_string()))?);
        let handle = runtime.handle();
        let prepared = handle
            .spawn(epoch::prepare(
                target.clone(),
                settings.clone(),
                handle.clone(),
            ))
            .await
            .map_err(|e| BrokerError::Runtime(e.to_string()))??;
        let hub = Hub::for_cluster(settings.capacity, &prepared.epoch);
        // A server that joins a cluster adopts its feed settings (its own --rate is only the
        // first server's).
        if let Some(shared) = &prepared.settings {
            feed_settings.send_replace(shared.clone());
        }
        // A server reads only what its buffer can hold: the rest stays in the stream, for
        // replays.
        if let Some(tail) = prepared.tail {
            hub.skip_to((tail + 1).saturating_sub(settings.capacity as u64));
        }
        let (ticks_out, ticks_in) = mpsc::channel(TICK_QUEUE);
        let now = unix_micros();
        let inner = Arc::new(Inner {
            lease_queue: format!("{}.generator", settings.stream),
            stream: settings.stream.clone(),
            retention: settings.retention.clone(),
            server: settings.server.clone(),
            instance: format!("{:08x}", rand::random::<u32>()),
            next_id: AtomicU64::new(1),
            hub: hub.clone(),
            ticks,
            feed_settings,
            settings_stream: format!("{}.settings", settings.stream),
            settings_next: Mutex::new(prepared.settings_next),
            runtime: handle.clone(),
            shutdown,
            health: watch::channel(Health {
                follower: false,
                publisher: false,
                error: None,
                since_us: now,
            })
            .0,
            publisher: Mutex::new(None),
            replay_connection: Mutex::new(None),
            lease: AtomicBool::new(false),
            ticks_out,
            waiters: Mutex::new(HashMap::new()),
            hop: Mutex::new(new_latency_histogram()),
            caught_up: AtomicBool::new(false),
            last_offset: Mutex::new(None),
            counters: Counters::default(),
            replays: Semaphore::new(MAX_REPLAYS_AT_ONCE),
            target,
        });
        handle.spawn(follower::run(inner.clone()));
        handle.spawn(publisher::run(inner.clone(), ticks_in));
        let broker = Broker {
            inner,
            _runtime: runtime,
        };
        broker
            .catch_up(prepared.tail.map_or(0, |tail| tail + 1))
            .await?;
        Ok((broker, hub))
    }

    /// Waits until the hub holds `target` and both connections are up.
    async fn catch_up(&self, target: u64) -> Result<(), BrokerError> {
        let inner = &self.inner;
        let mut seq = inner.hub.subscribe();
        let mut health = inner.health.subscribe();
        let ready = async {
            loop {
                if *seq.borrow_and_update() >= target && health.borrow_and_update().connected() {
                    return;
                }
                tokio::select! {
                    _ = seq.changed() => {}
                    _ = health.changed() => {}
                }
            }
        };
        if tokio::time::timeout(CATCH_UP_TIMEOUT, ready).await.is_err() {
            return Err(BrokerError::CatchUp {
                url: inner.target.shown.clone(),
                stream: inner.stream.clone(),
                reached: inner.hub.last_seq(),
                target,
                last_error: inner
                    .health
                    .borrow()
                    .error
                    .clone()
                    .unwrap_or_else(|| "no error, only slow".into()),
            });
        }
        inner.caught_up.store(true, Relaxed);
        tracing::info!(
            stream = %inner.stream,
            last_seq = inner.hub.last_seq(),
            "caught up with the broker's stream"
        );
        Ok(())
    }

    /// Publishes one event and waits until the broker confirmed it and this server read it back
    /// from the stream: the event returned carries the stream's `seq`. A chat's path.
    pub async fn publish(
        &self,
        kind: Kind,
        data: &serde_json::Value,
    ) -> Result<Arc<Event>, PublishError> {
        let inner = &self.inner;
        if let Some(error) = self.unreachable() {
            return Err(PublishError::Unreachable(error));
        }
        let channel = inner
            .publisher
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
            .ok_or_else(|| PublishError::Unreachable("not connected".into()))?;
        let id = inner.message_id();
        let (sender, echo) = oneshot::channel();
        // Registered before the publish: the echo may come before the confirm.
        let _waiting = Waiter::register(inner, &id, sender);
        let (body, properties) = wire::encode(kind, unix_micros(), data, &id, &inner.server);
        let confirmed = tokio::time::timeout(CONFIRM_TIMEOUT, async {
            channel
                .basic_publish(
                    "".into(),
                    inner.stream.as_str().into(),
                    lapin::options::BasicPublishOptions {
                        mandatory: true,
                        ..Default::default()
                    },
                    &body,
                    properties,
                )
                .await?
                .await
        })
        .await;
        match confirmed {
            Err(_) => {
                return Err(PublishError::Unconfirmed(format!(
                    "no confirm within {} s",
                    CONFIRM_TIMEOUT.as_secs()
                )));
            }
            Ok(Err(e)) => return Err(PublishError::Unconfirmed(e.to_string())),
            Ok(Ok(lapin::Confirmation::Ack(None))) => {}
            Ok(Ok(lapin::Confirmation::Ack(Some(_)))) => {
                return Err(PublishError::Refused(format!(
                    "no stream {} to take it",
                    inner.stream
                )));
            }
            Ok(Ok(other)) => return Err(PublishError::Refused(format!("{other:?}"))),
        }
        inner.counters.published.fetch_add(1, Relaxed);
        match tokio::time::timeout(ECHO_TIMEOUT, echo).await {
            Ok(Ok(event)) => Ok(event),
            _ => Err(PublishError::NotReadBack),
        }
    }

    /// The events after `cursor` that the replay buffer no longer holds, read back from the
    /// stream (at most [`MAX_REPLAY_EVENTS`] before the buffer, the newest ones; those before
    /// count as missed; it reads on into the buffer's span, up to the hub's newest event);
    /// `None` when the buffer reaches back far enough, or the stream cannot be read now (the
    /// follower is then told what it missed, as without a broker).
    pub async fn backlog(&self, cursor: u64) -> Option<Backlog> {
        replay::backlog(&self.inner, cursor).await
    }

    /// Why the broker is unreachable now; `None` while it is connected.
    pub fn unreachable(&self) -> Option<String> {
        let health = self.inner.health.borrow();
        (!health.connected()).then(|| health.error.clone().unwrap_or_else(|| "connecting".into()))
    }

    /// Shares feed settings an instructor changed here with every server of the cluster (in the
    /// background: the change is already in force here).
    pub fn share_settings(&self, settings: FeedSettings) {
        let inner = self.inner.clone();
        self.inner
            .runtime
            .spawn(async move { inner.share_settings(&settings).await });
    }

    /// Whether this server ticks for the cluster now.
    pub fn holds_generator(&self) -> bool {
        self.inner.lease.load(Relaxed)
    }

    /// The hop histogram (publish → read back, µs) since the last reset.
    pub fn hop_histogram(&self) -> Histogram<u64> {
        self.inner
            .hop
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Zeroes the hop histogram (with the rest of the stats).
    pub fn reset_hop(&self) {
        *self.inner.hop.lock().unwrap_or_else(|e| e.into_inner()) = new_latency_histogram();
    }

    pub fn stats(&self) -> BrokerStats {
        let inner = &self.inner;
        let health = inner.health.borrow().clone();
        let hop = self.hop_histogram();
        let c = &inner.counters;
        BrokerStats {
            state: if health.connected() {
                "connected"
            } else {
                "unreachable"
            },
            error: (!health.connected()).then_some(health.error).flatten(),
            since: health.since_us,
            url: inner.target.shown.clone(),
            stream: inner.stream.clone(),
            generator: if self.holds_generator() {
                "here"
            } else {
                "elsewhere"
            },
            published: c.published.load(Relaxed),
            read: c.read.load(Relaxed),
            duplicates: c.duplicates.load(Relaxed),
            lost: c.lost.load(Relaxed),
            reconnects: c.reconnects.load(Relaxed),
            replays: c.replays.load(Relaxed),
            replayed_events: c.replayed_events.load(Relaxed),
            ticks_dropped: c.ticks_dropped.load(Relaxed),
            last_offset: *inner.last_offset.lock().unwrap_or_else(|e| e.into_inner()),
            hop_us: summarize(&hop),
            hop_histogram: bars(&hop),
        }
    }
}

/// The hop histogram cut at [`HOP_BUCKETS_US`].
fn bars(histogram: &Histogram<u64>) -> Vec<HopBar> {
    let mut below = 0;
    let mut bars = Vec::with_capacity(HOP_BUCKETS_US.len() + 1);
    for le in HOP_BUCKETS_US {
        let cumulative = histogram.count_between(0, le);
        bars.push(HopBar {
            le_us: Some(le),
            count: cumulative - below,
        });
        below = cumulative;
    }
    bars.push(HopBar {
        le_us: None,
        count: histogram.len() - below,
    });
    bars
}

/// A chat waiting for its echo; its entry leaves the map however the wait ends.
struct Waiter<'a> {
    inner: &'a Inner,
    id: String,
}

impl<'a> Waiter<'a> {
    fn register(inner: &'a Inner, id: &str, sender: oneshot::Sender<Arc<Event>>) -> Waiter<'a> {
        inner
            .waiters
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id.to_owned(), sender);
        Waiter {
            inner,
            id: id.to_owned(),
        }
    }
}

impl Drop for Waiter<'_> {
    fn drop(&mut self) {
        self.inner
            .waiters
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&self.id);
    }
}

impl TickSink for Broker {
    /// Queues a tick for the publisher; dropped (and counted) while the broker is unreachable or
    /// the queue is full: a tick is never late.
    fn tick(&self, data: serde_json::Value) -> bool {
        let inner = &self.inner;
        let connected = inner
            .publisher
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_some();
        let queued = connected && inner.ticks_out.try_send((Kind::Tick, data)).is_ok();
        if !queued {
            inner.counters.ticks_dropped.fetch_add(1, Relaxed);
        }
        queued
    }

    fn generating(&self) -> bool {
        self.holds_generator()
    }

    /// Ticks are counted when read back from the stream ([`TickSource::observe`]), on every
    /// server alike: counting them here too would show the holder twice the rate.
    fn counts_at_publish(&self) -> bool {
        false
    }
}

/// Reconnection delays: from [`Backoff::FIRST`] doubling to [`Backoff::MAX`], forever.
struct Backoff {
    delay: Duration,
    /// A connection failed since the last one was made.
    failed: bool,
}

impl Backoff {
    /// The first delay after a failure.
    const FIRST: Duration = Duration::from_millis(100);
    /// The longest delay between two attempts: a broker that comes back is found within it.
    const MAX: Duration = Duration::from_secs(2);

    fn new() -> Backoff {
        Backoff {
            delay: Backoff::FIRST,
            failed: false,
        }
    }

    /// The delay before the next attempt, after a failure.
    fn next(&mut self) -> Duration {
        self.failed = true;
        let delay = self.delay;
        self.delay = (self.delay * 2).min(Backoff::MAX);
        delay
    }

    /// A connection is made: the next failure waits [`Backoff::FIRST`] again. True when it is a
    /// reconnection (a failure came before it), which the `reconnects` counter counts: one per
    /// outage, however many attempts it took.
    fn connected(&mut self) -> bool {
        self.delay = Backoff::FIRST;
        std::mem::take(&mut self.failed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hop_bars_add_up() {
        let mut h = new_latency_histogram();
        for v in [50, 700, 700, 30_000_000] {
            crate::meter::record_latency(&mut h, v);
        }
        let bars = bars(&h);
        assert_eq!(bars.iter().map(|b| b.count).sum::<u64>(), 4);
        assert_eq!(
            bars[0],
            HopBar {
                le_us: Some(100),
                count: 1
            }
        );
        assert_eq!(bars[3].count, 2); // (500, 1000]
        assert_eq!(
            bars.last().unwrap(),
            &HopBar {
                le_us: None,
                count: 1
            }
        );
    }

    #[test]
    fn backoff_doubles_to_its_cap() {
        let mut b = Backoff::new();
        let delays: Vec<u128> = (0..7).map(|_| b.next().as_millis()).collect();
        assert_eq!(delays, [100, 200, 400, 800, 1600, 2000, 2000]);
        assert!(
            b.connected(),
            "a connection after failures is a reconnection"
        );
        assert_eq!(b.next(), Backoff::FIRST);
        assert!(b.connected());
        assert!(!b.connected(), "once per outage");
        assert!(!Backoff::new().connected(), "the first connection is none");
    }

    #[test]
    fn an_event_from_the_future_was_published_now() {
        let (_, age) = published_at(unix_micros() + 5_000_000);
        assert_eq!(age, 0);
        let (_, age) = published_at(0);
        assert_eq!(age, MAX_LATENCY_US);
    }
}
