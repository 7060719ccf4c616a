//! The health probe: one `GET` on its own connection, twice a second, for the
//! whole exploration; every failure is tied to the operation being explored
//! then, and failures become one `unavailable` finding.

use std::time::{Duration, Instant};
use unruly_core::{ApiSpec, Evidence, Finding, FindingKind, RequestRecord, Severity};
use unruly_engine::{ProbeBody, ProbeRequest, Prober};

/// Time between two probes.
pub(crate) const PROBE_INTERVAL: Duration = Duration::from_millis(500);
/// How long one probe may take before it counts as failed.
const PROBE_TIMEOUT: Duration = Duration::from_secs(5);
/// Last path segments that name a health endpoint.
const HEALTH_NAMES: &[&str] = &[
    "health", "healthz", "livez", "readyz", "ready", "status", "ping",
];

/// The health path of a spec: a `GET` without required parameters whose last
/// path segment is named like a health check.
pub(crate) fn find_health_path(spec: &ApiSpec) -> Option<String> {
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
pub(crate) struct HealthLog {
    path: String,
    url: String,
    probes: u64,
    failures: Vec<Failure>,
    failed_total: u64,
}

/// Failures kept with their details (the rest are only counted).
const KEPT_FAILURES: usize = 20;

impl HealthLog {
    pub fn new(path: String, prober: &Prober) -> Self {
        Self {
            url: prober.url(&path),
            path,
            probes: 0,
            failures: Vec::new(),
            failed_total: 0,
        }
    }

    /// Records one probe's outcome; `during` is the operation being explored.
    pub fn add(&mut self, at_s: f64, failure: Option<String>, during: Option<String>) {
        self.probes += 1;
        if let Some(what) = failure {
            self.failed_total += 1;
            if self.failures.len() < KEPT_FAILURES {
                self.failures.push(Failure { at_s, what, during });
            }
        }
    }

    /// The `unavailable` finding, when any probe failed.
    pub fn finding(&self, id: String, seed: u64) -> Option<Finding> {
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
            format!(" while exploring {}", during.join(", "))
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
                            format!("{:.1}s {} (exploring {during})", f.at_s, f.what)
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

/// Probes once: `None` when healthy, or what went wrong.
pub(crate) async fn probe(
    prober: &mut Prober,
    path: &str,
    headers: &[(String, String)],
) -> Option<String> {
    let request = ProbeRequest {
        method: "GET".to_owned(),
        path_and_query: path.to_owned(),
        headers: headers.to_vec(),
        body: ProbeBody::Empty,
    };
    match prober.send(request, PROBE_TIMEOUT).await {
        Ok(answer) if (200..300).contains(&answer.status) => None,
        Ok(answer) => Some(format!("status {}", answer.status)),
        Err(failure) => Some(format!("{}: {}", failure.class.as_str(), failure.message)),
    }
}

/// Probes until dropped, handing each outcome (seconds since `start`, the
/// failure if any) to `record`.
pub(crate) async fn keep_probing(
    mut prober: Prober,
    path: String,
    headers: Vec<(String, String)>,
    start: Instant,
    mut record: impl FnMut(f64, Option<String>),
) {
    loop {
        let failure = probe(&mut prober, &path, &headers).await;
        record(start.elapsed().as_secs_f64(), failure);
        tokio::time::sleep(PROBE_INTERVAL).await;
    }
}
