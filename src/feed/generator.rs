//! The built-in generator: publishes `tick` events at the rate the settings ask for.
//!
//! It schedules ticks on the monotonic clock from a fixed start, so the rate does not drift with
//! the time each publish takes, and it re-reads the settings the moment an instructor changes them.
//! Its ticks go to a [`TickSink`]: the hub itself, or, in a cluster, the broker (which publishes
//! them only while this server holds the cluster's generator lease).

use std::{
    collections::VecDeque,
    sync::{
        Mutex,
        atomic::{AtomicU64, Ordering::Relaxed},
    },
    time::Duration,
};

use serde_json::json;
use tokio::{sync::watch, time::Instant};
use tokio_util::sync::CancellationToken;

use super::{FeedSettings, Hub, Kind};

/// Most events one burst may publish: a burst larger than the replay buffer would only show
/// `missed`, and this keeps one click from flooding a room.
pub const MAX_BURST: usize = 10_000;

/// How far behind its schedule the generator catches up by publishing the ticks it owes at once;
/// a longer stall (the machine froze) skips them instead of publishing a burst.
const MAX_CATCH_UP: Duration = Duration::from_millis(250);
/// The window over which the published rate is measured, in one-second samples.
const RATE_WINDOW_SAMPLES: usize = 5;
/// Where ticks go. Publishing a tick never waits: a sink that needs time (a broker) queues it.
pub trait TickSink: Send + Sync {
    /// Publishes one `tick` event with this `data`; false when it was dropped (a broker
    /// unreachable, or its queue full).
    fn tick(&self, data: serde_json::Value) -> bool;
    /// Whether the generator's ticks are wanted from this server now (in a cluster: whether it
    /// holds the generator lease; an instructor's burst is published regardless).
    fn generating(&self) -> bool {
        true
    }
    /// Whether the generator counts its ticks for the measured rate when it publishes them
    /// (alone); a broker counts the ticks it reads back instead ([`TickSource::observe`]), so
    /// that every server of a cluster shows the cluster's rate.
    fn counts_at_publish(&self) -> bool {
        true
    }
}

impl TickSink for Hub {
    fn tick(&self, data: serde_json::Value) -> bool {
        self.publish(Kind::Tick, &data);
        true
    }
}

/// The tick values: a bounded random walk around 100, so the values look like a live quote.
/// Shared by the generator and the instructor's burst, so a burst continues the same curve.
pub struct TickSource {
    value: Mutex<f64>,
    /// Ticks the generator has published (bursts excluded), for the measured rate.
    scheduled: AtomicU64,
    /// (when, scheduled ticks then), one sample a second, the last [`RATE_WINDOW_SAMPLES`].
    samples: Mutex<VecDeque<(std::time::Instant, u64)>>,
}

impl Default for TickSource {
    fn default() -> Self {
        TickSource {
            value: Mutex::new(100.0),
            scheduled: AtomicU64::new(0),
            samples: Mutex::new(VecDeque::with_capacity(RATE_WINDOW_SAMPLES + 1)),
        }
    }
}

impl TickSource {
    /// Publishes the next tick, with `padding` bytes of `data.pad`; false if the sink dropped it.
    pub fn publish(&self, sink: &dyn TickSink, padding: usize) -> bool {
        let value = {
            let mut value = self.value.lock().unwrap_or_else(|e| e.into_inner());
            *value = next_value(*value);
            *value
        };
        sink.tick(tick_data(value, padding))
    }

    /// Takes the once-a-second sample of the generator's count (the server's ticker calls it).
    pub fn sample_rate(&self) {
        let mut samples = self.samples.lock().unwrap_or_else(|e| e.into_inner());
        samples.push_back((std::time::Instant::now(), self.scheduled.load(Relaxed)));
        if samples.len() > RATE_WINDOW_SAMPLES {
            samples.pop_front();
        }
    }

    /// The rate the generator actually kept over the last few seconds, in events per second
    /// (0 until two samples exist). Shown beside the rate asked for.
    pub fn measured_rate_hz(&self) -> f64 {
        let samples = self.samples.lock().unwrap_or_else(|e| e.into_inner());
        match (samples.front(), samples.back()) {
            (Some((t0, n0)), Some((t1, n1))) if t1 > t0 => {
                let rate = (n1 - n0) as f64 / t1.duration_since(*t0).as_secs_f64();
                (rate * 10.0).round() / 10.0
            }
            _ => 0.0,
        }
    }

    /// Publishes `count` ticks at once (an instructor's burst), bounded by [`MAX_BURST`];
    /// returns how many the sink took (a broker's queue may still hold an earlier burst).
    pub fn burst(&self, sink: &dyn TickSink, count: usize, padding: usize) -> usize {
        (0..count.min(MAX_BURST))
            .filter(|_| self.publish(sink, padding))
            .count()
    }

    /// A tick was read from a cluster's feed (published by any server): counted for the measured
    /// rate, and the walk goes on from its `data.value`, so that the curve does not jump when
    /// the generator moves to another server.
    pub fn observe(&self, data: &serde_json::Value) {
        self.scheduled.fetch_add(1, Relaxed);
        if let Some(seen) = data.get("value").and_then(serde_json::Value::as_f64) {
            *self.value.lock().unwrap_or_else(|e| e.into_inner()) = seen.clamp(50.0, 150.0);
        }
    }
}

/// Runs until `shutdown` is cancelled.
pub async fn run_generator(
    sink: std::sync::Arc<dyn TickSink>,
    ticks: std::sync::Arc<TickSource>,
    mut settings: watch::Receiver<FeedSettings>,
    shutdown: CancellationToken,
) {
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
        // Settings are checked (`config::rate_allowed`), so the period is at most 100 s; were
        // one to slip through, the feed waits for the next change instead of panicking.
        let Ok(period) = Duration::try_from_secs_f64(1.0 / current.rate_hz) else {
            tracing::error!(rate_hz = current.rate_hz, "a rate with no period: no ticks");
            tokio::select! {
                changed = settings.changed() => if changed.is_err() { return },
                _ = shutdown.cancelled() => return,
            }
            continue;
        };
        let mut next = Instant::now() + period;
        loop {
            tokio::select! {
                // Settings first: a pause that arrives with a tick wins over the tick.
                biased;
                changed = settings.changed() => {
                    if changed.is_err() { return }
                    if ours_changed(&settings, &current) {
                        break; // new rate, payload or pause: start a new schedule
                    }
                    continue; // the same values sent again: the schedule stays
                }
                _ = shutdown.cancelled() => return,
                _ = tokio::time::sleep_until(next) => {}
            }
            if settings.has_changed().unwrap_or(true) && ours_changed(&settings, &current) {
                break; // changed while we slept: apply before publishing
            }
            // Every tick that is due: the timer wakes at millisecond granularity, so at high
            // rates one wake-up owes several ticks (publishing one per wake-up halved 1000/s).
            let now = Instant::now();
            // A stall longer than the catch-up bound (the machine froze) skips the lost ticks
            // instead of publishing a burst: the rate students see stays the rate asked for.
            if now.duration_since(next) > MAX_CATCH_UP {
                next = now;
            }
            while next <= now {
                if sink.generating() {
                    ticks.publish(&*sink, current.payload_bytes);
                    if sink.counts_at_publish() {
                        ticks.scheduled.fetch_add(1, Relaxed);
                    }
                }
                next += period;
            }
        }
    }
}

fn ours_changed(settings: &watch::Receiver<FeedSettings>, current: &FeedSettings) -> bool {
    *settings.borrow() != *current
}

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
