//! `GET /metrics`: the meter in Prometheus text exposition format, encoded by prometheus-client.
//!
//! The meter's atomics and HDR histograms are the only source: at each scrape a collector reads a
//! snapshot of them, so `/metrics` and `/api/stats` can never disagree about what was counted.
//! Labels come from the fixed transport set only (bounded cardinality).

use hdrhistogram::Histogram;
use prometheus_client::{
    collector::Collector,
    encoding::{DescriptorEncoder, EncodeMetric},
    metrics::{MetricType, counter::ConstCounter, gauge::ConstGauge},
    registry::{Registry, Unit},
};

use super::{Meter, MeterSnapshot, Transport};

/// Bucket bounds of the latency histograms, in seconds: 100 µs to 10 s, log-spaced, as the
/// interesting range goes from a push on loopback to a slow short poll.
const LATENCY_BUCKETS_S: [f64; 16] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    5.0, 10.0,
];

/// Feed gauges shown beside the transport metrics.
#[derive(Debug, Clone, Copy)]
pub struct FeedGauges {
    pub last_seq: u64,
    pub rate_hz: f64,
    pub buffer: usize,
}

/// Which server is scraped, and its broker link when it has one.
#[derive(Debug, Clone)]
pub struct ClusterGauges {
    pub server_name: String,
    pub server_addr: String,
    pub broker: Option<BrokerGauges>,
}

/// The broker link of a server (`--broker`), as `/metrics` shows it.
#[derive(Debug, Clone)]
pub struct BrokerGauges {
    pub connected: bool,
    pub generator_here: bool,
    pub read: u64,
    pub lost: u64,
    /// Publish → read back from the broker, µs.
    pub hop: Histogram<u64>,
}

#[derive(Debug)]
struct Scrape {
    snapshot: MeterSnapshot,
    /// Per transport: the live delivery delays, the client latencies, the catch-up delays.
    histograms: Vec<(Transport, [Histogram<u64>; 3])>,
    feed: FeedGauges,
    cluster: ClusterGauges,
}

/// The exposition text of one scrape.
pub fn encode_prometheus(meter: &Meter, feed: FeedGauges, cluster: &ClusterGauges) -> String {
    let scrape = Scrape {
        snapshot: meter.snapshot(),
        histograms: Transport::ALL
            .into_iter()
            .map(|t| {
                let (delay, client) = meter.histograms(t);
                (t, [delay, client, meter.catch_up_histogram(t)])
            })
            .collect(),
        feed,
        cluster: cluster.clone(),
    };
    let mut registry = Registry::with_prefix("pushlab");
    registry.register_collector(Box::new(scrape));
    let mut text = String::new();
    // Writing into a String cannot fail.
    prometheus_client::encoding::text::encode(&mut text, &registry).expect("encode to a String");
    text
}

impl Collector for Scrape {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        type Field = fn(&super::TransportStats) -> u64;
        let counters: [(&str, &str, Option<Unit>, Field); 16] = [
            (
                "requests",
                "HTTP requests received (a WebSocket or SSE connection is one)",
                None,
                |s| s.requests,
            ),
            (
                "connections_opened",
                "Connections (streams, or requests in flight) opened",
                None,
                |s| s.connections_opened,
            ),
            ("connections_closed", "Connections closed", None, |s| {
                s.connections_closed
            }),
            ("events_delivered", "Events handed to a client", None, |s| {
                s.delivered
            }),
            (
                "events_catch_up",
                "Of the events delivered, those replayed to a client that resumed from an old since",
                None,
                |s| s.catch_up,
            ),
            (
                "empty_answers",
                "Answers that carried no event",
                None,
                |s| s.empty,
            ),
            (
                "abandoned",
                "Held requests and streams whose client left before the server ended them",
                None,
                |s| s.abandoned,
            ),
            (
                "no_feed_answers",
                "Answers that carried no feed: an error status, cut by a drop, a HEAD or OPTIONS, a form's redirect",
                None,
                |s| s.no_feed,
            ),
            (
                "closed_unwritable",
                "Connections closed because their client read nothing for the unwritable timeout",
                None,
                |s| s.closed_unwritable,
            ),
            (
                "fanout_rounds",
                "Publishes handled by a worker's fan-out lane (about one per worker per publish)",
                None,
                |s| s.fanout_rounds,
            ),
            (
                "fanout_left",
                "Times a connection left its worker's fan-out lane: its socket could not take an event at once",
                None,
                |s| s.fanout_left,
            ),
            (
                "fanout_sends",
                "Sends a worker's fan-out lane made straight to its sockets",
                None,
                |s| s.fanout_sends,
            ),
            (
                "fanout_send_calls",
                "System calls the fan-out's sends took (one per batch of up to 64 with io_uring)",
                None,
                |s| s.fanout_send_calls,
            ),
            (
                "events_missed",
                "Events asked for after they left the replay buffer",
                None,
                |s| s.missed,
            ),
            (
                "received",
                "Bytes received on the wire, headers and framing included",
                Some(Unit::Bytes),
                |s| s.bytes_in,
            ),
            (
                "sent",
                "Bytes sent on the wire, headers and framing included",
                Some(Unit::Bytes),
                |s| s.bytes_out,
            ),
        ];
        for (name, help, unit, field) in counters {
            let mut family =
                encoder.encode_descriptor(name, help, unit.as_ref(), MetricType::Counter)?;
            for (transport, stats) in &self.snapshot.transports {
                let labels = [("transport", *transport)];
                ConstCounter::new(field(stats)).encode(family.encode_family(&labels)?)?;
            }
        }

