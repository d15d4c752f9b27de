//! The meter: every request, byte and delivery of every compared transport, in one place.
//!
//! Transports report facts through the small API of [`Meter`] and keep no counters of their own.
//! Bytes are not reported by transports at all: the server's socket tap counts them as they cross
//! the socket (see `server::tap`). The meter owns totals since the last reset, a 60-second window,
//! and the export to JSON and Prometheus; it never decides what a transport sends.
//!
//! Imports only the feed (an event's publish time), `transport_kind` and `limits` (who a client
//! is, for the [`Ledger`] of what each address was sent and reported): nothing of the
//! transports, the server or the pages.

mod client_report;
mod edge;
mod histogram;
mod ledger;
mod positions;
mod prometheus;
mod shard;
mod window;

use std::{
    sync::{
        Mutex, RwLock,
        atomic::{AtomicI64, AtomicU64, Ordering::Relaxed},
    },
    time::Instant,
};

use hdrhistogram::Histogram;
use serde::Serialize;

pub use client_report::{CLOCK_SLACK_US, ClientReport, ClientReportError, MAX_REPORT_LATENCIES};
pub use edge::{EdgeCounters, EdgeStats};
pub use histogram::{
    MAX_LATENCY_US, Summary, new_histogram as new_latency_histogram, record as record_latency,
    summarize,
};
pub use ledger::{
    FLUSH_EVENTS, Ledger, MAX_LEDGER_ADDRESSES, OpenTally, REPORT_GRACE, Unjustified,
};
pub use positions::{MAX_POSITION_ADDRESSES, POSITION_TTL, POSITIONS_PER_ADDRESS, Positions};
pub use prometheus::{BrokerGauges, ClusterGauges, FeedGauges, encode_prometheus};
pub use window::{WINDOW_SECONDS, WindowSample};

use crate::{feed::Event, transport_kind::Transport};
use histogram::{new_histogram, record};
use shard::{Counter, PerThread};
use window::Window;

/// The meter of one running server. Shared by every worker behind an `Arc`.
pub struct Meter {
    transports: [TransportMeter; 5],
    /// Start of the current measurement period (Unix µs): server start or last reset.
    since_us: AtomicU64,
    /// How many times the stats were reset since the server started: a page that sees it grow
    /// (with `since`) knows the instructor zeroed the totals, and not that the server restarted.
    resets: AtomicU64,
    /// The period's guard: written while [`Meter::reset`] zeroes the totals and starts a new
    /// period, read while [`Meter::snapshot`] and [`Meter::tick`] read them. Without it a record
    /// could hold the zeroed totals of the new period under the `since` of the old one, and a page
    /// show "this page" above "all clients" with no news of a reset. The delivery path never
    /// takes it (a count racing a reset lands in either period).
    period: RwLock<()>,
    /// Filled once a second by [`Meter::tick`]; read by the stats stream.
    window: Mutex<Window>,
    /// False only to measure the meter's own cost (`--no-meter`): the hot path then records
    /// nothing. Fixed at start, so a plain bool.
    enabled: bool,
    /// What the edge refused (per-address cap, stalled bodies).
    edge: EdgeCounters,
}

