//! The live settings the instructor changes while clients are connected: the feed (rate, payload,
//! pause) and the simulated network (added delay per transport, long-poll hold cap, the short-poll
//! interval suggested to dashboards).
//!
//! Held in a `watch` channel: the generator, the transports and the stats read the current value,
//! and a change wakes the generator at once. Updates are partial and validated as a whole before
//! anything changes: a refused update leaves every setting as it was.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{MAX_PAYLOAD_BYTES, MAX_RATE_HZ};
use crate::meter::Transport;

/// Largest added delay per transport: ten seconds is already far worse than any real network.
pub const MAX_ADDED_DELAY_MS: u64 = 10_000;
/// Bounds of the long-poll hold cap (the hold a client asks for is shortened to the cap).
pub const LONGPOLL_CAP_MS: std::ops::RangeInclusive<u64> = 100..=300_000;
/// Bounds of the suggested short-poll interval.
pub const POLL_INTERVAL_MS: std::ops::RangeInclusive<u64> = 100..=60_000;
/// The short-poll interval dashboards start with until the instructor suggests another.
pub const DEFAULT_POLL_INTERVAL_MS: u64 = 1000;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FeedSettings {
    /// Events per second of the built-in generator.
    pub rate_hz: f64,
    /// Bytes of padding added to each generated event (`data.pad`), to show the cost of size.
    pub payload_bytes: usize,
    /// A paused feed publishes no ticks; chat still flows.
    pub paused: bool,
    /// Simulated network latency: no event or answer of a transport leaves before this much time
    /// has passed since it was ready (published, for pushed events).
    pub added_delay_ms: AddedDelay,
    /// Longest hold of a long poll.
    pub longpoll_max_ms: u64,
    /// The short-poll interval the instructor suggests; dashboards adopt it.
    pub poll_interval_ms: u64,
    /// How many times an interval was suggested (0: never, `poll_interval_ms` is the server's
    /// default). Counted by the server, so that suggesting the same value again is still news
    /// to a dashboard whose student chose another interval meanwhile.
    pub poll_interval_suggestion: u64,
}

/// Added delay per transport, in milliseconds; serialized as `{"classic":0,"poll":0,...}`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct AddedDelay {
    pub classic: u64,
    pub poll: u64,
    pub longpoll: u64,
    pub sse: u64,
    pub ws: u64,
}

impl AddedDelay {
    pub fn of(&self, transport: Transport) -> Duration {
        Duration::from_millis(match transport {
            Transport::Classic => self.classic,
            Transport::Poll => self.poll,
            Transport::LongPoll => self.longpoll,
            Transport::Sse => self.sse,
            Transport::Ws => self.ws,
        })
    }
}

