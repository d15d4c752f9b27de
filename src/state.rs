//! The shared state every handler may read, built once and shared by all workers, and the live
//! settings as the instructor sees them (the feed's and the simulated network's, side by side).
//!
//! Sits above the parts it holds (config, feed, meter, network, broker, sessions, the handshake
//! log) and below everything that serves a request: transports, pages, the API, the server's edge.
//!
//! Publishing and resuming go through here ([`AppState::publish`], [`AppState::resume`]), so that
//! the transports do not care whether the feed lives in this process or in a broker's stream.

use std::sync::{
    Arc,
    atomic::{AtomicU64, Ordering::Relaxed},
};

use serde::{Deserialize, Serialize};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::{
    broker::{Broker, PublishError},
    config::{ADMIN_FAILURE_WINDOW, Config},
    error::ApiError,
    feed::{Backlog, Event, FeedSettings, FeedUpdate, Hub, Kind, Start, TickSink, TickSource},
    limits::{LimitSettings, LimitSettingsError, Lockout, Rate, RateLimiter, checked_per_minute},
    meter::{Ledger, Meter, Positions},
    network::{AddedDelayUpdate, Faults, NetworkSettings, NetworkUpdate},
    sessions::Sessions,
    transport_kind::Transport,
    ws::{HandshakeLog, MemoryBudget},
};

/// Everything a handler may need, built once and shared by all workers (never per worker: each
/// worker building its own would split the hub and the counters into copies).
pub struct AppState {
    pub config: Config,
    pub hub: Hub,
    pub meter: Arc<Meter>,
    /// The feed's settings (rate, payload, pause): the generator follows them. With a broker
    /// they are the cluster's (the broker applies what other servers share).
    pub feed_settings: Arc<watch::Sender<FeedSettings>>,
    /// The simulated network's settings (added delays, long-poll cap, poll interval).
    pub network: watch::Sender<NetworkSettings>,
    /// The generator's walk, shared with the instructor's burst.
    pub ticks: Arc<TickSource>,
    pub faults: Arc<Faults>,
    pub admin_sessions: Sessions,
    /// Wrong admin tokens per client address (Bearer and login form alike): beyond ten a
    /// minute, 429 until the minute has passed.
    pub admin_failures: Lockout,
    /// Cancelled on Ctrl-C/SIGTERM: every streaming task and held long poll ends on it.
    pub shutdown: CancellationToken,
    pub admin_token: String,
    /// Numbers connections for logs and the protocol inspector (never random).
    pub next_connection_id: AtomicU64,
    pub handshakes: Arc<HandshakeLog>,
    /// Chat posts per client address, on every transport (`chat_per_min`).
    pub chat_limit: RateLimiter,
    /// Latency reports per client address (`reports_per_min`).
    pub report_limit: RateLimiter,
    /// What each client address was sent and reported, per transport.
    pub ledger: Ledger,
    /// The positions recently handed to each address's pollers: a follower from a resumer.
    pub positions: Positions,
    /// When this server started (Unix µs): no latency it measured can be longer than its age.
    pub started_us: u64,
    /// Bytes all WebSocket connections may hold in messages at once (`--ws-memory-bytes`).
    pub ws_memory: Arc<MemoryBudget>,
    /// Which server this is (every stats answer names it).
    pub server: ServerIdentity,
    /// The broker whose stream carries the feed (`--broker`); `None`: the feed lives here.
    pub broker: Option<Broker>,
}

/// Where a server's feed lives: its hub, the broker whose stream feeds it (if any), the tick
/// walk and the feed's settings (shared with the broker, which applies the cluster's).
pub struct Feed {
    pub hub: Hub,
    pub broker: Option<Broker>,
    pub ticks: Arc<TickSource>,
    pub settings: Arc<watch::Sender<FeedSettings>>,
}

/// Which server answers: its name (`--server-name`, default its address), its address, and the
/// other servers of its cluster (`--peer-url`), as the stats show them.
#[derive(Debug, Clone, Serialize)]
pub struct ServerIdentity {
    pub name: String,
    pub addr: String,
    pub peers: Vec<String>,
}

impl ServerIdentity {
    /// The identity of a server of `config` bound to `addr`.
    pub fn of(config: &Config, addr: std::net::SocketAddr) -> ServerIdentity {
        ServerIdentity {
            name: config
                .server_name
                .clone()
                .unwrap_or_else(|| addr.to_string()),
            addr: addr.to_string(),
            peers: config.peer_origins(),
        }
    }
}

