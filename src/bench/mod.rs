//! `pushlab bench`: N simulated clients per transport against one server, and the comparison.
//!
//! Transports run one after the other, so the server's CPU time in each phase belongs to one
//! transport. A phase: read the feed's last seq, connect the clients (ramped, all from that
//! seq), measure for `--duration` seconds, pause the feed, let every client catch up, stop them,
//! and add up their tallies. A phase the servers cut short (a restart, a reset, a refusal) is
//! reported as interrupted, with why, and the run goes on. Everything is bounded: clients,
//! seconds, and the grace period.
//!
//! Above the whole server (it starts the embedded one through `Application`); its clients know
//! only the wire contract, so it imports nothing of the transports or the server's edge.

mod clients;
mod control;
mod plot;
mod report;
mod rtt;
mod socketio;
mod system;
mod wire;

use std::{
    net::SocketAddr,
    sync::{Arc, atomic::Ordering::Relaxed},
    time::{Duration, Instant},
};

use clap::Args;
use tokio_util::sync::CancellationToken;

pub use clients::Client;
use clients::{Shared, Tally, run_client};
use control::FeedSettings;
pub use control::{ServerReport, server_reports};
pub use plot::{PlotContext, plot_cdf};
pub use report::{Row, failures, median, print_csv, print_servers, print_table, verdict};
pub use system::{CpuTime, Embedded, ServerProcess, raise_open_files};

use crate::Config;

/// Most simulated clients per transport: a bound on the load a bench run may create.
pub const MAX_CLIENTS: usize = 50_000;
/// Longest measurement per transport.
pub const MAX_DURATION_SECS: u64 = 3600;
/// After the feed pauses, how long clients get to receive the last events.
const GRACE: Duration = Duration::from_secs(15);

#[derive(Debug, Clone, Args)]
pub struct BenchArgs {
    /// Server to load (http://127.0.0.1:PORT); without it the bench starts its own. Repeat it
    /// (or separate with commas) for the servers of a cluster (`--broker`): clients are spread
    /// over them in turn, all from the same seq, and the run checks that every client saw the
    /// same events whichever server it followed.
    #[arg(long, value_delimiter = ',')]
    pub url: Vec<String>,
    /// Transports to compare, in order: ws, sse, longpoll, poll, and for the Socket.IO peer of
    /// bench/peers socketio-ws, socketio-polling (the classic page is a page, not benched).
    #[arg(long, value_delimiter = ',', default_value = "ws,sse,longpoll,poll")]
    pub transports: Vec<String>,
    /// Simulated clients per transport (1 to 50,000).
    #[arg(long, default_value_t = 100, allow_hyphen_values = true)]
    pub clients: usize,
    /// Feed rate, events per second (default 10): set on the embedded server, or on the --url
    /// servers with --admin-token (refused without it: the run then follows the server's rate).
    #[arg(long, allow_hyphen_values = true)]
    pub rate: Option<f64>,
    /// Seconds of measurement per transport (1 to 3600).
    #[arg(long, default_value_t = 10, allow_hyphen_values = true)]
    pub duration: u64,
    /// Seconds over which the clients of a transport connect.
    #[arg(long, default_value_t = 2, allow_hyphen_values = true)]
    pub ramp: u64,
    /// Milliseconds between two short polls of one client.
    #[arg(long, default_value_t = 1000, allow_hyphen_values = true)]
    pub poll_interval: u64,
    /// Admin token of the --url servers, to set their rate and pause them at the end of a phase
    /// (their settings of before the run are given back after it).
    #[arg(long)]
    pub admin_token: Option<String>,
    /// Pid of the (first) --url server on this machine, to report its CPU and memory; with
    /// several servers, its CPU is divided by the events its own clients received.
    #[arg(long)]
    pub server_pid: Option<u32>,
    /// Start the embedded server with its meter off (to measure the meter's own cost).
    #[arg(long)]
    pub no_meter: bool,
    /// Run everything twice on the embedded server, meter on then off, and print the ratio of
    /// delivered events per server CPU second (the meter's cost). Prints tables only.
    #[arg(long, conflicts_with_all = ["url", "no_meter", "json", "csv", "plot"])]
    pub meter_cost: bool,
    /// With --meter-cost: how many on/off pairs to run (the order alternates; the median counts).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=10))]
    pub rounds: u32,
    /// Print one JSON document on stdout, and nothing else.
    #[arg(long, conflicts_with = "csv")]
    pub json: bool,
    /// Print CSV on stdout.
    #[arg(long)]
    pub csv: bool,
    /// Also draw the latency CDF of every transport into this SVG file.
    #[arg(long, value_name = "FILE.svg")]
    pub plot: Option<std::path::PathBuf>,
}

