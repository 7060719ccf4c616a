//! unruly's own metrics while it runs, fed by the run and read by `/metrics`.

use super::exposition::{Exposition, MetricType};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};
use unruly_core::{ErrorClass, Finding, LatencySummary, ProcessSample, Severity, Window};

/// The upper bounds of `unruly_request_duration_seconds`'s buckets, in seconds.
pub const DURATION_BUCKETS_S: [f64; 13] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The operation label of requests that a window counts but names under no operation.
const UNNAMED_OPERATION: &str = "(unnamed)";

/// unruly's live metrics: cheap to clone (every clone shares the same counts), fed by the
/// run (one [`LiveMetrics::window`] a second, findings, phases, explore's progress, samples of
/// the watched target) and rendered in the Prometheus text format by [`LiveMetrics::render`].
#[derive(Clone, Default)]
pub struct LiveMetrics {
    state: Arc<Mutex<State>>,
}

#[derive(Default)]
struct State {
    /// Requests by operation.
    requests: BTreeMap<String, u64>,
    /// Failed requests (transport failures and 5xx) by operation.
    operation_errors: BTreeMap<String, u64>,
    /// Requests by error class (4xx included), all operations together.
    errors_by_class: BTreeMap<ErrorClass, u64>,
    /// Cumulative counts for each of [`DURATION_BUCKETS_S`].
    duration_buckets: [u64; DURATION_BUCKETS_S.len()],
    duration_count: u64,
    duration_sum_s: f64,
    findings: BTreeMap<(&'static str, &'static str), u64>,
    phase: Option<String>,
    explore: Option<(u64, u64)>,
    target: Option<ProcessSample>,
}

impl LiveMetrics {
    /// Metrics with nothing counted yet.
    pub fn new() -> LiveMetrics {
        LiveMetrics::default()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        crate::lock(&self.state)
    }

    /// Counts one second of the run: its requests and errors by operation, its errors by
    /// class, and its latency into the duration histogram (see [`bucket_counts`] for how
    /// buckets are derived from the window's percentiles).
    pub fn window(&self, window: &Window) {
        let mut state = self.lock();
        let mut named = 0u64;
        for (operation, counts) in &window.operations {
            named = named.saturating_add(counts.requests);
            add(&mut state.requests, operation, counts.requests);
            add(&mut state.operation_errors, operation, counts.errors);
        }
        let unnamed = window.requests.saturating_sub(named);
        if unnamed > 0 {
            add(&mut state.requests, UNNAMED_OPERATION, unnamed);
        }
        for (class, count) in &window.errors_by_class {
            let total = state.errors_by_class.entry(*class).or_default();
            *total = total.saturating_add(*count);
        }
        if window.requests > 0 {
            let counts = bucket_counts(&window.latency_ms, window.requests);
            for (total, count) in state.duration_buckets.iter_mut().zip(counts) {
                *total = total.saturating_add(count);
            }
            state.duration_count = state.duration_count.saturating_add(window.requests);
            let mean_s = finite_non_negative(window.latency_ms.mean) / 1000.0;
            state.duration_sum_s += mean_s * window.requests as f64;
        }
    }

    /// Counts a finding by kind and severity (once per call: a finding reported again with
    /// a higher `count` is the same finding).
    pub fn finding(&self, finding: &Finding) {
        let key = (finding.kind.as_str(), severity_str(finding.severity));
        let mut state = self.lock();
        let total = state.findings.entry(key).or_default();
        *total = total.saturating_add(1);
    }

    /// What runs now (`preflight`, `load`, `explore`, `report`...): the one phase
    /// `unruly_phase_info` shows.
    pub fn phase(&self, phase: &str) {
        self.lock().phase = Some(phase.to_string());
    }

    /// Explore's progress (it has no windows): the cases run and the findings made so far.
    pub fn explore(&self, cases_run: u64, findings: u64) {
        self.lock().explore = Some((cases_run, findings));
    }

    /// The latest sample of the watched target's process.
    pub fn target(&self, sample: &ProcessSample) {
        self.lock().target = Some(*sample);
    }