/// The counters of one transport. Hot counts and histograms are sharded per thread
/// ([`shard`]): no lock or cache line is shared between workers on the delivery path.
struct TransportMeter {
    requests: Counter,
    connections_opened: Counter,
    connections_closed: Counter,
    /// Not reset with the others: it counts what is open now, whenever it was opened.
    connections_active: AtomicI64,
    /// Not reset either: the connections a worker's fan-out lane follows for now.
    fanout_seated: AtomicI64,
    /// Publishes handed to a fan-out lane: about one per worker per publish.
    fanout_rounds: Counter,
    /// Seats that left a lane because their socket could not take an event whole at once.
    fanout_left: Counter,
    fanout_sends: Counter,
    fanout_send_calls: Counter,
    delivered: Counter,
    catch_up: Counter,
    empty: Counter,
    missed: Counter,
    abandoned: Counter,
    no_feed: Counter,
    closed_unwritable: Counter,
    bytes_in: Counter,
    bytes_out: Counter,
    delay: PerThread<Latencies>,
    catch_up_delay: PerThread<Latencies>,
    client_latency: PerThread<Latencies>,
    /// The clock-offset uncertainties (µs: half a report's best round trip to `/api/time`) of
    /// the client latencies since the reset, one entry per latency: the period's resolution is
    /// their median, so that one report (a hostile `rtt_us` of 2, a phone on bad Wi-Fi) moves
    /// it no more than its share of the samples. Locked once per report (a few per second).
    client_resolution: Mutex<Histogram<u64>>,
    /// Delay and client-latency totals at the previous tick, to derive the last second.
    at_last_tick: Mutex<(Histogram<u64>, Histogram<u64>)>,
}

impl Default for TransportMeter {
    fn default() -> Self {
        TransportMeter {
            requests: Counter::default(),
            connections_opened: Counter::default(),
            connections_closed: Counter::default(),
            connections_active: AtomicI64::default(),
            fanout_seated: AtomicI64::default(),
            fanout_rounds: Counter::default(),
            fanout_left: Counter::default(),
            fanout_sends: Counter::default(),
            fanout_send_calls: Counter::default(),
            delivered: Counter::default(),
            catch_up: Counter::default(),
            empty: Counter::default(),
            missed: Counter::default(),
            abandoned: Counter::default(),
            no_feed: Counter::default(),
            closed_unwritable: Counter::default(),
            bytes_in: Counter::default(),
            bytes_out: Counter::default(),
            delay: PerThread::default(),
            catch_up_delay: PerThread::default(),
            client_latency: PerThread::default(),
            client_resolution: Mutex::new(new_histogram()),
            at_last_tick: Mutex::new((new_histogram(), new_histogram())),
        }
    }
}

impl TransportMeter {
    /// The median clock-offset uncertainty of the client latencies since the reset (µs; 0: no
    /// report gave its round trip).
    fn resolution_us(&self) -> u64 {
        let resolutions = self
            .client_resolution
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if resolutions.is_empty() {
            0
        } else {
            resolutions.value_at_quantile(0.5)
        }
    }
}

/// A latency histogram since reset. The per-second view for the window is not recorded
/// separately (that would double the cost of each delivery): each tick subtracts the total
/// seen at the previous tick ([`TransportMeter::at_last_tick`]).
struct Latencies(Histogram<u64>);

impl Default for Latencies {
    fn default() -> Self {
        Latencies(new_histogram())
    }
}

impl Latencies {
    fn record(&mut self, micros: u64) {
        record(&mut self.0, micros);
    }
}

