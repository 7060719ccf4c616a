//! The health probe: one `GET` on its own connection, twice a second, for a
//! whole run; every failure is tied to what was running then (the operation
//! being explored, a behaviour, a load stage), and failures become one
//! `unavailable` finding.

use std::time::{Duration, Instant};
use unruly_core::{ApiSpec, Evidence, Finding, FindingKind, RequestRecord, Severity};
use unruly_engine::{ProbeBody, ProbeRequest, Prober};

/// Time between two probes.
pub const PROBE_INTERVAL: Duration = Duration::from_millis(500);
/// How long one probe may take before it counts as failed.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(5);
/// Last path segments that name a health endpoint.
const HEALTH_NAMES: &[&str] = &[
    "health", "healthz", "livez", "readyz", "ready", "status", "ping",
];

/// The health path of a spec: a `GET` without required parameters whose last
/// path segment is named like a health check.
pub fn find_health_path(spec: &ApiSpec) -> Option<String> {
    spec.operations
        .iter()
        .find(|o| {
            o.method == "GET"
                && !o.parameters.iter().any(|p| p.required)
                && o.path
                    .rsplit('/')
                    .next()
                    .is_some_and(|last| HEALTH_NAMES.contains(&last.to_ascii_lowercase().as_str()))
        })
        .map(|o| o.path.clone())
}

/// One failed probe.
#[derive(Debug, Clone)]
struct Failure {
    at_s: f64,
    what: String,
    during: Option<String>,
}

/// What the probe saw.
#[derive(Debug)]
pub struct HealthLog {
    path: String,
    url: String,
    probes: u64,
    failures: Vec<Failure>,
    failed_total: u64,
    /// Failures per label of what was running.
    failed_during: std::collections::HashMap<String, u64>,
    /// Probes per label of what was running.
    probed_during: std::collections::HashMap<String, u64>,
}

/// Failures kept with their details (the rest are only counted).
const KEPT_FAILURES: usize = 20;

impl HealthLog {
    /// An empty log for probes of `path` sent with `prober`.
    pub fn new(path: String, prober: &Prober) -> Self {
        Self {
            url: prober.url(&path),
            path,
            probes: 0,
            failures: Vec::new(),
            failed_total: 0,
            failed_during: std::collections::HashMap::new(),
            probed_during: std::collections::HashMap::new(),
        }
    }

    /// The path probed.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Failed probes and probes while `label` ran.
    pub fn during(&self, label: &str) -> (u64, u64) {
        (
            self.failed_during.get(label).copied().unwrap_or(0),
            self.probed_during.get(label).copied().unwrap_or(0),
        )
    }

    /// Records one probe's outcome; `during` says what was running then.
    pub fn add(&mut self, at_s: f64, failure: Option<String>, during: Option<String>) {
        self.probes += 1;
        if let Some(label) = &during {
            *self.probed_during.entry(label.clone()).or_default() += 1;
        }
        if let Some(what) = failure {
            self.failed_total += 1;
            if let Some(label) = &during {
                *self.failed_during.entry(label.clone()).or_default() += 1;
            }
            if self.failures.len() < KEPT_FAILURES {
                self.failures.push(Failure { at_s, what, during });
            }
        }
    }

    /// Forgets the failures that happened during `label`: another finding
    /// (say `resource_exhaustion` from slow clients) already explains them.
    pub fn explain(&mut self, label: &str) {
        let explained = self.failed_during.remove(label).unwrap_or(0);
        self.failed_total -= explained.min(self.failed_total);
        self.failures.retain(|f| f.during.as_deref() != Some(label));
    }

    /// The `unavailable` finding, when any probe failed.
    pub fn finding(&self, id: String, seed: u64) -> Option<Finding> {
        if self.failed_total == 0 {
            return None;
        }
        let first = self.failures.first()?;
        let mut during: Vec<&str> = self
            .failures
            .iter()
            .filter_map(|f| f.during.as_deref())
            .collect();
        during.dedup();
        let while_ = if during.is_empty() {
            String::new()
        } else {
            format!(" during {}", during.join(", "))
        };
        let mut measurements = std::collections::BTreeMap::new();
        measurements.insert("probes".to_owned(), self.probes as f64);
        measurements.insert("failed_probes".to_owned(), self.failed_total as f64);
        Some(Finding {
            id,
            kind: FindingKind::Unavailable,
            severity: Severity::High,
            operation: format!("GET {}", self.path),
            summary: format!(
                "The health probe GET {} failed {} of {} times{while_} (first at {:.1}s: {}).",
                self.path, self.failed_total, self.probes, first.at_s, first.what
            ),
            evidence: Evidence {
                request: format!("GET {}", self.url),
                excerpt: Some(
                    self.failures
                        .iter()
                        .map(|f| {
                            let during = f.during.as_deref().unwrap_or("-");
                            format!("{:.1}s {} (during {during})", f.at_s, f.what)
                        })
                        .collect::<Vec<_>>()
                        .join("\n"),
                ),
                measurements,
                ..Evidence::default()
            },
            reproduce: unruly_verdict::curl_command(&RequestRecord {
                method: "GET".to_owned(),
                url: self.url.clone(),
                headers: Vec::new(),
                body: None,
            }),
            seed,
            first_seen_s: first.at_s,
            count: self.failed_total,
        })
    }
}

/// Probes once, giving up after `timeout`: `None` when healthy, or what went wrong.
pub async fn probe(
    prober: &mut Prober,
    path: &str,
    headers: &[(String, String)],
    timeout: Duration,
) -> Option<String> {
    let request = ProbeRequest {
        method: "GET".to_owned(),
        path_and_query: path.to_owned(),
        headers: headers.to_vec(),
        body: ProbeBody::Empty,
    };
    match prober.send(request, timeout).await {
        Ok(answer) if (200..300).contains(&answer.status) => None,
        Ok(answer) => Some(format!("status {}", answer.status)),
        Err(failure) => Some(format!("{}: {}", failure.class.as_str(), failure.message)),
    }
}

/// Probes until dropped, handing each outcome (seconds since `start`, the
/// failure if any) to `record`.
pub async fn keep_probing(
    mut prober: Prober,
    path: String,
    headers: Vec<(String, String)>,
    start: Instant,
    mut record: impl FnMut(f64, Option<String>),
) {
    loop {
        let failure = probe(&mut prober, &path, &headers, PROBE_TIMEOUT).await;
        record(start.elapsed().as_secs_f64(), failure);
        tokio::time::sleep(PROBE_INTERVAL).await;
    }
}
