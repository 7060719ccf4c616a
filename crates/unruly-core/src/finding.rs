//! Findings: each assumption that production would have proven wrong, with evidence
//! and a reproduction.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The kind of a finding. Names are stable: new kinds are added, none is renamed.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum FindingKind {
    /// A 5xx, a reset or a dropped connection in answer to a request.
    ServerError,
    /// A 2xx to a request that violates the spec's own schema.
    AcceptedInvalidInput,
    /// Status, content type or body that the spec does not allow.
    ResponseSchemaViolation,
    /// One input makes an operation far slower than its own baseline.
    SlowResponse,
    /// Stack traces, framework error pages, SQL errors, file paths or secrets in a response.
    InformationLeak,
    /// Concurrent requests break an invariant.
    RaceCondition,
    /// A repeated submission creates a second resource.
    DuplicateSideEffect,
    /// An operation's tail latency under load exceeds its threshold or baseline by far.
    LatencyUnderLoad,
    /// The watched process's memory keeps growing with work.
    MemoryGrowth,
    /// The watched process exits or restarts.
    Crash,
    /// The health probe fails while a behaviour or fault runs.
    Unavailable,
    /// A fault in one dependency breaks unrelated operations or health.
    DependencyCascade,
    /// Slow or abandoned clients exhaust the service's workers or connections.
    ResourceExhaustion,
    /// Errors, panics or tracebacks in the target's log.
    LogError,
}

impl FindingKind {
    /// The stable snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            FindingKind::ServerError => "server_error",
            FindingKind::AcceptedInvalidInput => "accepted_invalid_input",
            FindingKind::ResponseSchemaViolation => "response_schema_violation",
            FindingKind::SlowResponse => "slow_response",
            FindingKind::InformationLeak => "information_leak",
            FindingKind::RaceCondition => "race_condition",
            FindingKind::DuplicateSideEffect => "duplicate_side_effect",
            FindingKind::LatencyUnderLoad => "latency_under_load",
            FindingKind::MemoryGrowth => "memory_growth",
            FindingKind::Crash => "crash",
            FindingKind::Unavailable => "unavailable",
            FindingKind::DependencyCascade => "dependency_cascade",
            FindingKind::ResourceExhaustion => "resource_exhaustion",
            FindingKind::LogError => "log_error",
        }
    }
}

impl std::fmt::Display for FindingKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How much a finding matters.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Data loss, crash, or a security hole.
    Critical,
    /// Users see failures.
    High,
    /// Users see degraded service.
    Medium,
    /// Worth knowing.
    Low,
}

impl Severity {
    /// The name used in reports: `critical`, `high`, `medium`, `low`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Critical => "critical",
            Severity::High => "high",
            Severity::Medium => "medium",
            Severity::Low => "low",
        }
    }
}

/// What was seen: enough to understand the finding without rerunning it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Evidence {
    /// The request, as `METHOD URL` followed by headers and (an excerpt of) the body.
    pub request: String,
    /// The response status, when an answer arrived.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// The transport error class, when no complete answer arrived.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<crate::ErrorClass>,
    /// A capped excerpt of the response (or the error's description).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub excerpt: Option<String>,
    /// How long the request took, in milliseconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<f64>,
    /// Other measurements, by name (counts, thresholds, baselines).
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub measurements: std::collections::BTreeMap<String, f64>,
}

/// One problem found, deduplicated: `count` says how often it was seen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Finding {
    /// Stable within a report, e.g. `F1`.
    pub id: String,
    /// What kind of problem.
    pub kind: FindingKind,
    /// How much it matters.
    pub severity: Severity,
    /// The operation, e.g. `POST /users`.
    pub operation: String,
    /// One sentence.
    pub summary: String,
    /// What was seen.
    pub evidence: Evidence,
    /// A curl command (or a short sequence of them) that shows it again.
    pub reproduce: String,
    /// The run's seed.
    pub seed: u64,
    /// Seconds from the start of the run to the first time it was seen.
    pub first_seen_s: f64,
    /// How many times it was seen.
    pub count: u64,
}
