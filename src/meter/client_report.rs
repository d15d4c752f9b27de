//! Latencies measured in a browser or bench client, posted to `POST /api/client-metrics`.
//!
//! A report names one transport and carries a bounded batch of end-to-end latencies in µs,
//! computed by the client as (its receive time + its clock offset) - the event's `ts`.
//! Everything is checked before anything is recorded: a bad report is refused whole.

use serde::Deserialize;

use super::{MAX_LATENCY_US, Transport};

/// Largest batch accepted in one report.
pub const MAX_REPORT_LATENCIES: usize = 1000;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientReport {
    pub transport: String,
    pub latencies_us: Vec<i64>,
    /// The client's clock offset estimate (server - client, µs), kept for display only.
    #[serde(default)]
    pub offset_us: Option<i64>,
    /// The round trip to `/api/time` (µs) that gave the offset (Cristian's method): the offset is
    /// known to ± half of it, so no latency of the report is finer. Optional; 0 to
    /// [`MAX_REPORT_RTT_US`].
    #[serde(default)]
    pub rtt_us: Option<i64>,
}

/// Longest round trip a report may give for its clock offset (µs): 1 s, far above any class
/// network's best of eight round trips to `/api/time`. A larger one is refused (400): its
/// latencies would be known to no better than ± half a second, and recorded as at least that
/// (a hostile `rtt_us` of 10 s put every SSE figure at 5 s).
pub const MAX_REPORT_RTT_US: u64 = 1_000_000;

/// What a client's clock-offset estimate may be off by, in µs, when a latency is compared with
/// the server's age: half the best round trip to `/api/time`, far below this on any class
/// network. A value beyond the server's age plus this is refused.
pub const CLOCK_SLACK_US: u64 = 5_000_000;

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ClientReportError {
    #[error("unknown transport {0:?}: expected classic, poll, longpoll, sse or ws")]
    Transport(String),
    #[error("latencies_us must hold 1 to {MAX_REPORT_LATENCIES} values")]
    BatchSize,
    #[error("latency {0} µs is out of range (0 to {MAX_LATENCY_US})")]
    Value(i64),
    #[error("rtt_us {0} is out of range (0 to {MAX_REPORT_RTT_US} µs)")]
    RoundTrip(i64),
    #[error(
        "latency {value} µs is longer than this server has been running ({age_us} µs): no event of it can have travelled that long"
    )]
    OlderThanFeed { value: i64, age_us: u64 },
}

impl From<ClientReportError> for crate::error::ApiError {
    fn from(err: ClientReportError) -> Self {
        crate::error::ApiError::bad_request(err.to_string())
    }
}

impl ClientReport {
    /// The transport and the latencies to record, or why the report is refused whole. A value
    /// must be from 0 to [`MAX_LATENCY_US`] and at most `feed_age_us` plus [`CLOCK_SLACK_US`]
    /// (no event is older than the feed that published it).
    pub fn validate(&self, feed_age_us: u64) -> Result<(Transport, Vec<u64>), ClientReportError> {
        let transport = Transport::parse(&self.transport)
            .ok_or_else(|| ClientReportError::Transport(self.transport.clone()))?;
        if self.latencies_us.is_empty() || self.latencies_us.len() > MAX_REPORT_LATENCIES {
            return Err(ClientReportError::BatchSize);
        }
        if let Some(rtt) = self.rtt_us
            && !(0..=MAX_REPORT_RTT_US as i64).contains(&rtt)
        {
            return Err(ClientReportError::RoundTrip(rtt));
        }
        let plausible = feed_age_us.saturating_add(CLOCK_SLACK_US);
        // Negative values are refused: the client routine (static/js/measures/latency.js) clamps
        // the clock-offset noise of a fast loopback delivery to 0 itself, so a negative value
        // here means a broken client, and it shows up as an error instead of bending the figures.
        let values = self
            .latencies_us
            .iter()
            .map(|&v| {
                if !(0..=MAX_LATENCY_US as i64).contains(&v) {
                    Err(ClientReportError::Value(v))
                } else if v as u64 > plausible {
                    Err(ClientReportError::OlderThanFeed {
                        value: v,
                        age_us: feed_age_us,
                    })
                } else {
                    Ok(v as u64)
                }
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok((transport, values))
    }

    /// The report's clock-offset uncertainty (µs): half its round trip, rounded up; None when
    /// it gave none. Call after [`ClientReport::validate`].
    pub fn resolution_us(&self) -> Option<u64> {
        self.rtt_us.map(|rtt| (rtt.max(0) as u64).div_ceil(2))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(values: &[i64]) -> ClientReport {
        ClientReport {
            transport: "ws".into(),
            latencies_us: values.to_vec(),
            offset_us: None,
            rtt_us: None,
        }
    }

    #[test]
    fn implausible_values_refuse_the_whole_report() {
        let minute: u64 = 60_000_000;
        assert!(report(&[0, 350, minute as i64]).validate(minute).is_ok());
        assert_eq!(
            report(&[350, -1]).validate(minute),
            Err(ClientReportError::Value(-1))
        );
        let absurd = MAX_LATENCY_US as i64 + 1;
        assert_eq!(
            report(&[absurd]).validate(u64::MAX),
            Err(ClientReportError::Value(absurd))
        );
        let too_old = (minute + CLOCK_SLACK_US + 1) as i64;
        assert_eq!(
            report(&[350, too_old]).validate(minute),
            Err(ClientReportError::OlderThanFeed {
                value: too_old,
                age_us: minute
            })
        );
        assert_eq!(
            report(&vec![1; MAX_REPORT_LATENCIES + 1]).validate(minute),
            Err(ClientReportError::BatchSize)
        );
    }

    #[test]
    fn a_round_trip_gives_the_resolution_and_is_bounded() {
        let minute: u64 = 60_000_000;
        let mut with_rtt = report(&[350]);
        with_rtt.rtt_us = Some(301);
        assert!(with_rtt.validate(minute).is_ok());
        assert_eq!(with_rtt.resolution_us(), Some(151));
        for bad in [-1, MAX_REPORT_RTT_US as i64 + 1] {
            with_rtt.rtt_us = Some(bad);
            assert_eq!(
                with_rtt.validate(minute),
                Err(ClientReportError::RoundTrip(bad))
            );
        }
        assert_eq!(report(&[350]).resolution_us(), None);
    }
}
