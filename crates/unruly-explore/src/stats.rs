//! Per-operation counts and latencies of an exploration, as the report's stats
//! (counted by the engine's own [`OperationWindow`], as a load run counts them),
//! and each operation's usual latency for judging slowness.

use hdrhistogram::Histogram;
use std::time::Duration;
use unruly_core::Stats;
use unruly_engine::histogram::{new_histogram, record};
use unruly_engine::OperationWindow;

/// The report's stats: overall, then one entry per operation that was sent.
pub(crate) fn stats(tallies: &[(String, OperationWindow)], elapsed: Duration) -> Stats {
    let seconds = elapsed.as_secs_f64();
    let mut overall = OperationWindow::new();
    let mut operations = Vec::new();
    for (name, tally) in tallies {
        if tally.requests() == 0 {
            continue;
        }
        overall.merge(tally);
        operations.push(tally.stats(name, seconds));
    }
    Stats {
        overall: overall.stats("all", seconds),
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
