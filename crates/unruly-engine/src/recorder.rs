//! Per-thread recording of outcomes into one-second windows, flushed to the
//! collector as partial windows (histograms merge exactly, so partial windows of
//! the same second from different threads add up to the true window).

use crate::histogram::{new_histogram, record, summarize};
use hdrhistogram::Histogram;
use std::sync::mpsc::Sender;
use std::time::{Duration, Instant};
use unruly_core::{ErrorClass, OperationStats, Outcome, ResponseSample};

/// Distinct outcomes sampled per operation before further new outcomes are only counted.
const MAX_SAMPLES_PER_OPERATION: usize = 32;

/// Counts and latencies of one operation in one (partial) window, or over a
/// whole run (explore keeps one per operation).
#[derive(Debug, Clone)]
pub struct OperationWindow {
    pub(crate) latency: Histogram<u64>,
    pub(crate) requests: u64,
    pub(crate) errors: [u64; ErrorClass::ALL.len()],
    pub(crate) status: Vec<(u16, u64)>,
    pub(crate) bytes: u64,
}

impl Default for OperationWindow {
    fn default() -> Self {
        Self::new()
    }
}

impl OperationWindow {
    /// Nothing counted yet.
    pub fn new() -> Self {
        Self {
            latency: new_histogram(),
            requests: 0,
            errors: [0; ErrorClass::ALL.len()],
            status: Vec::new(),
            bytes: 0,
        }
    }

    /// Adds `other` into `self`.
    pub fn merge(&mut self, other: &OperationWindow) {
        // Both histograms have the same bounds, so adding cannot fail.
        let _ = self.latency.add(&other.latency);
        self.requests += other.requests;
        for (mine, theirs) in self.errors.iter_mut().zip(other.errors) {
            *mine += theirs;
        }
        for &(code, count) in &other.status {
            add_status(&mut self.status, code, count);
        }
        self.bytes += other.bytes;
    }

    /// Counts one finished request: its outcome, its latency (answers and
    /// timeouts only: a reset's time says nothing of the service's speed) and
    /// the bytes received.
    pub fn add(&mut self, outcome: Outcome, latency: Duration, bytes: u64) {
        self.requests += 1;
        self.bytes += bytes;
        match outcome {
            Outcome::Status(code) => {
                add_status(&mut self.status, code, 1);
                record(&mut self.latency, latency);
            }
            // A timeout took at least this long: leaving it out would hide the
            // slowest requests from the percentiles.
            Outcome::Failed(ErrorClass::Timeout | ErrorClass::Unfinished) => {
                record(&mut self.latency, latency)
            }
            Outcome::Failed(_) => {}
        }
        if let Some(class) = outcome.error_class() {
            self.errors[class.index()] += 1;
        }
    }

    /// The report's statistics of these counts, named `name`, over `seconds`.
    pub fn stats(&self, name: &str, seconds: f64) -> OperationStats {
        OperationStats {
            operation: name.to_string(),
            requests: self.requests,
            errors: self.error_count(),
            errors_by_class: ErrorClass::ALL
                .iter()
                .map(|class| (*class, self.errors[class.index()]))
                .collect(),
            status: self.status.iter().copied().collect(),
            latency_ms: summarize(&self.latency),
            rps: if seconds > 0.0 {
                self.requests as f64 / seconds
            } else {
                0.0
            },
            bytes_received: self.bytes,
        }
    }

    /// Requests counted.
    pub fn requests(&self) -> u64 {
        self.requests
    }

    /// Failed requests: every class that [`ErrorClass::is_failure`].
    pub fn error_count(&self) -> u64 {
        ErrorClass::ALL
            .iter()
            .filter(|class| class.is_failure())
            .map(|class| self.errors[class.index()])
            .sum()
    }

    fn clear(&mut self) {
        self.latency.reset();
        self.requests = 0;
        self.errors = [0; ErrorClass::ALL.len()];
        self.status.clear();
        self.bytes = 0;
    }
}

fn add_status(status: &mut Vec<(u16, u64)>, code: u16, count: u64) {
    match status.iter_mut().find(|(c, _)| *c == code) {
        Some((_, n)) => *n += count,
        None => status.push((code, count)),
    }
}

/// What a thread sends to the collector.
pub(crate) enum Message {
    /// Part of one second's window, per operation.
    Partial {
        second: u64,
        operations: Vec<OperationWindow>,
    },
    /// The thread's samples, sent once when it ends.
    Samples(Vec<ResponseSample>),
    /// The thread has finished.
    Done,
}

/// One thread's recorder.
pub(crate) struct Recorder {
    start: Instant,
    second: u64,
    operations: Vec<OperationWindow>,
    dirty: bool,
    tx: Sender<Message>,
    /// Kept samples per operation (a few each: a linear scan beats hashing).
    samples: Vec<Vec<(Outcome, ResponseSample)>>,
}

impl Recorder {
    pub fn new(start: Instant, operation_count: usize, tx: Sender<Message>) -> Self {
        Self {
            start,
            second: 0,
            operations: (0..operation_count)
                .map(|_| OperationWindow::new())
                .collect(),
            dirty: false,
            tx,
            samples: (0..operation_count).map(|_| Vec::new()).collect(),
        }
    }

    /// Records one finished request of operation `op`.
    pub fn record(&mut self, op: usize, outcome: Outcome, latency: Duration, bytes: u64) {
        let second = self.start.elapsed().as_secs();
        if second != self.second {
            self.flush();
            self.second = second;
        }
        self.operations[op].add(outcome, latency, bytes);
        self.dirty = true;
        if let Some((_, sample)) = self.samples[op]
            .iter_mut()
            .find(|(kept, _)| *kept == outcome)
        {
            sample.count += 1;
        }
    }

    /// Whether a request of `op` with this outcome should be kept as a sample.
    pub fn wants_sample(&self, op: usize, outcome: Outcome) -> bool {
        let kept = &self.samples[op];
        kept.len() < MAX_SAMPLES_PER_OPERATION && !kept.iter().any(|(seen, _)| *seen == outcome)
    }

    /// Keeps `sample` (call before [`Recorder::record`] of the same request, which counts it).
    pub fn keep_sample(&mut self, op: usize, outcome: Outcome, mut sample: ResponseSample) {
        sample.first_seen_s = self.start.elapsed().as_secs_f64();
        sample.count = 0;
        self.samples[op].push((outcome, sample));
    }

    /// Sends the current partial window, if anything was recorded.
    pub fn flush(&mut self) {
        if !self.dirty {
            return;
        }
        let operations = self.operations.clone();
        for window in &mut self.operations {
            window.clear();
        }
        self.dirty = false;
        let _ = self.tx.send(Message::Partial {
            second: self.second,
            operations,
        });
    }

    /// Flushes and hands over the samples; the recorder is done.
    pub fn finish(&mut self) {
        self.flush();
        let samples = self
            .samples
            .iter_mut()
            .flat_map(std::mem::take)
            .map(|(_, sample)| sample)
            .collect();
        let _ = self.tx.send(Message::Samples(samples));
        let _ = self.tx.send(Message::Done);
    }
}
