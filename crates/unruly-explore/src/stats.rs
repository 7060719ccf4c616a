//! Per-operation counts and latencies of an exploration, as the report's stats.

use hdrhistogram::Histogram;
use std::collections::BTreeMap;
use std::time::Duration;
use unruly_core::{ErrorClass, OperationStats, Stats};
use unruly_engine::histogram::{new_histogram, record, summarize};

/// What was sent to one operation and how it answered.
pub(crate) struct Tally {
    requests: u64,
    errors_by_class: BTreeMap<ErrorClass, u64>,
    status: BTreeMap<u16, u64>,
    latency: Histogram<u64>,
    bytes_received: u64,
}

impl Tally {
    pub fn new() -> Self {
        Self {
            requests: 0,
            errors_by_class: BTreeMap::new(),
            status: BTreeMap::new(),
            latency: new_histogram(),
            bytes_received: 0,
        }
    }

    /// Counts one exchange: its status or its error class, its latency and size.
    pub fn add(
        &mut self,
        status: Option<u16>,
        error: Option<ErrorClass>,
        latency: Duration,
        bytes: u64,
    ) {
        self.requests += 1;
        if let Some(status) = status {
            *self.status.entry(status).or_default() += 1;
        }
        let class = error.or(match status {
            Some(s) if s >= 500 => Some(ErrorClass::Status5xx),
            Some(s) if s >= 400 => Some(ErrorClass::Status4xx),
            _ => None,
        });
        if let Some(class) = class {
            *self.errors_by_class.entry(class).or_default() += 1;
        }
        record(&mut self.latency, latency);
        self.bytes_received += bytes;
    }

    /// The median latency so far, in milliseconds, once `min_samples` were seen.
    pub fn median_ms(&self, min_samples: u64) -> Option<f64> {
        (self.latency.len() >= min_samples)
            .then(|| self.latency.value_at_quantile(0.5) as f64 / 1000.0)
    }

    fn stats(&self, operation: String, elapsed: Duration) -> OperationStats {
        let errors = self
            .errors_by_class
            .iter()
            .filter(|(class, _)| class.is_failure())
            .map(|(_, n)| n)
            .sum();
        let seconds = elapsed.as_secs_f64();
        OperationStats {
            operation,
            requests: self.requests,
            errors,
            errors_by_class: self.errors_by_class.clone(),
            status: self.status.clone(),
            latency_ms: summarize(&self.latency),
            rps: if seconds > 0.0 {
                self.requests as f64 / seconds
            } else {
                0.0
            },
            bytes_received: self.bytes_received,
        }
    }

    fn merge(&mut self, other: &Tally) {
        self.requests += other.requests;
        for (class, n) in &other.errors_by_class {
            *self.errors_by_class.entry(*class).or_default() += n;
        }
        for (status, n) in &other.status {
            *self.status.entry(*status).or_default() += n;
        }
        // Both histograms have the same bounds, so adding cannot fail.
        let _ = self.latency.add(&other.latency);
        self.bytes_received += other.bytes_received;
    }
}

/// The report's stats: overall, then one entry per operation that was sent.
pub(crate) fn stats(tallies: &[(String, Tally)], elapsed: Duration) -> Stats {
    let mut overall = Tally::new();
    let mut operations = Vec::new();
    for (name, tally) in tallies {
        if tally.requests == 0 {
            continue;
        }
        overall.merge(tally);
        operations.push(tally.stats(name.clone(), elapsed));
    }
    Stats {
        overall: overall.stats("all".to_owned(), elapsed),
        operations,
        missed_arrivals: 0,
    }
}
