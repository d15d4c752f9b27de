//! The built-in generator: publishes `tick` events at the rate the settings ask for.
//!
//! It schedules ticks on the monotonic clock from a fixed start, so the rate does not drift with
//! the time each publish takes, and it re-reads the settings the moment an instructor changes them.

use std::time::Duration;

use serde_json::json;
use tokio::{sync::watch, time::Instant};
use tokio_util::sync::CancellationToken;

use super::{FeedSettings, Hub, Kind};

/// Runs until `shutdown` is cancelled.
pub async fn run_generator(
    hub: Hub,
    mut settings: watch::Receiver<FeedSettings>,
    shutdown: CancellationToken,
) {
    let mut value = 100.0_f64;
    loop {
        let current = settings.borrow_and_update().clone();
        if current.paused || current.rate_hz <= 0.0 {
            // Silent feed: nothing to schedule until the settings change.
            tokio::select! {
                changed = settings.changed() => if changed.is_err() { return },
                _ = shutdown.cancelled() => return,
            }
            continue;
        }
        let period = Duration::from_secs_f64(1.0 / current.rate_hz);
        let mut next = Instant::now() + period;
        loop {
            tokio::select! {
                // Settings first: a pause that arrives with a tick wins over the tick.
                biased;
                changed = settings.changed() => {
                    if changed.is_err() { return }
                    break; // new settings: start a new schedule
                }
                _ = shutdown.cancelled() => return,
                _ = tokio::time::sleep_until(next) => {}
            }
            if settings.has_changed().unwrap_or(true) {
                break; // changed while we slept: apply before publishing
            }
            value = next_value(value);
            hub.publish(Kind::Tick, &tick_data(value, current.payload_bytes));
            next += period;
            // If the machine stalled for more than a period, skip the lost ticks instead of
            // publishing a burst: the rate students see stays the rate that was asked.
            let now = Instant::now();
            if next < now {
                next = now + period;
            }
        }
    }
}

/// A bounded random walk around 100, so the values look like a live quote.
fn next_value(value: f64) -> f64 {
    let step = rand::random_range(-0.5..=0.5);
    ((value + step).clamp(50.0, 150.0) * 100.0).round() / 100.0
}

fn tick_data(value: f64, padding: usize) -> serde_json::Value {
    if padding == 0 {
        json!({ "value": value })
    } else {
        json!({ "value": value, "pad": ".".repeat(padding) })
    }
}
