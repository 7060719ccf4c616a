//! The collector: merges the threads' partial windows into exact per-second
//! windows and run totals, and turns them into the report's statistics.

use crate::histogram::summarize;
use crate::recorder::OperationWindow;
use std::collections::BTreeMap;
use unruly_core::{ErrorClass, OperationStats, Stats, Window, WindowOperation};

/// Windows and totals, merged across threads.
pub(crate) struct Collector {
    names: Vec<String>,
    windows: BTreeMap<u64, Vec<OperationWindow>>,
    totals: Vec<OperationWindow>,
}

impl Collector {
    pub fn new(names: Vec<String>) -> Self {
        let totals = names.iter().map(|_| OperationWindow::new()).collect();
        Self {
            names,
            windows: BTreeMap::new(),
            totals,
        }
    }

    /// Adds a thread's partial window of `second`.
    pub fn add(&mut self, second: u64, operations: Vec<OperationWindow>) {
        for (total, part) in self.totals.iter_mut().zip(&operations) {
            total.merge(part);
        }
        match self.windows.get_mut(&second) {
            Some(window) => {
                for (mine, part) in window.iter_mut().zip(&operations) {
                    mine.merge(part);
                }
            }
            None => {
                self.windows.insert(second, operations);
            }
        }
    }

    /// The summary of `second` (empty if nothing happened then).
    pub fn window(&self, second: u64) -> Window {
        match self.windows.get(&second) {
            Some(operations) => self.summarize_window(second, operations),
            None => Window {
                t_s: second,
                ..Window::default()
            },
        }
    }

    /// The last second with any data.
    pub fn last_second(&self) -> Option<u64> {
        self.windows.keys().next_back().copied()
    }

    /// Every second from 0 to the last one with data, gaps included.
    pub fn timeline(&self) -> Vec<Window> {
        match self.last_second() {
            Some(last) => (0..=last).map(|second| self.window(second)).collect(),
            None => Vec::new(),
        }
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
                operation_stats(name, total, seconds)
            })
            .collect();
        Stats {
            overall: operation_stats("all", &overall, seconds),
            operations,
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
            errors_by_class: ErrorClass::ALL
                .iter()
                .filter(|class| all.errors[class.index()] > 0)
                .map(|class| (*class, all.errors[class.index()]))
                .collect(),
            latency_ms: summarize(&all.latency),
            operations: per_operation,
        }
    }
}

fn operation_stats(name: &str, window: &OperationWindow, seconds: f64) -> OperationStats {
    OperationStats {
        operation: name.to_string(),
        requests: window.requests,
        errors: window.error_count(),
        errors_by_class: ErrorClass::ALL
            .iter()
            .map(|class| (*class, window.errors[class.index()]))
            .collect(),
        status: window.status.iter().copied().collect(),
        latency_ms: summarize(&window.latency),
        rps: if seconds > 0.0 {
            window.requests as f64 / seconds
        } else {
            0.0
        },
        bytes_received: window.bytes,
    }
}
