//! Assumptions checked against the statistics of a run.
//!
//! The observed value is written in one format per unit, always the same:
//!
//! | metric | unit | example |
//! | --- | --- | --- |
//! | `p50`, `p90`, `p99`, `p99.9`, `p100`, `mean`, `max` | milliseconds | `412.3ms`, `0.84ms` |
//! | `error_rate` | percent, with the counts | `0.21% (42 of 20000)` |
//! | `errors`, `requests` | a count | `42` |
//! | `rps` | requests per second | `1234.5/s` |
//!
//! The expected value is the comparison and the threshold as written (`< 300ms`).

use unruly_core::{Assumption, AssumptionResult, ErrorClass, Metric, OperationStats, Stats};

/// Checks each assumption against `stats`, in order.
///
/// An assumption about an operation that is not in `stats` is broken (observed
/// `operation not run`); so is one that cannot be measured: a latency of an operation
/// none of whose requests were answered, an error rate of no requests, or a
/// percentile that the latency summary does not hold (only p50, p90, p99, p99.9 and
/// p100, the maximum, are kept).
pub fn check_assumptions(assumptions: &[Assumption], stats: &Stats) -> Vec<AssumptionResult> {
    assumptions.iter().map(|a| check_one(a, stats)).collect()
}

/// Checks one assumption.
fn check_one(assumption: &Assumption, stats: &Stats) -> AssumptionResult {
    let expected = format!(
        "{} {}",
        assumption.comparison.symbol(),
        assumption.threshold.written
    );
    let measured = match find_operation(stats, assumption.operation.as_deref()) {
        Some(op) => measure(assumption.metric, op),
        None => Err("operation not run".to_string()),
    };
    match measured {
        Ok(m) => AssumptionResult {
            name: assumption.text.clone(),
            held: assumption
                .comparison
                .holds(m.value, assumption.threshold.value),
            observed: m.shown,
            expected,
        },
        Err(reason) => AssumptionResult {
            name: assumption.text.clone(),
            held: false,
            observed: reason,
            expected,
        },
    }
}

/// The statistics an assumption is about: the named operation, or the whole run.
fn find_operation<'a>(stats: &'a Stats, operation: Option<&str>) -> Option<&'a OperationStats> {
    match operation {
        None => Some(&stats.overall),
        Some(name) => stats.operations.iter().find(|op| op.operation == name),
    }
}

/// A measured value and how it is shown.
struct Measured {
    value: f64,
    shown: String,
}

impl Measured {
    fn latency(ms: f64) -> Self {
        Self {
            value: ms,
            shown: format_ms(ms),
        }
    }

    fn count(n: u64) -> Self {
        Self {
            value: n as f64,
            shown: n.to_string(),
        }
    }
}

/// Measures `metric` on `op`, or says why it cannot be measured.
fn measure(metric: Metric, op: &OperationStats) -> Result<Measured, String> {
    match metric {
        Metric::Percentile(p) => {
            answered(op)?;
            percentile(op, p).map(Measured::latency).ok_or_else(|| {
                format!(
                    "not measured: {} is not kept (p50, p90, p99, p99.9 and p100 are)",
                    metric.name()
                )
            })
        }
        Metric::MeanLatency => answered(op).map(|()| Measured::latency(op.latency_ms.mean)),
        Metric::MaxLatency => answered(op).map(|()| Measured::latency(op.latency_ms.max)),
        Metric::ErrorRate => {
            if op.requests == 0 {
                return Err("no requests".into());
            }
            let ratio = op.errors as f64 / op.requests as f64;
            Ok(Measured {
                value: ratio,
                shown: format!(
                    "{} ({} of {})",
                    format_percent(ratio),
                    op.errors,
                    op.requests
                ),
            })
        }
        Metric::Errors => {
            if op.requests == 0 {
                return Err("no requests".into());
            }
            Ok(Measured::count(op.errors))
        }
        Metric::Requests => Ok(Measured::count(op.requests)),
        Metric::Throughput => Ok(Measured {
            value: op.rps,
            shown: format!("{:.1}/s", op.rps),
        }),
    }
}

