//! Refresh storms and many tabs: the same request from many connections as fast
//! as they can, a share of them abandoned (the connection closed right after the
//! request went out, before any answer), as impatient users do.

use super::wire::{self, WireRequest};
use crate::endpoint::Endpoint;
use crate::probe::{ProbeRequest, Prober};
use crate::recorder::OperationWindow;
use futures_util::future::join_all;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};
use tokio::io::AsyncWriteExt;
use tokio_util::sync::CancellationToken;
use unruly_core::{Outcome, SeededRng};

/// How a storm runs.
#[derive(Debug, Clone)]
pub struct StormOptions {
    /// Connections (tabs), each sending one request after another.
    pub tabs: usize,
    /// How long it lasts.
    pub duration: Duration,
    /// The share of requests abandoned, 0 to 1.
    pub abandon: f64,
    /// The seed of the choice of which requests are abandoned.
    pub seed: u64,
    /// How long one request may take.
    pub timeout: Duration,
}

/// What a storm saw.
#[derive(Debug, Clone, Default)]
pub struct StormReport {
    /// Requests answered or failed (abandoned ones not included).
    pub requests: u64,
    /// Requests abandoned on purpose.
    pub abandoned: u64,
    /// Answers by status.
    pub statuses: BTreeMap<u16, u64>,
    /// Failures (no answer) by class.
    pub failures: BTreeMap<&'static str, u64>,
    /// The first failure or 5xx seen, with its time from the start.
    pub first_problem: Option<(Duration, String)>,
    /// Outcomes and latencies of the answered requests.
    pub window: OperationWindow,
}

impl StormReport {
    /// Answers with a 5xx status plus failures.
    pub fn problems(&self) -> u64 {
        self.statuses.range(500..600).map(|(_, n)| n).sum::<u64>()
            + self.failures.values().sum::<u64>()
    }
}

/// Runs a storm of `request` on `endpoint` until `options.duration` passes or
/// `cancel` fires. Streamed bodies are not supported (an error).
pub async fn refresh_storm(
    endpoint: &Endpoint,
    request: &ProbeRequest,
    options: &StormOptions,
    cancel: &CancellationToken,
) -> Result<StormReport, String> {
    let wire = WireRequest::encode(endpoint, request)?.to_bytes();
    let report = RefCell::new(StormReport::default());
    let start = Instant::now();
    let until = start + options.duration;
    join_all((0..options.tabs.max(1)).map(|tab| {
        let wire = &wire;
        let report = &report;
        async move {
            let mut rng = SeededRng::fork(options.seed, tab as u64);
            let mut prober = Prober::new(endpoint.clone(), tab, 1024);
            while Instant::now() < until && !cancel.is_cancelled() {
                if rng.unit_f64() < options.abandon {
                    abandon(endpoint, tab, wire).await;
                    report.borrow_mut().abandoned += 1;
                    continue;
                }
                let Some(copy) = request.try_clone() else {
                    break;
                };
                let answer = prober.send(copy, options.timeout).await;
                let mut report = report.borrow_mut();
                report.requests += 1;
                match answer {
                    Ok(answer) => {
                        *report.statuses.entry(answer.status).or_default() += 1;
                        report.window.add(
                            Outcome::Status(answer.status),
                            answer.elapsed,
                            answer.body_len,
                        );
                        if answer.status >= 500 && report.first_problem.is_none() {
                            report.first_problem =
                                Some((start.elapsed(), format!("status {}", answer.status)));
                        }
                    }
                    Err(failure) => {
                        *report.failures.entry(failure.class.as_str()).or_default() += 1;
                        report
                            .window
                            .add(Outcome::Failed(failure.class), failure.elapsed, 0);
                        if report.first_problem.is_none() {
                            report.first_problem = Some((
                                start.elapsed(),
                                format!("{}: {}", failure.class.as_str(), failure.message),
                            ));
                        }
                    }
                }
            }
        }
    }))
    .await;
    Ok(report.into_inner())
}

/// Sends the request on a connection of its own and closes it at once.
async fn abandon(endpoint: &Endpoint, index: usize, wire: &[u8]) {
    if let Ok(mut stream) = wire::connect(endpoint, index, Duration::from_secs(5)).await {
        let _ = stream.write_all(wire).await;
        let _ = stream.flush().await;
    }
}
