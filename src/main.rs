//! The `pushlab` command: `pushlab` / `pushlab serve` runs the server; `pushlab bench` (soon)
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
}

#[actix_web::main]
async fn main() {
    let cli = Cli::parse();
    pushlab::telemetry::init();
    let config = match cli.command {
        Some(Command::Serve(config)) => config,
        None => cli.serve,
    };
    if let Err(e) = serve(config).await {
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