/// `GET /api/stats` for one transport (PROTOCOL.md "The stats"; fields may be added, not removed).
#[derive(Debug, Clone, Serialize)]
pub struct TransportStats {
    pub requests: u64,
    pub connections_opened: u64,
    pub connections_closed: u64,
    pub connections_active: i64,
    /// Of the active connections, those their worker's fan-out lane follows for now (caught
    /// up, written with one non-blocking send per publish, their own task asleep).
    pub fanout_seated: i64,
    /// Publishes the fan-out lanes handled: about one per worker thread per publish, whatever
    /// the number of seated connections.
    pub fanout_rounds: u64,
    /// Times a connection left its lane because its socket could not take an event whole at
    /// once (a slow reader): its own task then wrote the rest and followed until caught up.
    pub fanout_left: u64,
    /// Sends the fan-out lanes made straight to their sockets: one per seat per lane read (a
    /// read takes up to 48 events, sent joined); a seat with bytes of its own queued ahead
    /// writes through its socket's own path instead, not counted here.
    pub fanout_sends: u64,
    /// System calls those sends took: `io_uring_enter` calls (one per submission of up to 64
    /// sends, more if the kernel asks for a retry) where the kernel has io_uring, one per send
    /// otherwise (`--no-io-uring`). `fanout_sends / fanout_send_calls` is the sends per
    /// system call.
    pub fanout_send_calls: u64,
    /// Events handed to a client: live ones and catch-up together.
    pub delivered: u64,
    /// Of `delivered`, the events a client got because it resumed from an old `since`: published
    /// before its connection (SSE, WebSocket) or its previous answer (polls, the classic page)
    /// began. Their age is no transport's delay: they are counted and timed apart.
    pub catch_up: u64,
    pub empty: u64,
    pub missed: u64,
    /// Held requests (long polls, classic pages under an added delay) and streams (SSE) whose
    /// client closed the connection before the server answered or ended them: neither an
    /// empty answer nor an open connection.
    pub abandoned: u64,
    /// Answers that carried no feed: an error status (4xx or 5xx: a refuse fault, bad input, a
    /// stopping server), an answer cut by a drop fault, the answer to a `HEAD` or an `OPTIONS`
    /// (a CORS preflight), a chat form's redirect. Neither empty nor carrying events:
    /// `requests - abandoned - no_feed` are the answers that could carry events.
    pub no_feed: u64,
    /// Connections the server closed because their client read nothing (the socket refused
    /// every byte) for `--unwritable-timeout-secs`: the bound on what a stalled reader holds.
    pub closed_unwritable: u64,
    pub bytes_in: u64,
    pub bytes_out: u64,
    /// `(bytes_in + bytes_out) / delivered`, headers and framing included; 0 before any delivery.
    pub bytes_per_event: f64,
    /// Live deliveries only: hand-off minus publish, per event (µs).
    pub delay_us: Summary,
    /// Catch-up deliveries: how old each replayed event was when handed over (µs).
    pub catch_up_delay_us: Summary,
    pub client_latency_us: Summary,
    /// What `client_latency_us` can resolve (µs): the median clock-offset uncertainty (half a
    /// report's best round trip to `/api/time`) of the client latencies since the reset, so that
    /// no single report sets it. Each report's latencies are recorded as at least its own
    /// uncertainty, so no percentile is finer than the samples it comes from; a figure at or
    /// below this reads "within the resolution"; 0: no report gave its round trip.
    pub client_resolution_us: u64,
}

/// All transports at one instant.
#[derive(Debug, Clone, Serialize)]
pub struct MeterSnapshot {
    /// Start of the measurement period (Unix µs): the server's start or the last reset.
    pub since: u64,
    /// When these totals were read (Unix µs, the server's clock). A page that sets its own
    /// counts beside them takes its counts as they stood at this instant (by its clock offset),
    /// so that "this page" never includes a request the totals had not yet counted.
    pub at: u64,
    /// Resets since the server started: grows by one with each `POST /api/admin/reset`.
    pub resets: u64,
    pub transports: std::collections::BTreeMap<&'static str, TransportStats>,
    pub edge: EdgeStats,
}

/// What the meter remembers of one client connection (HTTP keep-alive): whether the server
/// closed it because its client read nothing. (Whether a poller follows or resumes is told by
/// its address and position, see [`Positions`]: browsers share connections between tabs.)
#[derive(Default)]
pub struct ConnectionHistory {
    /// The server closed this connection because its client read nothing (the socket tap's
    /// unwritable timeout): what it held was not abandoned by the client.
    closed_unwritable: std::cell::Cell<bool>,
}

impl ConnectionHistory {
    pub fn mark_closed_unwritable(&self) {
        self.closed_unwritable.set(true);
    }

    pub fn closed_unwritable(&self) -> bool {
        self.closed_unwritable.get()
    }
}

/// Marks a connection (a stream, or a request in flight) open until dropped, however it ends.
pub struct ConnectionGuard {
    meter: std::sync::Arc<Meter>,
    transport: Transport,
}

