//! Periodic timers of many connections on one shared grid: a WebSocket's heartbeat, an SSE
//! stream's keep-alive.
//!
//! Each on its own phase, a thousand connections pinging every 5 s wake their worker 200 times a
//! second, each time for one lone ping (and again for its pong). On the grid, every period holds
//! [`SLOTS_PER_PERIOD`] instants shared by the whole process: a connection's ticks fall on one of
//! them, so a worker wakes at most that many times per period and serves every connection due
//! then in one round, as it does for a publish. Measured with `pushlab bench` at 1000 WebSocket
//! clients and 10 events/s, the pings on their own phases cost about 1.5 ms of server CPU per
//! 1000 events delivered (BENCHMARKS.md).
//!
//! The grid is fixed at the first use in the process (`std::time::Instant`), so every runtime and
//! worker shares it; a timer's period stays its own.

use std::{
    sync::OnceLock,
    time::{Duration, Instant},
};

use tokio::time::{Interval, MissedTickBehavior};

/// Instants per period on the grid: the most wake-ups per worker and period for all of its
/// connections' ticks (8: one connection's first tick comes at most 1/8 of a period late).
pub const SLOTS_PER_PERIOD: u32 = 8;

/// An interval ticking every `period` on the shared grid. Its first tick comes after one whole
/// period, and less than `period / SLOTS_PER_PERIOD` later, so the gap between two ticks is never
/// under `period`. A tick missed because the worker was busy is skipped, keeping the grid's
/// phase (tokio's `MissedTickBehavior::Skip`).
pub fn interval(period: Duration) -> Interval {
    let period = period.max(Duration::from_millis(1));
    let first = first_tick(origin().elapsed(), period);
    let mut interval = tokio::time::interval_at(tokio::time::Instant::now() + first, period);
    interval.set_missed_tick_behavior(MissedTickBehavior::Skip);
    interval
}

/// The grid's origin: the first time a timer was made in this process.
fn origin() -> Instant {
    static ORIGIN: OnceLock<Instant> = OnceLock::new();
    *ORIGIN.get_or_init(Instant::now)
}

/// From now (`since_origin` after the grid's origin) to the first tick of a timer of `period`:
/// the first instant of the grid at or after one whole period from now.
fn first_tick(since_origin: Duration, period: Duration) -> Duration {
    let slot = (period / SLOTS_PER_PERIOD).as_nanos().max(1);
    let late = (since_origin + period).as_nanos() % slot;
    let wait = if late == 0 { 0 } else { slot - late };
    period + Duration::from_nanos(wait as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timers_made_at_any_time_tick_on_the_grids_few_instants() {
        let period = Duration::from_secs(5);
        let slot = period / SLOTS_PER_PERIOD;
        let mut phases = std::collections::BTreeSet::new();
        // 1000 timers made 7.3 ms apart (7.3 s: more than a period).
        for i in 0..1000u64 {
            let made = Duration::from_micros(i * 7_300);
            let first = first_tick(made, period);
            assert!(first >= period && first < period + slot, "{first:?}");
            phases.insert(((made + first).as_nanos() % period.as_nanos()) as u64);
        }
        assert_eq!(phases.len(), SLOTS_PER_PERIOD as usize, "{phases:?}");
    }

    #[test]
    fn a_timer_made_on_the_grid_waits_one_period() {
        let period = Duration::from_secs(15);
        assert_eq!(first_tick(Duration::ZERO, period), period);
        assert_eq!(first_tick(period * 3, period), period);
    }
}
