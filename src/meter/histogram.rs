//! Latency histograms: HDR histograms of microseconds, and the summary the stats show.
//!
//! Values are recorded with 3 significant digits from 1 µs to one hour; a larger value is clamped
//! to one hour (and still counted), so that nothing a client reports can make a record fail.

use hdrhistogram::Histogram;
use serde::Serialize;

/// Highest recordable latency: one hour, in microseconds. Larger values are clamped to it.
pub const MAX_LATENCY_US: u64 = 3_600_000_000;

/// Quantiles shown in the stats, in the order of [`Summary`].
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq)]
pub struct Summary {
    pub count: u64,
    pub p50: u64,
    pub p90: u64,
    pub p95: u64,
    pub p99: u64,
    pub max: u64,
    pub mean: f64,
}

pub fn new_histogram() -> Histogram<u64> {
    // Bounds are constants within hdrhistogram's limits: creation cannot fail.
    Histogram::new_with_bounds(1, MAX_LATENCY_US, 3).expect("valid histogram bounds")
}

pub fn record(histogram: &mut Histogram<u64>, micros: u64) {
    histogram.saturating_record(micros.clamp(1, MAX_LATENCY_US));
}

pub fn summarize(histogram: &Histogram<u64>) -> Summary {
    if histogram.is_empty() {
        return Summary::default();
    }
    Summary {
        count: histogram.len(),
        p50: histogram.value_at_quantile(0.50),
        p90: histogram.value_at_quantile(0.90),
        p95: histogram.value_at_quantile(0.95),
        p99: histogram.value_at_quantile(0.99),
        max: histogram.max(),
        mean: (histogram.mean() * 10.0).round() / 10.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_of_known_values() {
        let mut h = new_histogram();
        for v in 1..=100 {
            record(&mut h, v * 1000);
        }
        record(&mut h, u64::MAX); // clamped, still counted
        let s = summarize(&h);
        assert_eq!(s.count, 101);
        assert!((49_900..=51_100).contains(&s.p50), "p50 {}", s.p50);
        assert!(s.max >= MAX_LATENCY_US);
    }
}