impl AppState {
    /// The state of a server whose feed lives in this process.
    pub fn new(config: Config, admin_token: String) -> AppState {
        let hub = Hub::new(config.buffer);
        let server = ServerIdentity::of(&config, config.bind);
        let feed = Feed {
            hub,
            broker: None,
            ticks: Default::default(),
            settings: Arc::new(watch::channel(FeedSettings::initial(config.rate)).0),
        };
        AppState::with_feed(config, admin_token, feed, server)
    }

    /// The state of a server with this feed and identity.
    pub fn with_feed(
        config: Config,
        admin_token: String,
        feed: Feed,
        server: ServerIdentity,
    ) -> AppState {
        let Feed {
            hub,
            broker,
            ticks,
            settings,
        } = feed;
        AppState {
            ticks,
            faults: Default::default(),
            admin_sessions: Default::default(),
            admin_failures: Lockout::new(ADMIN_FAILURE_WINDOW),
            hub,
            broker,
            server,
            meter: Arc::new(Meter::with_recording(!config.no_meter)),
            feed_settings: settings,
            network: watch::channel(NetworkSettings::initial(config.longpoll_max_ms)).0,
            shutdown: CancellationToken::new(),
            admin_token,
            next_connection_id: Default::default(),
            handshakes: Default::default(),
            chat_limit: RateLimiter::new(Rate {
                per_minute: config.chat_per_min,
            }),
            report_limit: RateLimiter::new(Rate {
                per_minute: config.reports_per_min,
            }),
            ledger: Ledger::default(),
            positions: Positions::default(),
            started_us: crate::feed::unix_micros(),
            ws_memory: MemoryBudget::new(config.ws_memory_bytes),
            config,
        }
    }

    pub fn connection_id(&self) -> u64 {
        self.next_connection_id.fetch_add(1, Relaxed) + 1
    }

    /// Publishes one event posted by a person (a chat): numbered here, or, with a broker,
    /// published to its stream and answered once the broker confirmed it and this server read
    /// it back (the event then carries the stream's seq). A broker fault is an error saying
    /// what happened to the message.
    pub async fn publish(
        &self,
        kind: Kind,
        data: &serde_json::Value,
    ) -> Result<Arc<Event>, PublishError> {
        match &self.broker {
            None => Ok(self.hub.publish(kind, data)),
            Some(broker) => broker.publish(kind, data).await,
        }
    }

    /// Where the generator's and the instructor's ticks go: the hub, or the broker.
    pub fn tick_sink(&self) -> &dyn TickSink {
        match &self.broker {
            None => &self.hub,
            Some(broker) => broker,
        }
    }

    /// Where a follower resuming after `since` of the run `epoch` starts ([`Hub::resume`]) and,
    /// with a broker, the events older than the replay buffer that its stream still holds (to
    /// be delivered first, from [`Backlog::next_cursor`] on).
    pub async fn resume(
        &self,
        since: Option<u64>,
        epoch: Option<&str>,
    ) -> (Start, Option<Backlog>) {
        let start = self.hub.resume(since, epoch);
        let backlog = match &self.broker {
            Some(broker) if since.is_some() && start.reset.is_none() => {
                broker.backlog(start.cursor).await
            }
            _ => None,
        };
        (start, backlog)
    }

    /// The added delay of `transport` now (the instructor's simulated latency).
    pub fn added_delay(&self, transport: Transport) -> std::time::Duration {
        self.network.borrow().added_delay_ms.of(transport)
    }

    /// Every live setting, as `GET /api/admin/settings` and the stats show them.
    pub fn settings(&self) -> Settings {
        Settings {
            feed: self.feed_settings.borrow().clone(),
            network: self.network.borrow().clone(),
            limits: LimitSettings::of(self.chat_limit.rate(), self.report_limit.rate()),
        }
    }

    /// Applies a partial update to every client at once; a refused update changes nothing (both
    /// halves are checked before either is sent).
    pub fn update_settings(&self, update: &SettingsUpdate) -> Result<Settings, ApiError> {
        let before = self.settings();
        let chat = update
            .chat_per_min
            .map(|n| checked_per_minute("chat_per_min", n))
            .transpose()?;
        let reports = update
            .reports_per_min
            .map(|n| checked_per_minute("reports_per_min", n))
            .transpose()?;
        let after = Settings {
            feed: before.feed.updated(&update.feed())?,
            network: before.network.updated(&update.network())?,
            limits: LimitSettings::of(
                chat.unwrap_or(self.chat_limit.rate()),
                reports.unwrap_or(self.report_limit.rate()),
            ),
        };
        if let Some(rate) = chat {
            self.chat_limit.set_rate(rate);
        }
        if let Some(rate) = reports {
            self.report_limit.set_rate(rate);
        }
        let changed = self.feed_settings.send_if_modified(|s| {
            let changed = *s != after.feed;
            *s = after.feed.clone();
            changed
        });
        if let (true, Some(broker)) = (changed, &self.broker) {
            broker.share_settings(after.feed.clone());
        }
        self.network.send_replace(after.network.clone());
        Ok(after)
    }
}

