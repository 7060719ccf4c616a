//! Latency histograms (HDR, microseconds) and their summaries.

use hdrhistogram::Histogram;
use std::time::Duration;
use unruly_core::LatencySummary;

/// Highest latency recorded exactly: one hour; longer ones saturate.
const MAX_MICROS: u64 = 3_600_000_000;

/// A latency histogram in microseconds with 3 significant digits.
pub fn new_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, MAX_MICROS, 3).unwrap_or_else(|_| {
        // The bounds above are constants that hdrhistogram accepts.
        Histogram::new(3).expect("3 significant digits is valid")
    })
}

/// Records one latency.
pub fn record(histogram: &mut Histogram<u64>, latency: Duration) {
    let micros = latency.as_micros().clamp(1, MAX_MICROS as u128) as u64;
    histogram.saturating_record(micros);
}

/// The summary of a histogram, in milliseconds (zeros when empty).
pub fn summarize(histogram: &Histogram<u64>) -> LatencySummary {
    if histogram.is_empty() {
        return LatencySummary::default();
    }
    let ms = |micros: u64| micros as f64 / 1000.0;
    LatencySummary {
        min: ms(histogram.min()),
        // Microsecond precision, like the percentiles.
        mean: histogram.mean().round() / 1000.0,
        p50: ms(histogram.value_at_quantile(0.50)),
        p90: ms(histogram.value_at_quantile(0.90)),
        p99: ms(histogram.value_at_quantile(0.99)),
        p99_9: ms(histogram.value_at_quantile(0.999)),
        max: ms(histogram.max()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merged_histograms_equal_one_histogram_of_everything() {
        let mut whole = new_histogram();
        let mut parts = [new_histogram(), new_histogram(), new_histogram()];
        for i in 0..30_000u64 {
            let latency = Duration::from_micros((i * 7919) % 250_000 + 1);
            record(&mut whole, latency);
            record(&mut parts[(i % 3) as usize], latency);
        }
        let mut merged = new_histogram();
        for part in &parts {
            merged.add(part).unwrap();
        }
        assert_eq!(summarize(&merged), summarize(&whole));
        assert_eq!(merged.len(), 30_000);
    }

    #[test]
    fn summary_is_in_milliseconds() {
        let mut h = new_histogram();
        record(&mut h, Duration::from_millis(5));
        let s = summarize(&h);
        assert!((s.p50 - 5.0).abs() < 0.01, "{s:?}");
        assert_eq!(summarize(&new_histogram()), LatencySummary::default());
    }
}