/// Most `--url`s of one run.
pub const MAX_URLS: usize = 16;

/// The servers a run talks to (the first one reads the feed's position).
struct Target {
    addr: SocketAddr,
    addrs: Vec<SocketAddr>,
    process: Option<ServerProcess>,
    embedded: Option<Embedded>,
    /// The feed's rate during the phases, events/s: `--rate`, or the `--url` server's own (0
    /// when it does not say).
    rate_hz: f64,
    /// Each `--url` server's feed settings before the run, given back after it (with
    /// `--admin-token`: a bench must not leave a class's feed paused, or at its own rate).
    settings_before: Vec<(SocketAddr, FeedSettings)>,
}

/// The rate of a run without `--rate`, events/s.
const DEFAULT_RATE_HZ: f64 = 10.0;

/// Runs every phase and returns one row per transport. A phase that fails (a server stopped, a
/// refusal) is a row that says why (`interrupted`), and the run goes on to the next; an error
/// here is one found before any phase (bad arguments, servers that do not share one feed).
pub async fn run(args: BenchArgs) -> anyhow::Result<Vec<Row>> {
    let transports = args
        .transports
        .iter()
        .map(|name| {
            Client::parse(name).ok_or_else(|| {
                anyhow::anyhow!(
                    "--transports takes ws, sse, longpoll, poll, socketio-ws, socketio-polling \
                     (not {name:?})"
                )
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    anyhow::ensure!(
        (1..=MAX_CLIENTS).contains(&args.clients),
        "--clients must be 1 to {MAX_CLIENTS}"
    );
    anyhow::ensure!(
        (1..=MAX_DURATION_SECS).contains(&args.duration),
        "--duration must be 1 to {MAX_DURATION_SECS} s"
    );
    if let Some(rate) = args.rate {
        anyhow::ensure!(
            crate::config::rate_allowed(rate),
            "--rate must be 0 (no ticks) or {} to {} events per second, got {rate:?}",
            crate::config::MIN_RATE_HZ,
            crate::config::MAX_RATE_HZ
        );
    }
    anyhow::ensure!(
        args.url.is_empty() || args.admin_token.is_some() || args.rate.is_none(),
        "--rate sets the feed of --url servers only with their --admin-token (without it the \
         run follows the server's own rate)"
    );
    let open_files = raise_open_files();
    // One file per client, and as many again for an embedded server's side of each connection.
    let needed = if !args.url.is_empty() {
        args.clients + 64
    } else {
        args.clients * 2 + 64
    };
    if (open_files as usize) < needed {
        eprintln!(
            "warning: the open-file limit is {open_files}; {} clients{} need about {needed}. \
             Raise the hard limit (ulimit -Hn), or run the server as its own process with --url.",
            args.clients,
            if !args.url.is_empty() {
                ""
            } else {
                " and the embedded server"
            },
        );
    }
    let rtt = rtt::loopback_rtt().await?;
    let target = start_target(&args).await?;
    let mut rows = Vec::new();
    // Ctrl-C or SIGTERM stops the run, but not before the servers have their settings back: a
    // bench interrupted must not leave a class's feed paused, or at the bench's rate.
    let stopped = tokio::select! {
        _ = run_phases(&args, &target, &transports, rtt, &mut rows) => false,
        _ = crate::signals::stop_requested() => true,
    };
    give_back(&args, &target).await;
    if let Some(embedded) = target.embedded {
        embedded.stop().await;
    }
    anyhow::ensure!(
        !stopped,
        "stopped by a signal after {} of {} phases; the servers' feed settings were given back",
        rows.len(),
        transports.len()
    );
    Ok(rows)
}

/// Runs the phases, one row each into `rows` (see [`run`]).
async fn run_phases(
    args: &BenchArgs,
    target: &Target,
    transports: &[Client],
    rtt: Duration,
    rows: &mut Vec<Row>,
) {
    for &transport in transports {
        let mut row = match run_phase(args, target, transport).await {
            Ok(row) => row,
            Err(e) => {
                let mut row = summarize(args, target, transport, 0, 0, &[], None, None, 0.0);
                row.interrupted = Some(format!("{e:#}"));
                row
            }
        };
        row.loopback_rtt_us = rtt.as_micros() as u64;
        row.p50_over_rtt = row.latency_us.p50 as f64 / rtt.as_secs_f64().max(1e-6) / 1e6;
        row.p50_over_rtt = (row.p50_over_rtt * 10.0).round() / 10.0;
        rows.push(row);
    }
}

async fn start_target(args: &BenchArgs) -> anyhow::Result<Target> {
    if !args.url.is_empty() {
        anyhow::ensure!(
            args.url.len() <= MAX_URLS,
            "at most {MAX_URLS} --url per run"
        );
        let addrs = args
            .url
            .iter()
            .map(|url| control::server_addr(url))
            .collect::<anyhow::Result<Vec<_>>>()?;
        if let Some(pid) = args.server_pid {
            match ServerProcess::listens_on(pid, addrs[0]) {
                Some(true) => {}
                Some(false) => anyhow::bail!(
                    "--server-pid {pid} does not listen on {}: its CPU would be reported as the \
                     server's (give the pid of the first --url's server)",
                    addrs[0]
                ),
                None => anyhow::bail!(
                    "--server-pid {pid}: no such process of this user (/proc/{pid}/fd unreadable)"
                ),
            }
        }
        control::shared_position(&addrs).await?;
        let mut settings_before = Vec::with_capacity(addrs.len());
        for addr in &addrs {
            let Some(settings) = control::feed_settings(*addr, args.admin_token.as_deref()).await?
            else {
                continue;
            };
            anyhow::ensure!(
                !settings.paused || args.admin_token.is_some(),
                "server {addr}'s feed is paused: resume it (the console's Resume), or give the \
                 bench its --admin-token"
            );
            settings_before.push((*addr, settings));
        }
        // Without the token, the server's own rate (0: a server that does not say it).
        let rate_hz = match (&args.admin_token, args.rate) {
            (Some(_), rate) => rate.unwrap_or(DEFAULT_RATE_HZ),
            (None, _) => settings_before.first().map_or(0.0, |(_, s)| s.rate_hz),
        };
        return Ok(Target {
            addr: addrs[0],
            addrs,
            process: args.server_pid.map(ServerProcess::Pid),
            embedded: None,
            rate_hz,
            settings_before,
        });
    }
    let rate_hz = args.rate.unwrap_or(DEFAULT_RATE_HZ);
    let mut config = Config::for_tests();
    config.rate = rate_hz;
    config.no_meter = args.no_meter;
    config.workers = None;
    config.max_connections = MAX_CLIENTS * 2;
    // Every bench client comes from 127.0.0.1: the classroom's per-address bound would refuse
    // all but the first few hundred.
    config.max_connections_per_address = MAX_CLIENTS * 2;
    // Large enough that no client can fall out of it during a phase at this rate.
    let events = rate_hz * (args.ramp + args.duration + GRACE.as_secs() + 10) as f64 * 2.0;
    config.buffer = (events as usize).clamp(1024, crate::config::MAX_BUFFER);
    let embedded = Embedded::start(config)?;
    Ok(Target {
        addr: embedded.addr,
        addrs: vec![embedded.addr],
        process: Some(ServerProcess::Embedded),
        embedded: Some(embedded),
        rate_hz,
        settings_before: Vec::new(),
    })
}

/// Gives each `--url` server its feed settings of before the run (with `--admin-token`; a
/// failure is said on stderr, the run's figures stay).
async fn give_back(args: &BenchArgs, target: &Target) {
    let Some(token) = &args.admin_token else {
        return;
    };
    for (addr, settings) in &target.settings_before {
        if let Err(e) = control::set_feed(*addr, token, *settings).await {
            eprintln!(
                "warning: could not give server {addr} its feed settings back (paused: {}, \
                 {} events/s): {e:#}",
                settings.paused, settings.rate_hz
            );
        }
    }
}

/// Pauses or resumes the feed, so that a phase ends on a known last seq.
async fn set_paused(args: &BenchArgs, target: &Target, paused: bool) -> anyhow::Result<()> {
    if let Some(embedded) = &target.embedded {
        embedded
            .state
            .feed_settings
            .send_modify(|s| s.paused = paused);
        return Ok(());
    }
    let Some(token) = &args.admin_token else {
        return Ok(());
    };
    let settings = FeedSettings {
        paused,
        rate_hz: target.rate_hz,
    };
    // Every server: alone each has its generator; in a cluster the settings are shared anyway.
    for addr in &target.addrs {
        control::set_feed(*addr, token, settings).await?;
    }
    Ok(())
}

async fn run_phase(args: &BenchArgs, target: &Target, transport: Client) -> anyhow::Result<Row> {
    // Progress goes to a terminal only: logs and pipes get the report alone.
    let quiet = args.json || args.csv || !std::io::IsTerminal::is_terminal(&std::io::stderr());
    set_paused(args, target, false).await?;
    let start = control::shared_position(&target.addrs).await?;
    let since = start.last_seq;
    let shared = Arc::new(Shared {
        addrs: target.addrs.clone(),
        since,
        measure_from: u64::MAX.into(),
        connected: 0.into(),
        progress: (0..args.clients).map(|_| since.into()).collect(),
        poll_interval: Duration::from_millis(args.poll_interval),
        measuring: false.into(),
        measured_requests: 0.into(),
        stop: CancellationToken::new(),
    });
    // However the phase ends, even by an error below, its clients stop with it.
    let _stop_clients = shared.stop.clone().drop_guard();
    let rss_before = target.process.and_then(|p| p.rss_kib());

    let bar = progress_bar(quiet, transport, args.clients as u64, "connected");

    // Ramp: spread the connections over --ramp seconds.
    let mut handles = Vec::with_capacity(args.clients);
    let gap = Duration::from_secs(args.ramp) / args.clients as u32;
    for index in 0..args.clients {
        handles.push(tokio::spawn(run_client(transport, index, shared.clone())));
        bar.set_position(shared.connected.load(Relaxed) as u64);
        tokio::time::sleep(gap).await;
    }
    let ramp_deadline = Instant::now() + Duration::from_secs(args.ramp + 30);
    while shared.connected.load(Relaxed) < args.clients && Instant::now() < ramp_deadline {
        bar.set_position(shared.connected.load(Relaxed) as u64);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    bar.finish_and_clear();
    let rss_after = target.process.and_then(|p| p.rss_kib());

    // Measure.
    let measure_from = control::position(target.addr).await?.last_seq;
    shared.measure_from.store(measure_from, Relaxed);
    let cpu_start = target.process.and_then(|p| p.cpu());
    let started = Instant::now();
    shared.measuring.store(true, Relaxed);
    let bar = progress_bar(quiet, transport, args.duration, "s measured");
    for _ in 0..args.duration {
        tokio::time::sleep(Duration::from_secs(1)).await;
        bar.inc(1);
        bar.set_message(format!("{} connected", shared.connected.load(Relaxed)));
    }
    bar.finish_and_clear();
    shared.measuring.store(false, Relaxed);
    let measured_requests = shared.measured_requests.load(Relaxed);
    set_paused(args, target, true).await?;
    let cpu_end = target.process.and_then(|p| p.cpu());
    let seconds = started.elapsed().as_secs_f64();
    // Every server must still be in the run the phase began in: a restart or a reset numbers
    // the feed again from 1, and the counts would mix two runs.
    let (now, mut interrupted) = run_check(&target.addrs, &start, "during the phase").await?;
    // The first server reads the feed's position (`Target::addr`).
    let end = now[0].last_seq.max(since);

    // Grace: clients receive what was published until the pause; when all have it (or the
    // grace period is over) they stop.
    let grace_end = Instant::now() + GRACE;
    let behind = |shared: &Shared| {
        shared
            .progress
            .iter()
            .filter(|p| p.load(Relaxed) < end)
            .count()
    };
    while interrupted.is_none() && behind(&shared) > 0 && Instant::now() < grace_end {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    shared.stop.cancel();
    let mut tallies = Vec::with_capacity(handles.len());
    for handle in handles {
        // A client task that panicked is a client that failed.
        tallies.push(
            handle
                .await
                .unwrap_or_else(|_| Tally::failed(tallies.len(), since)),
        );
    }
    for tally in &mut tallies {
        tally.finish(end);
    }
    // Once more after the grace: a server restarted while its clients caught up cut them off
    // from a run that no longer is (their gaps are the restart's, not the transport's).
    if interrupted.is_none() {
        interrupted = match run_check(&target.addrs, &start, "while the clients caught up").await {
            Ok((_, why)) => why,
            Err(e) => Some(format!(
                "a server stopped answering while the clients caught up: {e:#}"
            )),
        };
    }
    let mut row = summarize(
        args,
        target,
        transport,
        since,
        end,
        &tallies,
        cpu_start.zip(cpu_end),
        rss_before.zip(rss_after),
        seconds,
    );
    row.requests_per_second = measured_requests as f64 / seconds;
    row.feed_rate_hz = end.saturating_sub(measure_from) as f64 / seconds;
    row.feed_rate_hz = (row.feed_rate_hz * 10.0).round() / 10.0;
    row.interrupted = interrupted;
    Ok(row)
}

/// Where each of `addrs` stands now, and why the phase is interrupted if one of them left the
/// run `start` ("began a new run `when`": a restart or a reset numbers the feed from 1 again).
/// Errors: a server that does not answer (named).
async fn run_check(
    addrs: &[SocketAddr],
    start: &control::Position,
    when: &str,
) -> anyhow::Result<(Vec<control::Position>, Option<String>)> {
    let mut now = Vec::with_capacity(addrs.len());
    let mut why = None;
    for addr in addrs {
        let position = control::position(*addr).await?;
        if position.epoch != start.epoch || position.last_seq < start.last_seq {
            why.get_or_insert(format!(
                "server {addr}'s feed began a new run {when} (run {:?} at seq {}, now {:?} at \
                 seq {}): a restart or a reset; the clients' counts mix two runs",
                start.epoch, start.last_seq, position.epoch, position.last_seq
            ));
        }
        now.push(position);
    }
    Ok((now, why))
}

/// The clients that received the whole phase: every event up to `end`, once, none missed.
fn complete(tallies: &[Tally], end: u64) -> impl Iterator<Item = &Tally> {
    tallies.iter().filter(move |t| {
        t.errors == 0 && t.gaps == 0 && t.duplicates == 0 && t.missed == 0 && t.last_seq >= end
    })
}

/// Clients that received the whole phase but other events than most such clients (their
/// digests differ from the most common one): a cluster whose servers disagree.
fn divergent(tallies: &[Tally], end: u64) -> usize {
    let complete: Vec<u64> = complete(tallies, end).map(|t| t.digest).collect();
    let mut counts = std::collections::HashMap::new();
    for digest in &complete {
        *counts.entry(*digest).or_insert(0usize) += 1;
    }
    let most = counts.values().copied().max().unwrap_or(0);
    complete.len() - most
}

/// A progress bar on stderr when it is a terminal and no report format was asked (else hidden).
fn progress_bar(quiet: bool, transport: Client, length: u64, unit: &str) -> indicatif::ProgressBar {
    if quiet {
        return indicatif::ProgressBar::hidden();
    }
    let style = indicatif::ProgressStyle::with_template(&format!(
        "{{prefix:<17}} [{{bar:32}}] {{pos}}/{{len}} {unit} {{msg}}"
    ))
    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
    .progress_chars("=> ");
    indicatif::ProgressBar::new(length)
        .with_style(style)
        .with_prefix(transport.name())
}

#[allow(clippy::too_many_arguments)]
fn summarize(
    args: &BenchArgs,
    target: &Target,
    transport: Client,
    since: u64,
    end: u64,
    tallies: &[Tally],
    cpu: Option<(CpuTime, CpuTime)>,
    rss: Option<(u64, u64)>,
    seconds: f64,
) -> Row {
    let mut latency = crate::meter::new_latency_histogram();
    let mut row = Row {
        transport: transport.name(),
        clients: args.clients,
        connected: tallies.iter().filter(|t| t.connected).count(),
        expected: end.saturating_sub(since) * args.clients as u64,
        received: 0,
        gaps: 0,
        duplicates: 0,
        missed: 0,
        requests: 0,
        empty: 0,
        errors: 0,
        bytes_per_event: 0.0,
        latency_us: Default::default(),
        server_cpu_ms_per_1000_events: None,
        server_user_ms_per_1000_events: None,
        server_kernel_ms_per_1000_events: None,
        server_rss_kib_per_connection: None,
        seconds,
        requests_per_second: 0.0,
        loopback_rtt_us: 0,
        p50_over_rtt: 0.0,
        servers: target.addrs.len(),
        complete: complete(tallies, end).count(),
        divergent: divergent(tallies, end),
        rate_hz: target.rate_hz,
        feed_rate_hz: 0.0,
        interrupted: None,
        latency: crate::meter::new_latency_histogram(),
    };
    let mut bytes = 0;
    for t in tallies {
        row.received += t.received;
        row.gaps += t.gaps;
        row.duplicates += t.duplicates;
        row.missed += t.missed;
        row.requests += t.requests;
        row.empty += t.empty;
        row.errors += t.errors;
        bytes += t.bytes;
        let _ = latency.add(&t.latency);
    }
    row.latency_us = crate::meter::summarize(&latency);
    row.latency = latency.clone();
    if row.received > 0 {
        row.bytes_per_event = (bytes as f64 / row.received as f64 * 10.0).round() / 10.0;
    }
    // CPU over the measurement window, per event delivered in it (events published after the
    // clients connected, times the clients). With several servers, `--server-pid` is the first
    // one's: the events it delivered are those of its clients (client i follows server
    // i mod servers).
    let servers = target.addrs.len();
    let measured_events: u64 = tallies
        .iter()
        .filter(|t| t.index() % servers == 0)
        .map(|t| t.latency.len())
        .sum();
    // User and kernel time apart: on loopback the kernel's share is mostly the cost of sending,
    // the user share what the server itself does per event.
    if let (Some((start, stop)), true) = (cpu, measured_events > 0) {
        let used = start.until(stop);
        let per_1000 = |ms: u64| ms as f64 * 1000.0 / measured_events as f64;
        row.server_cpu_ms_per_1000_events = Some(per_1000(used.total_ms()));
        row.server_user_ms_per_1000_events = Some(per_1000(used.user_ms));
        row.server_kernel_ms_per_1000_events = Some(per_1000(used.kernel_ms));
    }
    if let Some((before, after)) = rss {
        row.server_rss_kib_per_connection =
            Some(after.saturating_sub(before) as f64 / args.clients as f64);
    }
    row
}
