//! The `pushlab` command: `pushlab` / `pushlab serve` runs the server; `pushlab bench`
//! compares the transports under load.

use clap::{Parser, Subcommand};
use pushlab::{Application, Config};

/// mimalloc for every allocation of the binary: a request's many small short-lived allocations
/// (actix's request, headers and extensions, the middleware's future, the answer's JSON) cost
/// glibc's malloc about 11% of the server's CPU under 1000 long-polling clients (`perf`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "pushlab",
    version,
    about = "One live feed, five ways to follow it: classic page, short poll, long poll, SSE and WebSocket, measured side by side."
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    serve: Config,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server (the default when no command is given).
    Serve(Box<Config>),
    /// Simulate clients of each transport against a server and compare them.
    Bench(pushlab::bench::BenchArgs),
}

#[actix_web::main]
async fn main() {
    let cli = Cli::parse();
    pushlab::telemetry::init();
    let outcome = match cli.command {
        Some(Command::Serve(config)) => serve(*config).await,
        Some(Command::Bench(args)) => bench(args).await,
        None => serve(cli.serve).await,
    };
    if let Err(e) = outcome {
        eprintln!("pushlab: {e:#}");
        std::process::exit(1);
    }
}

/// Files the server keeps open besides its connections (listener, epoll, logs, timers, ...).
const FILES_BESIDE_CONNECTIONS: usize = 64;

async fn serve(config: Config) -> anyhow::Result<()> {
    // Each connection is a file: the default soft limit (often 1024) would refuse a room's worth.
    // The bound: past the hard limit, accepting would fail anyway, so fewer connections are
    // served at once and the rest wait in the accept queue.
    let open_files = pushlab::bench::raise_open_files();
    let fits = (open_files as usize)
        .saturating_sub(FILES_BESIDE_CONNECTIONS)
        .max(1);
    let mut config = config;
    if config.max_connections > fits {
        // Arithmetic for the curious, not the first thing an instructor reads: debug level.
        tracing::debug!(
            open_files,
            max_connections = fits,
            "serving at most this many connections at once: the open-file limit allows no more"
        );
        config.max_connections = fits;
    }
    let app = Application::build(config).await?;
    println!("pushlab is running at {}", app.url());
    if let Some((_, fingerprint)) = app.tls_certificate() {
        println!("TLS certificate SHA-256 fingerprint: {fingerprint}");
    }
    println!("admin token: {}", app.admin_token());
    println!("stop with Ctrl-C");
    let stopper = app.stopper();
    // The signal is awaited here, beside the server, not in a spawned task: this future is the
    // one the runtime drives until the end.
    let server = app.run_until_stopped();
    tokio::pin!(server);
    tokio::select! {
        result = &mut server => result?,
        _ = pushlab::signals::stop_requested() => {
            tracing::info!("stopping: closing streams, answering held polls");
            // The stop command is answered by the server future: both must be driven together.
            let (_, result) = tokio::join!(stopper.stop(), &mut server);
            result?;
            tracing::info!("stopped");
        }
    }
    Ok(())
}

async fn bench(args: pushlab::bench::BenchArgs) -> anyhow::Result<()> {
    let (json, csv) = (args.json, args.csv);
    if args.meter_cost {
        return meter_cost(args).await;
    }
    let plot = args.plot.clone();
    // A plot that cannot be written is said before the run, not after it; a file already
    // there is not touched until the plot is drawn (one made for the check is removed).
    if let Some(path) = &plot {
        let existed = path.exists();
        std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(path)
            .map_err(|e| anyhow::anyhow!("--plot {}: {e}", path.display()))?;
        if !existed {
            let _ = std::fs::remove_file(path);
        }
    }
    let (clients, poll_interval_ms, duration_s) = (args.clients, args.poll_interval, args.duration);
    let urls = args.url.clone();
    let rows = pushlab::bench::run(args).await?;
    let servers = if urls.is_empty() {
        Vec::new()
    } else {
        pushlab::bench::server_reports(&urls)
            .await
            .unwrap_or_else(|e| {
                eprintln!("warning: no server report: {e:#}");
                Vec::new()
            })
    };
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(
                &serde_json::json!({ "transports": rows, "servers": servers })
            )?
        );
    } else if csv {
        pushlab::bench::print_csv(&rows);
    } else {
        pushlab::bench::print_table(&rows);
        pushlab::bench::print_servers(&servers);
    }
    if let Some(path) = plot {
        let context = pushlab::bench::PlotContext {
            clients,
            // The rate set, or, from a server that does not say it, the rate measured.
            rate_hz: rows.first().map_or(0.0, |r| {
                if r.rate_hz > 0.0 {
                    r.rate_hz
                } else {
                    r.feed_rate_hz
                }
            }),
            poll_interval_ms,
            duration_s,
        };
        pushlab::bench::plot_cdf(&rows, &path, &context)
            .map_err(|e| anyhow::anyhow!("--plot {}: {e}", path.display()))?;
        // On stderr: stdout may be the JSON or CSV document.
        eprintln!("latency CDF written to {}", path.display());
    }
    // Exit 1 when a phase is not a full measurement: a script must not take it for one.
    let failures = pushlab::bench::failures(&rows);
    anyhow::ensure!(
        failures.is_empty(),
        "the run is not a full measurement: {}",
        failures.join("; ")
    );
    Ok(())
}

/// The same load with the meter on and off, in `--rounds` pairs whose order alternates (so that
/// neither setting always runs on a warmer or busier machine); the median cost counts. The cost
/// is how many fewer events a server CPU second delivers with the meter.
async fn meter_cost(args: pushlab::bench::BenchArgs) -> anyhow::Result<()> {
    let cpu_of =
        |rows: &[pushlab::bench::Row]| rows.first().and_then(|r| r.server_cpu_ms_per_1000_events);
    let mut costs = Vec::new();
    for round in 0..args.rounds {
        let mut pair = [None, None]; // [with, without]
        let order = if round % 2 == 0 {
            [false, true]
        } else {
            [true, false]
        };
        for no_meter in order {
            let rows = pushlab::bench::run(pushlab::bench::BenchArgs {
                no_meter,
                ..args.clone()
            })
            .await?;
            println!(
                "round {} meter {}:",
                round + 1,
                if no_meter { "off" } else { "on" }
            );
            pushlab::bench::print_table(&rows);
            pair[usize::from(no_meter)] = cpu_of(&rows);
        }
        if let [Some(with), Some(without)] = pair {
            let cost = 1.0 - without / with;
            println!(
                "round {}: {with:.2} ms CPU per 1000 events with the meter, {without:.2} without: cost {:.1}%",
                round + 1,
                cost * 100.0
            );
            costs.push(cost);
        }
    }
    if let Some(median) = pushlab::bench::median(&mut costs) {
        println!(
            "median cost of the meter over {} rounds: {:.1}% of delivered events per server CPU second (rounds: {})",
            costs.len(),
            median * 100.0,
            costs
                .iter()
                .map(|c| format!("{:.1}%", c * 100.0))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    Ok(())
}