/// An answer owed to a client that is being held (a long poll, a delayed page, an SSE stream).
/// Dropped before [`Owed::settled`], it counts the request as abandoned: the server stopped
/// holding it because its client had gone (actix drops a handler whose client closed).
pub struct Owed {
    meter: std::sync::Arc<Meter>,
    transport: Transport,
    settled: bool,
}

impl Owed {
    /// The server answered or ended it: not abandoned.
    pub fn settled(mut self) {
        self.settled = true;
    }
}

impl Drop for Owed {
    fn drop(&mut self) {
        if !self.settled && self.meter.enabled {
            self.meter.of(self.transport).abandoned.add(1);
        }
    }
}

impl Drop for ConnectionGuard {
    fn drop(&mut self) {
        let meter = self.meter.of(self.transport);
        meter.connections_closed.add(1);
        meter.connections_active.fetch_sub(1, Relaxed);
    }
}

impl Default for Meter {
    fn default() -> Self {
        Meter::new()
    }
}

impl Meter {
    pub fn new() -> Meter {
        Meter::with_recording(true)
    }

    /// A meter that records (`true`) or, to measure what metering costs, does not (`false`).
    pub fn with_recording(enabled: bool) -> Meter {
        Meter {
            enabled,
            transports: Default::default(),
            edge: EdgeCounters::default(),
            since_us: AtomicU64::new(crate::feed::unix_micros()),
            resets: AtomicU64::new(0),
            period: RwLock::new(()),
            window: Mutex::new(Window::default()),
        }
    }

    fn of(&self, transport: Transport) -> &TransportMeter {
        &self.transports[transport.index()]
    }

    /// One HTTP request received (a WebSocket or SSE connection is one request).
    pub fn request(&self, transport: Transport) {
        if !self.enabled {
            return;
        }
        self.of(transport).requests.add(1);
    }

    /// A connection opens; it is counted closed when the guard is dropped, however it ends.
    pub fn connection(self: &std::sync::Arc<Self>, transport: Transport) -> ConnectionGuard {
        let meter = self.of(transport);
        meter.connections_opened.add(1);
        meter.connections_active.fetch_add(1, Relaxed);
        ConnectionGuard {
            meter: self.clone(),
            transport,
        }
    }

    /// An answer now owed to a held client: abandoned unless [`Owed::settled`].
    pub fn owed(self: &std::sync::Arc<Self>, transport: Transport) -> Owed {
        Owed {
            meter: self.clone(),
            transport,
            settled: false,
        }
    }

    /// Connections of `transport` open now (streams, and requests in flight).
    pub fn open_connections(&self, transport: Transport) -> u64 {
        self.of(transport).connections_active.load(Relaxed).max(0) as u64
    }

    /// Events handed to one client now: counted, and their delivery delay recorded. Those
    /// published before `live_since` (the start of the client's connection, or of its previous
    /// answer) are catch-up: counted and timed apart, so that a resume from an old `since` does
    /// not fold minutes of age into a transport's delay.
    pub fn delivered(
        &self,
        transport: Transport,
        events: &[std::sync::Arc<Event>],
        live_since: Instant,
    ) {
        if events.is_empty() || !self.enabled {
            return;
        }
        let meter = self.of(transport);
        meter.delivered.add(events.len() as u64);
        // Events are in publish order: the catch-up ones come first.
        let live_from = events.partition_point(|e| e.published_at < live_since);
        let (catch_up, live) = events.split_at(live_from);
        // One clock read for the batch: the events are handed over together.
        let now = Instant::now();
        let age = |event: &std::sync::Arc<Event>| {
            now.saturating_duration_since(event.published_at)
                .as_micros() as u64
        };
        if !live.is_empty() {
            meter
                .delay
                .with_mine(|delay| live.iter().for_each(|e| delay.record(age(e))));
        }
        if !catch_up.is_empty() {
            meter.catch_up.add(catch_up.len() as u64);
            meter
                .catch_up_delay
                .with_mine(|delay| catch_up.iter().for_each(|e| delay.record(age(e))));
        }
    }

