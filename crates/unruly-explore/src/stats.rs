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

/// An operation's usual latency, kept apart for answers that did the work
/// (2xx, 3xx) and answers that refused (4xx and the rest): a valid request
/// that writes to a database is judged against other valid ones, not against
/// the fast refusals of invalid input.
pub(crate) struct Baseline {
    accepted: Histogram<u64>,
    refused: Histogram<u64>,
}

impl Baseline {
    pub fn new() -> Self {
        Self {
            accepted: new_histogram(),
            refused: new_histogram(),
        }
    }

    /// Counts an answer of `status` (`None`: no answer, counted as refused).
    pub fn add(&mut self, status: Option<u16>, latency: Duration) {
        record(self.of_mut(status), latency);
    }

    /// The median latency of answers like `status`, in ms, once
    /// `min_samples` of them were seen.
    pub fn median_ms(&self, status: Option<u16>, min_samples: u64) -> Option<f64> {
        let histogram = self.of(status);
        (histogram.len() >= min_samples).then(|| histogram.value_at_quantile(0.5) as f64 / 1000.0)
    }

    fn of(&self, status: Option<u16>) -> &Histogram<u64> {
        if accepted(status) {
            &self.accepted
        } else {
            &self.refused
        }
    }

    fn of_mut(&mut self, status: Option<u16>) -> &mut Histogram<u64> {
        if accepted(status) {
            &mut self.accepted
        } else {
            &mut self.refused
        }
    }
}

fn accepted(status: Option<u16>) -> bool {
    status.is_some_and(|s| (200..400).contains(&s))
}
