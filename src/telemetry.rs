//! Logging setup: `tracing` events to stderr, filtered by `RUST_LOG`.
//!
//! Called once by `main`; tests stay silent unless `TEST_LOG` is set.

use std::io::IsTerminal;

use tracing_subscriber::{EnvFilter, fmt};

/// Default filter when `RUST_LOG` is unset: pushlab's own events, and warnings from actix.
const DEFAULT_FILTER: &str = "pushlab=info,actix_server=warn,actix_http=warn";

pub fn init() {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
    // A second call (tests) keeps the first subscriber.
    // Colour escapes only for a terminal: a log file or a pipe gets plain text.
    let _ = fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .try_init();
}

/// For tests: logs only when `TEST_LOG` is set, so a failing test can be rerun with logs.
pub fn init_for_tests() {
    if std::env::var_os("TEST_LOG").is_some() {
        init();
    }
}
