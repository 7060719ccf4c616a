//! Failing dependencies in a scenario: the proxies to put in front of them and the faults
//! scheduled on those proxies.

use std::time::Duration;

/// A dependency of the target behind a fault proxy for the run: the target calls `listen`,
/// the proxy forwards to `upstream`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DependencyProxy {
    /// Its name, which faults refer to.
    pub name: String,
    /// Where the proxy listens (`host:port`).
    pub listen: String,
    /// Where the dependency is (`host:port`).
    pub upstream: String,
}

/// What a scheduled fault does, as the fault proxy's control API takes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FaultAction {
    /// The proxy is down: not listening, its connections closed.
    Down,
    /// A Toxiproxy toxic, as the JSON body of `POST /proxies/{name}/toxics`.
    Toxic(String),
    /// An HTTP fault, as the JSON body of `POST /proxies/{name}/http_faults`.
    Http(String),
}

/// A fault on a dependency for a while.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduledFault {
    /// How reports name it, e.g. `shipping latency` (or the scenario's `name`).
    pub name: String,
    /// The dependency it acts on.
    pub dependency: String,
    /// When it starts, from the start of the run.
    pub at: Duration,
    /// How long it lasts.
    pub duration: Duration,
    /// What it does.
    pub action: FaultAction,
}

/// When a scheduled fault was on during a run, for the report's timeline.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct FaultWindow {
    /// The fault's name.
    pub name: String,
    /// The dependency it acted on.
    pub dependency: String,
    /// When it was put on, in seconds from the start of the run.
    pub start_s: f64,
    /// When it was lifted (or the run ended), in seconds from the start of the run.
    pub end_s: f64,
}