        let mut active = encoder.encode_descriptor(
            "connections_active",
            "Connections open now",
            None,
            MetricType::Gauge,
        )?;
        for (transport, stats) in &self.snapshot.transports {
            let labels = [("transport", *transport)];
            ConstGauge::new(stats.connections_active).encode(active.encode_family(&labels)?)?;
        }
        let mut seated = encoder.encode_descriptor(
            "fanout_seated",
            "Open connections a worker's fan-out lane writes to now",
            None,
            MetricType::Gauge,
        )?;
        for (transport, stats) in &self.snapshot.transports {
            let labels = [("transport", *transport)];
            ConstGauge::new(stats.fanout_seated).encode(seated.encode_family(&labels)?)?;
        }

        for (name, help, pick) in [
            (
                "delivery_delay",
                "Live deliveries: time from publish to hand-off to a client following the feed, \
                 server clock (replays to a client resuming from an old since: catch_up_delay)",
                0usize,
            ),
            (
                "client_latency",
                "Live end-to-end latency reported by clients (catch-ups are not timed)",
                1,
            ),
            (
                "catch_up_delay",
                "Catch-up: how old each event replayed to a client resuming from an old since \
                 was when handed over, server clock",
                2,
            ),
        ] {
            let mut family = encoder.encode_descriptor(
                name,
                help,
                Some(&Unit::Seconds),
                MetricType::Histogram,
            )?;
            for (transport, histograms) in &self.histograms {
                let histogram = &histograms[pick];
                let labels = [("transport", transport.as_str())];
                encode_hdr(histogram, &mut family.encode_family(&labels)?)?;
            }
        }

        for (name, help, value) in [
            (
                "feed_last_seq",
                "Last published seq",
                self.feed.last_seq as f64,
            ),
            (
                "feed_rate_hz",
                "Generator rate, events per second",
                self.feed.rate_hz,
            ),
            (
                "feed_buffer",
                "Replay buffer size, events",
                self.feed.buffer as f64,
            ),
        ] {
            let metric = encoder.encode_descriptor(name, help, None, MetricType::Gauge)?;
            ConstGauge::new(value).encode(metric)?;
        }

        // Which server answered: one series, labelled with its name and address.
        let mut info = encoder.encode_descriptor(
            "server",
            "The server that gave this scrape (value 1)",
            None,
            MetricType::Gauge,
        )?;
        let labels = [
            ("name", self.cluster.server_name.as_str()),
            ("addr", self.cluster.server_addr.as_str()),
        ];
        ConstGauge::new(1i64).encode(info.encode_family(&labels)?)?;

        if let Some(broker) = &self.cluster.broker {
            for (name, help, value) in [
                (
                    "broker_connected",
                    "1 while the broker is reachable, 0 otherwise",
                    i64::from(broker.connected),
                ),
                (
                    "broker_generator_here",
                    "1 while this server ticks for the cluster (holds the generator lease)",
                    i64::from(broker.generator_here),
                ),
            ] {
                let metric = encoder.encode_descriptor(name, help, None, MetricType::Gauge)?;
                ConstGauge::new(value).encode(metric)?;
            }
            for (name, help, value) in [
                (
                    "broker_events_read",
                    "Events read from the broker's stream",
                    broker.read,
                ),
                (
                    "broker_events_lost",
                    "Events the stream no longer held when this server came to read them",
                    broker.lost,
                ),
            ] {
                let metric = encoder.encode_descriptor(name, help, None, MetricType::Counter)?;
                ConstCounter::new(value).encode(metric)?;
            }
            let mut hop = encoder.encode_descriptor(
                "broker_hop",
                "Time from a publish (on any server) to this server reading it back from the broker",
                Some(&Unit::Seconds),
                MetricType::Histogram,
            )?;
            encode_hdr(&broker.hop, &mut hop)?;
        }
        Ok(())
    }
}

/// Cuts an HDR histogram (µs) into the fixed Prometheus buckets (s).
fn encode_hdr(
    histogram: &Histogram<u64>,
    metric: &mut prometheus_client::encoding::MetricEncoder,
) -> Result<(), std::fmt::Error> {
    let mut buckets = Vec::with_capacity(LATENCY_BUCKETS_S.len() + 1);
    let mut below = 0;
    for bound in LATENCY_BUCKETS_S {
        let micros = (bound * 1e6) as u64;
        let cumulative = histogram.count_between(0, micros);
        buckets.push((bound, cumulative - below));
        below = cumulative;
    }
    buckets.push((f64::INFINITY, histogram.len() - below));
    let sum_s = histogram.mean() * histogram.len() as f64 / 1e6;
    metric.encode_histogram::<prometheus_client::encoding::NoLabelSet>(
        sum_s,
        histogram.len(),
        &buckets,
        None,
    )
}
