//! Every knob of a running pushlab, in one struct.
//!
//! The command line and the environment (`PUSHLAB_*`) fill the same fields, with defaults a newcomer
//! can run as they are. Handlers read durations and limits from here, never from literals.

use std::{net::SocketAddr, time::Duration};

use clap::Args;

/// Highest generator rate, in events per second (flag and instructor alike).
pub const MAX_RATE_HZ: f64 = 1000.0;
/// Largest replay buffer accepted, in events: a bound on memory, about 64 MiB at the largest payload.
pub const MAX_BUFFER: usize = 65_536;
/// Largest padding added to generated events, in bytes.
pub const MAX_PAYLOAD_BYTES: usize = 64 * 1024;
/// Bounds of the long-poll hold cap, in milliseconds (a hold a client asks for is shortened to it).
pub const LONGPOLL_CAP_MS: std::ops::RangeInclusive<u64> = 100..=300_000;

/// Bounds of the per-client-address limits per minute (`--chat-per-min`, `--reports-per-min`
/// and the instructor's `chat_per_min`, `reports_per_min`).
pub const PER_MINUTE_RANGE: std::ops::RangeInclusive<u32> = 1..=60_000;
/// Chat messages one address may post a minute, at start: a class behind one NAT chatting
/// normally stays under it; one script cannot flood the feed. Bursts of a third of it.
pub const DEFAULT_CHAT_PER_MIN: u32 = 60;
/// Latency reports (`POST /api/client-metrics`) one address may post a minute, at start. A
/// dashboard tab posts at most one per transport every two seconds (150 a minute): room for a
/// few tabs, or a class behind one NAT at a lower pace.
pub const DEFAULT_REPORTS_PER_MIN: u32 = 600;

/// What `pushlab serve` needs to run. Every field is a flag with an environment fallback.
#[derive(Debug, Clone, Args)]
pub struct Config {
    /// Address and port to listen on (use 0.0.0.0:8080 to let the room connect).
    #[arg(long, env = "PUSHLAB_BIND", default_value = "127.0.0.1:8080")]
    pub bind: SocketAddr,

    /// Events per second published by the built-in generator (0 = silent feed).
    #[arg(long, env = "PUSHLAB_RATE", default_value_t = 2.0)]
    pub rate: f64,

    /// How many recent events the server keeps so that clients can resume (the replay buffer).
    #[arg(long, env = "PUSHLAB_BUFFER", default_value_t = 1024)]
    pub buffer: usize,

    /// Admin token for the instructor console; random at each start when not given.
    #[arg(long, env = "PUSHLAB_ADMIN_TOKEN")]
    pub admin_token: Option<String>,

    /// Longest time, in milliseconds, a long poll may be held before answering empty, at start
    /// (the instructor can change it live, within 100..=300000).
    #[arg(long, env = "PUSHLAB_LONGPOLL_MAX_MS", default_value_t = 60_000)]
    pub longpoll_max_ms: u64,

    /// Largest WebSocket message accepted from a client, in bytes (larger: close 1009).
    #[arg(long, env = "PUSHLAB_MAX_MESSAGE_BYTES", default_value_t = 64 * 1024)]
    pub max_message_bytes: usize,

    /// Seconds between WebSocket pings; a client silent for three intervals is disconnected.
    #[arg(long, env = "PUSHLAB_HEARTBEAT_SECS", default_value_t = 5)]
    pub heartbeat_secs: u64,

