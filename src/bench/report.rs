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
    /// Poll requests answered per second of the measurement window (short and long polls;
    /// 0 for the streams): with `--poll-interval 0`, the server's short-poll throughput.
    pub requests_per_second: f64,
    /// This machine's loopback round trip, measured in the same run (the same for every row).
    pub loopback_rtt_us: u64,
    /// p50 latency in loopback round trips: how far above the floor the transport is.
    pub p50_over_rtt: f64,
    /// The servers the clients were spread over (several `--url`s: a cluster).
    pub servers: usize,
    /// Clients that received the whole phase: every event once, none missed, no error.
    pub complete: usize,
    /// Clients that received every event of the phase but not the same ones as the others
    /// (another seq order or another `ts` for a seq): 0 when every server showed the same feed.
    pub divergent: usize,
    /// The rate the feed was set to during the phase, events/s.
    pub rate_hz: f64,
    /// The rate the feed published at during the measurement window, events/s (lower than
    /// `rate_hz` when the feed stalled: a broker outage, a pause, a fault).
    pub feed_rate_hz: f64,
    /// Why the phase is not a measurement, when it is not: its server restarted or reset the
    /// feed, stopped answering, or refused the bench. Its figures are then not to be compared.
    pub interrupted: Option<String>,
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
    for r in rows {
        if let Some(why) = &r.interrupted {
            println!("{}: INTERRUPTED, not a measurement: {why}", r.transport);
        }
    }
    for line in verdict(rows) {
        println!("{line}");
    }
    for r in rows
        .iter()
        .filter(|r| r.servers > 1 && r.interrupted.is_none())
    {
        let incomplete = if r.complete < r.clients {
            format!(
                "; {} of {} clients did not receive the whole phase (gaps, errors or missed \
                 events) and are not in this check",
                r.clients - r.complete,
                r.clients
            )
        } else {
            String::new()
        };
        println!(
            "{} across {} servers: {}{incomplete}",
            r.transport,
            r.servers,
            if r.complete == 0 {
                "no client received the whole phase: nothing to compare".to_owned()
            } else if r.divergent == 0 {
                format!(
                    "the {} clients that received the whole phase received the same events (same seqs, same ts)",
                    r.complete
                )
            } else {
                format!(
                    "{} of the {} clients that received the whole phase received other events than the rest",
                    r.divergent, r.complete
                )
            }
        );
    }
}

/// Why the run is not a full measurement, one line per transport: a phase interrupted, or one
/// the verdict leaves out (clients that did not connect, errors, gaps, no event received: see
/// [`shortfall`]). Empty when every phase measured what it asked for; `pushlab bench` then
/// exits 0, else 1 after printing its report, so that a script never takes such a run for a
/// measurement.
pub fn failures(rows: &[Row]) -> Vec<String> {
    rows.iter()
        .filter(|r| !is_full(r))
        .map(|r| match &r.interrupted {
            Some(why) => format!("{}: interrupted: {why}", r.transport),
            None => format!("{}: {}", r.transport, shortfall(r)),
        })
        .collect()
}

/// A phase that measured what it asked for: every client connected, no error, no gap, events
/// received, not interrupted. Only these are compared.
fn is_full(r: &Row) -> bool {
    r.received > 0
        && r.interrupted.is_none()
        && r.errors == 0
        && r.gaps == 0
        && r.connected == r.clients
}

/// The lines of each `--url` server's broker hop, after the table.
pub fn print_servers(reports: &[super::ServerReport]) {
    for report in reports {
        let Some(broker) = &report.broker else {
            println!("server {} ({}): no broker", report.name, report.url);
            continue;
        };
        let hop = &broker["hop_us"];
        let ms = |key: &str| hop[key].as_u64().unwrap_or(0) as f64 / 1000.0;
        println!(
            "server {} ({}): broker {}, generator {}, broker hop p50 {:.2} ms p90 {:.2} ms p99 {:.2} ms max {:.2} ms over {} events, {} read, {} lost",
            report.name,
            report.url,
            broker["state"].as_str().unwrap_or("?"),
            broker["generator"].as_str().unwrap_or("?"),
            ms("p50"),
            ms("p90"),
            ms("p99"),
            ms("max"),
            hop["count"],
            broker["read"],
            broker["lost"],
        );
    }
}

