//! The `memory_growth` judgement: memory that grows with work and is not given back.
//!
//! The method, in order (each step can only reject):
//!
//! 1. **The load window.** From when the cumulative request count starts rising to when it
//!    stops rising. The first 15 % of it (at least 2 s, at most 60 s, never more than 40 %
//!    of it) is warm-up and skipped: allocator arenas, caches and JIT fill there.
//! 2. **Enough data.** At least [`MIN_SAMPLES`] samples in the judged window, and requests
//!    sent over it.
//! 3. **A robust slope.** RSS against cumulative requests (not time: a leak grows with
//!    work), by Theil–Sen: the median of the slopes between all pairs of samples (on at most
//!    [`THEIL_SEN_POINTS`] evenly thinned samples). Noise and a few outliers do not move a
//!    median.
//! 4. **Large enough.** The growth over the window, both as fitted (slope × requests) and as
//!    measured (median of its last samples − median of its first), is at least
//!    max([`MIN_GROWTH_BYTES`], [`MIN_GROWTH_FRACTION`] of the starting RSS).
//! 5. **Steady, not a step.** The window is cut into [`SEGMENTS`] equal slices of work; the
//!    median RSS of each slice rises from slice to slice in at least 75 % of the steps, and
//!    no single step holds more than 60 % of the growth. A one-off jump (a cache filling
//!    halfway) is one big step and is rejected; so is a sawtooth, whose steps go down as
//!    often as up. And RSS ranks with work: Spearman's ρ ≥ [`MIN_SPEARMAN`].
//! 6. **Not given back.** The samples of the settle period (the last 2 s after the work
//!    stopped, or the last 2 s of the run if it never stopped) stay above
//!    start + 75 % of the growth: memory freed once the load stops (a cache with a TTL, a
//!    GC that finally runs) is not a leak.
//!
//! When the run's per-second timeline gives requests per operation, the growth is
//! attributed to the operation whose requests per second correlate best with the RSS
//! increments per second, if clearly best.

use std::collections::{BTreeMap, BTreeSet};
use unruly_core::{Evidence, Finding, FindingKind, ProcessSample, Severity, Window};

/// Samples needed in the judged window (3 s at 250 ms).
pub const MIN_SAMPLES: usize = 12;
/// Growth below this is never reported, in bytes.
pub const MIN_GROWTH_BYTES: u64 = 8 * MIB;
/// Growth below this fraction of the starting RSS is never reported.
pub const MIN_GROWTH_FRACTION: f64 = 0.10;
/// Rank correlation of RSS with work needed.
pub const MIN_SPEARMAN: f64 = 0.7;
/// Slices of work whose median RSS must rise steadily.
pub const SEGMENTS: usize = 6;
/// Samples used at most for the Theil–Sen slope (the pairs grow as its square).
pub const THEIL_SEN_POINTS: usize = 150;
/// The share of the growth that must still be there in the settle period.
pub const KEPT_FRACTION: f64 = 0.75;
/// The settle period: the last seconds of the run, after the work stopped if it did.
pub const SETTLE_S: f64 = 2.0;

const MIB: u64 = 1024 * 1024;
const WARMUP_FRACTION: f64 = 0.15;
const WARMUP_MIN_S: f64 = 2.0;
const WARMUP_MAX_S: f64 = 60.0;
const WARMUP_MAX_FRACTION: f64 = 0.4;
/// Share of growing steps between slices needed.
const GROWING_STEPS: f64 = 0.75;
/// Share of the growth a single step between slices may hold at most.
const MAX_STEP_SHARE: f64 = 0.6;
/// Seconds of timeline needed to attribute the growth to an operation.
const ATTRIBUTION_MIN_SECONDS: usize = 5;
/// Correlation the best operation needs, and its lead over the second.
const ATTRIBUTION_MIN_R: f64 = 0.3;
const ATTRIBUTION_LEAD: f64 = 0.2;

/// The work unruly had done by a time: requests sent so far (cumulative, never decreasing).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WorkPoint {
    /// Seconds from the start of the run.
    pub t_s: f64,
    /// Requests sent from the start of the run to `t_s`.
    pub requests: u64,
}