impl Settings {
    /// What changed from `before` to `self`, as people say it: `rate 2 → 20 events/s`.
    pub fn changes_since(&self, before: &Settings) -> Vec<String> {
        let mut changes = Vec::new();
        let (f, b) = (&self.feed, &before.feed);
        if f.rate_hz != b.rate_hz {
            changes.push(format!("rate {} → {} events/s", b.rate_hz, f.rate_hz));
        }
        if f.payload_bytes != b.payload_bytes {
            changes.push(format!(
                "payload {} → {} bytes",
                b.payload_bytes, f.payload_bytes
            ));
        }
        if f.paused != b.paused {
            changes.push(
                if f.paused {
                    "feed paused"
                } else {
                    "feed resumed"
                }
                .to_owned(),
            );
        }
        let (n, b) = (&self.network, &before.network);
        for t in Transport::ALL {
            let (was, now) = (b.added_delay_ms.of(t), n.added_delay_ms.of(t));
            if was != now {
                changes.push(format!(
                    "added delay on {} {} → {} ms",
                    t.as_str(),
                    was.as_millis(),
                    now.as_millis()
                ));
            }
        }
        if n.longpoll_max_ms != b.longpoll_max_ms {
            changes.push(format!(
                "long-poll hold cap {} → {} ms",
                b.longpoll_max_ms, n.longpoll_max_ms
            ));
        }
        if n.poll_interval_suggestion != b.poll_interval_suggestion {
            changes.push(format!(
                "suggested poll interval {} → {} ms",
                b.poll_interval_ms, n.poll_interval_ms
            ));
        }
        let (l, b) = (&self.limits, &before.limits);
        if l.chat_per_min != b.chat_per_min {
            changes.push(format!(
                "chat limit {} → {} per minute per address",
                b.chat_per_min, l.chat_per_min
            ));
        }
        if l.reports_per_min != b.reports_per_min {
            changes.push(format!(
                "latency report limit {} → {} per minute per address",
                b.reports_per_min, l.reports_per_min
            ));
        }
        changes
    }
}

/// The feed's, the network's and the limits' settings in one flat object (PROTOCOL.md:
/// `rate_hz`, `payload_bytes`, `paused`, `added_delay_ms`, `longpoll_max_ms`,
/// `poll_interval_ms`, `chat_per_min`, `reports_per_min`, …).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Settings {
    #[serde(flatten)]
    pub feed: FeedSettings,
    #[serde(flatten)]
    pub network: NetworkSettings,
    #[serde(flatten)]
    pub limits: LimitSettings,
}

/// `PUT /api/admin/settings`: a partial update; absent fields keep their value.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SettingsUpdate {
    pub rate_hz: Option<f64>,
    pub payload_bytes: Option<usize>,
    pub paused: Option<bool>,
    pub added_delay_ms: Option<AddedDelayUpdate>,
    pub longpoll_max_ms: Option<u64>,
    pub poll_interval_ms: Option<u64>,
    /// Chat messages per minute per client address ([`crate::config::PER_MINUTE_RANGE`]).
    pub chat_per_min: Option<u32>,
    /// Latency reports per minute per client address ([`crate::config::PER_MINUTE_RANGE`]).
    pub reports_per_min: Option<u32>,
}

impl From<LimitSettingsError> for ApiError {
    fn from(err: LimitSettingsError) -> Self {
        ApiError::bad_request(err.to_string())
    }
}

impl SettingsUpdate {
    fn feed(&self) -> FeedUpdate {
        FeedUpdate {
            rate_hz: self.rate_hz,
            payload_bytes: self.payload_bytes,
            paused: self.paused,
        }
    }

    fn network(&self) -> NetworkUpdate {
        NetworkUpdate {
            added_delay_ms: self.added_delay_ms,
            longpoll_max_ms: self.longpoll_max_ms,
            poll_interval_ms: self.poll_interval_ms,
        }
    }
}
