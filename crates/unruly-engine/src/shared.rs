//! State shared by every user of a run: the prepared operations, the arrival
//! schedule or request budget, and the stop signals.

use crate::endpoint::Endpoint;
use crate::request::PreparedOperation;
use crate::schedule::ArrivalSchedule;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;
use unruly_core::SeededRng;

/// What a user may do next.
pub(crate) enum Claim {
    /// Nothing more to send.
    Stop,
    /// Send now (closed model).
    Now,
    /// Send at this instant (open model).
    Due(Instant),
}

/// Read-mostly state shared by all users on all threads.
pub(crate) struct Shared {
    pub endpoint: Endpoint,
    pub operations: Vec<PreparedOperation>,
    pub operation_names: Vec<String>,
    /// Cumulative weights for weighted picks (a weight of 0 is never picked;
    /// all zero picks uniformly).
    pub cumulative_weights: Vec<u64>,
    pub timeout: Duration,
    pub max_body_bytes: u64,
    pub think_time: Duration,
    /// Whether any template uses `{{seq}}` (else the shared counter is skipped).
    pub uses_seq: bool,
    /// Set when Ctrl-C ended the run: aborted requests are not recorded then.
    pub interrupted: AtomicBool,
    pub seed: u64,
    pub start: Instant,
    pub schedule: Option<ArrivalSchedule>,
    pub next_arrival: AtomicU64,
    /// Closed model bounded by count: the most requests to issue.
    pub budget: Option<u64>,
    pub issued: AtomicU64,
    pub seq: AtomicU64,
    /// No new requests once cancelled; in-flight ones may finish. Cancel it
    /// through [`Shared::stop`], which also sets the flag the hot path reads.
    pub stop_issuing: CancellationToken,
    /// Mirrors `stop_issuing` as one atomic load per request.
    pub stopped: AtomicBool,
    /// In-flight requests are dropped once cancelled.
    pub abort: CancellationToken,
}

impl Shared {
    /// Stops issuing new requests (idempotent).
    pub fn stop(&self) {
        self.stopped.store(true, Ordering::Release);
        self.stop_issuing.cancel();
    }

    /// Whether the run stopped issuing new requests.
    pub fn is_stopped(&self) -> bool {
        self.stopped.load(Ordering::Acquire)
    }

    /// Claims the next request for a user.
    pub fn claim(&self) -> Claim {
        if let Some(schedule) = &self.schedule {
            let k = self.next_arrival.fetch_add(1, Ordering::Relaxed);
            return match schedule.due(k) {
                Some(due) => Claim::Due(self.start + due),
                None => Claim::Stop,
            };
        }
        if let Some(budget) = self.budget {
            if self.issued.fetch_add(1, Ordering::Relaxed) >= budget {
                return Claim::Stop;
            }
        }
        Claim::Now
    }

    /// Picks the operation of the next request.
    pub fn pick_operation(&self, rng: &mut SeededRng) -> usize {
        if self.operations.len() == 1 {
            return 0;
        }
        match self.cumulative_weights.last() {
            Some(&total) if total > 0 => {
                let ticket = rng.next_u64() % total;
                self.cumulative_weights.partition_point(|&w| w <= ticket)
            }
            _ => (rng.next_u64() % self.operations.len() as u64) as usize,
        }
    }
}