/// Memory that grew with the work and was not given back.
#[derive(Debug, Clone, PartialEq)]
pub struct MemoryGrowth {
    /// Bytes of RSS gained per request (the Theil–Sen slope).
    pub bytes_per_request: f64,
    /// The same growth over time, in MiB per minute of load.
    pub mib_per_minute: f64,
    /// RSS at the start of the judged window (after warm-up), in bytes.
    pub rss_start_bytes: u64,
    /// The highest RSS from then on, in bytes.
    pub rss_peak_bytes: u64,
    /// RSS at the end of the load, in bytes.
    pub rss_end_bytes: u64,
    /// RSS in the settle period, in bytes.
    pub rss_settled_bytes: u64,
    /// Whether the settle period came after the work stopped (otherwise the run ended under
    /// load, and giving memory back could not be seen).
    pub settled_after_load: bool,
    /// Requests sent over the judged window.
    pub requests: u64,
    /// Start of the judged window, in seconds from the start of the run.
    pub window_start_s: f64,
    /// End of the judged window (when the work stopped), in seconds.
    pub window_end_s: f64,
    /// The operation the growth goes with, if the timeline tells clearly.
    pub operation: Option<String>,
    /// Fit quality: Spearman's rank correlation of RSS with cumulative requests (1 = RSS
    /// rose with every request).
    pub spearman: f64,
    /// Steps between slices of work where the median RSS rose, and steps in all.
    pub growing_steps: (usize, usize),
    /// Samples in the judged window.
    pub samples: usize,
}

/// Judges whether the watched process's memory grew with the work and stayed grown; see
/// the module's documentation for the method. `samples` and `work` are in time order;
/// `timeline` (per second, may be empty) is used to name the operation it grows with.
pub fn judge_memory(
    samples: &[ProcessSample],
    work: &[WorkPoint],
    timeline: &[Window],
) -> Option<MemoryGrowth> {
    let (first, last) = (work.first()?, work.last()?);
    if last.requests <= first.requests {
        return None;
    }
    // 1. The load window and its warm-up.
    let rising = work.iter().position(|w| w.requests > first.requests)?;
    let load_start = work[rising.saturating_sub(1)].t_s;
    let load_end = work.iter().find(|w| w.requests >= last.requests)?.t_s;
    let load = load_end - load_start;
    if load <= 0.0 {
        return None;
    }
    let warmup = (load * WARMUP_FRACTION)
        .clamp(WARMUP_MIN_S, WARMUP_MAX_S)
        .min(load * WARMUP_MAX_FRACTION);
    let window_start = load_start + warmup;
    let judged: Vec<(f64, f64, f64)> = samples
        .iter()
        .filter(|s| s.t_s >= window_start && s.t_s <= load_end)
        .map(|s| (s.t_s, work_at(work, s.t_s), s.rss_bytes as f64))
        .collect();
    // 2. Enough data.
    let n = judged.len();
    if n < MIN_SAMPLES {
        return None;
    }
    let (w0, w1) = (judged[0].1, judged[n - 1].1);
    let requests = w1 - w0;
    if requests < 1.0 {
        return None;
    }
    // 3. The robust slope.
    let slope = theil_sen(&judged.iter().map(|j| (j.1, j.2)).collect::<Vec<_>>())?;
    // 4. Large enough.
    let edge = (n / 10).max(3);
    let rss_start = median(judged[..edge].iter().map(|j| j.2).collect())?;
    let rss_end = median(judged[n - edge..].iter().map(|j| j.2).collect())?;
    let fitted = slope * requests;
    let measured = rss_end - rss_start;
    let threshold = (MIN_GROWTH_BYTES as f64).max(MIN_GROWTH_FRACTION * rss_start);
    // Written so that a NaN (a degenerate fit) rejects rather than reports.
    if !(slope > 0.0 && fitted >= threshold && measured >= threshold) {
        return None;
    }
    // 5. Steady, not a step nor a sawtooth.
    let growing_steps = growing_steps(&judged, w0, requests)?;
    if (growing_steps.0 as f64) < GROWING_STEPS * growing_steps.1 as f64 {
        return None;
    }
    let spearman = spearman(
        &judged.iter().map(|j| j.1).collect::<Vec<_>>(),
        &judged.iter().map(|j| j.2).collect::<Vec<_>>(),
    )?;
    if spearman.is_nan() || spearman < MIN_SPEARMAN {
        return None;
    }
    // 6. Not given back.
    let t_last = samples.last()?.t_s;
    let after: Vec<&ProcessSample> = samples.iter().filter(|s| s.t_s > load_end).collect();
    let settled_after_load = after.len() >= 2;
    let settle_from = (t_last - SETTLE_S).max(if settled_after_load {
        load_end + f64::EPSILON
    } else {
        f64::NEG_INFINITY
    });
    let settled = median(
        samples
            .iter()
            .filter(|s| s.t_s >= settle_from)
            .map(|s| s.rss_bytes as f64)
            .collect(),
    )?;
    if settled < rss_start + KEPT_FRACTION * measured {
        return None;
    }
    let peak = samples
        .iter()
        .filter(|s| s.t_s >= window_start)
        .map(|s| s.rss_bytes)
        .max()?;
    let duration = judged[n - 1].0 - judged[0].0;
    Some(MemoryGrowth {
        bytes_per_request: slope,
        mib_per_minute: if duration > 0.0 {
            fitted / duration * 60.0 / MIB as f64
        } else {
            0.0
        },
        rss_start_bytes: rss_start as u64,
        rss_peak_bytes: peak,
        rss_end_bytes: rss_end as u64,
        rss_settled_bytes: settled as u64,
        settled_after_load,
        requests: requests.round() as u64,
        window_start_s: judged[0].0,
        window_end_s: judged[n - 1].0,
        operation: attribute(samples, timeline, judged[0].0, judged[n - 1].0),
        spearman,
        growing_steps,
        samples: n,
    })
}