    /// Everything counted so far, in the Prometheus text format 0.0.4. Families whose
    /// source has not reported yet (no target watched, no explore) carry no sample.
    pub fn render(&self) -> String {
        let state = self.lock();
        let mut out = Exposition::new();

        out.family("unruly_up", MetricType::Gauge, "1 while unruly runs.");
        out.sample("unruly_up", &[], 1.0);

        out.family(
            "unruly_phase_info",
            MetricType::Gauge,
            "What unruly runs now: 1 for the current phase.",
        );
        if let Some(phase) = &state.phase {
            out.sample("unruly_phase_info", &[("phase", phase)], 1.0);
        }

        out.family(
            "unruly_requests_total",
            MetricType::Counter,
            "Requests completed or failed, by operation.",
        );
        for (operation, count) in &state.requests {
            out.sample(
                "unruly_requests_total",
                &[("operation", operation)],
                *count as f64,
            );
        }

        out.family(
            "unruly_errors_total",
            MetricType::Counter,
            "Requests that ended in an error class (4xx, invalid and unfinished included), \
             all operations together.",
        );
        for (class, count) in &state.errors_by_class {
            out.sample(
                "unruly_errors_total",
                &[("class", class.as_str())],
                *count as f64,
            );
        }

        out.family(
            "unruly_operation_errors_total",
            MetricType::Counter,
            "Failed requests (transport failures and 5xx), by operation.",
        );
        for (operation, count) in &state.operation_errors {
            out.sample(
                "unruly_operation_errors_total",
                &[("operation", operation)],
                *count as f64,
            );
        }

        out.family(
            "unruly_request_duration_seconds",
            MetricType::Histogram,
            "Request latency; buckets approximated from each second's percentiles.",
        );
        for (bound, count) in DURATION_BUCKETS_S.iter().zip(state.duration_buckets) {
            let le = super::exposition::format_value(*bound);
            out.sample(
                "unruly_request_duration_seconds_bucket",
                &[("le", &le)],
                count as f64,
            );
        }
        out.sample(
            "unruly_request_duration_seconds_bucket",
            &[("le", "+Inf")],
            state.duration_count as f64,
        );
        out.sample(
            "unruly_request_duration_seconds_sum",
            &[],
            state.duration_sum_s,
        );
        out.sample(
            "unruly_request_duration_seconds_count",
            &[],
            state.duration_count as f64,
        );

        out.family(
            "unruly_findings_total",
            MetricType::Counter,
            "Findings reported, by kind and severity.",
        );
        for ((kind, severity), count) in &state.findings {
            out.sample(
                "unruly_findings_total",
                &[("kind", kind), ("severity", severity)],
                *count as f64,
            );
        }

        let explore = state.explore;
        out.family(
            "unruly_cases_total",
            MetricType::Counter,
            "Cases explore has run.",
        );
        if let Some((cases, _)) = explore {
            out.sample("unruly_cases_total", &[], cases as f64);
        }
        out.family(
            "unruly_explore_findings",
            MetricType::Gauge,
            "Findings explore has made so far.",
        );
        if let Some((_, findings)) = explore {
            out.sample("unruly_explore_findings", &[], findings as f64);
        }

        let target = state.target;
        let gauges: [TargetGauge; 4] = [
            (
                "unruly_target_resident_memory_bytes",
                "The watched target's resident memory.",
                |s| s.rss_bytes as f64,
            ),
            (
                "unruly_target_cpu_percent",
                "The watched target's CPU use, in percent of one core.",
                |s| s.cpu_percent,
            ),
            (
                "unruly_target_threads",
                "The watched target's threads.",
                |s| s.threads as f64,
            ),
            (
                "unruly_target_open_fds",
                "The watched target's open file descriptors.",
                |s| s.fds as f64,
            ),
        ];
        for (name, help, value) in gauges {
            out.family(name, MetricType::Gauge, help);
            if let Some(sample) = &target {
                out.sample(name, &[], value(sample));
            }
        }

        out.finish()
    }
}

/// A gauge of the watched target: its name, its help, and its value in a sample.
type TargetGauge = (&'static str, &'static str, fn(&ProcessSample) -> f64);

fn add(map: &mut BTreeMap<String, u64>, key: &str, count: u64) {
    match map.get_mut(key) {
        Some(total) => *total = total.saturating_add(count),
        None => {
            map.insert(key.to_string(), count);
        }
    }
}

fn severity_str(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "critical",
        Severity::High => "high",
        Severity::Medium => "medium",
        Severity::Low => "low",
    }
}

fn finite_non_negative(value: f64) -> f64 {
    if value.is_finite() && value > 0.0 {
        value
    } else {
        0.0
    }
}

/// Cumulative bucket counts for one window of `requests` requests, one per bound of
/// [`DURATION_BUCKETS_S`].
///
/// A window carries percentiles, not a histogram, so this is an approximation: the latency
/// distribution is taken to be the piecewise-linear CDF through the points (min, 0),
/// (p50, 0.5), (p90, 0.9), (p99, 0.99), (p99.9, 0.999) and (max, 1), and each bucket gets
/// `round(requests × CDF(bound))`. It is exact at those quantiles and linear between them,
/// so a bucket bound that falls between two of them may be off by the shape of the real
/// distribution there (most where the quantiles are far apart, as between p50 and p90).
/// Counts are cumulative and never decrease with the bound; the `+Inf` bucket is `requests`.
/// Percentiles out of order (or not finite) are made monotonic before use.
pub fn bucket_counts(
    latency_ms: &LatencySummary,
    requests: u64,
) -> [u64; DURATION_BUCKETS_S.len()] {
    let cdf = Cdf::new(latency_ms);
    let mut counts = [0u64; DURATION_BUCKETS_S.len()];
    let mut previous = 0u64;
    for (count, bound_s) in counts.iter_mut().zip(DURATION_BUCKETS_S) {
        let share = cdf.at(bound_s * 1000.0);
        // `as` saturates; the share is within [0, 1], so the count is within [0, requests].
        let estimate = (requests as f64 * share).round() as u64;
        previous = previous.max(estimate.min(requests));
        *count = previous;
    }
    counts
}

