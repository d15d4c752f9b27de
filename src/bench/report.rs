//! The comparison the bench prints: one row per transport, as a table, JSON or CSV, and the few
//! lines that say which transport did best on what, and why.

use serde::Serialize;

use crate::meter::Summary;

/// Linux counts a process's CPU time in ticks of 10 ms (USER_HZ 100): a CPU figure made of few
/// ticks is coarse. Below this many ticks in a row, the bench says so.
const FEW_CPU_TICKS: f64 = 50.0;
/// One tick, in ms.
const CPU_TICK_MS: f64 = 10.0;

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
    /// The servers the clients were spread over (several `--url`s: a cluster).
    pub servers: usize,
    /// Clients that received every event of the phase but not the same ones as the others
    /// (another seq order or another `ts` for a seq): 0 when every server showed the same feed.
    pub divergent: usize,
    /// The latencies behind `latency_us`, for `--plot`.
    #[serde(skip)]
    pub latency: hdrhistogram::Histogram<u64>,
}

pub fn print_table(rows: &[Row]) {
    println!(
        "{:<9} {:>7} {:>10} {:>10} {:>5} {:>5} {:>7} {:>9} {:>7} {:>7} {:>8} {:>8} {:>8} {:>8} {:>6} {:>9} {:>6} {:>6}",
        "transport",
        "clients",
        "expected",
        "received",
        "gaps",
        "dups",
        "missed",
        "requests",
        "empty",
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
            "{:<9} {:>7} {:>10} {:>10} {:>5} {:>5} {:>7} {:>9} {:>7} {:>7.0} {:>8} {:>8} {:>8} {:>8} {:>6} {:>9} {:>6} {:>6}",
            r.transport,
            format!("{}/{}", r.connected, r.clients),
            r.expected,
            r.received,
            r.gaps,
            r.duplicates,
            r.missed,
            r.requests,
            r.empty,
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
    for line in verdict(rows) {
        println!("{line}");
    }
    for r in rows.iter().filter(|r| r.servers > 1) {
        println!(
            "{} across {} servers: {}",
            r.transport,
            r.servers,
            if r.divergent == 0 {
                "every client that received the whole phase received the same events (same seqs, same ts)".to_owned()
            } else {
                format!(
                    "{} clients received other events than the rest",
                    r.divergent
                )
            }
        );
    }
}

/// The closing lines of a run: which transport did best on latency, bytes per event, requests
/// and server CPU, and why; what the round trip means; and a warning when a CPU figure rests on
/// too few clock ticks to compare.
pub fn verdict(rows: &[Row]) -> Vec<String> {
    let measured: Vec<&Row> = rows.iter().filter(|r| r.received > 0).collect();
    let mut lines = Vec::new();
    if measured.is_empty() {
        return lines;
    }
    lines.push(String::new());
    let best = |key: &dyn Fn(&Row) -> f64| {
        measured
            .iter()
            .copied()
            .min_by(|a, b| key(a).total_cmp(&key(b)))
            .expect("at least one row")
    };
    let per_event = |r: &Row| r.requests as f64 / r.received as f64;
    let latency = best(&|r| r.latency_us.p50 as f64);
    lines.push(format!(
        "Latency: {} is fastest, median {} from publish to client. {}",
        latency.transport,
        human_ms(latency.latency_us.p50),
        why_latency(latency.transport)
    ));
    let bytes = best(&|r| r.bytes_per_event);
    lines.push(format!(
        "Bytes: {} spends least, {:.0} B per event (headers and framing included). {}",
        bytes.transport,
        bytes.bytes_per_event,
        why_bytes(bytes, &measured)
    ));
    let requests = best(&per_event);
    lines.push(format!(
        "Requests: {} needs fewest, {:.3} per event. {}",
        requests.transport,
        per_event(requests),
        why_requests(&measured)
    ));
    let cpu: Vec<&Row> = measured
        .iter()
        .copied()
        .filter(|r| r.server_cpu_ms_per_1000_events.is_some())
        .collect();
    if let Some(lightest) = cpu.iter().copied().min_by(|a, b| {
        let c = |r: &Row| r.server_cpu_ms_per_1000_events.unwrap_or(f64::MAX);
        c(a).total_cmp(&c(b))
    }) {
        lines.push(format!(
            "Server CPU: {} costs least, {:.1} ms per 1000 events delivered (a request is parsed, routed and answered; a pushed event is one write).",
            lightest.transport,
            lightest.server_cpu_ms_per_1000_events.unwrap_or(0.0)
        ));
        for r in cpu {
            let ticks = cpu_ticks(r);
            if ticks < FEW_CPU_TICKS {
                lines.push(format!(
                    "  Warning: {}'s CPU figure rests on {ticks:.0} clock tick{} of 10 ms (±{}): run longer or with more clients before comparing it.",
                    r.transport,
                    if ticks.round() == 1.0 { "" } else { "s" },
                    percent(1.0, ticks.max(1.0))
                ));
            }
        }
    }
    if let Some(rtt) = measured.first().map(|r| r.loopback_rtt_us) {
        lines.push(format!(
            "Floor: one round trip on this machine's loopback takes {rtt} µs; no transport can deliver faster. {}",
            measured
                .iter()
                .map(|r| format!("{} {}", r.transport, in_round_trips(r)))
                .collect::<Vec<_>>()
                .join("; ")
        ));
    }
    lines
}

/// The clock ticks a row's CPU figure was made of: the figure is per 1000 of the events measured
/// (those in the latency histogram, published once every client was connected), not per 1000 of
/// all the events received.
fn cpu_ticks(r: &Row) -> f64 {
    let total_ms =
        r.server_cpu_ms_per_1000_events.unwrap_or(0.0) * r.latency_us.count as f64 / 1000.0;
    total_ms / CPU_TICK_MS
}

/// `part` of `whole` as a percentage a reader can set beside the counts it comes from: one
/// decimal at most ("0.4%", "12.5%", "50%"), never "0%" for a part above zero nor "100%" for a
/// part below the whole ("< 0.1%", "> 99.9%" at the ends). An empty whole reads "0%".
fn percent(part: f64, whole: f64) -> String {
    if whole <= 0.0 || part <= 0.0 {
        return "0%".to_owned();
    }
    if part >= whole {
        return "100%".to_owned();
    }
    let value = 100.0 * part / whole;
    if value < 0.1 {
        return "< 0.1%".to_owned();
    }
    if value > 99.9 {
        return "> 99.9%".to_owned();
    }
    let text = format!("{value:.1}");
    format!("{}%", text.strip_suffix(".0").unwrap_or(&text))
}

fn human_ms(us: u64) -> String {
    if us >= 10_000_000 {
        format!("{:.1} s", us as f64 / 1e6)
    } else if us >= 1000 {
        format!("{:.1} ms", us as f64 / 1e3)
    } else {
        format!("{us} µs")
    }
}

/// A median as round trips, in words a student reads: a handful, hundreds, or "the wait".
fn in_round_trips(r: &Row) -> String {
    let trips = r.p50_over_rtt;
    if trips < 1000.0 {
        format!("≈ {trips:.0} round trips")
    } else {
        format!(
            "{}: the wait for the next request, not the network",
            human_ms(r.latency_us.p50)
        )
    }
}

fn why_latency(transport: &str) -> &'static str {
    match transport {
        "ws" | "sse" => {
            "A pushed event leaves as soon as it is published: one write to an open connection."
        }
        "longpoll" => "A held request is answered as soon as the event exists.",
        _ => "",
    }
}

