//! The comparison the bench prints: one row per transport, as a table, JSON or CSV.

use serde::Serialize;

use crate::meter::Summary;

#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub transport: &'static str,
    pub clients: usize,
    pub connected: usize,
    /// Events every client should have received, summed over clients.
    pub expected: u64,
    pub received: u64,
    pub gaps: u64,
    pub duplicates: u64,
    /// Events the server reported as missed (left the replay buffer before the client got them).
    pub missed: u64,
    pub requests: u64,
    pub empty: u64,
    pub errors: u64,
    /// Bytes on the wire both ways per received event, headers and framing included.
    pub bytes_per_event: f64,
    /// End-to-end latency of events published after every client had connected.
    pub latency_us: Summary,
    /// Server CPU per 1000 delivered events (embedded server or `--server-pid`): user + kernel.
    pub server_cpu_ms_per_1000_events: Option<f64>,
    /// The user-space part of it (utime).
    pub server_user_ms_per_1000_events: Option<f64>,
    /// The kernel part of it (stime): system calls, on loopback mostly the sends.
    pub server_kernel_ms_per_1000_events: Option<f64>,
    /// Server resident memory added per connection (`--server-pid` only).
    pub server_rss_kib_per_connection: Option<f64>,
    pub seconds: f64,
    /// This machine's loopback round trip, measured in the same run (the same for every row).
    pub loopback_rtt_us: u64,
    /// p50 latency in loopback round trips: how far above the floor the transport is.
    pub p50_over_rtt: f64,
    /// The latencies behind `latency_us`, for `--plot`.
    #[serde(skip)]
    pub latency: hdrhistogram::Histogram<u64>,
}

pub fn print_table(rows: &[Row]) {
    println!(
        "{:<9} {:>7} {:>10} {:>10} {:>5} {:>5} {:>7} {:>9} {:>7} {:>8} {:>8} {:>8} {:>8} {:>6} {:>9} {:>6} {:>6}",
        "transport",
        "clients",
        "expected",
        "received",
        "gaps",
        "dups",
        "missed",
        "requests",
        "B/event",
        "p50 ms",
        "p90 ms",
        "p99 ms",
        "max ms",
        "errors",
        "cpu/1k ev",
        "user",
        "kernel"
    );
    for r in rows {
        let ms = |us: u64| format!("{:.2}", us as f64 / 1000.0);
        println!(
            "{:<9} {:>7} {:>10} {:>10} {:>5} {:>5} {:>7} {:>9} {:>7.0} {:>8} {:>8} {:>8} {:>8} {:>6} {:>9} {:>6} {:>6}",
            r.transport,
            format!("{}/{}", r.connected, r.clients),
            r.expected,
            r.received,
            r.gaps,
            r.duplicates,
            r.missed,
            r.requests,
            r.bytes_per_event,
            ms(r.latency_us.p50),
            ms(r.latency_us.p90),
            ms(r.latency_us.p99),
            ms(r.latency_us.max),
            r.errors,
            r.server_cpu_ms_per_1000_events
                .map_or("-".into(), |c| format!("{c:.1} ms")),
            r.server_user_ms_per_1000_events
                .map_or("-".into(), |c| format!("{c:.1}")),
            r.server_kernel_ms_per_1000_events
                .map_or("-".into(), |c| format!("{c:.1}")),
        );
    }
    if let Some(rtt) = rows.first().map(|r| r.loopback_rtt_us) {
        let ratios: Vec<String> = rows
            .iter()
            .map(|r| format!("{} {:.1}×", r.transport, r.p50_over_rtt))
            .collect();
        println!(
            "loopback round trip {:.1} µs; p50 in round trips: {}",
            rtt as f64,
            ratios.join(", ")
        );
    }
}

pub fn print_csv(rows: &[Row]) {
    println!(
        "transport,clients,connected,expected,received,gaps,duplicates,missed,requests,empty,errors,\
         bytes_per_event,p50_us,p90_us,p99_us,max_us,server_cpu_ms_per_1000_events,\
         server_user_ms_per_1000_events,server_kernel_ms_per_1000_events,server_rss_kib_per_connection,\
         seconds,loopback_rtt_us,p50_over_rtt"
    );
    let opt = |v: Option<f64>| v.map_or(String::new(), |v| format!("{v:.3}"));
    for r in rows {
        println!(
            "{},{},{},{},{},{},{},{},{},{},{},{:.1},{},{},{},{},{},{},{},{},{:.1},{},{:.1}",
            r.transport,
            r.clients,
            r.connected,
            r.expected,
            r.received,
            r.gaps,
            r.duplicates,
            r.missed,
            r.requests,
            r.empty,
            r.errors,
            r.bytes_per_event,
            r.latency_us.p50,
            r.latency_us.p90,
            r.latency_us.p99,
            r.latency_us.max,
            opt(r.server_cpu_ms_per_1000_events),
            opt(r.server_user_ms_per_1000_events),
            opt(r.server_kernel_ms_per_1000_events),
            opt(r.server_rss_kib_per_connection),
            r.seconds,
            r.loopback_rtt_us,
            r.p50_over_rtt
        );
    }
}