/// Cumulative requests at `t_s`, linearly interpolated between work points.
fn work_at(work: &[WorkPoint], t_s: f64) -> f64 {
    let after = work.partition_point(|w| w.t_s <= t_s);
    match (after.checked_sub(1).map(|i| work[i]), work.get(after)) {
        (None, Some(next)) => next.requests as f64,
        (Some(prev), None) => prev.requests as f64,
        (Some(prev), Some(next)) => {
            let span = next.t_s - prev.t_s;
            let f = if span > 0.0 {
                (t_s - prev.t_s) / span
            } else {
                1.0
            };
            prev.requests as f64 + f * (next.requests as f64 - prev.requests as f64)
        }
        (None, None) => 0.0,
    }
}

/// The median of `values` (`None` if empty).
fn median(mut values: Vec<f64>) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    Some(if values.len().is_multiple_of(2) {
        (values[mid - 1] + values[mid]) / 2.0
    } else {
        values[mid]
    })
}

/// The Theil–Sen slope of `points` (x, y): the median of the slopes between every pair with
/// distinct x, on at most [`THEIL_SEN_POINTS`] points thinned evenly.
pub fn theil_sen(points: &[(f64, f64)]) -> Option<f64> {
    let step = points.len().div_ceil(THEIL_SEN_POINTS).max(1);
    let thinned: Vec<(f64, f64)> = points.iter().step_by(step).copied().collect();
    let mut slopes = Vec::with_capacity(thinned.len() * thinned.len() / 2);
    for (i, a) in thinned.iter().enumerate() {
        for b in &thinned[i + 1..] {
            let dx = b.0 - a.0;
            if dx.abs() > f64::EPSILON {
                slopes.push((b.1 - a.1) / dx);
            }
        }
    }
    median(slopes)
}

/// Steps between consecutive slices of work whose median RSS rose, and steps in all; a step
/// holding more than [`MAX_STEP_SHARE`] of the growth makes none count as growing.
/// `None` if too few slices hold samples.
fn growing_steps(judged: &[(f64, f64, f64)], w0: f64, requests: f64) -> Option<(usize, usize)> {
    let mut slices: Vec<Vec<f64>> = vec![Vec::new(); SEGMENTS];
    for &(_, w, rss) in judged {
        let k = (((w - w0) / requests) * SEGMENTS as f64).floor();
        let k = (k.max(0.0) as usize).min(SEGMENTS - 1);
        slices[k].push(rss);
    }
    let medians: Vec<f64> = slices.into_iter().filter_map(median).collect();
    if medians.len() < 4 {
        return None;
    }
    let steps: Vec<f64> = medians.windows(2).map(|p| p[1] - p[0]).collect();
    let total = medians[medians.len() - 1] - medians[0];
    if total <= 0.0 || steps.iter().any(|&d| d > MAX_STEP_SHARE * total) {
        return Some((0, steps.len()));
    }
    Some((steps.iter().filter(|&&d| d > 0.0).count(), steps.len()))
}

/// Ranks of `values`, ties sharing their mean rank.
fn ranks(values: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
    let mut ranks = vec![0.0; values.len()];
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && values[order[j + 1]] == values[order[i]] {
            j += 1;
        }
        let rank = (i + j) as f64 / 2.0;
        for &k in &order[i..=j] {
            ranks[k] = rank;
        }
        i = j + 1;
    }
    ranks
}

