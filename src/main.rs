//! The `pushlab` command: `pushlab` / `pushlab serve` runs the server; `pushlab bench`
//! compares the transports under load.

use clap::{Parser, Subcommand};
use pushlab::{Application, Config};

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
    Serve(Config),
    /// Simulate clients of each transport against a server and compare them.
    Bench(pushlab::bench::BenchArgs),
}

#[actix_web::main]
async fn main() {
    let cli = Cli::parse();
    pushlab::telemetry::init();
    let outcome = match cli.command {
        Some(Command::Serve(config)) => serve(config).await,
        Some(Command::Bench(args)) => bench(args).await,
        None => serve(cli.serve).await,
    };
    if let Err(e) = outcome {
        eprintln!("pushlab: {e:#}");
        std::process::exit(1);
    }
}

async fn serve(config: Config) -> anyhow::Result<()> {
    let app = Application::build(config).await?;
    println!("pushlab is running at {}", app.url());
    println!("admin token: {}", app.admin_token());
    println!("stop with Ctrl-C");
    let stopper = app.stopper();
    // The signal is awaited here, beside the server, not in a spawned task: this future is the
    // one the runtime drives until the end.
    let server = app.run_until_stopped();
    tokio::pin!(server);
    tokio::select! {
        result = &mut server => result?,
        _ = wait_for_signal() => {
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
    let rows = pushlab::bench::run(args).await?;
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({ "transports": rows }))?
        );
    } else if csv {
        pushlab::bench::print_csv(&rows);
    } else {
        pushlab::bench::print_table(&rows);
    }
    Ok(())
}

/// The same load with the meter on, then off; the meter's cost is how many fewer events a
/// server CPU second delivers with it.
async fn meter_cost(args: pushlab::bench::BenchArgs) -> anyhow::Result<()> {
    let with = pushlab::bench::run(pushlab::bench::BenchArgs {
        no_meter: false,
        ..args.clone()
    })
    .await?;
    let without = pushlab::bench::run(pushlab::bench::BenchArgs {
        no_meter: true,
        ..args
    })
    .await?;
    println!("meter on:");
    pushlab::bench::print_table(&with);
    println!("meter off:");
    pushlab::bench::print_table(&without);
    for (on, off) in with.iter().zip(&without) {
        if let (Some(cpu_on), Some(cpu_off)) = (
            on.server_cpu_ms_per_1000_events,
            off.server_cpu_ms_per_1000_events,
        ) {
            // Events per CPU second is 1e6 / (ms per 1000 events); the cost is the relative loss.
            let cost = 1.0 - cpu_off / cpu_on;
            println!(
                "{}: {:.1} ms CPU per 1000 events with the meter, {:.1} without: the meter costs {:.1}% of delivered events per CPU second",
                on.transport,
                cpu_on,
                cpu_off,
                cost * 100.0
            );
        }
    }
    Ok(())
}

/// Ctrl-C, or SIGTERM (how service managers and `kill` ask a process to stop).
async fn wait_for_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(term) => term,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}