/// Two latency medians within this fraction of the smaller one tie. The figures themselves are
/// finer (whole µs on both clocks, and the histogram keeps 3 significant digits, 0.1 %): a lead
/// this small is noise of the run, not a property of the transport. (From one run to the next
/// on a shared 2-core machine, 20 clients, medians moved by 10 to 20 %: a lead of a few tens of
/// % is worth a second run before a class reads much into it.)
const LATENCY_TIE: f64 = 0.05;
/// Two latency medians at most this far apart always tie, in µs: `ts` and the receive time are
/// whole microseconds.
const LATENCY_CLOCK_US: u64 = 1;
/// Two byte figures closer than this, in bytes per event, tie: the table prints whole bytes, and
/// each phase carries other events (a seq one digit longer adds a byte to every event that
/// carries it).
const BYTES_TIE: f64 = 1.0;

/// The closing lines of a run: which transport did best on latency, bytes per event, requests
/// and server CPU, and why; what the round trip means; and a warning when a CPU figure rests on
/// too few clock ticks to compare.
///
/// Transports that tie with the best on a figure are named together ("ws and sse tie"), never
/// one of them as the winner. What ties, figure by figure:
/// - latency: medians within [`LATENCY_TIE`] (5 %) of the smaller, or [`LATENCY_CLOCK_US`];
/// - bytes per event: less than [`BYTES_TIE`] (1 B) apart;
/// - requests: counts, so exactly equal requests per client (every phase lasts as long);
/// - server CPU: figures closer than their clock-tick quantisation, each known to one tick
///   (10 ms) of its total ([`cpu_uncertainty`]).
pub fn verdict(rows: &[Row]) -> Vec<String> {
    // Only full measurements are compared: a phase with errors, gaps or clients that never
    // connected measured fewer deliveries than it says, an interrupted one mixed two runs.
    let (measured, left_out): (Vec<&Row>, Vec<&Row>) = rows.iter().partition(|r| is_full(r));
    let mut lines = Vec::new();
    for r in rows {
        if r.interrupted.is_none() && r.feed_rate_hz < r.rate_hz * SLOW_FEED {
            lines.push(format!(
                "Warning: during {}'s measurement the feed published {:.1} events/s of the {} set \
                 (a pause, a stalled generator, a broker outage): it measured fewer events than asked.",
                r.transport, r.feed_rate_hz, r.rate_hz
            ));
        }
    }
    if !left_out.is_empty() {
        lines.push(format!(
            "Left out of the comparison, not a full measurement: {}.",
            left_out
                .iter()
                .map(|r| format!("{} ({})", r.transport, shortfall(r)))
                .collect::<Vec<_>>()
                .join("; ")
        ));
    }
    if measured.is_empty() {
        return lines;
    }
    lines.insert(0, String::new());
    // One transport alone is not a comparison: no "fastest", no "needs fewest".
    if let [only] = measured[..]
        && rows.len() > 1
    {
        lines.push(format!(
            "Only {} measured fully: nothing to compare it with in this run.",
            only.transport
        ));
        return lines;
    }

    let fastest = leaders(
        &measured,
        |r| r.latency_us.p50 as f64,
        |a, b| {
            let (low, high) = (
                a.latency_us.p50.min(b.latency_us.p50),
                a.latency_us.p50.max(b.latency_us.p50),
            );
            high - low <= ((low as f64 * LATENCY_TIE) as u64).max(LATENCY_CLOCK_US)
        },
    );
    let medians = figures(&fastest, |r| human_ms(r.latency_us.p50));
    let why = whys(&fastest, |r| why_latency(r.transport).to_owned());
    lines.push(if fastest.len() > 1 {
        format!(
            "Latency: {} tie, medians {medians} from publish to client (within {}). {why}",
            names(&fastest),
            percent(LATENCY_TIE, 1.0)
        )
    } else {
        format!(
            "Latency: {} is fastest, median {medians} from publish to client. {why}",
            names(&fastest)
        )
    });

    let lightest = leaders(
        &measured,
        |r| r.bytes_per_event,
        |a, b| (a.bytes_per_event - b.bytes_per_event).abs() < BYTES_TIE,
    );
    let bytes = figures(&lightest, |r| format!("{:.0}", r.bytes_per_event));
    lines.push(if lightest.len() > 1 {
        format!(
            "Bytes: {} tie, {bytes} B per event, less than {BYTES_TIE} B apart (headers and framing included). {}",
            names(&lightest),
            why_bytes(&lightest, &measured)
        )
    } else {
        format!(
            "Bytes: {} spends least, {bytes} B per event (headers and framing included). {}",
            names(&lightest),
            why_bytes(&lightest, &measured)
        )
    });

    // Requests per client: every phase lasts as long, so the counts compare as they are.
    let fewest = leaders(
        &measured,
        |r| r.requests as f64 / r.connected.max(1) as f64,
        |a, b| a.requests * b.connected.max(1) as u64 == b.requests * a.connected.max(1) as u64,
    );
    let first = fewest[0];
    let per_client = if first.requests == first.connected as u64 {
        "one request per connection".to_owned()
    } else {
        format!(
            "{} requests per client",
            per(first.requests, first.connected as u64)
        )
    };
    let same = fewest
        .iter()
        .all(|r| (r.requests, r.connected) == (first.requests, first.connected));
    let counts = if same && fewest.len() > 1 {
        format!("{} for {} clients each", first.requests, first.connected)
    } else {
        figures(&fewest, |r| {
            format!("{} for {} clients", r.requests, r.connected)
        })
    };
    lines.push(format!(
        "Requests: {}: {per_client} ({counts}). {}",
        if fewest.len() > 1 {
            format!("{} tie", names(&fewest))
        } else {
            format!("{} needs fewest", names(&fewest))
        },
        why_requests(&measured)
    ));

    let cpu: Vec<&Row> = measured
        .iter()
        .copied()
        .filter(|r| r.server_cpu_ms_per_1000_events.is_some())
        .collect();
    if !cpu.is_empty() {
        let figure = |r: &Row| r.server_cpu_ms_per_1000_events.unwrap_or(0.0);
        let cheapest = leaders(&cpu, figure, |a, b| {
            (figure(a) - figure(b)).abs() <= cpu_uncertainty(a) + cpu_uncertainty(b)
        });
        let costs = figures(&cheapest, |r| format!("{:.1}", figure(r)));
        lines.push(if cheapest.len() > 1 {
            format!(
                "Server CPU: {} tie, {costs} ms per 1000 events delivered: closer than the {CPU_TICK_MS} ms clock tick tells apart ({}).",
                names(&cheapest),
                figures(&cheapest, |r| format!("±{:.1}", cpu_uncertainty(r)))
            )
        } else {
            format!(
                "Server CPU: {} costs least, {costs} ms per 1000 events delivered (a request is parsed, routed and answered; a pushed event is one write).",
                names(&cheapest)
            )
        });
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

/// A feed publishing below this share of its set rate during a measurement is said to have
/// stalled.
const SLOW_FEED: f64 = 0.8;

/// What keeps a row out of the comparison, in a few words.
fn shortfall(r: &Row) -> String {
    if r.interrupted.is_some() {
        return "interrupted".to_owned();
    }
    let mut parts = Vec::new();
    if r.connected < r.clients {
        parts.push(format!(
            "{} of {} clients connected",
            r.connected, r.clients
        ));
    }
    if r.errors > 0 {
        parts.push(format!("{} errors", r.errors));
    }
    if r.gaps > 0 {
        parts.push(format!("{} gaps in {} expected events", r.gaps, r.expected));
    }
    if r.received == 0 {
        parts.push("no event received".to_owned());
    }
    parts.join(", ")
}

/// The rows that do best by `key` (lowest is best): the best one and every row that `tie`s
/// with it, in the run's order. `rows` is not empty.
fn leaders<'a>(
    rows: &[&'a Row],
    key: impl Fn(&Row) -> f64,
    tie: impl Fn(&Row, &Row) -> bool,
) -> Vec<&'a Row> {
    let best = rows
        .iter()
        .copied()
        .min_by(|a, b| key(a).total_cmp(&key(b)))
        .expect("at least one row");
    rows.iter()
        .copied()
        .filter(|r| std::ptr::eq(*r, best) || tie(best, r))
        .collect()
}

/// Transport names as a sentence says them: "ws", "ws and sse", "ws, sse and poll".
fn names(rows: &[&Row]) -> String {
    and_list(rows.iter().map(|r| r.transport.to_owned()).collect())
}

/// One figure per row, in the order of [`names`]: "75", "75 and 76".
fn figures(rows: &[&Row], figure: impl Fn(&Row) -> String) -> String {
    and_list(rows.iter().map(|r| figure(r)).collect())
}

/// The explanations of the rows, each said once.
fn whys(rows: &[&Row], why: impl Fn(&Row) -> String) -> String {
    let mut said: Vec<String> = Vec::new();
    for r in rows {
        let why = why(r);
        if !why.is_empty() && !said.contains(&why) {
            said.push(why);
        }
    }
    said.join(" ")
}

fn and_list(mut items: Vec<String>) -> String {
    match items.len() {
        0 => String::new(),
        1 => items.remove(0),
        _ => {
            let last = items.pop().unwrap_or_default();
            format!("{} and {last}", items.join(", "))
        }
    }
}

/// `count / of` with no useless decimal ("1", "10.5"), never rounded to 0 when above it.
fn per(count: u64, of: u64) -> String {
    let of = of.max(1);
    if count.is_multiple_of(of) {
        return (count / of).to_string();
    }
    let value = count as f64 / of as f64;
    if value < 0.1 {
        "< 0.1".to_owned()
    } else {
        format!("{value:.1}")
    }
}

/// How far a row's CPU figure may be off, in ms per 1000 events: one clock tick (10 ms) of its
/// total, spread over the events it was divided by. Each reading of `/proc` is whole ticks, so
/// the difference of two is known to one tick.
fn cpu_uncertainty(r: &Row) -> f64 {
    CPU_TICK_MS * 1000.0 / r.latency_us.count.max(1) as f64
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

fn why_bytes(leaders: &[&Row], rows: &[&Row]) -> String {
    let per_answer =
        |r: &Row| r.received as f64 / (r.requests.saturating_sub(r.empty)).max(1) as f64;
    let mut why = whys(leaders, |r| {
        match r.transport {
            "ws" => "A WebSocket frame adds 2 to 4 bytes to the event; no HTTP headers.",
            "sse" => "An SSE record adds its id/event/data lines; the headers were sent once.",
            _ => "",
        }
        .to_owned()
    });
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
    why.trim_start().to_owned()
}

fn why_requests(rows: &[&Row]) -> String {
    let mut parts = Vec::new();
    let push: Vec<&Row> = rows
        .iter()
        .copied()
        .filter(|r| matches!(r.transport, "ws" | "sse"))
        .collect();
    if !push.is_empty() {
        parts.push(format!(
            "{} open{} one per connection",
            names(&push),
            if push.len() == 1 { "s" } else { "" }
        ));
    }
    for r in rows {
        match r.transport {
            "longpoll" => parts.push(format!(
                "long polling pays one per event or per timeout ({} for {} events)",
                r.requests, r.received
            )),
            "poll" => parts.push(format!(
                "short polling asks on a timer, {} of {} answers empty ({})",
                r.empty,
                r.requests,
                percent(r.empty as f64, r.requests as f64)
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
         seconds,loopback_rtt_us,p50_over_rtt,requests_per_second,rate_hz,feed_rate_hz,servers,\
         complete,divergent,interrupted"
    );
    let opt = |v: Option<f64>| v.map_or(String::new(), |v| format!("{v:.3}"));
    for r in rows {
        println!(
            "{},{},{},{},{},{},{},{},{},{},{},{:.1},{},{},{},{},{},{},{},{},{:.1},{},{:.1},{:.1},{},{},{},{},{},{}",
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
            r.p50_over_rtt,
            r.requests_per_second,
            r.rate_hz,
            r.feed_rate_hz,
            r.servers,
            r.complete,
            r.divergent,
            csv_field(r.interrupted.as_deref().unwrap_or("")),
        );
    }
}

/// A CSV field (RFC 4180): quoted, its quotes doubled, when it holds a comma, a quote or a line
/// break.
fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}

/// The median of `values` (sorted here): the middle one, or the mean of the two middle ones for
/// an even count (two rounds give their mean, not the larger). `None` when empty.
pub fn median(values: &mut [f64]) -> Option<f64> {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(values[n / 2]),
        _ => Some((values[n / 2 - 1] + values[n / 2]) / 2.0),
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
            requests_per_second: 0.0,
            loopback_rtt_us: 20,
            p50_over_rtt: p50_us as f64 / 20.0,
            servers: 1,
            complete: 10,
            divergent: 0,
            rate_hz: 0.0,
            feed_rate_hz: 0.0,
            interrupted: None,
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

    /// The verdict line that starts with `figure`.
    fn verdict_line(rows: &[Row], figure: &str) -> String {
        verdict(rows)
            .into_iter()
            .find(|l| l.starts_with(figure))
            .unwrap_or_else(|| panic!("no {figure} line in {:?}", verdict(rows)))
    }

    #[test]
    fn identical_transports_tie_on_every_line() {
        let mut rows = [row("ws", 10, 0, 1_000), row("sse", 10, 0, 1_000)];
        for r in &mut rows {
            r.server_cpu_ms_per_1000_events = Some(100.0);
        }
        for figure in ["Latency:", "Bytes:", "Requests:", "Server CPU:"] {
            let line = verdict_line(&rows, figure);
            assert!(line.contains("ws and sse tie"), "{line}");
            for winner in ["fastest", "least", "fewest"] {
                assert!(!line.contains(winner), "{line}");
            }
        }
    }

    #[test]
    fn one_request_per_connection_ties_whatever_the_events() {
        // The tester's run: ws and sse made 20 requests for 20 clients ("ws needs fewest"), and
        // a phase may carry an event more than another.
        let mut sse = row("sse", 10, 0, 1_500);
        sse.received = 1020;
        let rows = [row("ws", 10, 0, 1_000), sse, row("poll", 210, 1, 500_000)];
        let line = verdict_line(&rows, "Requests:");
        assert!(
            line.starts_with(
                "Requests: ws and sse tie: one request per connection (10 for 10 clients each)"
            ),
            "{line}"
        );
        // One request more is one request more.
        let rows = [row("ws", 10, 0, 1_000), row("sse", 11, 0, 1_500)];
        let line = verdict_line(&rows, "Requests:");
        assert!(
            line.starts_with(
                "Requests: ws needs fewest: one request per connection (10 for 10 clients)"
            ),
            "{line}"
        );
        // A poll's figure per client keeps its decimal only where it has one.
        let rows = [row("poll", 105, 1, 500_000), row("longpoll", 950, 0, 4_000)];
        let line = verdict_line(&rows, "Requests:");
        assert!(
            line.starts_with("Requests: poll needs fewest: 10.5 requests per client"),
            "{line}"
        );
    }

    #[test]
    fn the_median_of_an_even_count_is_the_mean_of_the_middle_two() {
        assert_eq!(median(&mut [0.111, 0.039]), Some(0.075));
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&mut []), None);
    }

    #[test]
    fn medians_within_five_percent_tie() {
        let rows = [row("ws", 20, 0, 1_000), row("sse", 20, 0, 1_040)];
        let line = verdict_line(&rows, "Latency:");
        assert!(
            line.starts_with("Latency: ws and sse tie, medians 1.0 ms and 1.0 ms"),
            "{line}"
        );
        let rows = [row("ws", 20, 0, 1_000), row("sse", 20, 0, 1_060)];
        let line = verdict_line(&rows, "Latency:");
        assert!(line.starts_with("Latency: ws is fastest"), "{line}");
        // Below a few µs, the clock's microsecond is the resolution.
        let rows = [row("ws", 20, 0, 10), row("sse", 20, 0, 11)];
        assert!(verdict_line(&rows, "Latency:").contains("ws and sse tie"));
    }

    #[test]
    fn bytes_less_than_a_byte_apart_tie() {
        let (mut ws, mut sse) = (row("ws", 20, 0, 1_000), row("sse", 20, 0, 1_000));
        (ws.bytes_per_event, sse.bytes_per_event) = (75.4, 74.6);
        let line = verdict_line(&[ws.clone(), sse.clone()], "Bytes:");
        assert!(
            line.starts_with("Bytes: ws and sse tie, 75 and 75 B per event"),
            "{line}"
        );
        sse.bytes_per_event = 76.4;
        let line = verdict_line(&[ws, sse], "Bytes:");
        assert!(line.starts_with("Bytes: ws spends least, 75 B"), "{line}");
    }

    #[test]
    fn cpu_figures_within_their_clock_ticks_tie() {
        // Over 1000 events each figure is known to ±10 ms per 1000 events: 50 and 65 may be the
        // same cost, 50 and 75 are not.
        let (mut ws, mut sse) = (row("ws", 20, 0, 1_000), row("sse", 20, 0, 1_000));
        ws.server_cpu_ms_per_1000_events = Some(50.0);
        sse.server_cpu_ms_per_1000_events = Some(65.0);
        let line = verdict_line(&[ws.clone(), sse.clone()], "Server CPU:");
        assert!(
            line.starts_with("Server CPU: ws and sse tie, 50.0 and 65.0 ms per 1000 events"),
            "{line}"
        );
        assert!(line.contains("(±10.0 and ±10.0)"), "{line}");
        sse.server_cpu_ms_per_1000_events = Some(75.0);
        let line = verdict_line(&[ws, sse], "Server CPU:");
        assert!(
            line.starts_with("Server CPU: ws costs least, 50.0 ms"),
            "{line}"
        );
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

    /// A phase with errors and gaps is left out, named, and what is left is not a race of one
    /// ("poll is fastest" was said of the only transport measured).
    #[test]
    fn phases_that_are_not_full_measurements_are_left_out_and_named() {
        let ws = row("ws", 10, 0, 1_000);
        let mut poll = row("poll", 120, 20, 500_000);
        poll.errors = 10;
        poll.gaps = 210;
        let rows = [ws, poll];
        let text = verdict(&rows).join("\n");
        assert!(
            text.contains("Left out of the comparison, not a full measurement: poll (10 errors, 210 gaps in 1000 expected events)"),
            "{text}"
        );
        assert!(text.contains("Only ws measured fully"), "{text}");
        assert!(!text.contains("fastest"), "{text}");
        assert_eq!(failures(&rows).len(), 1);
    }
}