/// Pearson's correlation (`None` if either series is constant or they are too short).
fn pearson(x: &[f64], y: &[f64]) -> Option<f64> {
    let n = x.len().min(y.len());
    if n < 3 {
        return None;
    }
    let mx = x[..n].iter().sum::<f64>() / n as f64;
    let my = y[..n].iter().sum::<f64>() / n as f64;
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for i in 0..n {
        let (dx, dy) = (x[i] - mx, y[i] - my);
        sxy += dx * dy;
        sxx += dx * dx;
        syy += dy * dy;
    }
    if sxx <= 0.0 || syy <= 0.0 {
        return None;
    }
    Some(sxy / (sxx * syy).sqrt())
}

/// Spearman's rank correlation.
pub fn spearman(x: &[f64], y: &[f64]) -> Option<f64> {
    pearson(&ranks(x), &ranks(y))
}

/// RSS at `t_s`, linearly interpolated between samples.
fn rss_at(samples: &[ProcessSample], t_s: f64) -> Option<f64> {
    let after = samples.partition_point(|s| s.t_s <= t_s);
    let prev = samples.get(after.checked_sub(1)?)?;
    let Some(next) = samples.get(after) else {
        return Some(prev.rss_bytes as f64);
    };
    let span = next.t_s - prev.t_s;
    let f = if span > 0.0 {
        (t_s - prev.t_s) / span
    } else {
        1.0
    };
    Some(prev.rss_bytes as f64 + f * (next.rss_bytes as f64 - prev.rss_bytes as f64))
}

/// The operation whose requests per second correlate best with the RSS increments per
/// second over `[from_s, to_s]`, if clearly best (or the only one that ran).
fn attribute(
    samples: &[ProcessSample],
    timeline: &[Window],
    from_s: f64,
    to_s: f64,
) -> Option<String> {
    let seconds: Vec<&Window> = timeline
        .iter()
        .filter(|w| w.t_s as f64 >= from_s.floor() && (w.t_s + 1) as f64 <= to_s.ceil())
        .collect();
    let mut increments = Vec::with_capacity(seconds.len());
    let mut kept: Vec<&Window> = Vec::with_capacity(seconds.len());
    for w in seconds {
        if let (Some(a), Some(b)) = (
            rss_at(samples, w.t_s as f64),
            rss_at(samples, (w.t_s + 1) as f64),
        ) {
            increments.push(b - a);
            kept.push(w);
        }
    }
    let names: BTreeSet<&String> = kept
        .iter()
        .flat_map(|w| w.operations.iter())
        .filter(|(_, op)| op.requests > 0)
        .map(|(name, _)| name)
        .collect();
    if names.len() == 1 {
        return names.into_iter().next().cloned();
    }
    if kept.len() < ATTRIBUTION_MIN_SECONDS {
        return None;
    }
    let mut scores: Vec<(f64, &String)> = Vec::new();
    for name in names {
        let rates: Vec<f64> = kept
            .iter()
            .map(|w| w.operations.get(name).map_or(0.0, |op| op.requests as f64))
            .collect();
        if let Some(r) = pearson(&rates, &increments) {
            scores.push((r, name));
        }
    }
    scores.sort_by(|a, b| b.0.total_cmp(&a.0));
    let (top, name) = *scores.first()?;
    let second = scores.get(1).map_or(0.0, |s| s.0.max(0.0));
    (top >= ATTRIBUTION_MIN_R && top - second >= ATTRIBUTION_LEAD).then(|| name.clone())
}

