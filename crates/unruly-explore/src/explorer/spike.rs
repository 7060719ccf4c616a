//! A traffic spike: every operation with a valid request at once, each at an
//! arrival rate doubling per step (from 25 to 3200 requests a second), until
//! most of them fall behind (the service as a whole is saturated) or time is
//! up. An operation that falls behind while most others keep up is a
//! bottleneck: `latency_under_load`, with the rate at which it broke (the knee)
//! and the throughput it capped at.

use super::behaviours::is_unsafe;
use super::Explorer;
use std::collections::BTreeMap;
use std::time::Duration;
use unruly_core::{Evidence, Finding, FindingKind, Severity};
use unruly_engine::behaviour::{spike, SpikePlan, SpikeStep, StepStats};
use unruly_engine::{ProbeBody, ProbeRequest};
use unruly_verdict::shell_quote;

/// Arrival rates per operation, per second, one per step.
const RATES: [f64; 8] = [25.0, 50.0, 100.0, 200.0, 400.0, 800.0, 1600.0, 3200.0];
/// How long each step lasts.
const STEP: Duration = Duration::from_millis(500);
/// Requests in flight per operation at most.
const MAX_IN_FLIGHT: usize = 64;
/// The longest one spike request may take.
const SPIKE_TIMEOUT: Duration = Duration::from_secs(2);
/// An operation has fallen behind when its p99 is this many times its
/// baseline...
const LATENCY_FACTOR: f64 = 10.0;
/// ...and at least this much above it...
const LATENCY_MARGIN_MS: f64 = 50.0;
/// ...and it answers less than this share of the arrivals...
const THROUGHPUT_SHARE: f64 = 0.6;
/// ...or when more than this share of its requests failed.
const ERROR_SHARE: f64 = 0.1;
/// A bottleneck breaks at a rate at most this fraction of the highest rate
/// most operations kept up with: closer to it, the service (or unruly itself)
/// may simply be running out of CPU.
const BOTTLENECK_GAP: f64 = 0.5;

/// Where one operation broke.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Knee {
    /// Index into the operations given.
    pub operation: usize,
    /// The step at which it broke.
    pub step: usize,
    /// The arrival rate there.
    pub rate: f64,
    /// The highest rate it kept up with, if any.
    pub last_good_rate: Option<f64>,
    /// The most answers per second it gave in any step.
    pub capped_at: f64,
    /// Its p99 in the first step, in ms.
    pub baseline_p99_ms: f64,
    /// Its p99 where it broke, in ms.
    pub p99_ms: f64,
    /// How many of the other operations kept up there.
    pub others_keeping_up: usize,
}

/// Whether `stats` at `rate` show an operation that fell behind, against its
/// `baseline_p99_ms`.
fn fell_behind(stats: &StepStats, rate: f64, baseline_p99_ms: f64) -> bool {
    let done = stats.answered + stats.errors;
    if done == 0 && stats.offered == 0 {
        return false;
    }
    let failing = stats.errors as f64 > ERROR_SHARE * stats.offered.max(1) as f64;
    let slow = stats.latency.p99
        > (LATENCY_FACTOR * baseline_p99_ms).max(baseline_p99_ms + LATENCY_MARGIN_MS)
        && stats.throughput < THROUGHPUT_SHARE * rate;
    failing || slow
}

/// The knees in `steps` (run so far): operations that kept up at first, then
/// fell behind at a step where most of the others did not, at a rate at most
/// [`BOTTLENECK_GAP`] of the highest one most operations kept up with; each at
/// the first such step. The second value says whether most operations fell
/// behind at the last step (the service as a whole is saturated: stop the
/// ramp).
pub(crate) fn knees(steps: &[SpikeStep]) -> (Vec<Knee>, bool) {
    let Some(first) = steps.first() else {
        return (Vec::new(), false);
    };
    let count = first.operations.len();
    let baselines: Vec<f64> = first
        .operations
        .iter()
        .map(|s| s.latency.p99.max(0.001))
        .collect();
    let mut found: Vec<Knee> = Vec::new();
    let mut saturated = false;
    let mut most_kept_up_with = 0.0f64;
    for (index, step) in steps.iter().enumerate() {
        let behind: Vec<bool> = step
            .operations
            .iter()
            .zip(&baselines)
            .map(|(stats, &baseline)| fell_behind(stats, step.rate, baseline))
            .collect();
        let behind_count = behind.iter().filter(|b| **b).count();
        saturated = count > 1 && behind_count * 2 > count;
        if saturated || count < 2 {
            continue;
        }
        most_kept_up_with = most_kept_up_with.max(step.rate);
        for (operation, _) in behind.iter().enumerate().filter(|(_, b)| **b) {
            // Behind from the first step: nothing to compare with.
            if index == 0 || found.iter().any(|k| k.operation == operation) {
                continue;
            }
            let capped_at = steps[..=index]
                .iter()
                .map(|s| s.operations[operation].throughput)
                .fold(0.0, f64::max);
            found.push(Knee {
                operation,
                step: index,
                rate: step.rate,
                last_good_rate: index.checked_sub(1).map(|i| steps[i].rate),
                capped_at,
                baseline_p99_ms: baselines[operation],
                p99_ms: step.operations[operation].latency.p99,
                others_keeping_up: count - behind_count,
            });
        }
    }
    found.retain(|knee| knee.rate <= BOTTLENECK_GAP * most_kept_up_with);
    (found, saturated)
}

