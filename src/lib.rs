//! pushlab: one live feed, five ways to follow it, and a meter that compares them.
//!
//! # Layout, from the bottom up (each part imports only parts above it in this list;
//! `tests/architecture.rs` fails on an edge that goes the other way)
//!
//! - [`config`], [`error`], [`lang`], [`redact`], [`sessions`], [`transport_kind`],
//!   [`telemetry`], [`timer_grid`], [`batch_send`]: every knob and its bounds, the HTTP error,
//!   the pages' language, credentials kept out of what is shown or logged, the console's
//!   sessions, the five transports' names and paths, logging, the connections' shared timer
//!   grid, the fan-out's sends batched into one system call. They import nothing of pushlab.
//! - [`limits`]: who a client is (its address), how often it may act (token buckets per
//!   address, bounded), and how many wrong admin tokens it showed (the lockout).
//! - [`ws`]: RFC 6455 as a library (frames, guard, reassembly, handshake, the socket).
//! - [`feed`]: events (each encoded once, at publish), the [`feed::Hub`], the generator.
//! - [`meter`]: requests, bytes, deliveries, delays; `/api/stats` and `/metrics` figures.
//! - [`network`]: what the instructor simulates: added delays, caps, faults, the throttle.
//! - [`broker`]: several servers, one feed, through a RabbitMQ stream (`--broker`).
//! - [`state`]: the shared [`state::AppState`] and the live settings.
//! - [`admin`]: who is the instructor, and the controls behind the token.
//! - [`transport`]: classic page, short poll, long poll, SSE, WebSocket (and chat, echo);
//!   thin adapters from the hub to a wire format.
//! - [`api`], [`export`], [`pages`]: the other endpoints, the downloads, the HTML pages.
//! - [`server`]: the edge: listener, TLS, the byte tap, the upgrade hand-off, middleware.
//! - [`routes`], this file and `main.rs`: the app's assembly; [`bench`]: `pushlab bench`.
//!
//! [`Application::build`] is the one entry: `main` and the tests start the same server.

pub mod admin;
pub mod api;
pub mod batch_send;
pub mod bench;
pub mod broker;
pub mod config;
pub mod error;
pub mod export;
pub mod feed;
pub mod lang;
pub mod limits;
pub mod meter;
pub mod network;
pub mod pages;
pub mod redact;
pub mod routes;
pub mod server;
pub mod sessions;
pub mod signals;
pub mod state;
pub mod telemetry;
pub mod timer_grid;
pub mod transport;
pub mod transport_kind;
pub mod ws;

use std::{net::SocketAddr, sync::Arc, time::Duration};

use actix_server::{Server, ServerHandle};
use tokio_util::sync::CancellationToken;

pub use config::Config;
use state::{AppState, ServerIdentity};

/// A built server: bound, with its background tasks running, not yet awaited.
pub struct Application {
    addr: SocketAddr,
    server: Server,
    state: Arc<AppState>,
    tls: Option<server::tls::Tls>,
}

/// Stops a running [`Application`] gracefully, from anywhere.
#[derive(Clone)]
pub struct Stopper {
    handle: ServerHandle,
    shutdown: CancellationToken,
}

impl Stopper {
    /// Tells every stream and held poll to finish (WebSockets get close 1001, long polls an
    /// empty answer, SSE streams end), then stops the server, waiting at most
    /// `server::SHUTDOWN_TIMEOUT_SECS` for connections to drain.
    pub async fn stop(&self) {
        self.shutdown.cancel();
        self.handle.stop(true).await;
    }
}

impl Application {
    /// Binds `config.bind` and starts serving, the generator and the stats ticker.
    /// With `--broker`, first connects to it and catches up with its stream: the server answers
    /// only then, and a broker it cannot reach is an error (nothing is served).
    /// Must be called inside a Tokio runtime (actix's or plain Tokio's).
    pub async fn build(mut config: Config) -> anyhow::Result<Application> {
        config.validate().map_err(anyhow::Error::msg)?;
        // The peers' pages (a dashboard that moved here when its server stopped) are welcome.
        let peers = config.peer_origins();
        config.allowed_origins.extend(peers);
        let listener = std::net::TcpListener::bind(config.bind)
            .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", config.bind))?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let tls = server::tls::from_config(&config)?;
        let token = config.admin_token.clone().unwrap_or_else(random_token);
        let identity = ServerIdentity::of(&config, addr);
        let shutdown = CancellationToken::new();
        let ticks = Arc::new(feed::TickSource::default());
        let settings =
            Arc::new(tokio::sync::watch::channel(feed::FeedSettings::initial(config.rate)).0);
        let (hub, broker) = match broker::BrokerSettings::of(&config, &identity.name) {
            None => (feed::Hub::new(config.buffer), None),
            Some(cluster) => {
                let (broker, hub) = broker::Broker::start(
                    cluster,
                    ticks.clone(),
                    settings.clone(),
                    shutdown.clone(),
                )
                .await?;
                (hub, Some(broker))
            }
        };
        let sink: Arc<dyn feed::TickSink> = match &broker {
            Some(broker) => Arc::new(broker.clone()),
            None => Arc::new(hub.clone()),
        };
        let feed = state::Feed {
            hub,
            broker,
            ticks,
            settings,
        };
        let mut state = AppState::with_feed(config, token, feed, identity);
        state.shutdown = shutdown;
        let state = Arc::new(state);
        let server = server::serve(
            listener,
            state.clone(),
            tls.as_ref().map(|t| t.config.clone()),
            routes::routes,
        )?;

        tokio::spawn(feed::run_generator(
            sink,
            state.ticks.clone(),
            state.feed_settings.subscribe(),
            state.shutdown.clone(),
        ));
        tokio::spawn(tick_every_second(state.clone()));
        Ok(Application {
            addr,
            server,
            state,
            tls,
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn url(&self) -> String {
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        format!("{scheme}://{}", self.addr)
    }

    /// The served certificate (DER) and its SHA-256 fingerprint, when serving TLS.
    pub fn tls_certificate(&self) -> Option<(&[u8], &str)> {
        self.tls
            .as_ref()
            .map(|t| (t.certificate.as_ref(), t.fingerprint.as_str()))
    }

    pub fn admin_token(&self) -> &str {
        &self.state.admin_token
    }

    pub fn state(&self) -> Arc<AppState> {
        self.state.clone()
    }

    pub fn stopper(&self) -> Stopper {
        Stopper {
            handle: self.server.handle(),
            shutdown: self.state.shutdown.clone(),
        }
    }

    /// Serves until stopped.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}

/// Closes one second of the meter's window, every second, until shutdown.
async fn tick_every_second(state: Arc<AppState>) {
    let mut ticker = tokio::time::interval(Duration::from_secs(1));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    ticker.tick().await; // the first tick is immediate
    loop {
        tokio::select! {
            _ = ticker.tick() => {
                state.meter.tick();
                state.ticks.sample_rate();
                state.admin_failures.flush_logs();
            }
            _ = state.shutdown.cancelled() => return,
        }
    }
}

/// 128 random bits, hex: the admin token when none is configured.
fn random_token() -> String {
    rand::random::<[u8; 16]>()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