/// The `memory_growth` finding for `growth`.
pub fn memory_growth_finding(growth: &MemoryGrowth, id: String, seed: u64) -> Finding {
    let operation = growth
        .operation
        .clone()
        .unwrap_or_else(|| "(process)".to_owned());
    let per_op = growth
        .operation
        .as_ref()
        .map(|op| format!(", growing with {op}"))
        .unwrap_or_default();
    let back = if growth.settled_after_load {
        "was not given back after the load"
    } else {
        "was still held when the run ended"
    };
    let summary = format!(
        "RSS grew from {} to {} over {} requests (about {} per request{per_op}) and {back} ({} after it).",
        mib(growth.rss_start_bytes),
        mib(growth.rss_end_bytes),
        thousands(growth.requests),
        bytes(growth.bytes_per_request),
        mib(growth.rss_settled_bytes),
    );
    let mut measurements = BTreeMap::new();
    for (name, value) in [
        ("bytes_per_request", growth.bytes_per_request),
        ("mib_per_minute", growth.mib_per_minute),
        ("rss_start_bytes", growth.rss_start_bytes as f64),
        ("rss_peak_bytes", growth.rss_peak_bytes as f64),
        ("rss_end_bytes", growth.rss_end_bytes as f64),
        ("rss_settled_bytes", growth.rss_settled_bytes as f64),
        ("requests", growth.requests as f64),
        ("spearman", growth.spearman),
        ("samples", growth.samples as f64),
        ("window_start_s", growth.window_start_s),
        ("window_end_s", growth.window_end_s),
    ] {
        measurements.insert(name.to_owned(), value);
    }
    Finding {
        id,
        kind: FindingKind::MemoryGrowth,
        severity: Severity::High,
        operation: operation.clone(),
        summary,
        evidence: Evidence {
            request: operation,
            excerpt: Some(format!(
                "RSS {} at {:.1}s (after warm-up), peak {}, {} at {:.1}s when the load ended, {} \
                 in the settle period; {:.1} MiB per minute; RSS rose in {} of {} slices of work \
                 (Spearman rho {:.2} with requests, {} samples)",
                mib(growth.rss_start_bytes),
                growth.window_start_s,
                mib(growth.rss_peak_bytes),
                mib(growth.rss_end_bytes),
                growth.window_end_s,
                mib(growth.rss_settled_bytes),
                growth.mib_per_minute,
                growth.growing_steps.0,
                growth.growing_steps.1,
                growth.spearman,
                growth.samples,
            )),
            measurements,
            ..Evidence::default()
        },
        reproduce: reproduce(growth),
        seed,
        first_seen_s: growth.window_start_s,
        count: 1,
    }
}

/// A shell loop that repeats the operation and reads the target's RSS between rounds; a
/// sentence with a `ps` read when the operation is not known.
fn reproduce(growth: &MemoryGrowth) -> String {
    let ps = "ps -o rss= -p \"$PID\"   # resident memory in KiB";
    let Some((method, path)) = growth
        .operation
        .as_deref()
        .and_then(|op| op.split_once(' '))
    else {
        return format!(
            "# PID: the target's process id. Run the scenario again and read its memory every few seconds:\n\
             {ps}\n\
             # it rises with the requests sent (about {} each) and stays up after the load stops",
            bytes(growth.bytes_per_request)
        );
    };
    // Enough requests per round to grow by MIN_GROWTH_BYTES, as a round number.
    let per_round = (MIN_GROWTH_BYTES as f64 / growth.bytes_per_request.max(1.0)).ceil();
    let per_round = round_up(per_round.clamp(100.0, 100_000.0) as u64);
    let path = fill_path_parameters(path);
    let method = if method == "GET" {
        String::new()
    } else {
        format!("-X {method} ")
    };
    [
        "# BASE: the target's base URL; PID: its process id (path parameters set to 1)".to_owned(),
        ps.to_owned(),
        "for round in 1 2 3 4 5; do".to_owned(),
        format!(
            "  for i in $(seq 1 {per_round}); do curl -s -o /dev/null {method}\"$BASE{path}\"; done"
        ),
        "  ps -o rss= -p \"$PID\"".to_owned(),
        "done".to_owned(),
        format!(
            "# expected: about {} more after each round, still there a minute later",
            mib((growth.bytes_per_request * per_round as f64) as u64)
        ),
    ]
    .join("\n")
}

/// `path` with every `{parameter}` set to `1`.
fn fill_path_parameters(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    let mut in_param = false;
    for c in path.chars() {
        match c {
            '{' => in_param = true,
            '}' if in_param => {
                in_param = false;
                out.push('1');
            }
            _ if in_param => {}
            _ => out.push(c),
        }
    }
    out
}

/// `n` rounded up to 1, 2 or 5 times a power of ten.
fn round_up(n: u64) -> u64 {
    let mut scale = 1;
    loop {
        for m in [1, 2, 5] {
            if m * scale >= n {
                return m * scale;
            }
        }
        scale *= 10;
    }
}

/// `42.1 MiB`.
fn mib(b: u64) -> String {
    format!("{:.1} MiB", b as f64 / MIB as f64)
}

/// `5.2 KiB`, `312 B`, `1.3 MiB`.
fn bytes(b: f64) -> String {
    if b >= MIB as f64 {
        format!("{:.1} MiB", b / MIB as f64)
    } else if b >= 1024.0 {
        format!("{:.1} KiB", b / 1024.0)
    } else {
        format!("{b:.0} B")
    }
}

