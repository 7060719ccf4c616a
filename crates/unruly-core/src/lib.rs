//! The shared vocabulary of unruly.
//!
//! Every stage of the pipeline (plan → engine → verdict → report) speaks in the
//! types defined here. This crate does no I/O and knows nothing of tokio or hyper,
//! so each stage can be tested on its own.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod api;
pub mod behaviour;
pub mod event;
pub mod expectation;
pub mod fault;
pub mod finding;
pub mod firing;
pub mod outcome;
pub mod plan;
pub mod redact;
pub mod report;
pub mod rng;
pub mod sample;
pub mod template;
pub mod text;
pub mod watch;

pub use api::{
    directional_view, ApiBody, ApiLink, ApiOperation, ApiParameter, ApiResponse, ApiSpec,
    Direction, MediaType, ParameterLocation, ParameterStyle,
};
pub use behaviour::{
    placeholders, Behaviour, BehaviourKind, BehaviourSchedule, Invariant, SlowMode,
};
pub use event::Event;
pub use expectation::{Evaluation, Expectation, ExpectationError};
pub use fault::{DependencyProxy, FaultAction, FaultWindow, ScheduledFault};
pub use finding::{Evidence, Finding, FindingKind, Severity};
pub use firing::{
    CrowdSeen, Exchange, Firing, HealthSeen, HealthTally, InvariantRead, Seen, StormSeen,
    Submissions, BURST_BODY_BYTES, FIRING_BODY_BYTES, KEPT_FIRINGS, READ_BODY_BYTES,
};
pub use outcome::{ErrorClass, Outcome};
pub use plan::{
    Assumption, Comparison, Metric, Operation, Plan, Stage, StopCondition, Target, Threshold,
    Workload,
};
pub use redact::{redact_text, REDACTED};
pub use report::{
    AssumptionResult, LatencySummary, OperationStats, Report, Settings, Stats, Window,
    WindowOperation, SCHEMA_VERSION,
};
pub use rng::SeededRng;
pub use sample::{RequestRecord, ResponseSample, SAMPLE_BODY_BYTES};
pub use template::{RenderContext, Template, TemplateError, TemplatePart, Variable};
pub use text::clip_bytes;
pub use watch::{
    BehaviourWindow, MetricPoint, ProcessExit, ProcessSample, ScrapedSeries, TargetWatch,
};