/// A partial update: absent fields keep their value (also inside `added_delay_ms`).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SettingsUpdate {
    pub rate_hz: Option<f64>,
    pub payload_bytes: Option<usize>,
    pub paused: Option<bool>,
    pub added_delay_ms: Option<AddedDelayUpdate>,
    pub longpoll_max_ms: Option<u64>,
    pub poll_interval_ms: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddedDelayUpdate {
    pub classic: Option<u64>,
    pub poll: Option<u64>,
    pub longpoll: Option<u64>,
    pub sse: Option<u64>,
    pub ws: Option<u64>,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum SettingsError {
    #[error("rate_hz must be a number from 0 to {MAX_RATE_HZ}")]
    Rate,
    #[error("payload_bytes must be at most {MAX_PAYLOAD_BYTES}")]
    Payload,
    #[error("added_delay_ms.{0} must be at most {MAX_ADDED_DELAY_MS}")]
    Delay(&'static str),
    #[error("longpoll_max_ms must be from {} to {}", LONGPOLL_CAP_MS.start(), LONGPOLL_CAP_MS.end())]
    LongPollCap,
    #[error("poll_interval_ms must be from {} to {}", POLL_INTERVAL_MS.start(), POLL_INTERVAL_MS.end())]
    PollInterval,
}

impl FeedSettings {
    /// The settings a server starts with.
    pub fn initial(rate_hz: f64, longpoll_max_ms: u64) -> FeedSettings {
        FeedSettings {
            rate_hz,
            payload_bytes: 0,
            paused: false,
            added_delay_ms: AddedDelay::default(),
            longpoll_max_ms,
            poll_interval_ms: DEFAULT_POLL_INTERVAL_MS,
            poll_interval_suggestion: 0,
        }
    }

    /// The settings after `update`, or why the update is refused (then nothing changes).
    pub fn updated(&self, update: &SettingsUpdate) -> Result<FeedSettings, SettingsError> {
        let mut next = self.clone();
        if let Some(rate) = update.rate_hz {
            if !(0.0..=MAX_RATE_HZ).contains(&rate) {
                return Err(SettingsError::Rate);
            }
            next.rate_hz = rate;
        }
        if let Some(bytes) = update.payload_bytes {
            if bytes > MAX_PAYLOAD_BYTES {
                return Err(SettingsError::Payload);
            }
            next.payload_bytes = bytes;
        }
        if let Some(paused) = update.paused {
            next.paused = paused;
        }
        if let Some(delays) = &update.added_delay_ms {
            let slots = [
                ("classic", delays.classic, &mut next.added_delay_ms.classic),
                ("poll", delays.poll, &mut next.added_delay_ms.poll),
                (
                    "longpoll",
                    delays.longpoll,
                    &mut next.added_delay_ms.longpoll,
                ),
                ("sse", delays.sse, &mut next.added_delay_ms.sse),
                ("ws", delays.ws, &mut next.added_delay_ms.ws),
            ];
            for (name, given, slot) in slots {
                if let Some(ms) = given {
                    if ms > MAX_ADDED_DELAY_MS {
                        return Err(SettingsError::Delay(name));
                    }
                    *slot = ms;
                }
            }
        }
        if let Some(ms) = update.longpoll_max_ms {
            if !LONGPOLL_CAP_MS.contains(&ms) {
                return Err(SettingsError::LongPollCap);
            }
            next.longpoll_max_ms = ms;
        }
        if let Some(ms) = update.poll_interval_ms {
            if !POLL_INTERVAL_MS.contains(&ms) {
                return Err(SettingsError::PollInterval);
            }
            next.poll_interval_ms = ms;
            next.poll_interval_suggestion += 1;
        }
        Ok(next)
    }

    /// What the generator depends on: other changes must not restart its schedule.
    pub fn generator_view(&self) -> (f64, usize, bool) {
        (self.rate_hz, self.payload_bytes, self.paused)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_update_changes_nothing() {
        let now = FeedSettings::initial(2.0, 60_000);
        let bad = SettingsUpdate {
            rate_hz: Some(5.0),
            payload_bytes: Some(1 << 30),
            ..Default::default()
        };
        assert_eq!(now.updated(&bad), Err(SettingsError::Payload));
        let nan = SettingsUpdate {
            rate_hz: Some(f64::NAN),
            ..Default::default()
        };
        assert_eq!(now.updated(&nan), Err(SettingsError::Rate));
        let late = SettingsUpdate {
            added_delay_ms: Some(AddedDelayUpdate {
                ws: Some(100),
                sse: Some(MAX_ADDED_DELAY_MS + 1),
                ..Default::default()
            }),
            ..Default::default()
        };
        assert_eq!(now.updated(&late), Err(SettingsError::Delay("sse")));
        let good = SettingsUpdate {
            paused: Some(true),
            ..Default::default()
        };
        assert!(now.updated(&good).unwrap().paused);
    }

    #[test]
    fn a_delay_update_keeps_the_other_transports() {
        let now = FeedSettings::initial(2.0, 60_000);
        let first = SettingsUpdate {
            added_delay_ms: Some(AddedDelayUpdate {
                ws: Some(300),
                ..Default::default()
            }),
            ..Default::default()
        };
        let second = SettingsUpdate {
            added_delay_ms: Some(AddedDelayUpdate {
                poll: Some(50),
                ..Default::default()
            }),
            ..Default::default()
        };
        let after = now.updated(&first).unwrap().updated(&second).unwrap();
        assert_eq!(after.added_delay_ms.of(Transport::Ws).as_millis(), 300);
        assert_eq!(after.added_delay_ms.of(Transport::Poll).as_millis(), 50);
        assert_eq!(after.added_delay_ms.of(Transport::Sse).as_millis(), 0);
    }

    #[test]
    fn bounds_are_inclusive() {
        let now = FeedSettings::initial(2.0, 60_000);
        let edge = SettingsUpdate {
            rate_hz: Some(MAX_RATE_HZ),
            longpoll_max_ms: Some(*LONGPOLL_CAP_MS.start()),
            poll_interval_ms: Some(*POLL_INTERVAL_MS.end()),
            ..Default::default()
        };
        assert!(now.updated(&edge).is_ok());
        assert_eq!(now.updated(&edge).unwrap().poll_interval_suggestion, 1);
        let below = SettingsUpdate {
            poll_interval_ms: Some(POLL_INTERVAL_MS.start() - 1),
            ..Default::default()
        };
        assert_eq!(now.updated(&below), Err(SettingsError::PollInterval));
    }
}
