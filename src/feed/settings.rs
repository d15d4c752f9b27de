//! The feed's live settings, which the instructor changes while clients are connected.
//!
//! Held in a `watch` channel: the generator and the stats read the current value, and a change
//! wakes the generator at once. Updates are partial and validated before anything changes.

use serde::{Deserialize, Serialize};

use super::{MAX_PAYLOAD_BYTES, MAX_RATE_HZ};

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FeedSettings {
    /// Events per second of the built-in generator.
    pub rate_hz: f64,
    /// Bytes of padding added to each generated event (`data.pad`), to show the cost of size.
    pub payload_bytes: usize,
    /// A paused feed publishes no ticks; chat still flows.
    pub paused: bool,
}

/// A partial update: absent fields keep their value.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SettingsUpdate {
    pub rate_hz: Option<f64>,
    pub payload_bytes: Option<usize>,
    pub paused: Option<bool>,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum SettingsError {
    #[error("rate_hz must be a number from 0 to {MAX_RATE_HZ}")]
    Rate,
    #[error("payload_bytes must be at most {MAX_PAYLOAD_BYTES}")]
    Payload,
}

impl FeedSettings {
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
        Ok(next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_update_changes_nothing() {
        let now = FeedSettings {
            rate_hz: 2.0,
            payload_bytes: 0,
            paused: false,
        };
        let bad = SettingsUpdate {
            rate_hz: Some(5.0),
            payload_bytes: Some(1 << 30),
            paused: None,
        };
        assert_eq!(now.updated(&bad), Err(SettingsError::Payload));
        let nan = SettingsUpdate {
            rate_hz: Some(f64::NAN),
            ..Default::default()
        };
        assert_eq!(now.updated(&nan), Err(SettingsError::Rate));
        let good = SettingsUpdate {
            paused: Some(true),
            ..Default::default()
        };
        assert!(now.updated(&good).unwrap().paused);
    }
}