    /// Extra origin allowed to open WebSockets and post (repeatable), e.g. http://lab.example:8080.
    /// Pages served by pushlab itself are always allowed.
    #[arg(
        long = "allowed-origin",
        env = "PUSHLAB_ALLOWED_ORIGINS",
        value_delimiter = ','
    )]
    pub allowed_origins: Vec<String>,

    /// Seconds a client may read nothing while the server has bytes for it (its socket refuses
    /// every byte) before its connection is closed and counted (`closed_unwritable`): bounds what
    /// a stalled SSE or WebSocket reader holds.
    #[arg(long, env = "PUSHLAB_UNWRITABLE_TIMEOUT_SECS", default_value_t = 30)]
    pub unwritable_timeout_secs: u64,

    /// Most connections served at once; further clients wait in the accept queue.
    #[arg(long, env = "PUSHLAB_MAX_CONNECTIONS", default_value_t = 25_000)]
    pub max_connections: usize,

    /// Worker threads serving HTTP (default: one per core).
    #[arg(long, env = "PUSHLAB_WORKERS")]
    pub workers: Option<usize>,

    /// PEM certificate chain: serve https and wss (needs --tls-key).
    #[arg(long, env = "PUSHLAB_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<std::path::PathBuf>,

    /// PEM private key of --tls-cert.
    #[arg(long, env = "PUSHLAB_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<std::path::PathBuf>,

    /// Serve https and wss with a certificate made at start for this machine's names (prints its
    /// SHA-256 fingerprint, for students to compare with what their browser shows).
    #[arg(long, env = "PUSHLAB_SELF_SIGNED", conflicts_with = "tls_cert")]
    pub self_signed: bool,

    /// Chat messages one client address may post a minute (all transports together), at start;
    /// the instructor can change it live. Bursts of a third of it; beyond, 429 or an error frame.
    #[arg(long, env = "PUSHLAB_CHAT_PER_MIN", default_value_t = DEFAULT_CHAT_PER_MIN)]
    pub chat_per_min: u32,

    /// Latency reports (`POST /api/client-metrics`) one client address may post a minute, at
    /// start; the instructor can change it live.
    #[arg(long, env = "PUSHLAB_REPORTS_PER_MIN", default_value_t = DEFAULT_REPORTS_PER_MIN)]
    pub reports_per_min: u32,

    /// Turn the meter off (stats stay at zero): only to measure what metering itself costs.
    #[arg(long, env = "PUSHLAB_NO_METER")]
    pub no_meter: bool,
}

impl Config {
    /// A configuration for tests and the embedded bench server: loopback, port chosen by the OS.
    pub fn for_tests() -> Self {
        Config {
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            rate: 0.0,
            buffer: 1024,
            admin_token: Some("test-token".into()),
            longpoll_max_ms: 60_000,
            max_message_bytes: 64 * 1024,
            heartbeat_secs: 5,
            allowed_origins: Vec::new(),
            max_connections: 25_000,
            unwritable_timeout_secs: 30,
            workers: Some(2),
            tls_cert: None,
            tls_key: None,
            self_signed: false,
            // Tests publish many chats and reports from one address: limits far above them,
            // unless a test sets its own.
            chat_per_min: *PER_MINUTE_RANGE.end(),
            reports_per_min: *PER_MINUTE_RANGE.end(),
            no_meter: false,
        }
    }

    pub fn heartbeat_interval(&self) -> Duration {
        Duration::from_secs(self.heartbeat_secs.max(1))
    }

    /// A client that has sent nothing (not even a pong) for this long is considered gone.
    /// Three heartbeats, so that the interval is at most half the timeout as actix advises.
    pub fn client_timeout(&self) -> Duration {
        self.heartbeat_interval() * 3
    }

    /// Whether pages and sockets are served over TLS.
    pub fn tls(&self) -> bool {
        self.self_signed || self.tls_cert.is_some()
    }

    /// Checks the values a flag parser cannot: a bad value stops the start with a clear message.
    pub fn validate(&self) -> Result<(), String> {
        if !(0.0..=MAX_RATE_HZ).contains(&self.rate) || self.rate.is_nan() {
            return Err(format!(
                "--rate must be between 0 and {} events per second",
                MAX_RATE_HZ
            ));
        }
        if !(1..=MAX_BUFFER).contains(&self.buffer) {
            return Err(format!("--buffer must be between 1 and {}", MAX_BUFFER));
        }
        if self.max_message_bytes < 125 {
            return Err("--max-message-bytes must be at least 125".into());
        }
        let cap = LONGPOLL_CAP_MS;
        if !cap.contains(&self.longpoll_max_ms) {
            return Err(format!(
                "--longpoll-max-ms must be between {} and {}",
                cap.start(),
                cap.end()
            ));
        }
        if !(1..=3600).contains(&self.unwritable_timeout_secs) {
            return Err("--unwritable-timeout-secs must be from 1 to 3600".into());
        }
        for (flag, value) in [
            ("--chat-per-min", self.chat_per_min),
            ("--reports-per-min", self.reports_per_min),
        ] {
            if !PER_MINUTE_RANGE.contains(&value) {
                return Err(format!(
                    "{flag} must be between {} and {}",
                    PER_MINUTE_RANGE.start(),
                    PER_MINUTE_RANGE.end()
                ));
            }
        }
        if self.max_connections == 0 {
            return Err("--max-connections must be at least 1".into());
        }
        for origin in &self.allowed_origins {
            if !(origin.starts_with("http://") || origin.starts_with("https://")) {
                return Err(format!(
                    "--allowed-origin {origin:?} must look like http://host[:port]"
                ));
            }
        }
        Ok(())
    }
}
