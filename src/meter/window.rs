//! The rolling 60-second window behind the live charts: one sample per second per transport.
//!
//! A sample holds rates over the last second (from differences of the running totals, divided by
//! the time that really passed) and the delay percentiles of the events delivered in that second.
//! The window keeps the last [`WINDOW_SECONDS`] samples; older ones are dropped.

use std::{collections::VecDeque, time::Instant};

use serde::Serialize;

use super::{Summary, Transport};

pub const WINDOW_SECONDS: usize = 60;

/// Running totals of one transport at a tick, and the histograms of the second that ended.
pub(super) struct Totals {
    pub requests: u64,
    pub delivered: u64,
    pub empty: u64,
    pub bytes_in: u64,
    pub bytes_out: u64,
    pub delay_second: Summary,
    pub client_second: Summary,
    /// The period's client-latency resolution (µs; 0: unknown), see `TransportStats`.
    pub client_resolution_us: u64,
}

impl Totals {
    /// A client percentile of the second, raised to the resolution (none recorded: 0).
    fn floored(&self, value: u64) -> u64 {
        if self.client_second.count == 0 {
            0
        } else {
            value.max(self.client_resolution_us)
        }
    }

    fn client_p50(&self) -> u64 {
        self.floored(self.client_second.p50)
    }

    fn client_p99(&self) -> u64 {
        self.floored(self.client_second.p99)
    }
}

/// One second of one transport.
#[derive(Debug, Clone, Serialize, Default)]
pub struct SecondRates {
    pub requests_per_s: f64,
    pub events_per_s: f64,
    pub empty_per_s: f64,
    pub bytes_per_s: f64,
    /// Bytes in both directions per delivered event in this second (0 when none was delivered).
    pub bytes_per_event: f64,
    pub delay_p50_us: u64,
    pub delay_p99_us: u64,
    /// Client latencies of the second, never below `client_resolution_us`: a finer figure would
    /// be the clock offset's noise, so a value equal to it reads "within the resolution".
    pub client_p50_us: u64,
    pub client_p99_us: u64,
    /// What the client figures can resolve (µs; 0: no report gave its round trip): the period's
    /// median clock-offset uncertainty (half a best round trip to `/api/time`) per latency.
    pub client_resolution_us: u64,
}

/// One tick of the window: the time it closed (Unix µs) and every transport's second.
#[derive(Debug, Clone, Serialize)]
pub struct WindowSample {
    pub t: u64,
    pub transports: std::collections::BTreeMap<&'static str, SecondRates>,
}

/// Running counts of one transport at the previous tick: requests, delivered, empty, in, out.
type Counts = (u64, u64, u64, u64, u64);

#[derive(Default)]
pub(super) struct Window {
    samples: VecDeque<WindowSample>,
    previous: Option<(Instant, Vec<Counts>)>,
}

impl Window {
    pub fn push(&mut self, t: u64, totals: Vec<Totals>) -> WindowSample {
        let now = Instant::now();
        let counts: Vec<_> = totals
            .iter()
            .map(|x| (x.requests, x.delivered, x.empty, x.bytes_in, x.bytes_out))
            .collect();
        let mut transports = std::collections::BTreeMap::new();
        for (i, transport) in Transport::ALL.into_iter().enumerate() {
            let current = &totals[i];
            let rates = match &self.previous {
                Some((then, before)) => {
                    let secs = now.duration_since(*then).as_secs_f64().max(1e-3);
                    let (r0, d0, e0, i0, o0) = before[i];
                    // After a reset the totals restart from zero: saturate instead of wrapping.
                    let delivered = current.delivered.saturating_sub(d0);
                    let bytes =
                        current.bytes_in.saturating_sub(i0) + current.bytes_out.saturating_sub(o0);
                    SecondRates {
                        requests_per_s: round1(current.requests.saturating_sub(r0) as f64 / secs),
                        events_per_s: round1(delivered as f64 / secs),
                        empty_per_s: round1(current.empty.saturating_sub(e0) as f64 / secs),
                        bytes_per_s: round1(bytes as f64 / secs),
                        bytes_per_event: if delivered == 0 {
                            0.0
                        } else {
                            round1(bytes as f64 / delivered as f64)
                        },
                        delay_p50_us: current.delay_second.p50,
                        delay_p99_us: current.delay_second.p99,
                        client_p50_us: current.client_p50(),
                        client_p99_us: current.client_p99(),
                        client_resolution_us: current.client_resolution_us,
                    }
                }
                // The first tick has no previous totals for rates; its delays are still its own.
                None => SecondRates {
                    delay_p50_us: current.delay_second.p50,
                    delay_p99_us: current.delay_second.p99,
                    client_p50_us: current.client_p50(),
                    client_p99_us: current.client_p99(),
                    client_resolution_us: current.client_resolution_us,
                    ..SecondRates::default()
                },
            };
            transports.insert(transport.as_str(), rates);
        }
        self.previous = Some((now, counts));
        let sample = WindowSample { t, transports };
        if self.samples.len() == WINDOW_SECONDS {
            self.samples.pop_front();
        }
        self.samples.push_back(sample.clone());
        sample
    }

    pub fn samples(&self) -> Vec<WindowSample> {
        self.samples.iter().cloned().collect()
    }
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}