/// `31,000`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use unruly_core::report::WindowOperation;

    /// A deterministic noise source in [-1, 1].
    struct Noise(u64);

    impl Noise {
        fn next(&mut self) -> f64 {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((self.0 >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
        }
    }

    /// A run sampled every 250 ms for `end_s`, sending `rate` requests per second until
    /// `load_s`; RSS is `rss(t, requests so far)` plus `noise` bytes of noise.
    fn run(
        load_s: f64,
        end_s: f64,
        rate: f64,
        noise: f64,
        rss: impl Fn(f64, f64) -> f64,
    ) -> (Vec<ProcessSample>, Vec<WorkPoint>) {
        let mut n = Noise(42);
        let mut samples = Vec::new();
        let mut work = Vec::new();
        let mut t = 0.0;
        while t <= end_s + 1e-9 {
            let w = rate * t.min(load_s);
            samples.push(ProcessSample {
                t_s: t,
                rss_bytes: (rss(t, w) + noise * n.next()).max(0.0) as u64,
                cpu_percent: 10.0,
                threads: 4,
                fds: 10,
            });
            work.push(WorkPoint {
                t_s: t,
                requests: w as u64,
            });
            t += 0.25;
        }
        (samples, work)
    }

    const BASE: f64 = 50.0 * MIB as f64;

    #[test]
    fn a_steady_leak_is_found_with_its_bytes_per_request() {
        let (samples, work) = run(60.0, 65.0, 200.0, MIB as f64, |_, w| BASE + 5120.0 * w);
        let growth = judge_memory(&samples, &work, &[]).expect("a leak");
        let error = (growth.bytes_per_request - 5120.0).abs() / 5120.0;
        assert!(error < 0.1, "{growth:?}");
        assert!(growth.settled_after_load, "{growth:?}");
        assert!(growth.spearman > 0.9, "{growth:?}");
        assert!(growth.rss_settled_bytes > growth.rss_start_bytes + 40 * MIB);
        // 5 KiB × 200/s = 1000 KiB/s, about 58.6 MiB per minute.
        assert!((growth.mib_per_minute - 58.6).abs() < 6.0, "{growth:?}");
        assert_eq!(growth.operation, None);
        let finding = memory_growth_finding(&growth, "F2".into(), 9);
        assert_eq!(finding.kind, FindingKind::MemoryGrowth);
        assert_eq!(finding.severity, Severity::High);
        assert_eq!(finding.operation, "(process)");
        assert!(
            finding.summary.starts_with("RSS grew from "),
            "{}",
            finding.summary
        );
        assert!(
            finding.summary.contains("(about 5.0 KiB per request)"),
            "{}",
            finding.summary
        );
        assert!(finding.summary.contains("not given back after the load"));
        assert!(finding.reproduce.contains("ps -o rss= -p \"$PID\""));
        for key in [
            "bytes_per_request",
            "rss_start_bytes",
            "rss_end_bytes",
            "rss_settled_bytes",
        ] {
            assert!(finding.evidence.measurements.contains_key(key), "{key}");
        }
    }

    #[test]
    fn a_small_steady_leak_in_a_short_run_is_found() {
        // 10 s of load at 50/s with 64 KiB each: about 31 MiB.
        let (samples, work) = run(10.0, 11.0, 50.0, 256.0 * 1024.0, |_, w| {
            20.0 * MIB as f64 + 65536.0 * w
        });
        let growth = judge_memory(&samples, &work, &[]).expect("a leak");
        assert!(
            (growth.bytes_per_request - 65536.0).abs() < 6554.0,
            "{growth:?}"
        );
    }

    #[test]
    fn flat_memory_with_noise_is_not_reported() {
        let (samples, work) = run(60.0, 65.0, 200.0, 3.0 * MIB as f64, |_, _| BASE);
        assert_eq!(judge_memory(&samples, &work, &[]), None);
    }

    #[test]
    fn a_warm_up_jump_then_flat_is_not_reported() {
        let (samples, work) = run(60.0, 65.0, 200.0, MIB as f64, |t, _| {
            BASE + if t >= 1.0 { 40.0 * MIB as f64 } else { 0.0 }
        });
        assert_eq!(judge_memory(&samples, &work, &[]), None);
    }

    #[test]
    fn a_one_off_jump_in_the_middle_of_the_load_is_not_reported() {
        let (samples, work) = run(60.0, 65.0, 200.0, MIB as f64, |t, _| {
            BASE + if t >= 27.0 { 40.0 * MIB as f64 } else { 0.0 }
        });
        assert_eq!(judge_memory(&samples, &work, &[]), None);
    }

    #[test]
    fn a_sawtooth_with_a_flat_trend_is_not_reported() {
        // A GC'd heap: 30 MiB of garbage builds up over 7 s, then is collected.
        let (samples, work) = run(60.0, 65.0, 200.0, MIB as f64, |t, _| {
            BASE + 30.0 * MIB as f64 * ((t % 7.0) / 7.0)
        });
        assert_eq!(judge_memory(&samples, &work, &[]), None);
    }

    #[test]
    fn a_leak_under_a_sawtooth_is_found() {
        let (samples, work) = run(60.0, 65.0, 200.0, MIB as f64, |t, w| {
            BASE + 5120.0 * w + 10.0 * MIB as f64 * ((t % 3.0) / 3.0)
        });
        let growth = judge_memory(&samples, &work, &[]).expect("a leak");
        assert!(
            (growth.bytes_per_request - 5120.0).abs() < 512.0,
            "{growth:?}"
        );
    }

    #[test]
    fn growth_given_back_after_the_load_is_not_reported() {
        let (samples, work) = run(60.0, 65.0, 200.0, MIB as f64, |t, w| {
            if t > 61.0 {
                BASE
            } else {
                BASE + 5120.0 * w
            }
        });
        assert_eq!(judge_memory(&samples, &work, &[]), None);
    }

    #[test]
    fn growth_below_the_floor_is_not_reported() {
        // 100 B per request × 12,000 requests: about 1.1 MiB.
        let (samples, work) = run(60.0, 65.0, 200.0, 0.0, |_, w| BASE + 100.0 * w);
        assert_eq!(judge_memory(&samples, &work, &[]), None);
    }

    #[test]
    fn too_few_samples_or_no_work_say_nothing() {
        let (samples, work) = run(60.0, 65.0, 200.0, 0.0, |_, w| BASE + 5120.0 * w);
        assert_eq!(judge_memory(&samples[..10], &work[..10], &[]), None);
        let idle: Vec<WorkPoint> = work
            .iter()
            .map(|w| WorkPoint { requests: 0, ..*w })
            .collect();
        assert_eq!(judge_memory(&samples, &idle, &[]), None);
        assert_eq!(judge_memory(&[], &work, &[]), None);
    }

    #[test]
    fn the_growth_is_attributed_to_the_operation_it_grows_with() {
        // Two operations at independently varying rates; only POST /orders leaks.
        let mut noise = Noise(7);
        let mut timeline = Vec::new();
        let (mut orders, mut users) = (vec![0.0], vec![0.0]);
        for t in 0..60u64 {
            let a = (100.0 + 60.0 * noise.next()).round();
            let b = (100.0 + 60.0 * noise.next()).round();
            orders.push(orders[t as usize] + a);
            users.push(users[t as usize] + b);
            let mut operations = BTreeMap::new();
            for (name, n) in [("POST /orders", a), ("GET /users", b)] {
                operations.insert(
                    name.to_owned(),
                    WindowOperation {
                        requests: n as u64,
                        ..WindowOperation::default()
                    },
                );
            }
            timeline.push(Window {
                t_s: t,
                requests: (a + b) as u64,
                operations,
                ..Window::default()
            });
        }
        let at = |series: &[f64], t: f64| {
            let s = (t.floor() as usize).min(59);
            series[s] + (series[s + 1] - series[s]) * (t - s as f64).min(1.0)
        };
        let mut samples = Vec::new();
        let mut work = Vec::new();
        for i in 0..=260 {
            let t = i as f64 * 0.25;
            let tl = t.min(60.0);
            samples.push(ProcessSample {
                t_s: t,
                rss_bytes: (BASE + 8192.0 * at(&orders, tl)) as u64,
                ..ProcessSample::default()
            });
            work.push(WorkPoint {
                t_s: t,
                requests: (at(&orders, tl) + at(&users, tl)) as u64,
            });
        }
        let growth = judge_memory(&samples, &work, &timeline).expect("a leak");
        assert_eq!(growth.operation.as_deref(), Some("POST /orders"));
        let finding = memory_growth_finding(&growth, "F1".into(), 1);
        assert_eq!(finding.operation, "POST /orders");
        assert!(
            finding.summary.contains("growing with POST /orders"),
            "{}",
            finding.summary
        );
        assert!(
            finding
                .reproduce
                .contains("curl -s -o /dev/null -X POST \"$BASE/orders\""),
            "{}",
            finding.reproduce
        );
    }

    const HTTP_SERVER: &str = r#"
import http.server, sys
leak = sys.argv[1] == 'leak'
kept = []
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if leak:
            kept.append(b'x' * 65536)
        self.send_response(200)
        self.send_header('Content-Length', '2')
        self.end_headers()
        self.wfile.write(b'ok')
    def log_message(self, *args):
        pass
server = http.server.HTTPServer(('127.0.0.1', 0), H)
print(server.server_address[1], flush=True)
server.serve_forever()
"#;

    /// Runs the python server (`leak` or `flat`), sends it 100 requests a second for 7 s,
    /// lets it idle 1.5 s, and judges its memory as sampled by a [`ProcessWatch`].
    fn judge_real_server(mode: &str) -> Option<MemoryGrowth> {
        use crate::process::tests::{eventually, python3};
        use crate::process::ProcessWatch;
        use std::io::{Read, Write};
        use std::sync::{Arc, Mutex};
        use std::time::{Duration, Instant};

        let port: Arc<Mutex<Option<u16>>> = Arc::default();
        let seen = Arc::clone(&port);
        let sink: crate::spawn::LineSink = Arc::new(move |_, line| {
            if let (Ok(p), Ok(mut seen)) = (line.trim().parse::<u16>(), seen.lock()) {
                *seen = Some(p);
            }
        });
        let script = format!("'{}'", HTTP_SERVER.replace('\'', "'\\''"));
        let mut target =
            crate::spawn::start(&format!("{} -c {script} {mode}", python3()), sink).expect("spawn");
        let port = || port.lock().ok().and_then(|p| *p);
        assert!(eventually(Duration::from_secs(5), || port().is_some()));
        let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port().expect("port")));
        target
            .wait_until_answers(addr, Duration::from_secs(5))
            .expect("answers");
        let start = Instant::now();
        let watch =
            ProcessWatch::attach_child(target.pid(), start, target.exit_probe()).expect("attach");
        let mut work = vec![WorkPoint {
            t_s: 0.0,
            requests: 0,
        }];
        let load = Duration::from_secs(7);
        let mut sent = 0u64;
        while start.elapsed() < load {
            let due = Duration::from_millis(10 * sent);
            if let Some(wait) = due.checked_sub(start.elapsed()) {
                std::thread::sleep(wait);
            }
            let mut stream = std::net::TcpStream::connect(addr).expect("connect");
            stream.write_all(b"GET / HTTP/1.0\r\n\r\n").expect("send");
            let mut answer = Vec::new();
            stream.read_to_end(&mut answer).expect("read");
            sent += 1;
            work.push(WorkPoint {
                t_s: start.elapsed().as_secs_f64(),
                requests: sent,
            });
        }
        std::thread::sleep(Duration::from_millis(1500));
        work.push(WorkPoint {
            t_s: start.elapsed().as_secs_f64(),
            requests: sent,
        });
        let outcome = watch.finish();
        target.stop();
        assert!(sent > 300, "only {sent} requests");
        assert_eq!(outcome.exit, None);
        judge_memory(&outcome.samples, &work, &[])
    }

    #[test]
    fn a_real_leaking_server_is_found() {
        let leaky = judge_real_server("leak").expect("the leaking server grows");
        // 64 KiB kept per request, plus the allocator's own overhead.
        assert!(
            leaky.bytes_per_request > 0.8 * 65536.0 && leaky.bytes_per_request < 1.3 * 65536.0,
            "{leaky:?}"
        );
        assert!(leaky.settled_after_load, "{leaky:?}");
    }

    #[test]
    fn a_real_server_that_keeps_nothing_is_not_reported() {
        assert_eq!(judge_real_server("flat"), None);
    }

    #[test]
    fn helpers() {
        assert_eq!(thousands(31000), "31,000");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1234567), "1,234,567");
        assert_eq!(round_up(128), 200);
        assert_eq!(round_up(100), 100);
        assert_eq!(
            fill_path_parameters("/orders/{id}/items/{n}"),
            "/orders/1/items/1"
        );
        assert_eq!(
            theil_sen(&[(0.0, 0.0), (1.0, 1.0), (2.0, 2.0), (3.0, 3.0), (4.0, 100.0)]),
            Some(1.0)
        );
        assert_eq!(spearman(&[1.0, 2.0, 3.0], &[10.0, 20.0, 30.0]), Some(1.0));
    }
}