    /// An answer that carried no event (an empty poll, a long poll that timed out).
    pub fn empty(&self, transport: Transport) {
        if !self.enabled {
            return;
        }
        self.of(transport).empty.add(1);
    }

    /// An answer that carried no feed (see [`TransportStats::no_feed`]).
    pub fn no_feed(&self, transport: Transport) {
        if !self.enabled {
            return;
        }
        self.of(transport).no_feed.add(1);
    }

    /// `change` connections of `transport` sat down in (+) or left (-) a fan-out lane.
    pub fn fanout_seated(&self, transport: Transport, change: i64) {
        self.of(transport).fanout_seated.fetch_add(change, Relaxed);
    }

    /// A fan-out lane handled a publish (one round, whatever its number of seats).
    pub fn fanout_round(&self, transport: Transport) {
        if self.enabled {
            self.of(transport).fanout_rounds.add(1);
        }
    }

    /// A fan-out lane sent straight to `sends` sockets of `transport` in `calls` system calls.
    pub fn fanout_sends(&self, transport: Transport, sends: u64, calls: u64) {
        if self.enabled {
            let meter = self.of(transport);
            meter.fanout_sends.add(sends);
            meter.fanout_send_calls.add(calls);
        }
    }

    /// `count` seats of `transport` left their lane: their sockets could not take an event.
    pub fn fanout_left(&self, transport: Transport, count: u64) {
        if self.enabled && count > 0 {
            self.of(transport).fanout_left.add(count);
        }
    }

    /// A connection closed because its client stayed unwritable too long.
    pub fn closed_unwritable(&self, transport: Transport) {
        self.of(transport).closed_unwritable.add(1);
    }

    /// Events a client asked for that had already left the replay buffer.
    pub fn missed(&self, transport: Transport, count: u64) {
        if count > 0 {
            self.of(transport).missed.add(count);
        }
    }

    pub fn bytes_in(&self, transport: Transport, bytes: u64) {
        if !self.enabled {
            return;
        }
        self.of(transport).bytes_in.add(bytes);
    }

    pub fn bytes_out(&self, transport: Transport, bytes: u64) {
        if !self.enabled {
            return;
        }
        self.of(transport).bytes_out.add(bytes);
    }

    /// Latencies measured by a client (already validated), folded into their own histogram.
    /// `resolution_us` is the client's clock-offset uncertainty (half its best round trip to
    /// `/api/time`, µs), if it said: each of its latencies is recorded as at least that, so no
    /// figure is finer than the measurement it came from, and one client with a poor estimate
    /// (a phone on bad Wi-Fi) coarsens its own samples only, never the class's. The period's
    /// resolution is the median of its samples' (see `client_resolution`).
    pub fn client_latencies(
        &self,
        transport: Transport,
        micros: &[u64],
        resolution_us: Option<u64>,
    ) {
        let meter = self.of(transport);
        let floor = resolution_us.unwrap_or(0);
        if floor > 0 && !micros.is_empty() {
            meter
                .client_resolution
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .saturating_record_n(floor.clamp(1, MAX_LATENCY_US), micros.len() as u64);
        }
        meter.client_latency.with_mine(|latencies| {
            for &value in micros {
                latencies.record(value.max(floor));
            }
        });
    }

    /// A connection refused at accept: its address held `--max-connections-per-address`.
    pub fn connection_refused(&self) {
        self.edge.connection_refused();
    }

    /// A request answered 408: its body stalled past its deadline.
    pub fn body_timed_out(&self) {
        self.edge.body_timed_out();
    }

