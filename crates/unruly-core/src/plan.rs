//! The validated plan of a run: what to send, where, how fast, for how long, and
//! which assumptions to check. Built by `unruly-plan` (from TOML or flags), run by
//! `unruly-engine`, judged by `unruly-verdict`.

use std::time::Duration;

pub use crate::behaviour::Behaviour;
pub use crate::template::Template;

/// Everything a run needs, already validated.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// The service under test.
    pub target: Target,
    /// The requests users send; at least one.
    pub operations: Vec<Operation>,
    /// How requests arrive.
    pub workload: Workload,
    /// When the run stops.
    pub stop: StopCondition,
    /// Per-request timeout: no complete answer by then is an [`crate::ErrorClass::Timeout`].
    pub timeout: Duration,
    /// OS threads driving connections (each with its own single-threaded runtime).
    pub threads: usize,
    /// Response bodies past this many bytes end the connection as a protocol error.
    pub max_body_bytes: u64,
    /// The seed every random choice flows from.
    pub seed: u64,
    /// Accept any TLS certificate (self-signed test servers).
    pub insecure: bool,
    /// Assumptions to check after the run.
    pub assumptions: Vec<Assumption>,
    /// Unruly behaviours (bursts, double submits, refresh storms, slow
    /// clients) fired on their schedules alongside the workload.
    pub behaviours: Vec<Behaviour>,
    /// Dependencies put behind fault proxies for the run.
    pub dependencies: Vec<crate::DependencyProxy>,
    /// Faults put on those proxies on their schedules.
    pub faults: Vec<crate::ScheduledFault>,
}

/// The service under test.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// Base URL, `http://` or `https://`, without a trailing slash, e.g. `http://127.0.0.1:8080`.
    pub base_url: String,
    /// A path on the target, e.g. `/health`, probed throughout the run: a
    /// failing probe while a behaviour or fault runs is an `unavailable`
    /// finding. Starts with `/`; `None` means no probe.
    pub health: Option<String>,
}

/// One kind of request a user sends.
#[derive(Debug, Clone, PartialEq)]
pub struct Operation {
    /// The name reports use, e.g. `GET /products` (the default) or a name from the scenario.
    pub name: String,
    /// HTTP method, upper case.
    pub method: String,
    /// Path and query, appended to the target's base URL; may hold template variables.
    pub path: Template,
    /// Request headers; values may hold template variables.
    pub headers: Vec<(String, Template)>,
    /// Request body, if any.
    pub body: Option<Template>,
    /// Relative weight when users pick operations at random: 0 is never picked
    /// (unless every weight is 0: then all are equally likely).
    pub weight: u32,
}

impl Operation {
    /// A plain operation with no headers or body.
    pub fn simple(method: &str, path: &str) -> Self {
        Self {
            name: format!("{method} {path}"),
            method: method.to_string(),
            path: Template::literal(path),
            headers: Vec::new(),
            body: None,
            weight: 1,
        }
    }
}

/// How requests arrive.
#[derive(Debug, Clone, PartialEq)]
pub enum Workload {
    /// `users` virtual users, each on its own connection, looping: send, wait for
    /// the answer, think, send again.
    Closed {
        /// Number of virtual users (and connections).
        users: usize,
        /// Pause between an answer and the user's next request.
        think_time: Duration,
    },
    /// Requests arrive on a schedule, whatever the target does; `connections`
    /// connections carry them. Latency counts from the scheduled time.
    Open {
        /// Connections that carry the arrivals.
        connections: usize,
        /// Arrival-rate stages, in order.
        stages: Vec<Stage>,
    },
}

impl Workload {
    /// Connections the workload uses: one per user (closed) or the carriers (open).
    pub fn connections(&self) -> usize {
        match self {
            Workload::Closed { users, .. } => *users,
            Workload::Open { connections, .. } => *connections,
        }
    }
}

/// One stage of an open workload's arrival rate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Stage {
    /// A constant `rate` requests/s for `duration`.
    Hold {
        /// Requests per second.
        rate: f64,
        /// How long the stage lasts.
        duration: Duration,
    },
    /// A rate moving linearly from `from` to `to` requests/s over `duration`.
    Ramp {
        /// Rate at the start of the stage.
        from: f64,
        /// Rate at the end of the stage.
        to: f64,
        /// How long the stage lasts.
        duration: Duration,
    },
}