impl Explorer<'_> {
    /// The spike, step by step, while time remains.
    pub(super) async fn spike(&self) {
        let mut names = Vec::new();
        let mut requests: Vec<ProbeRequest> = Vec::new();
        let mut prober = self.prober(0);
        for &operation in &self.selected {
            let spec_operation = &self.spec.operations[operation];
            if spec_operation.method == "DELETE" {
                continue;
            }
            let Some(job) = self.valid_job(operation) else {
                continue;
            };
            let prepared = self.prepare(&job.case);
            if matches!(prepared.request.body, ProbeBody::Stream { .. }) {
                continue;
            }
            // Alone, it is answered below 500 (else the input passes report it).
            let Some(alone) = self.send(&mut prober, &job.case).await else {
                return;
            };
            if alone.status().is_none_or(|s| s >= 500) {
                continue;
            }
            names.push((operation, prepared.record));
            requests.push(prepared.request);
        }
        if requests.len() < 2 {
            return;
        }
        let mut steps: Vec<SpikeStep> = Vec::new();
        for rate in RATES {
            if self.behaviours_stopped() {
                break;
            }
            self.set_activity(Some(format!(
                "a spike to {rate} requests/s on each of {} operations",
                requests.len()
            )));
            let plan = SpikePlan {
                rates: vec![rate],
                step: STEP,
                max_in_flight: MAX_IN_FLIGHT,
                timeout: SPIKE_TIMEOUT.min(self.options.timeout),
            };
            let mut step = spike(&self.endpoint, &requests, &plan, &self.cancel).await;
            {
                let mut state = self.state.borrow_mut();
                for stats in step.iter().flat_map(|s| &s.operations) {
                    state.cases_run += stats.answered + stats.errors;
                }
            }
            steps.append(&mut step);
            if knees(&steps).1 {
                break;
            }
        }
        for knee in knees(&steps).0 {
            let (operation, record) = &names[knee.operation];
            self.report_knee(*operation, record, &knee, requests.len());
        }
    }

    fn report_knee(
        &self,
        operation: usize,
        record: &unruly_core::RequestRecord,
        knee: &Knee,
        operations: usize,
    ) {
        let name = self.spec.operations[operation].name();
        let mut measurements = BTreeMap::new();
        measurements.insert("knee_rate_per_s".to_owned(), knee.rate);
        if let Some(good) = knee.last_good_rate {
            measurements.insert("last_good_rate_per_s".to_owned(), good);
        }
        measurements.insert("capped_throughput_per_s".to_owned(), knee.capped_at);
        measurements.insert("baseline_p99_ms".to_owned(), knee.baseline_p99_ms);
        measurements.insert("p99_at_knee_ms".to_owned(), knee.p99_ms);
        measurements.insert(
            "operations_keeping_up".to_owned(),
            knee.others_keeping_up as f64,
        );
        let kept_up = knee
            .last_good_rate
            .map(|r| format!("it kept up with {r:.0}/s, but "))
            .unwrap_or_default();
        let mut load = format!(
            "unruly load {} -m {} --rate {} -c {MAX_IN_FLIGHT} -d 5s",
            shell_quote(&record.url),
            record.method,
            knee.rate
        );
        for (header, value) in &record.headers {
            load.push_str(&format!(
                " -H {}",
                shell_quote(&format!("{header}: {value}"))
            ));
        }
        if let Some(body) = &record.body {
            load.push_str(&format!(" --body {}", shell_quote(body)));
        }
        self.report(
            Finding {
                id: String::new(),
                kind: FindingKind::LatencyUnderLoad,
                severity: if is_unsafe(&self.spec.operations[operation].method) {
                    Severity::High
                } else {
                    Severity::Medium
                },
                operation: name.clone(),
                summary: format!(
                    "{name} is a bottleneck: in a spike (each of {operations} operations at rates doubling every {} ms), {kept_up}at {:.0} requests/s its p99 went from {:.1} ms to {:.1} ms and it answered at most {:.0} requests/s, while {} of the other {} kept up. Knee: {:.0}/s; capped at {:.0}/s.",
                    STEP.as_millis(),
                    knee.rate,
                    knee.baseline_p99_ms,
                    knee.p99_ms,
                    knee.capped_at,
                    knee.others_keeping_up,
                    operations - 1,
                    knee.rate,
                    knee.capped_at
                ),
                evidence: Evidence {
                    request: format!("{} {}", record.method, record.url),
                    latency_ms: Some(knee.p99_ms),
                    measurements,
                    ..Evidence::default()
                },
                reproduce: load,
                seed: 0,
                first_seen_s: 0.0,
                count: 1,
            },
            None,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use unruly_core::LatencySummary;

    fn stats(rate: f64, throughput: f64, p99: f64) -> StepStats {
        StepStats {
            offered: (rate / 2.0) as u64,
            answered: (throughput / 2.0) as u64,
            errors: 0,
            throughput,
            latency: LatencySummary {
                p99,
                ..LatencySummary::default()
            },
        }
    }

    fn step(rate: f64, operations: Vec<StepStats>) -> SpikeStep {
        SpikeStep { rate, operations }
    }

    #[test]
    fn a_bottleneck_breaks_while_the_others_keep_up() {
        let steps = vec![
            step(
                100.0,
                vec![
                    stats(100.0, 100.0, 3.0),
                    stats(100.0, 100.0, 1.0),
                    stats(100.0, 100.0, 1.0),
                ],
            ),
            step(
                200.0,
                vec![
                    stats(200.0, 198.0, 8.0),
                    stats(200.0, 200.0, 1.0),
                    stats(200.0, 200.0, 1.0),
                ],
            ),
            step(
                400.0,
                vec![
                    stats(400.0, 210.0, 450.0),
                    stats(400.0, 400.0, 1.2),
                    stats(400.0, 400.0, 1.1),
                ],
            ),
            step(
                800.0,
                vec![
                    stats(800.0, 205.0, 900.0),
                    stats(800.0, 800.0, 1.5),
                    stats(800.0, 800.0, 2.0),
                ],
            ),
        ];
        // The others kept up with 400/s only: too close to call.
        assert!(knees(&steps[..3]).0.is_empty());
        let (found, saturated) = knees(&steps);
        assert!(!saturated);
        assert_eq!(found.len(), 1, "{found:?}");
        let knee = &found[0];
        assert_eq!((knee.operation, knee.step, knee.rate), (0, 2, 400.0));
        assert_eq!(knee.last_good_rate, Some(200.0));
        assert_eq!(knee.capped_at, 210.0);
        assert_eq!(knee.others_keeping_up, 2);
    }

    #[test]
    fn a_saturated_service_is_no_bottleneck() {
        let steps = vec![
            step(
                100.0,
                vec![
                    stats(100.0, 100.0, 1.0),
                    stats(100.0, 100.0, 1.0),
                    stats(100.0, 100.0, 1.0),
                ],
            ),
            step(
                3200.0,
                vec![
                    stats(3200.0, 1000.0, 400.0),
                    stats(3200.0, 1000.0, 400.0),
                    stats(3200.0, 3000.0, 2.0),
                ],
            ),
        ];
        let (found, saturated) = knees(&steps);
        assert!(saturated);
        assert!(found.is_empty(), "{found:?}");
    }

    #[test]
    fn behind_from_the_first_step_is_no_knee() {
        let steps = vec![
            step(
                25.0,
                vec![
                    stats(25.0, 0.0, 1.0),
                    stats(25.0, 25.0, 1.0),
                    stats(25.0, 25.0, 1.0),
                ],
            ),
            step(
                3200.0,
                vec![
                    stats(3200.0, 0.0, 1.0),
                    stats(3200.0, 3200.0, 1.0),
                    stats(3200.0, 3200.0, 1.0),
                ],
            ),
        ];
        let mut failing = steps;
        for step in &mut failing {
            step.operations[0].errors = step.operations[0].offered;
        }
        assert!(knees(&failing).0.is_empty());
    }

    #[test]
    fn slower_but_keeping_up_is_not_behind() {
        // p99 ten times worse, but every arrival answered: still keeping up.
        assert!(!fell_behind(&stats(400.0, 400.0, 80.0), 400.0, 2.0));
        // Far slower and answering half: behind.
        assert!(fell_behind(&stats(400.0, 200.0, 300.0), 400.0, 2.0));
        // Failing: behind whatever the latency.
        let mut failing = stats(400.0, 400.0, 1.0);
        failing.errors = 50;
        assert!(fell_behind(&failing, 400.0, 1.0));
    }
}