/// Latencies exist only for answered requests: fails when there are none.
fn answered(op: &OperationStats) -> Result<(), String> {
    if op.requests == 0 {
        return Err("no requests".into());
    }
    let transport_failures: u64 = [
        ErrorClass::Connect,
        ErrorClass::Timeout,
        ErrorClass::Reset,
        ErrorClass::Protocol,
    ]
    .iter()
    .filter_map(|class| op.errors_by_class.get(class))
    .sum();
    if transport_failures >= op.requests {
        return Err("no answered requests".into());
    }
    Ok(())
}

/// The percentile `p` from the latency summary, when it is kept there.
fn percentile(op: &OperationStats, p: f64) -> Option<f64> {
    let l = &op.latency_ms;
    let kept = [
        (50.0, l.p50),
        (90.0, l.p90),
        (99.0, l.p99),
        (99.9, l.p99_9),
        (100.0, l.max),
    ];
    kept.iter()
        .find(|(q, _)| (q - p).abs() < 1e-9)
        .map(|&(_, v)| v)
}

/// Milliseconds: one decimal from 10ms up, two below.
pub(crate) fn format_ms(ms: f64) -> String {
    if ms.abs() >= 10.0 {
        format!("{ms:.1}ms")
    } else {
        format!("{ms:.2}ms")
    }
}