fn why_bytes(best: &Row, rows: &[&Row]) -> String {
    let per_answer =
        |r: &Row| r.received as f64 / (r.requests.saturating_sub(r.empty)).max(1) as f64;
    let mut why = match best.transport {
        "ws" => "A WebSocket frame adds 2 to 4 bytes to the event; no HTTP headers.".to_owned(),
        "sse" => {
            "An SSE record adds its id/event/data lines; the headers were sent once.".to_owned()
        }
        _ => String::new(),
    };
    if let Some(poll) = rows.iter().find(|r| r.transport == "poll") {
        why.push_str(&format!(
            " Short polls carry {:.1} events per non-empty answer, so their headers are shared",
            per_answer(poll)
        ));
        if let Some(long) = rows.iter().find(|r| r.transport == "longpoll") {
            why.push_str(&format!(
                ", where long polling carries {:.1}: a request and its headers per event.",
                per_answer(long)
            ));
        } else {
            why.push('.');
        }
    }
    why
}

fn why_requests(rows: &[&Row]) -> String {
    let mut parts = Vec::new();
    for r in rows {
        let answers = r.requests.max(1) as f64;
        match r.transport {
            "ws" | "sse" => parts.push(format!("{} opens one per connection", r.transport)),
            "longpoll" => parts.push("long polling pays one per event (or per timeout)".to_owned()),
            "poll" => parts.push(format!(
                "short polling asks on a timer, {} of {} answers empty ({})",
                r.empty,
                r.requests,
                percent(r.empty as f64, answers)
            )),
            _ => {}
        }
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!("Why: {}.", parts.join("; "))
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A row of a run of 10 clients that received 1000 events, all measured.
    fn row(transport: &'static str, requests: u64, empty: u64, p50_us: u64) -> Row {
        Row {
            transport,
            clients: 10,
            connected: 10,
            expected: 1000,
            received: 1000,
            gaps: 0,
            duplicates: 0,
            missed: 0,
            requests,
            empty,
            errors: 0,
            bytes_per_event: 100.0,
            latency_us: Summary {
                count: 1000,
                p50: p50_us,
                ..Default::default()
            },
            server_cpu_ms_per_1000_events: None,
            server_user_ms_per_1000_events: None,
            server_kernel_ms_per_1000_events: None,
            server_rss_kib_per_connection: None,
            seconds: 10.0,
            loopback_rtt_us: 20,
            p50_over_rtt: p50_us as f64 / 20.0,
            servers: 1,
            divergent: 0,
            latency: crate::meter::new_latency_histogram(),
        }
    }

    #[test]
    fn a_percentage_never_rounds_a_count_to_none_or_all() {
        assert_eq!(percent(0.0, 250.0), "0%");
        assert_eq!(percent(1.0, 250.0), "0.4%");
        assert_eq!(percent(1.0, 100_000.0), "< 0.1%");
        assert_eq!(percent(249.0, 250.0), "99.6%");
        assert_eq!(percent(99_999.0, 100_000.0), "> 99.9%");
        assert_eq!(percent(250.0, 250.0), "100%");
        assert_eq!(percent(125.0, 250.0), "50%");
        assert_eq!(percent(1.0, 3.0), "33.3%");
        assert_eq!(percent(1.0, 0.0), "0%", "nothing to count");
    }

    #[test]
    fn the_empty_answers_read_as_the_table_counts_them() {
        // The tester's run: 1 empty answer of 250 read "0% of answers empty".
        let rows = [row("ws", 10, 0, 1_000), row("poll", 250, 1, 500_000)];
        let text = verdict(&rows).join("\n");
        assert!(text.contains("1 of 250 answers empty (0.4%)"), "{text}");
        assert!(!text.contains(" 0%"), "{text}");
    }

    #[test]
    fn the_cpu_warning_counts_the_ticks_its_figure_was_made_of() {
        // 2000 events received, 1600 of them measured (published once all had connected): the
        // server used 9 ticks (90 ms) over those 1600, 56.25 ms per 1000 of them.
        let mut ws = row("ws", 20, 0, 1_000);
        ws.received = 2000;
        ws.latency_us.count = 1600;
        ws.server_cpu_ms_per_1000_events = Some(56.25);
        let text = verdict(&[ws]).join("\n");
        assert!(
            text.contains("rests on 9 clock ticks of 10 ms (±11.1%)"),
            "{text}"
        );
    }
}
