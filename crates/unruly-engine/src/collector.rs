//! The collector: merges the threads' partial windows into exact per-second
//! windows and run totals, and turns them into the report's statistics.
//!
//! Memory stays bounded however long the run: a second's histograms are kept
//! only until the second settles; then it is reduced to its summary. A partial
//! window arriving after that (rare: a thread late by more than the settle time)
//! still counts in the totals, and its counts in its second's summary.

use crate::histogram::summarize;
use crate::recorder::OperationWindow;
use std::collections::BTreeMap;
use unruly_core::{ErrorClass, Stats, Window, WindowOperation};

/// Windows and totals, merged across threads.
pub(crate) struct Collector {
    names: Vec<String>,
    /// Seconds not yet settled, with their histograms.
    pending: BTreeMap<u64, Vec<OperationWindow>>,
    /// Summaries of settled seconds; index = second.
    settled: Vec<Window>,
    totals: Vec<OperationWindow>,
}

impl Collector {
    pub fn new(names: Vec<String>) -> Self {
        let totals = names.iter().map(|_| OperationWindow::new()).collect();
        Self {
            names,
            pending: BTreeMap::new(),
            settled: Vec::new(),
            totals,
        }
    }

    /// Adds a thread's partial window of `second`.
    pub fn add(&mut self, second: u64, operations: Vec<OperationWindow>) {
        for (total, part) in self.totals.iter_mut().zip(&operations) {
            total.merge(part);
        }
        if let Some(window) = self.settled.get_mut(second as usize) {
            add_counts(window, &self.names, &operations);
            return;
        }
        match self.pending.get_mut(&second) {
            Some(window) => {
                for (mine, part) in window.iter_mut().zip(&operations) {
                    mine.merge(part);
                }
            }
            None => {
                self.pending.insert(second, operations);
            }
        }
    }

    /// Number of settled seconds.
    pub fn settled_seconds(&self) -> u64 {
        self.settled.len() as u64
    }

    /// Settles the next second and returns its summary.
    pub fn settle_next(&mut self) -> &Window {
        let second = self.settled.len() as u64;
        let window = match self.pending.remove(&second) {
            Some(operations) => self.summarize_window(second, &operations),
            None => Window {
                t_s: second,
                ..Window::default()
            },
        };
        self.settled.push(window);
        &self.settled[second as usize]
    }

    /// Whether seconds with data remain unsettled.
    pub fn has_pending(&self) -> bool {
        !self.pending.is_empty()
    }

    /// Every settled second, in order.
    pub fn timeline(&self) -> &[Window] {
        &self.settled
    }

    /// Totals per operation and overall; `seconds` is the run's active time.
    pub fn stats(&self, seconds: f64) -> Stats {
        let mut overall = OperationWindow::new();
        let operations = self
            .names
            .iter()
            .zip(&self.totals)
            .map(|(name, total)| {
                overall.merge(total);
                total.stats(name, seconds)
            })
            .collect();
        Stats {
            overall: overall.stats("all", seconds),
            operations,
            missed_arrivals: 0,
        }
    }

    fn summarize_window(&self, second: u64, operations: &[OperationWindow]) -> Window {
        let mut all = OperationWindow::new();
        let mut per_operation = BTreeMap::new();
        for (name, window) in self.names.iter().zip(operations) {
            all.merge(window);
            if window.requests > 0 {
                let latency = summarize(&window.latency);
                per_operation.insert(
                    name.clone(),
                    WindowOperation {
                        requests: window.requests,
                        errors: window.error_count(),
                        p50_ms: latency.p50,
                        p99_ms: latency.p99,
                    },
                );
            }
        }
        Window {
            t_s: second,
            requests: all.requests,
            errors: all.error_count(),
            errors_by_class: class_counts(&all).filter(|(_, count)| *count > 0).collect(),
            latency_ms: summarize(&all.latency),
            operations: per_operation,
        }
    }
}

/// Adds the counts (not the latencies) of a late partial window to a settled summary.
fn add_counts(window: &mut Window, names: &[String], operations: &[OperationWindow]) {
    for (name, part) in names.iter().zip(operations) {
        if part.requests == 0 {
            continue;
        }
        window.requests += part.requests;
        window.errors += part.error_count();
        for (class, count) in class_counts(part).filter(|(_, count)| *count > 0) {
            *window.errors_by_class.entry(class).or_default() += count;
        }
        let operation = window.operations.entry(name.clone()).or_default();
        operation.requests += part.requests;
        operation.errors += part.error_count();
    }
}

fn class_counts(window: &OperationWindow) -> impl Iterator<Item = (ErrorClass, u64)> + '_ {
    ErrorClass::ALL
        .iter()
        .map(|class| (*class, window.errors[class.index()]))
}