/// A piecewise-linear CDF through a window's quantiles, in milliseconds.
struct Cdf {
    points: [(f64, f64); 6],
}

impl Cdf {
    fn new(latency: &LatencySummary) -> Cdf {
        let raw = [
            (latency.min, 0.0),
            (latency.p50, 0.5),
            (latency.p90, 0.9),
            (latency.p99, 0.99),
            (latency.p99_9, 0.999),
            (latency.max, 1.0),
        ];
        let mut points = raw;
        let mut floor = 0.0f64;
        for (point, (value, share)) in points.iter_mut().zip(raw) {
            let value = if value.is_finite() {
                value.max(floor)
            } else {
                floor
            };
            floor = value;
            *point = (value, share);
        }
        Cdf { points }
    }

    /// The share of requests at or under `x` milliseconds.
    fn at(&self, x: f64) -> f64 {
        // The last point at or under x: the share there, then linear to the next point.
        let Some(i) = self.points.iter().rposition(|(value, _)| *value <= x) else {
            return 0.0;
        };
        let (value, share) = self.points[i];
        match self.points.get(i + 1) {
            None => 1.0,
            Some(&(next_value, next_share)) => {
                // next_value > x >= value, so the width is positive.
                share + (next_share - share) * (x - value) / (next_value - value)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(values: [f64; 6]) -> LatencySummary {
        LatencySummary {
            min: values[0],
            mean: values[1],
            p50: values[1],
            p90: values[2],
            p99: values[3],
            p99_9: values[4],
            max: values[5],
        }
    }

    #[test]
    fn half_the_requests_are_under_the_median() {
        let latency = summary([0.5, 2.0, 20.0, 40.0, 60.0, 80.0]);
        let counts = bucket_counts(&latency, 1000);
        // 2.5 ms is just past the median: 0.5 + 0.4 * 0.5 / 18.
        assert!((counts[1] as i64 - 511).abs() <= 2, "{counts:?}");
        assert_eq!(counts[12], 1000);
        assert!(counts.windows(2).all(|pair| pair[0] <= pair[1]));
    }

    #[test]
    fn all_equal_latency_is_a_step() {
        let latency = summary([3.0; 6]);
        let counts = bucket_counts(&latency, 10);
        assert_eq!(&counts[..3], &[0, 0, 10]);
    }

    #[test]
    fn disordered_or_broken_percentiles_stay_monotonic() {
        let latency = summary([5.0, 1.0, f64::NAN, 0.2, f64::INFINITY, 3.0]);
        let counts = bucket_counts(&latency, 7);
        assert!(
            counts.windows(2).all(|pair| pair[0] <= pair[1]),
            "{counts:?}"
        );
        assert!(counts.iter().all(|count| *count <= 7));
    }

    #[test]
    fn every_sample_follows_its_own_family() {
        let metrics = LiveMetrics::new();
        metrics.phase("explore");
        metrics.explore(3, 1);
        metrics.target(&ProcessSample::default());
        metrics.window(&Window {
            requests: 1,
            ..Window::default()
        });
        let text = metrics.render();
        let mut family = "";
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("# TYPE ") {
                family = rest.split(' ').next().unwrap_or("");
            } else if !line.starts_with('#') {
                let name = line.split(['{', ' ']).next().unwrap_or("");
                let suffix = name.strip_prefix(family).unwrap_or("-");
                assert!(
                    ["", "_bucket", "_sum", "_count"].contains(&suffix),
                    "{name} under {family}"
                );
            }
        }
    }

    #[test]
    fn unnamed_requests_and_escaping() {
        let metrics = LiveMetrics::new();
        let mut window = Window {
            requests: 5,
            ..Window::default()
        };
        window.operations.insert(
            "GET /a\"b".to_string(),
            unruly_core::WindowOperation {
                requests: 3,
                errors: 1,
                p50_ms: 1.0,
                p99_ms: 2.0,
            },
        );
        metrics.window(&window);
        let text = metrics.render();
        assert!(
            text.contains("unruly_requests_total{operation=\"GET /a\\\"b\"} 3\n"),
            "{text}"
        );
        assert!(
            text.contains("unruly_requests_total{operation=\"(unnamed)\"} 2\n"),
            "{text}"
        );
        assert!(
            text.contains("unruly_request_duration_seconds_count 5\n"),
            "{text}"
        );
    }
}