/// A ratio as a percentage: two decimals, more for tiny non-zero rates.
pub(crate) fn format_percent(ratio: f64) -> String {
    let pct = ratio * 100.0;
    if pct == 0.0 {
        "0%".into()
    } else if pct.abs() < 0.01 {
        format!("{pct:.4}%")
    } else {
        format!("{pct:.2}%")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use unruly_core::{Comparison, LatencySummary, Threshold};

    fn op(name: &str, requests: u64, errors: u64) -> OperationStats {
        OperationStats {
            operation: name.into(),
            requests,
            errors,
            errors_by_class: ErrorClass::ALL.iter().map(|c| (*c, 0)).collect(),
            status: Default::default(),
            latency_ms: LatencySummary {
                min: 0.4,
                mean: 20.0,
                p50: 12.5,
                p90: 80.0,
                p99: 412.34,
                p99_9: 900.0,
                max: 1500.0,
            },
            rps: 1234.5,
            bytes_received: 0,
        }
    }

    fn stats() -> Stats {
        let mut overall = op("all", 20000, 42);
        overall.latency_ms.p99 = 250.0;
        Stats {
            overall,
            operations: vec![op("GET /products", 15000, 2), op("POST /users", 5000, 40)],
            missed_arrivals: 0,
        }
    }

    fn assume(
        metric: Metric,
        operation: Option<&str>,
        cmp: Comparison,
        value: f64,
        written: &str,
    ) -> Assumption {
        Assumption {
            text: format!(
                "{}{} {} {}",
                metric.name(),
                operation.map(|o| format!("(\"{o}\")")).unwrap_or_default(),
                cmp.symbol(),
                written
            ),
            metric,
            operation: operation.map(str::to_string),
            comparison: cmp,
            threshold: Threshold {
                value,
                written: written.into(),
            },
        }
    }

    #[test]
    fn percentile_of_an_operation_is_compared_with_the_threshold() {
        let a = assume(
            Metric::Percentile(99.0),
            Some("GET /products"),
            Comparison::Less,
            300.0,
            "300ms",
        );
        let r = &check_assumptions(&[a], &stats())[0];
        assert!(!r.held);
        assert_eq!(r.observed, "412.3ms");
        assert_eq!(r.expected, "< 300ms");
        assert_eq!(r.name, "p99(\"GET /products\") < 300ms");
    }

    #[test]
    fn the_whole_run_is_used_without_an_operation() {
        let a = assume(
            Metric::Percentile(99.0),
            None,
            Comparison::Less,
            300.0,
            "300ms",
        );
        let r = &check_assumptions(&[a], &stats())[0];
        assert!(r.held);
        assert_eq!(r.observed, "250.0ms");
    }

    #[test]
    fn every_kept_percentile_is_mapped() {
        let s = stats();
        for (p, shown) in [
            (50.0, "12.5ms"),
            (90.0, "80.0ms"),
            (99.9, "900.0ms"),
            (100.0, "1500.0ms"),
        ] {
            let a = assume(
                Metric::Percentile(p),
                Some("GET /products"),
                Comparison::Less,
                1e9,
                "1000s",
            );
            let r = &check_assumptions(&[a], &s)[0];
            assert!(r.held, "p{p}");
            assert_eq!(r.observed, shown);
        }
    }

    #[test]
    fn a_percentile_not_kept_is_broken_and_says_so() {
        let a = assume(
            Metric::Percentile(95.0),
            None,
            Comparison::Less,
            1e9,
            "1000s",
        );
        let r = &check_assumptions(&[a], &stats())[0];
        assert!(!r.held);
        assert!(r.observed.starts_with("not measured"), "{}", r.observed);
        assert!(r.observed.contains("p95"), "{}", r.observed);
    }

    #[test]
    fn mean_max_errors_requests_and_throughput() {
        let s = stats();
        let cases = [
            (Metric::MeanLatency, Comparison::Less, 50.0, true, "20.0ms"),
            (
                Metric::MaxLatency,
                Comparison::LessOrEqual,
                1000.0,
                false,
                "1500.0ms",
            ),
            (Metric::Errors, Comparison::Less, 1.0, false, "40"),
            (
                Metric::Requests,
                Comparison::GreaterOrEqual,
                5000.0,
                true,
                "5000",
            ),
            (
                Metric::Throughput,
                Comparison::Greater,
                1000.0,
                true,
                "1234.5/s",
            ),
        ];
        for (metric, cmp, limit, held, shown) in cases {
            let a = assume(metric, Some("POST /users"), cmp, limit, "x");
            let r = &check_assumptions(&[a], &s)[0];
            assert_eq!(r.held, held, "{metric:?}");
            assert_eq!(r.observed, shown, "{metric:?}");
        }
    }

    #[test]
    fn error_rate_is_errors_over_requests() {
        let a = assume(Metric::ErrorRate, None, Comparison::Less, 0.01, "1%");
        let r = &check_assumptions(&[a], &stats())[0];
        assert!(r.held);
        assert_eq!(r.observed, "0.21% (42 of 20000)");
        assert_eq!(r.expected, "< 1%");
    }

    #[test]
    fn error_rate_of_no_requests_is_broken() {
        let mut s = stats();
        s.overall = op("all", 0, 0);
        let a = assume(Metric::ErrorRate, None, Comparison::Less, 0.01, "1%");
        let r = &check_assumptions(&[a], &s)[0];
        assert!(!r.held);
        assert_eq!(r.observed, "no requests");
    }

    #[test]
    fn latency_without_answers_is_broken() {
        let mut s = stats();
        s.overall = op("all", 10, 10);
        s.overall.errors_by_class.insert(ErrorClass::Timeout, 10);
        s.overall.latency_ms = LatencySummary::default();
        let a = assume(
            Metric::Percentile(99.0),
            None,
            Comparison::Less,
            300.0,
            "300ms",
        );
        let r = &check_assumptions(&[a], &s)[0];
        assert!(!r.held);
        assert_eq!(r.observed, "no answered requests");
    }

    #[test]
    fn an_operation_not_run_is_broken() {
        let a = assume(
            Metric::Percentile(99.0),
            Some("DELETE /users/{id}"),
            Comparison::Less,
            300.0,
            "300ms",
        );
        let r = &check_assumptions(&[a], &stats())[0];
        assert!(!r.held);
        assert_eq!(r.observed, "operation not run");
        assert_eq!(r.expected, "< 300ms");
    }

    #[test]
    fn results_keep_the_order_of_the_assumptions() {
        let a = assume(Metric::Requests, None, Comparison::Greater, 0.0, "0");
        let b = assume(Metric::Errors, None, Comparison::Less, 1.0, "1");
        let r = check_assumptions(&[a.clone(), b.clone()], &stats());
        assert_eq!(r.len(), 2);
        assert_eq!(r[0].name, a.text);
        assert_eq!(r[1].name, b.text);
    }

    #[test]
    fn percent_formats() {
        assert_eq!(format_percent(0.0), "0%");
        assert_eq!(format_percent(0.0021), "0.21%");
        assert_eq!(format_percent(0.000001), "0.0001%");
        assert_eq!(format_percent(1.0), "100.00%");
    }
}