impl Stage {
    /// How long the stage lasts.
    pub fn duration(&self) -> Duration {
        match *self {
            Stage::Hold { duration, .. } | Stage::Ramp { duration, .. } => duration,
        }
    }
}

/// When a run stops (whichever comes first with the workload's own end).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopCondition {
    /// After this long.
    Duration(Duration),
    /// After this many requests have completed (or failed).
    Requests(u64),
}

impl StopCondition {
    /// The planned duration, when the run is bounded by time.
    pub fn duration(&self) -> Option<Duration> {
        match self {
            StopCondition::Duration(duration) => Some(*duration),
            StopCondition::Requests(_) => None,
        }
    }

    /// The planned number of requests, when the run is bounded by count.
    pub fn requests(&self) -> Option<u64> {
        match self {
            StopCondition::Duration(_) => None,
            StopCondition::Requests(count) => Some(*count),
        }
    }
}

/// An assumption written as data, e.g. `p99("GET /products") < "300ms"`.
#[derive(Debug, Clone, PartialEq)]
pub struct Assumption {
    /// The text as written, used as the assumption's name in reports.
    pub text: String,
    /// What is measured.
    pub metric: Metric,
    /// The operation it is measured on; `None` means the whole run.
    pub operation: Option<String>,
    /// How the measurement compares with the threshold.
    pub comparison: Comparison,
    /// The limit.
    pub threshold: Threshold,
}

/// A measurable quantity of a run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Metric {
    /// A latency percentile, e.g. 99.0 for p99, in milliseconds.
    Percentile(f64),
    /// Mean latency in milliseconds.
    MeanLatency,
    /// Maximum latency in milliseconds.
    MaxLatency,
    /// Failed requests (transport failures and 5xx) divided by requests.
    ErrorRate,
    /// Number of failed requests (transport failures and 5xx).
    Errors,
    /// Number of requests.
    Requests,
    /// Completed requests per second.
    Throughput,
}

impl Metric {
    /// The name used in assumption texts, e.g. `p99`, `error_rate`.
    pub fn name(&self) -> String {
        match self {
            Metric::Percentile(p) => {
                let digits = format!("{p}").replace('.', "");
                format!("p{digits}")
            }
            Metric::MeanLatency => "mean".into(),
            Metric::MaxLatency => "max".into(),
            Metric::ErrorRate => "error_rate".into(),
            Metric::Errors => "errors".into(),
            Metric::Requests => "requests".into(),
            Metric::Throughput => "rps".into(),
        }
    }

    /// Whether the metric is a latency (its threshold is a duration).
    pub fn is_latency(&self) -> bool {
        matches!(
            self,
            Metric::Percentile(_) | Metric::MeanLatency | Metric::MaxLatency
        )
    }
}

/// A comparison operator of an assumption.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comparison {
    /// `<`
    Less,
    /// `<=`
    LessOrEqual,
    /// `>`
    Greater,
    /// `>=`
    GreaterOrEqual,
}

impl Comparison {
    /// Whether `observed <op> limit` holds.
    pub fn holds(self, observed: f64, limit: f64) -> bool {
        match self {
            Comparison::Less => observed < limit,
            Comparison::LessOrEqual => observed <= limit,
            Comparison::Greater => observed > limit,
            Comparison::GreaterOrEqual => observed >= limit,
        }
    }

    /// The operator as written.
    pub fn symbol(self) -> &'static str {
        match self {
            Comparison::Less => "<",
            Comparison::LessOrEqual => "<=",
            Comparison::Greater => ">",
            Comparison::GreaterOrEqual => ">=",
        }
    }
}

/// The limit of an assumption: a number in the metric's unit (milliseconds for
/// latencies, a ratio for rates, a count otherwise), and how it was written.
#[derive(Debug, Clone, PartialEq)]
pub struct Threshold {
    /// The limit in the metric's unit.
    pub value: f64,
    /// The limit as written, e.g. `300ms`.
    pub written: String,
}
