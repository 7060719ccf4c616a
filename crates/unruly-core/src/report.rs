//! The serialized report: the contract of `report.json`.
//!
//! These types are kept apart from the code that computes them. The JSON Schema
//! generated from them is committed as `crates/unruly-report/schema/report.schema.json`; bump
//! [`SCHEMA_VERSION`] on any incompatible change.

use crate::{ErrorClass, Finding};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Version of the report format.
pub const SCHEMA_VERSION: u32 = 1;

/// Everything a run found, as written to `report.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Report {
    /// Version of this format.
    pub schema_version: u32,
    /// unruly's version.
    pub tool_version: String,
    /// The command that produced the report (`load`, `run`, `demo`, ...).
    pub command: String,
    /// The target's base URL.
    pub target: String,
    /// The seed every random choice flowed from.
    pub seed: u64,
    /// Start of the run, RFC 3339 in UTC.
    pub started_at: String,
    /// How long the run lasted, in seconds.
    pub duration_s: f64,
    /// Whether the run was interrupted (Ctrl-C) before its planned end.
    pub interrupted: bool,
    /// The run's settings, as given.
    pub settings: Settings,
    /// Each assumption, held or broken.
    pub assumptions: Vec<AssumptionResult>,
    /// Each problem found.
    pub findings: Vec<Finding>,
    /// Statistics, overall and per operation.
    pub stats: Stats,
    /// Per-second aggregates, in order.
    pub timeline: Vec<Window>,
    /// When each scheduled fault of the scenario was on (absent without faults).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub faults: Vec<crate::FaultWindow>,
    /// When each behaviour of the unruly users ran (absent without behaviours).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub behaviours: Vec<crate::BehaviourWindow>,
    /// The target's process and metrics as watched (absent when nothing was watched).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub watch: Option<crate::TargetWatch>,
}

/// The settings of a run, for the record.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Settings {
    /// `closed` or `open`.
    pub model: String,
    /// Connections (open model) or virtual users (closed model).
    pub connections: u64,
    /// Worker threads.
    pub threads: u64,
    /// Per-request timeout in milliseconds.
    pub timeout_ms: u64,
    /// Planned duration in seconds, if the run was bounded by time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub planned_duration_s: Option<f64>,
    /// Planned number of requests, if the run was bounded by count.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub planned_requests: Option<u64>,
    /// Arrival-rate stages of the open model, as text (`hold 100/s for 5s`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stages: Vec<String>,
    /// The operations, by name.
    pub operations: Vec<String>,
}

/// The result of checking one assumption.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct AssumptionResult {
    /// The assumption as written.
    pub name: String,
    /// Whether it held.
    pub held: bool,
    /// What was measured, with its unit (`412.3ms`, `0.21% (42 of 20000)`).
    pub observed: String,
    /// What was expected (`< 300ms`).
    pub expected: String,
}

/// Statistics of the whole run and of each operation.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Stats {
    /// All operations together.
    pub overall: OperationStats,
    /// Each operation, in plan order.
    pub operations: Vec<OperationStats>,
    /// Open model: arrivals that were due before the run ended but never sent,
    /// because every connection was still busy (raise the connections to send
    /// them). Always 0 in the closed model.
    #[serde(default)]
    pub missed_arrivals: u64,
}

/// Statistics of one operation (or of all of them).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct OperationStats {
    /// Operation name, or `all`.
    pub operation: String,
    /// Requests that completed or failed.
    pub requests: u64,
    /// Requests that failed: transport failures and 5xx (4xx answers are not
    /// counted here, only under `errors_by_class.status_4xx`).
    pub errors: u64,
    /// Requests by error class, 4xx included; every class is present.
    pub errors_by_class: BTreeMap<ErrorClass, u64>,
    /// Responses by status code.
    pub status: BTreeMap<u16, u64>,
    /// Latency of answered requests.
    pub latency_ms: LatencySummary,
    /// Requests per second over the run.
    pub rps: f64,
    /// Response bytes received (headers excluded).
    pub bytes_received: u64,
}

/// A latency distribution, in milliseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct LatencySummary {
    /// Fastest.
    pub min: f64,
    /// Mean.
    pub mean: f64,
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 99th percentile.
    pub p99: f64,
    /// 99.9th percentile.
    pub p99_9: f64,
    /// Slowest.
    pub max: f64,
}

/// One second of the run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Window {
    /// Seconds from the start of the run to the start of this window.
    pub t_s: u64,
    /// Requests completed (or failed) in this window.
    pub requests: u64,
    /// Failed requests in this window (transport failures and 5xx).
    pub errors: u64,
    /// Requests by error class, 4xx included (only classes seen).
    pub errors_by_class: BTreeMap<ErrorClass, u64>,
    /// Latency of the requests completed in this window.
    pub latency_ms: LatencySummary,
    /// Per operation: requests, errors and latency in this window.
    pub operations: BTreeMap<String, WindowOperation>,
}

/// One operation in one second of the run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct WindowOperation {
    /// Requests completed (or failed).
    pub requests: u64,
    /// Errors.
    pub errors: u64,
    /// Median latency.
    pub p50_ms: f64,
    /// 99th percentile latency.
    pub p99_ms: f64,
}
