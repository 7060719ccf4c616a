//! Traffic spikes: several operations at once, each at an arrival rate that
//! steps up (×2 per step, say), measured per step: how many arrived, how many
//! were answered and how fast. Latency counts from each request's intended send
//! time, so a target that falls behind shows the queue it builds (no
//! coordinated omission); each operation has a bounded number of requests in
//! flight, and arrivals past it wait their turn (their wait counts).

use crate::endpoint::Endpoint;
use crate::histogram::{new_histogram, record, summarize};
use crate::probe::{ProbeRequest, Prober};
use futures_util::stream::{FuturesUnordered, StreamExt};
use hdrhistogram::Histogram;
use std::collections::VecDeque;
use std::time::Duration;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use unruly_core::LatencySummary;

/// How a spike runs.
#[derive(Debug, Clone)]
pub struct SpikePlan {
    /// The arrival rate of each operation at each step, per second.
    pub rates: Vec<f64>,
    /// How long each step lasts.
    pub step: Duration,
    /// Requests in flight per operation at most.
    pub max_in_flight: usize,
    /// How long one request may take.
    pub timeout: Duration,
}

/// One operation during one step.
#[derive(Debug, Clone, Default)]
pub struct StepStats {
    /// Arrivals scheduled in the step.
    pub offered: u64,
    /// Of those, answered with a status below 500.
    pub answered: u64,
    /// Of those, 5xx answers and failures (timeouts included).
    pub errors: u64,
    /// Requests answered per second, whatever their arrival step, during the step.
    pub throughput: f64,
    /// Latency from intended send time of the step's arrivals.
    pub latency: LatencySummary,
}

/// One step of a spike.
#[derive(Debug, Clone)]
pub struct SpikeStep {
    /// The arrival rate per operation, per second.
    pub rate: f64,
    /// Each operation's figures, in the order given.
    pub operations: Vec<StepStats>,
}

struct OperationState {
    /// Probers not in use.
    idle: Vec<Prober>,
    /// Connections opened so far.
    opened: usize,
    in_flight: usize,
    /// Arrivals waiting for a free slot: (step, intended time).
    waiting: VecDeque<(usize, Instant)>,
    /// Next arrival number.
    next: u64,
    latency: Vec<Histogram<u64>>,
    offered: Vec<u64>,
    answered: Vec<u64>,
    errors: Vec<u64>,
    completions: Vec<u64>,
}

/// Runs `plan` with one request per operation (sent again and again; streamed
/// bodies cannot be repeated and are skipped) until its last step ends or
/// `cancel` fires, then waits for requests in flight (up to the timeout).
pub async fn spike(
    endpoint: &Endpoint,
    requests: &[ProbeRequest],
    plan: &SpikePlan,
    cancel: &CancellationToken,
) -> Vec<SpikeStep> {
    let steps = plan.rates.len();
    let start = Instant::now();
    let end = start + plan.step * steps as u32;
    let mut states: Vec<OperationState> = requests
        .iter()
        .map(|_| OperationState {
            idle: Vec::new(),
            opened: 0,
            in_flight: 0,
            waiting: VecDeque::new(),
            next: 0,
            latency: (0..steps).map(|_| new_histogram()).collect(),
            offered: vec![0; steps],
            answered: vec![0; steps],
            errors: vec![0; steps],
            completions: vec![0; steps + 1],
        })
        .collect();
    let mut in_flight = FuturesUnordered::new();
    let step_of = |at: Instant| -> usize {
        let index = at.saturating_duration_since(start).as_nanos() / plan.step.as_nanos().max(1);
        usize::try_from(index).unwrap_or(usize::MAX).min(steps)
    };
    // The intended time of arrival `k` of an operation: steps back to back, each
    // with its own rate.
    let due = |k: u64| -> Option<Instant> {
        let mut before = 0u64;
        for (index, rate) in plan.rates.iter().enumerate() {
            let in_step = (rate * plan.step.as_secs_f64()).floor() as u64;
            if k < before + in_step {
                let offset = (k - before) as f64 / rate;
                return Some(start + plan.step * index as u32 + Duration::from_secs_f64(offset));
            }
            before += in_step;
        }
        None
    };

    loop {
        if cancel.is_cancelled() {
            break;
        }
        // Launch what is due and fits.
        let now = Instant::now();
        for (op, state) in states.iter_mut().enumerate() {
            while let Some(at) = due(state.next).filter(|&at| at <= now) {
                state.next += 1;
                let step = step_of(at).min(steps - 1);
                state.offered[step] += 1;
                state.waiting.push_back((step, at));
            }
            while state.in_flight < plan.max_in_flight.max(1) {
                let Some((step, intended)) = state.waiting.pop_front() else {
                    break;
                };
                let Some(request) = requests[op].try_clone() else {
                    state.errors[step] += 1;
                    continue;
                };
                let mut prober = state.idle.pop().unwrap_or_else(|| {
                    state.opened += 1;
                    Prober::new(endpoint.clone(), state.opened, 0)
                });
                state.in_flight += 1;
                let timeout = plan.timeout;
                in_flight.push(async move {
                    let answer = prober.send(request, timeout).await;
                    (op, step, intended, prober, answer.map(|a| a.status).ok())
                });
            }
        }
        let next_due = states.iter().filter_map(|s| due(s.next)).min();
        if next_due.is_none() && in_flight.is_empty() && states.iter().all(|s| s.waiting.is_empty())
        {
            break;
        }
        let wake = next_due.unwrap_or(end + plan.timeout);
        tokio::select! {
            biased;
            () = cancel.cancelled() => break,
            Some((op, step, intended, prober, status)) = in_flight.next(), if !in_flight.is_empty() => {
                let done = Instant::now();
                let state = &mut states[op];
                state.in_flight -= 1;
                state.idle.push(prober);
                state.completions[step_of(done)] += 1;
                record(&mut state.latency[step], done - intended);
                match status {
                    Some(status) if status < 500 => state.answered[step] += 1,
                    _ => state.errors[step] += 1,
                }
            }
            () = tokio::time::sleep_until(wake) => {
                if next_due.is_none() && Instant::now() >= end + plan.timeout {
                    break;
                }
            }
        }
    }
    let seconds = plan.step.as_secs_f64();
    plan.rates
        .iter()
        .enumerate()
        .map(|(index, &rate)| SpikeStep {
            rate,
            operations: states
                .iter()
                .map(|state| StepStats {
                    offered: state.offered[index],
                    answered: state.answered[index],
                    errors: state.errors[index],
                    throughput: state.completions[index] as f64 / seconds,
                    latency: summarize(&state.latency[index]),
                })
                .collect(),
        })
        .collect()
}
