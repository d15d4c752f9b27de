//! The simulated network's live settings: the added delay per transport, the long-poll hold cap,
//! and the short-poll interval suggested to dashboards.
//!
//! Held in a `watch` channel (in `AppState`) beside the feed's own settings: transports read the
//! current value on each answer or refill, so a change applies at once. Updates are partial and
//! checked as a whole before anything changes: a refused update leaves every setting as it was.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::{config::LONGPOLL_CAP_MS, transport_kind::Transport};

/// Largest added delay per transport: ten seconds is already far worse than any real network.
pub const MAX_ADDED_DELAY_MS: u64 = 10_000;
/// Bounds of the suggested short-poll interval, in milliseconds.
pub const POLL_INTERVAL_MS: std::ops::RangeInclusive<u64> = 100..=60_000;
/// The short-poll interval dashboards start with until the instructor suggests another, in ms.
pub const DEFAULT_POLL_INTERVAL_MS: u64 = 1000;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NetworkSettings {
    /// Simulated network latency: no event or answer of a transport leaves before this much time
    /// has passed since it was ready (published, for pushed events).
    pub added_delay_ms: AddedDelay,
    /// Longest hold of a long poll, in ms ([`LONGPOLL_CAP_MS`]).
    pub longpoll_max_ms: u64,
    /// The short-poll interval the instructor suggests, in ms; dashboards adopt it.
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
#[derive(Debug, Default)]
pub struct NetworkUpdate {
    pub added_delay_ms: Option<AddedDelayUpdate>,
    pub longpoll_max_ms: Option<u64>,
    pub poll_interval_ms: Option<u64>,
}

#[derive(Debug, Default, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddedDelayUpdate {
    pub classic: Option<u64>,
    pub poll: Option<u64>,
    pub longpoll: Option<u64>,
    pub sse: Option<u64>,
    pub ws: Option<u64>,
}

/// Why a network update was refused (nothing changed).
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum NetworkSettingsError {
    #[error("added_delay_ms.{0} must be at most {MAX_ADDED_DELAY_MS}")]
    Delay(&'static str),
    #[error("longpoll_max_ms must be from {} to {}", LONGPOLL_CAP_MS.start(), LONGPOLL_CAP_MS.end())]
    LongPollCap,
    #[error("poll_interval_ms must be from {} to {}", POLL_INTERVAL_MS.start(), POLL_INTERVAL_MS.end())]
    PollInterval,
}

impl From<NetworkSettingsError> for crate::error::ApiError {
    fn from(err: NetworkSettingsError) -> Self {
        crate::error::ApiError::bad_request(err.to_string())
    }
}

impl NetworkSettings {
    /// The settings a server starts with: no added delay, the configured long-poll cap.
    pub fn initial(longpoll_max_ms: u64) -> NetworkSettings {
        NetworkSettings {
            added_delay_ms: AddedDelay::default(),
            longpoll_max_ms,
            poll_interval_ms: DEFAULT_POLL_INTERVAL_MS,
            poll_interval_suggestion: 0,
        }
    }

    /// The settings after `update`, or why the update is refused (then nothing changes).
    pub fn updated(&self, update: &NetworkUpdate) -> Result<NetworkSettings, NetworkSettingsError> {
        let mut next = self.clone();
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
                        return Err(NetworkSettingsError::Delay(name));
                    }
                    *slot = ms;
                }
            }
        }
        if let Some(ms) = update.longpoll_max_ms {
            if !LONGPOLL_CAP_MS.contains(&ms) {
                return Err(NetworkSettingsError::LongPollCap);
            }
            next.longpoll_max_ms = ms;
        }
        if let Some(ms) = update.poll_interval_ms {
            if !POLL_INTERVAL_MS.contains(&ms) {
                return Err(NetworkSettingsError::PollInterval);
            }
            next.poll_interval_ms = ms;
            next.poll_interval_suggestion += 1;
        }
        Ok(next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_update_changes_nothing() {
        let now = NetworkSettings::initial(60_000);
        let late = NetworkUpdate {
            added_delay_ms: Some(AddedDelayUpdate {
                ws: Some(100),
                sse: Some(MAX_ADDED_DELAY_MS + 1),
                ..Default::default()
            }),
            ..Default::default()
        };
        assert_eq!(now.updated(&late), Err(NetworkSettingsError::Delay("sse")));
    }

    #[test]
    fn a_delay_update_keeps_the_other_transports() {
        let now = NetworkSettings::initial(60_000);
        let first = NetworkUpdate {
            added_delay_ms: Some(AddedDelayUpdate {
                ws: Some(300),
                ..Default::default()
            }),
            ..Default::default()
        };
        let second = NetworkUpdate {
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
        let now = NetworkSettings::initial(60_000);
        let edge = NetworkUpdate {
            longpoll_max_ms: Some(*LONGPOLL_CAP_MS.start()),
            poll_interval_ms: Some(*POLL_INTERVAL_MS.end()),
            ..Default::default()
        };
        assert!(now.updated(&edge).is_ok());
        assert_eq!(now.updated(&edge).unwrap().poll_interval_suggestion, 1);
        let below = NetworkUpdate {
            poll_interval_ms: Some(POLL_INTERVAL_MS.start() - 1),
            ..Default::default()
        };
        assert_eq!(now.updated(&below), Err(NetworkSettingsError::PollInterval));
    }
}
