//! Every knob of a running pushlab, in one struct.
//!
//! The command line and the environment (`PUSHLAB_*`) fill the same fields, with defaults a newcomer
//! can run as they are. Handlers read durations and limits from here, never from literals.

use std::{net::SocketAddr, time::Duration};

use clap::Args;

/// Highest generator rate, in events per second (flag and instructor alike).
pub const MAX_RATE_HZ: f64 = 1000.0;
/// Lowest generator rate other than 0 (no ticks), in events per second: one event every 100 s.
/// Below it the period (1 / rate) outgrows what a timer can wait (1e-300 events/s stopped the
/// generator for good, while every page said "running").
pub const MIN_RATE_HZ: f64 = 0.01;

/// Whether `rate` is a generator rate pushlab accepts, in events per second: 0 (no ticks), or
/// [`MIN_RATE_HZ`] to [`MAX_RATE_HZ`]. Never NaN.
pub fn rate_allowed(rate: f64) -> bool {
    rate == 0.0 || (MIN_RATE_HZ..=MAX_RATE_HZ).contains(&rate)
}
/// Largest replay buffer accepted, in events: a bound on memory, about 64 MiB at the largest payload.
pub const MAX_BUFFER: usize = 65_536;
/// Largest padding added to generated events, in bytes.
pub const MAX_PAYLOAD_BYTES: usize = 64 * 1024;
/// Bounds of the long-poll hold cap, in milliseconds (a hold a client asks for is shortened to it).
pub const LONGPOLL_CAP_MS: std::ops::RangeInclusive<u64> = 100..=300_000;
/// How long an address that showed too many wrong admin tokens waits (see `limits::Lockout`): a minute.
pub const ADMIN_FAILURE_WINDOW: Duration = Duration::from_secs(60);
/// Smallest message limit a socket may have, in bytes: a control frame's largest payload
/// (RFC 6455 §5.5), so that every client can at least say something.
pub const MIN_MESSAGE_BYTES: usize = 125;
/// Default limit of a message on the feed socket, in bytes (8 KiB): a chat line and no file.
/// The largest valid chat (32 + 500 characters) written by a JSON encoder that escapes every
/// character as a `\uXXXX\uXXXX` surrogate pair (Python's default) is about 6.4 KiB, and it
/// must be accepted here as it is by `POST /api/chat`.
pub const DEFAULT_FEED_MESSAGE_BYTES: usize = 8 * 1024;
/// Default limit of a message on the echo socket, in bytes (16 MiB): a photo sent as one message.
pub const DEFAULT_ECHO_MESSAGE_BYTES: usize = 16 * 1024 * 1024;
/// Default budget of all sockets' message buffers together, in bytes (256 MiB: sixteen 16 MiB
/// files received or echoed at once).
pub const DEFAULT_WS_MEMORY_BYTES: usize = 256 * 1024 * 1024;
/// Largest `--echo-max-message-bytes`, in bytes (1 GiB): beyond, one message would be a
/// denial of service by itself.
pub const MAX_ECHO_MESSAGE_BYTES: usize = 1 << 30;
/// Longest `--broker-stream` name, in characters (ASCII letters, digits, `.`, `_`, `-`): the
/// queue names derived from it (`NAME.epoch`, `NAME.generator`) stay within AMQP's 255 bytes.
pub const MAX_STREAM_NAME_CHARS: usize = 200;
/// Longest `--server-name`, in characters.
pub const MAX_SERVER_NAME_CHARS: usize = 64;
/// Bounds of `--broker-segment-bytes`, in bytes: RabbitMQ drops whole segments, so retention
/// by size works only with segments smaller than `--broker-max-bytes`.
pub const BROKER_SEGMENT_BYTES: std::ops::RangeInclusive<u64> = 10_000..=1_000_000_000;
/// Largest `--broker-max-bytes`, in bytes (1 TB).
pub const MAX_BROKER_BYTES: u64 = 1_000_000_000_000;

