//! The feed's live settings, as the instructor changes them while clients are connected: the
//! generator's rate, the payload padding, and pause.
//!
//! Held in a `watch` channel (in `AppState`): the generator reads the current value and a change
//! wakes it at once. Updates are partial and checked before anything changes. What the instructor
//! simulates of the network (delays, caps, faults) is not here but in `network`.

use serde::Serialize;

use crate::config::{MAX_PAYLOAD_BYTES, MAX_RATE_HZ, MIN_RATE_HZ, rate_allowed};

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FeedSettings {
    /// Events per second of the built-in generator: 0, or [`MIN_RATE_HZ`] to [`MAX_RATE_HZ`].
    pub rate_hz: f64,
    /// Bytes of padding added to each generated event (`data.pad`), to show the cost of size
    /// (0..=[`MAX_PAYLOAD_BYTES`]).
    pub payload_bytes: usize,
    /// A paused feed publishes no ticks; chat still flows.
    pub paused: bool,
}

/// A partial update of [`FeedSettings`]: absent fields keep their value.
#[derive(Debug, Default, Clone, Copy)]
pub struct FeedUpdate {
    pub rate_hz: Option<f64>,
    pub payload_bytes: Option<usize>,
    pub paused: Option<bool>,
}

/// Why a feed update was refused (nothing changed).
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum FeedSettingsError {
    #[error("rate_hz must be 0 (no ticks) or a number from {MIN_RATE_HZ} to {MAX_RATE_HZ}")]
    Rate,
    #[error("payload_bytes must be at most {MAX_PAYLOAD_BYTES}")]
    Payload,
}

impl From<FeedSettingsError> for crate::error::ApiError {
    fn from(err: FeedSettingsError) -> Self {
        crate::error::ApiError::bad_request(err.to_string())
    }
}

impl FeedSettings {
    /// The settings a server starts with.
    pub fn initial(rate_hz: f64) -> FeedSettings {
        FeedSettings {
            // -0 is 0 (IEEE 754: -0 + 0 = +0): it was shown "-0 events/s".
            rate_hz: rate_hz + 0.0,
            payload_bytes: 0,
            paused: false,
        }
    }

    /// The settings after `update`, or why the update is refused (then nothing changes).
    pub fn updated(&self, update: &FeedUpdate) -> Result<FeedSettings, FeedSettingsError> {
        let mut next = self.clone();
        if let Some(rate) = update.rate_hz {
            if !rate_allowed(rate) {
                return Err(FeedSettingsError::Rate);
            }
            next.rate_hz = rate + 0.0; // -0 is 0
        }
        if let Some(bytes) = update.payload_bytes {
            if bytes > MAX_PAYLOAD_BYTES {
                return Err(FeedSettingsError::Payload);
            }
            next.payload_bytes = bytes;
        }
        if let Some(paused) = update.paused {
            next.paused = paused;
        }
        Ok(next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_update_changes_nothing() {
        let now = FeedSettings::initial(2.0);
        let bad = FeedUpdate {
            rate_hz: Some(5.0),
            payload_bytes: Some(1 << 30),
            ..Default::default()
        };
        assert_eq!(now.updated(&bad), Err(FeedSettingsError::Payload));
        let nan = FeedUpdate {
            rate_hz: Some(f64::NAN),
            ..Default::default()
        };
        assert_eq!(now.updated(&nan), Err(FeedSettingsError::Rate));
        let good = FeedUpdate {
            paused: Some(true),
            ..Default::default()
        };
        assert!(now.updated(&good).unwrap().paused);
        let edge = FeedUpdate {
            rate_hz: Some(MAX_RATE_HZ),
            ..Default::default()
        };
        assert!(now.updated(&edge).is_ok());
        // Rates so low that their period overflows a timer are refused, 0 is not.
        for (rate, allowed) in [
            (1e-300, false),
            (MIN_RATE_HZ / 2.0, false),
            (-0.0, true),
            (0.0, true),
            (MIN_RATE_HZ, true),
            (f64::INFINITY, false),
        ] {
            let update = FeedUpdate {
                rate_hz: Some(rate),
                ..Default::default()
            };
            assert_eq!(now.updated(&update).is_ok(), allowed, "{rate}");
            if let Ok(next) = now.updated(&update) {
                assert!(
                    next.rate_hz.is_sign_positive(),
                    "{rate} read as {}",
                    next.rate_hz
                );
            }
        }
    }
}