    /// Zeroes every total and the window; open connections stay counted as active.
    pub fn reset(&self) {
        let _period = self.period.write().unwrap_or_else(|e| e.into_inner());
        for meter in &self.transports {
            for counter in [
                &meter.catch_up,
                &meter.requests,
                &meter.connections_opened,
                &meter.connections_closed,
                &meter.delivered,
                &meter.empty,
                &meter.missed,
                &meter.abandoned,
                &meter.no_feed,
                &meter.closed_unwritable,
                &meter.fanout_rounds,
                &meter.fanout_left,
                &meter.fanout_sends,
                &meter.fanout_send_calls,
                &meter.bytes_in,
                &meter.bytes_out,
            ] {
                counter.reset();
            }
            meter.delay.for_each(|l| *l = Latencies::default());
            meter.catch_up_delay.for_each(|l| *l = Latencies::default());
            meter.client_latency.for_each(|l| *l = Latencies::default());
            *meter
                .client_resolution
                .lock()
                .unwrap_or_else(|e| e.into_inner()) = new_histogram();
            *meter.at_last_tick.lock().unwrap_or_else(|e| e.into_inner()) =
                (new_histogram(), new_histogram());
        }
        *self.window.lock().unwrap_or_else(|e| e.into_inner()) = Window::default();
        self.edge.reset();
        self.since_us.store(crate::feed::unix_micros(), Relaxed);
        self.resets.fetch_add(1, Relaxed);
    }

    pub fn snapshot(&self) -> MeterSnapshot {
        let _period = self.period.read().unwrap_or_else(|e| e.into_inner());
        // Read before the totals: everything counted by `at` is in them (more may be).
        let at = crate::feed::unix_micros();
        let transports = Transport::ALL
            .into_iter()
            .map(|t| (t.as_str(), self.stats_of(t)))
            .collect();
        MeterSnapshot {
            since: self.since_us.load(Relaxed),
            at,
            resets: self.resets.load(Relaxed),
            transports,
            edge: self.edge.snapshot(),
        }
    }

    fn stats_of(&self, transport: Transport) -> TransportStats {
        let m = self.of(transport);
        let delivered = m.delivered.get();
        let (bytes_in, bytes_out) = (m.bytes_in.get(), m.bytes_out.get());
        let bytes_per_event = if delivered == 0 {
            0.0
        } else {
            ((bytes_in + bytes_out) as f64 / delivered as f64 * 10.0).round() / 10.0
        };
        let (delay, client) = self.histograms(transport);
        TransportStats {
            requests: m.requests.get(),
            connections_opened: m.connections_opened.get(),
            connections_closed: m.connections_closed.get(),
            connections_active: m.connections_active.load(Relaxed),
            fanout_seated: m.fanout_seated.load(Relaxed),
            fanout_rounds: m.fanout_rounds.get(),
            fanout_left: m.fanout_left.get(),
            fanout_sends: m.fanout_sends.get(),
            fanout_send_calls: m.fanout_send_calls.get(),
            delivered,
            catch_up: m.catch_up.get(),
            empty: m.empty.get(),
            missed: m.missed.get(),
            abandoned: m.abandoned.get(),
            no_feed: m.no_feed.get(),
            closed_unwritable: m.closed_unwritable.get(),
            bytes_in,
            bytes_out,
            bytes_per_event,
            delay_us: summarize(&delay),
            catch_up_delay_us: summarize(&merged_total(&m.catch_up_delay)),
            client_latency_us: summarize(&client),
            client_resolution_us: m.resolution_us(),
        }
    }

    /// The live delay and client-latency totals of one transport, merged over the shards.
    pub fn histograms(&self, transport: Transport) -> (Histogram<u64>, Histogram<u64>) {
        let m = self.of(transport);
        (merged_total(&m.delay), merged_total(&m.client_latency))
    }

    /// The catch-up delays of one transport (how old each replayed event was), merged over the
    /// shards.
    pub fn catch_up_histogram(&self, transport: Transport) -> Histogram<u64> {
        merged_total(&self.of(transport).catch_up_delay)
    }