/// Bounds of the per-client-address limits per minute (`--chat-per-min`, `--reports-per-min`
/// and the instructor's `chat_per_min`, `reports_per_min`).
pub const PER_MINUTE_RANGE: std::ops::RangeInclusive<u32> = 1..=60_000;
/// `--heartbeat-secs`: from one ping a second to one an hour (three intervals of silence close
/// a client, so at most 3 hours; 0 would ping without pause, a larger value overflows timers).
pub const HEARTBEAT_SECS: std::ops::RangeInclusive<u64> = 1..=3600;
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

    /// Admin token for the instructor console; random at each start when not given. An empty
    /// or blank token (flag or variable) is refused at start: it would let anyone in.
    #[arg(long, env = "PUSHLAB_ADMIN_TOKEN")]
    pub admin_token: Option<String>,

    /// Longest time, in milliseconds, a long poll may be held before answering empty, at start
    /// (the instructor can change it live, within 100..=300000).
    #[arg(long, env = "PUSHLAB_LONGPOLL_MAX_MS", default_value_t = 60_000)]
    pub longpoll_max_ms: u64,

    /// Largest message accepted from a client on the feed socket /ws (chat), in bytes
    /// (larger: close 1009, from the frame header).
    #[arg(
        long,
        visible_alias = "feed-max-message-bytes",
        env = "PUSHLAB_MAX_MESSAGE_BYTES",
        default_value_t = DEFAULT_FEED_MESSAGE_BYTES
    )]
    pub max_message_bytes: usize,

    /// Largest message accepted on the echo socket /ws/echo, in bytes (a file sent with
    /// ws.send(file); larger: close 1009, from the frame header, before the payload is read).
    #[arg(
        long,
        env = "PUSHLAB_ECHO_MAX_MESSAGE_BYTES",
        default_value_t = DEFAULT_ECHO_MESSAGE_BYTES
    )]
    pub echo_max_message_bytes: usize,

    /// Most bytes all WebSocket connections together may hold in messages being received or
    /// echoed back; a message that would go beyond is closed with 1013 (try again later).
    #[arg(long, env = "PUSHLAB_WS_MEMORY_BYTES", default_value_t = DEFAULT_WS_MEMORY_BYTES)]
    pub ws_memory_bytes: usize,

    /// Seconds between WebSocket pings; a client silent for three intervals is disconnected.
    #[arg(long, env = "PUSHLAB_HEARTBEAT_SECS", default_value_t = 5)]
    pub heartbeat_secs: u64,

    /// Origin of pages served elsewhere that may use the public endpoints (repeatable): an origin
    /// such as http://127.0.0.1:5500 (a student's dev server), `null` (pages opened from
    /// file://), or `*` (any origin, `null` included: an open lab). Such pages may open the
    /// WebSockets, post chat, and read the feed, time, stats and exports with CORS (WHATWG Fetch
    /// §3.2); the admin endpoints never accept them. Pages served by pushlab itself are always
    /// allowed.
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
    /// Address of a reverse proxy (repeatable), e.g. 127.0.0.1 for nginx on the same machine.
    /// Only from these peers are `Forwarded` (RFC 7239) and `X-Forwarded-Host` believed when
    /// the Origin check asks which host the browser reached; they are also exempt from
    /// --max-connections-per-address (every client arrives through them).
    #[arg(
        long = "trusted-proxy",
        env = "PUSHLAB_TRUSTED_PROXIES",
        value_delimiter = ','
    )]
    pub trusted_proxies: Vec<std::net::IpAddr>,

    /// Most connections served at once; further clients wait in the accept queue.
    #[arg(long, env = "PUSHLAB_MAX_CONNECTIONS", default_value_t = 25_000)]
    pub max_connections: usize,

    /// Most connections one client address (an IPv4 address, or an IPv6 /64) may hold at once;
    /// the next is answered 429 and closed. The default fits a class of 60 behind one NAT, each
    /// with several tabs (a dashboard holds about 4 connections).
    #[arg(
        long,
        env = "PUSHLAB_MAX_CONNECTIONS_PER_ADDRESS",
        default_value_t = 256
    )]
    pub max_connections_per_address: usize,

    /// Seconds a request body may go without a new byte before the request is answered 408.
    #[arg(long, env = "PUSHLAB_BODY_IDLE_SECS", default_value_t = 10)]
    pub body_idle_secs: u64,

    /// Seconds a request body has, in all, to arrive complete before the request is answered 408.
    #[arg(long, env = "PUSHLAB_BODY_TIMEOUT_SECS", default_value_t = 30)]
    pub body_timeout_secs: u64,

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

    /// Make the fan-out's sends one send(2) per socket instead of batching them through io_uring
    /// (what a kernel without io_uring gets anyway): to compare the two, or to rule io_uring out.
    #[arg(long, env = "PUSHLAB_NO_IO_URING")]
    pub no_io_uring: bool,

    /// RabbitMQ (3.9+) that carries the feed between servers: amqp://USER:PASS@HOST:PORT/VHOST
    /// (vhost `/` is `%2f`). Every event goes through one stream queue that every server
    /// follows, so all servers show the same seqs. Without it, the feed lives in this process.
    #[arg(long, env = "PUSHLAB_BROKER")]
    pub broker: Option<String>,

    /// The stream queue of the feed (its run's epoch lives in NAME.epoch, the generator lease
    /// is NAME.generator). Servers of one cluster use the same name and retention flags.
    #[arg(long, env = "PUSHLAB_BROKER_STREAM", default_value = "pushlab.feed")]
    pub broker_stream: String,

    /// Retention of the stream by size, in bytes (RabbitMQ x-max-length-bytes): the oldest
    /// segments go beyond it; a resume from before them is told what it missed.
    #[arg(long, env = "PUSHLAB_BROKER_MAX_BYTES", default_value_t = 256_000_000)]
    pub broker_max_bytes: u64,

    /// Retention of the stream by age (RabbitMQ x-max-age): a number and a unit, Y M D h m s
    /// (e.g. 24h, 7D, 30m).
    #[arg(long, env = "PUSHLAB_BROKER_MAX_AGE", default_value = "24h")]
    pub broker_max_age: String,

    /// Size of the stream's segment files, in bytes (x-stream-max-segment-size-bytes):
    /// retention drops whole segments, so keep it well under --broker-max-bytes.
    #[arg(
        long,
        env = "PUSHLAB_BROKER_SEGMENT_BYTES",
        default_value_t = 8_000_000
    )]
    pub broker_segment_bytes: u64,

    /// This server's name in the stats, the dashboard and the broker (default: its address,
    /// host:port).
    #[arg(long, env = "PUSHLAB_SERVER_NAME")]
    pub server_name: Option<String>,

    /// Another server of the same cluster (repeatable), e.g. http://127.0.0.1:8081: dashboards
    /// served here move to it when this server stops, and its pages may use this server (its
    /// origin is allowed like --allowed-origin).
    #[arg(long = "peer-url", env = "PUSHLAB_PEER_URLS", value_delimiter = ',')]
    pub peer_urls: Vec<String>,
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
            max_message_bytes: DEFAULT_FEED_MESSAGE_BYTES,
            echo_max_message_bytes: DEFAULT_ECHO_MESSAGE_BYTES,
            ws_memory_bytes: DEFAULT_WS_MEMORY_BYTES,
            heartbeat_secs: 5,
            allowed_origins: Vec::new(),
            trusted_proxies: Vec::new(),
            max_connections: 25_000,
            unwritable_timeout_secs: 30,
            max_connections_per_address: 256,
            body_idle_secs: 10,
            body_timeout_secs: 30,
            workers: Some(2),
            tls_cert: None,
            tls_key: None,
            self_signed: false,
            // Tests publish many chats and reports from one address: limits far above them,
            // unless a test sets its own.
            chat_per_min: *PER_MINUTE_RANGE.end(),
            reports_per_min: *PER_MINUTE_RANGE.end(),
            no_meter: false,
            no_io_uring: false,
            broker: None,
            broker_stream: "pushlab.feed".into(),
            broker_max_bytes: 256_000_000,
            broker_max_age: "24h".into(),
            broker_segment_bytes: 8_000_000,
            server_name: None,
            peer_urls: Vec::new(),
        }
    }

    /// How long a request body may go without a new byte (`--body-idle-secs`).
    pub fn body_idle_timeout(&self) -> Duration {
        Duration::from_secs(self.body_idle_secs)
    }

    /// How long a request body has in all (`--body-timeout-secs`), from its head's arrival.
    pub fn body_timeout(&self) -> Duration {
        Duration::from_secs(self.body_timeout_secs)
    }

    /// The peers' origins (`--peer-url` without a trailing slash): their pages may use this
    /// server like those of an `--allowed-origin`.
    pub fn peer_origins(&self) -> Vec<String> {
        self.peer_urls
            .iter()
            .map(|url| url.trim_end_matches('/').to_owned())
            .collect()
    }

    pub fn heartbeat_interval(&self) -> Duration {
        Duration::from_secs(
            self.heartbeat_secs
                .clamp(*HEARTBEAT_SECS.start(), *HEARTBEAT_SECS.end()),
        )
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
        if !rate_allowed(self.rate) {
            return Err(format!(
                "--rate must be 0 (no ticks) or between {MIN_RATE_HZ} and {MAX_RATE_HZ} events \
                 per second"
            ));
        }
        if !(1..=MAX_BUFFER).contains(&self.buffer) {
            return Err(format!("--buffer must be between 1 and {}", MAX_BUFFER));
        }
        if let Some(token) = &self.admin_token {
            check_admin_token(token)?;
        }
        if self.max_message_bytes < MIN_MESSAGE_BYTES {
            return Err(format!(
                "--max-message-bytes must be at least {MIN_MESSAGE_BYTES}"
            ));
        }
        if !(MIN_MESSAGE_BYTES..=MAX_ECHO_MESSAGE_BYTES).contains(&self.echo_max_message_bytes) {
            return Err(format!(
                "--echo-max-message-bytes must be between {MIN_MESSAGE_BYTES} and {MAX_ECHO_MESSAGE_BYTES}"
            ));
        }
        let largest = self.echo_max_message_bytes.max(self.max_message_bytes);
        if self.ws_memory_bytes < largest {
            return Err(format!(
                "--ws-memory-bytes ({}) must be at least the largest message limit ({largest}), \
                 or no such message could ever be received",
                self.ws_memory_bytes
            ));
        }
        let cap = LONGPOLL_CAP_MS;
        if !cap.contains(&self.longpoll_max_ms) {
            return Err(format!(
                "--longpoll-max-ms must be between {} and {}",
                cap.start(),
                cap.end()
            ));
        }
        if !HEARTBEAT_SECS.contains(&self.heartbeat_secs) {
            return Err(format!(
                "--heartbeat-secs must be from {} to {} seconds",
                HEARTBEAT_SECS.start(),
                HEARTBEAT_SECS.end()
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
        if self.max_connections_per_address == 0 {
            return Err("--max-connections-per-address must be at least 1".into());
        }
        if self.body_idle_secs == 0 || self.body_timeout_secs < self.body_idle_secs {
            return Err(
                "--body-idle-secs must be at least 1, and --body-timeout-secs at least as long"
                    .into(),
            );
        }
        for origin in &self.allowed_origins {
            AllowedOrigin::parse(origin)?;
        }
        for peer in &self.peer_urls {
            let rest = peer
                .strip_prefix("http://")
                .or_else(|| peer.strip_prefix("https://"));
            if !rest.is_some_and(|r| !r.is_empty() && !r.trim_end_matches('/').contains('/')) {
                return Err(format!(
                    "--peer-url {peer:?} must look like http://host:port (no path)"
                ));
            }
        }
        if let Some(name) = &self.server_name
            && (name.trim().is_empty()
                || name.chars().count() > MAX_SERVER_NAME_CHARS
                || name.chars().any(char::is_control))
        {
            return Err(format!(
                "--server-name must be 1 to {MAX_SERVER_NAME_CHARS} characters, without control characters"
            ));
        }
        self.validate_broker()
    }

    /// The broker flags (checked even without --broker, so that a typo shows at once).
    fn validate_broker(&self) -> Result<(), String> {
        if let Some(url) = &self.broker {
            if url.starts_with("amqps://") {
                return Err("--broker: amqps:// is not built into pushlab (lapin without TLS); use amqp:// on a trusted network".into());
            }
            if !url.starts_with("amqp://") {
                return Err(format!(
                    "--broker must look like amqp://USER:PASS@HOST:PORT/VHOST, not {:?}",
                    redact_url(url)
                ));
            }
        }
        let name = &self.broker_stream;
        if name.is_empty()
            || name.len() > MAX_STREAM_NAME_CHARS
            || !name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
        {
            return Err(format!(
                "--broker-stream must be 1 to {MAX_STREAM_NAME_CHARS} ASCII letters, digits, '.', '_' or '-'"
            ));
        }
        if !BROKER_SEGMENT_BYTES.contains(&self.broker_segment_bytes) {
            return Err(format!(
                "--broker-segment-bytes must be between {} and {}",
                BROKER_SEGMENT_BYTES.start(),
                BROKER_SEGMENT_BYTES.end()
            ));
        }
        if !(self.broker_segment_bytes..=MAX_BROKER_BYTES).contains(&self.broker_max_bytes) {
            return Err(format!(
                "--broker-max-bytes must be between --broker-segment-bytes ({}) and {MAX_BROKER_BYTES}",
                self.broker_segment_bytes
            ));
        }
        let age = &self.broker_max_age;
        let (number, unit) = age.split_at(age.len().saturating_sub(1));
        if !(matches!(unit, "Y" | "M" | "D" | "h" | "m" | "s")
            && !number.is_empty()
            && number.bytes().all(|b| b.is_ascii_digit())
            && number.parse::<u32>().is_ok_and(|n| n > 0))
        {
            return Err(format!(
                "--broker-max-age {age:?} must be a positive number and one unit of Y M D h m s (e.g. 24h, 7D)"
            ));
        }
        Ok(())
    }
}

/// One `--allowed-origin` value, as the Origin check and CORS compare it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AllowedOrigin {
    /// `*`: any origin, `null` included.
    Any,
    /// `null`: the opaque origin of file:// pages and sandboxed frames (WHATWG HTML §7.1.1).
    Null,
    /// `scheme://host[:port]`, lowercase, without the scheme's default port.
    Site(String),
}

impl AllowedOrigin {
    /// Reads a flag value; the error names the flag and the forms it accepts.
    pub fn parse(value: &str) -> Result<AllowedOrigin, String> {
        match value.trim() {
            "*" => Ok(AllowedOrigin::Any),
            "null" => Ok(AllowedOrigin::Null),
            other => normalize_origin(other).map(AllowedOrigin::Site).ok_or_else(|| {
                format!(
                    "--allowed-origin {value:?} must be http://host[:port], https://host[:port], \
                     null (file:// pages) or * (any origin)"
                )
            }),
        }
    }

    /// Whether a request's `Origin` header value (as sent) is admitted by this value.
    pub fn admits(&self, origin: &str) -> bool {
        match self {
            AllowedOrigin::Any => true,
            AllowedOrigin::Null => origin.trim() == "null",
            AllowedOrigin::Site(site) => normalize_origin(origin).as_ref() == Some(site),
        }
    }
}

/// `scheme://host[:port]`, lowercase, without the scheme's default port (RFC 6454 §4);
/// `None` if it is not an http(s) origin (a path, no host, another scheme, `null`).
pub fn normalize_origin(origin: &str) -> Option<String> {
    let origin = origin.trim().trim_end_matches('/').to_ascii_lowercase();
    let (scheme, authority) = origin.split_once("://")?;
    if !(scheme == "http" || scheme == "https")
        || authority.is_empty()
        || authority.contains(['/', '?', '#', '@', ' '])
    {
        return None;
    }
    Some(format!(
        "{scheme}://{}",
        normalize_authority(scheme, authority)
    ))
}

/// `host[:port]` lowercase, without the default port of `scheme`.
pub fn normalize_authority(scheme: &str, authority: &str) -> String {
    let authority = authority.trim().to_ascii_lowercase();
    let default_port = if scheme == "https" { ":443" } else { ":80" };
    authority
        .strip_suffix(default_port)
        .unwrap_or(&authority)
        .to_owned()
}

/// An admin token must be something to type: not empty nor blank (an empty login would make
/// anyone an admin), without spaces at either end (the login form trims what is typed) and of
/// visible ASCII characters and inner spaces only (it travels in an HTTP header, RFC 9110 §5.5).
fn check_admin_token(token: &str) -> Result<(), String> {
    const WHERE: &str = "--admin-token (or PUSHLAB_ADMIN_TOKEN)";
    if token.trim().is_empty() {
        return Err(format!(
            "{WHERE} is empty or blank: anyone could log in with an empty token. Give a token, \
             or unset it for a random one printed at start"
        ));
    }
    if token.trim() != token {
        return Err(format!(
            "{WHERE} begins or ends with whitespace, which the login form would never match"
        ));
    }
    if !token.bytes().all(|b| b == b' ' || b.is_ascii_graphic()) {
        return Err(format!(
            "{WHERE} must be visible ASCII characters (it is sent in an HTTP header)"
        ));
    }
    Ok(())
}

/// `url` with its password replaced by `***`, for messages and logs.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split_once(':').map_or(userinfo, |(user, _)| user);
            format!("{scheme}://{user}:***@{host}{path}")
        }
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allowed_origins_read_star_null_and_sites() {
        assert_eq!(AllowedOrigin::parse("*"), Ok(AllowedOrigin::Any));
        assert_eq!(AllowedOrigin::parse("null"), Ok(AllowedOrigin::Null));
        assert_eq!(
            AllowedOrigin::parse("HTTP://Lab.Example:80/"),
            Ok(AllowedOrigin::Site("http://lab.example".into()))
        );
        for bad in ["lab.example", "ftp://x", "http://x/path", "http://", ""] {
            assert!(AllowedOrigin::parse(bad).is_err(), "{bad}");
        }
        let site = AllowedOrigin::parse("http://127.0.0.1:5500").unwrap();
        assert!(site.admits("http://127.0.0.1:5500"));
        assert!(!site.admits("http://127.0.0.1:5501"));
        assert!(!site.admits("null"));
        assert!(AllowedOrigin::Null.admits("null"));
        assert!(!AllowedOrigin::Null.admits("http://x"));
        assert!(AllowedOrigin::Any.admits("null"));
    }

    #[test]
    fn a_null_origin_starts() {
        let mut config = Config::for_tests();
        config.allowed_origins = vec!["null".into(), "*".into(), "http://a.example:3000".into()];
        assert_eq!(config.validate(), Ok(()));
        config.allowed_origins = vec!["a.example".into()];
        assert!(config.validate().unwrap_err().contains("--allowed-origin"));
    }

    fn with(adjust: impl FnOnce(&mut Config)) -> Result<(), String> {
        let mut config = Config::for_tests();
        adjust(&mut config);
        config.validate()
    }

    #[test]
    fn broker_flags_are_checked_at_start() {
        assert!(with(|c| c.broker = Some("amqp://guest:guest@127.0.0.1:5679/%2f".into())).is_ok());
        let err = with(|c| c.broker = Some("http://guest:secret@host/".into())).unwrap_err();
        assert!(err.contains("amqp://") && !err.contains("secret"), "{err}");
        assert!(with(|c| c.broker = Some("amqps://h/".into())).is_err());
        assert!(with(|c| c.broker_stream = "a b".into()).is_err());
        assert!(with(|c| c.broker_stream = "x".repeat(201)).is_err());
        assert!(with(|c| c.broker_stream = "pushlab.test-1_a".into()).is_ok());
        for age in ["7D", "30m", "1Y", "24h"] {
            assert!(with(|c| c.broker_max_age = age.into()).is_ok(), "{age}");
        }
        for age in ["", "h", "0h", "1d", "1.5h", "-1h", "1hh", "99999999999h"] {
            assert!(with(|c| c.broker_max_age = age.into()).is_err(), "{age}");
        }
        assert!(with(|c| c.broker_segment_bytes = 9_999).is_err());
        assert!(
            with(|c| {
                c.broker_segment_bytes = 20_000;
                c.broker_max_bytes = 10_000;
            })
            .is_err()
        );
        assert!(with(|c| c.server_name = Some(" ".into())).is_err());
        assert!(with(|c| c.server_name = Some("a\nb".into())).is_err());
        assert!(with(|c| c.peer_urls = vec!["http://127.0.0.1:8081/".into()]).is_ok());
        assert!(with(|c| c.peer_urls = vec!["127.0.0.1:8081".into()]).is_err());
        assert!(with(|c| c.peer_urls = vec!["http://h:1/lab".into()]).is_err());
    }

    #[test]
    fn the_heartbeat_is_bounded() {
        assert!(with(|c| c.heartbeat_secs = 1).is_ok());
        assert!(with(|c| c.heartbeat_secs = 3600).is_ok());
        for secs in [0, 3601, u64::MAX] {
            let err = with(|c| c.heartbeat_secs = secs).unwrap_err();
            assert!(err.contains("--heartbeat-secs"), "{err}");
        }
    }

    #[test]
    fn a_password_never_shows() {
        assert_eq!(
            redact_url("amqp://guest:s3cret@127.0.0.1:5679/%2f"),
            "amqp://guest:***@127.0.0.1:5679/%2f"
        );
        assert_eq!(redact_url("amqp://127.0.0.1/"), "amqp://127.0.0.1/");
    }
}
