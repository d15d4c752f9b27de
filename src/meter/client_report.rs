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
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ClientReportError {
    #[error("unknown transport {0:?}: expected classic, poll, longpoll, sse or ws")]
    Transport(String),
    #[error("latencies_us must hold 1 to {MAX_REPORT_LATENCIES} values")]
    BatchSize,
    #[error("latency {0} µs is out of range (0 to {MAX_LATENCY_US})")]
    Value(i64),
}

impl From<ClientReportError> for crate::error::ApiError {
    fn from(err: ClientReportError) -> Self {
        crate::error::ApiError::bad_request(err.to_string())
    }
}

impl ClientReport {
    /// The transport and the latencies to record, or why the report is refused.
    pub fn validate(&self) -> Result<(Transport, Vec<u64>), ClientReportError> {
        let transport = Transport::parse(&self.transport)
            .ok_or_else(|| ClientReportError::Transport(self.transport.clone()))?;
        if self.latencies_us.is_empty() || self.latencies_us.len() > MAX_REPORT_LATENCIES {
            return Err(ClientReportError::BatchSize);
        }
        // Negative values are refused: the client routine (static/js/measures/latency.js) clamps the
        // clock-offset noise of a fast loopback delivery to 0 itself, so a negative value here
        // means a broken client, and it shows up as an error instead of bending the figures.
        let values = self
            .latencies_us
            .iter()
            .map(|&v| {
                if (0..=MAX_LATENCY_US as i64).contains(&v) {
                    Ok(v as u64)
                } else {
                    Err(ClientReportError::Value(v))
                }
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok((transport, values))
    }
}