    /// Closes the current second: called once a second by the server's ticker.
    pub fn tick(&self) -> WindowSample {
        let _period = self.period.read().unwrap_or_else(|e| e.into_inner());
        let mut per_second = Vec::with_capacity(Transport::ALL.len());
        for t in Transport::ALL {
            let m = self.of(t);
            let (delay_now, client_now) = self.histograms(t);
            let (second, client) = {
                let mut last = m.at_last_tick.lock().unwrap_or_else(|e| e.into_inner());
                let second = difference(&delay_now, &last.0);
                let client = difference(&client_now, &last.1);
                *last = (delay_now, client_now);
                (second, client)
            };
            per_second.push(window::Totals {
                requests: m.requests.get(),
                delivered: m.delivered.get(),
                empty: m.empty.get(),
                bytes_in: m.bytes_in.get(),
                bytes_out: m.bytes_out.get(),
                delay_second: summarize(&second),
                client_second: summarize(&client),
                client_resolution_us: m.resolution_us(),
            });
        }
        self.window
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(crate::feed::unix_micros(), per_second)
    }

    /// The last [`WINDOW_SECONDS`] samples, oldest first.
    pub fn window(&self) -> Vec<WindowSample> {
        self.window
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .samples()
    }
}

fn merged_total(shards: &PerThread<Latencies>) -> Histogram<u64> {
    let mut merged = new_histogram();
    // Same bounds everywhere: adding cannot fail.
    shards.for_each(|l| {
        let _ = merged.add(&l.0);
    });
    merged
}

/// What was recorded between two totals. If a reset came in between (the older total is then
/// not contained in the newer), the newer total is itself the difference.
fn difference(now: &Histogram<u64>, before: &Histogram<u64>) -> Histogram<u64> {
    let mut second = now.clone();
    if second.subtract(before).is_err() {
        return now.clone();
    }
    second
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::feed::{Hub, Kind};

    #[test]
    fn each_window_second_holds_only_its_own_deliveries() {
        let meter = Meter::new();
        let hub = Hub::new(16);
        let event = hub.publish(Kind::Tick, &serde_json::json!({}));
        let live = event.published_at;
        meter.delivered(Transport::Ws, &[event.clone(), event.clone()], live);
        let first = meter.tick();
        assert!(first.transports["ws"].delay_p50_us > 0);
        // Nothing delivered in the next second: its percentiles are empty, the totals are not.
        let second = meter.tick();
        assert_eq!(second.transports["ws"].delay_p99_us, 0);
        assert_eq!(meter.snapshot().transports["ws"].delay_us.count, 2);
        // After a reset, the window starts again from the new totals.
        meter.reset();
        meter.delivered(Transport::Ws, &[event], live);
        assert!(meter.tick().transports["ws"].delay_p50_us > 0);
        assert_eq!(meter.snapshot().transports["ws"].delay_us.count, 1);
    }

    /// A snapshot taken while the instructor resets shows the totals of the period its `since`
    /// and `resets` name: within one period, the totals only grow.
    #[test]
    fn a_snapshot_never_mixes_two_periods() {
        let meter = std::sync::Arc::new(Meter::new());
        let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let resetter = {
            let (meter, done) = (meter.clone(), done.clone());
            std::thread::spawn(move || {
                for _ in 0..200 {
                    for _ in 0..10 {
                        meter.request(Transport::Poll);
                    }
                    meter.reset();
                }
                done.store(true, Relaxed);
            })
        };
        let mut last: Option<(u64, u64, u64)> = None;
        let mut snapshots = 0;
        while !done.load(Relaxed) && snapshots < 1_000_000 {
            let snapshot = meter.snapshot();
            let now = (
                snapshot.since,
                snapshot.resets,
                snapshot.transports["poll"].requests,
            );
            if let Some((since, resets, requests)) = last
                && (since, resets) == (now.0, now.1)
            {
                assert!(
                    now.2 >= requests,
                    "period {resets} (since {since}): {requests} requests, then {}",
                    now.2
                );
            }
            last = Some(now);
            snapshots += 1;
        }
        resetter.join().unwrap();
    }
}
