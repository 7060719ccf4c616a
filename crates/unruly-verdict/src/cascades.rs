//! `dependency_cascade` in a run: an operation whose errors or latency jump while a
//! scheduled fault is on a dependency, compared with the seconds when no fault is on.
//! Judged best under an open-model workload: a closed model's users wait with the
//! stalled service and send less (coordinated omission), which hides the stall.

use std::collections::BTreeMap;
use unruly_core::{Evidence, FaultWindow, Finding, FindingKind, Severity, Window};

/// Errors during a fault below this count are chance.
const MIN_ERRORS: u64 = 3;
/// An error rate during a fault at least this high, and [`RATE_FACTOR`] times the rate
/// outside, is a cascade.
const MIN_ERROR_RATE: f64 = 0.1;
const RATE_FACTOR: f64 = 5.0;
/// A p99 during a fault of at least this many milliseconds (a timeout of a second and a
/// fallback stays under it), and [`RATE_FACTOR`] times the median p99 outside, is a
/// cascade too.
const SLOW_P99_MS: f64 = 1500.0;
/// Seconds after a fault still counted as its own (the target recovering).
const RECOVERY_S: f64 = 2.0;

/// What one operation did during one fault.
struct Seen {
    fault: String,
    dependency: String,
    start_s: f64,
    what: String,
    errors: u64,
}

/// The `dependency_cascade` findings of a run with scheduled faults; ids from `F{first_id}`.
pub fn judge_faults(
    windows: &[FaultWindow],
    timeline: &[Window],
    seed: u64,
    first_id: usize,
) -> Vec<Finding> {
    let touched = |t: &Window| {
        let (from, to) = (t.t_s as f64, t.t_s as f64 + 1.0);
        windows
            .iter()
            .any(|w| to > w.start_s && from < w.end_s + RECOVERY_S)
    };
    let calm: Vec<&Window> = timeline.iter().filter(|t| !touched(t)).collect();
    let mut seen: BTreeMap<String, Vec<Seen>> = BTreeMap::new();
    for window in windows {
        let during: Vec<&Window> = timeline
            .iter()
            // The seconds after it too: requests stuck during a fault end (time out) later.
            .filter(|t| {
                t.t_s as f64 + 1.0 > window.start_s && (t.t_s as f64) < window.end_s + RECOVERY_S
            })
            .collect();
        let operations: std::collections::BTreeSet<&String> =
            during.iter().flat_map(|t| t.operations.keys()).collect();
        for operation in operations {
            let (requests, errors, worst_p99) = totals(&during, operation);
            let (calm_requests, calm_errors, _) = totals(&calm, operation);
            let calm_p99 = median_p99(&calm, operation);
            let rate = ratio(errors, requests);
            let calm_rate = ratio(calm_errors, calm_requests);
            let mut what = Vec::new();
            if errors >= MIN_ERRORS
                && rate >= MIN_ERROR_RATE
                && rate >= RATE_FACTOR * calm_rate + 0.01
            {
                what.push(format!(
                    "{errors} of {requests} requests failed ({:.0}%, against {:.1}% without faults)",
                    rate * 100.0,
                    calm_rate * 100.0
                ));
            }
            if worst_p99 >= SLOW_P99_MS && worst_p99 >= RATE_FACTOR * calm_p99.max(1.0) {
                what.push(format!(
                    "p99 reached {worst_p99:.0} ms (against {calm_p99:.1} ms without faults)"
                ));
            }
            if !what.is_empty() {
                seen.entry(operation.clone()).or_default().push(Seen {
                    fault: window.name.clone(),
                    dependency: window.dependency.clone(),
                    start_s: window.start_s,
                    what: what.join("; "),
                    errors,
                });
            }
        }
    }
    seen.into_iter()
        .enumerate()
        .map(|(index, (operation, seen))| {
            finding(format!("F{}", first_id + index), operation, &seen, seed)
        })
        .collect()
}

fn totals(seconds: &[&Window], operation: &str) -> (u64, u64, f64) {
    seconds
        .iter()
        .filter_map(|t| t.operations.get(operation))
        .fold((0, 0, 0.0), |(requests, errors, p99), op| {
            (
                requests + op.requests,
                errors + op.errors,
                f64::max(p99, op.p99_ms),
            )
        })
}

fn median_p99(seconds: &[&Window], operation: &str) -> f64 {
    let mut values: Vec<f64> = seconds
        .iter()
        .filter_map(|t| t.operations.get(operation))
        .filter(|op| op.requests > 0)
        .map(|op| op.p99_ms)
        .collect();
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(0.0)
}

fn ratio(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

fn finding(id: String, operation: String, seen: &[Seen], seed: u64) -> Finding {
    let lines: Vec<String> = seen
        .iter()
        .map(|s| {
            format!(
                "{} on {} from {:.1}s: {}",
                s.fault, s.dependency, s.start_s, s.what
            )
        })
        .collect();
    let first = &seen[0];
    let mut measurements = BTreeMap::new();
    for s in seen {
        measurements.insert(format!("errors during {}", s.fault), s.errors as f64);
    }
    Finding {
        id,
        kind: FindingKind::DependencyCascade,
        severity: Severity::High,
        operation: operation.clone(),
        summary: format!(
            "{operation} broke while {} ({}) was on: {}; it should degrade gracefully (a timeout and a fallback, or a 503 with Retry-After).",
            first.fault, first.dependency, first.what
        ),
        evidence: Evidence {
            request: operation,
            excerpt: Some(lines.join("\n")),
            measurements,
            ..Evidence::default()
        },
        reproduce: format!(
            "unruly run <this scenario>   # the [[fault]] \"{}\" on [[dependency]] \"{}\" from {:.1}s",
            first.fault, first.dependency, first.start_s
        ),
        seed,
        first_seen_s: first.start_s,
        count: seen.iter().map(|s| s.errors).sum(),
    }
}
