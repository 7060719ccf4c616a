//! What a scenario's behaviours saw when they fired: the raw outcomes the
//! engine measures (what was sent, what came back, counts and timings), which
//! `unruly-verdict` judges into findings. Nothing here is a verdict, and
//! nothing here does I/O.
//!
//! Everything is bounded: bodies are kept up to [`FIRING_BODY_BYTES`] for the
//! copies of a double submit (where created ids are read), [`BURST_BODY_BYTES`]
//! for the copies of a burst (up to 1000 of them) and [`READ_BODY_BYTES`] for
//! invariant reads; a firing holds one [`Exchange`] per copy it sent, and at
//! most [`KEPT_FIRINGS`] firings of each behaviour are kept.

use crate::{ErrorClass, LatencySummary, RequestRecord};
use std::collections::BTreeMap;

/// Bytes of a response body kept for each copy of a double submit.
pub const FIRING_BODY_BYTES: usize = crate::SAMPLE_BODY_BYTES;
/// Bytes of a response body kept for each copy of a burst.
pub const BURST_BODY_BYTES: usize = 512;
/// Firings of one behaviour kept (and judged): the first ones. Later firings
/// still fire, and the health probe still sees them, but are not kept.
pub const KEPT_FIRINGS: usize = 100;
/// Bytes of the answer to an invariant read kept (and judged as JSON).
pub const READ_BODY_BYTES: usize = 64 * 1024;

/// One firing of one behaviour.
#[derive(Debug, Clone, PartialEq)]
pub struct Firing {
    /// The behaviour's index in `Plan::behaviours`.
    pub behaviour: usize,
    /// Which firing of its schedule this was, from 0.
    pub number: u32,
    /// Seconds from the run's start to the firing's start.
    pub started_s: f64,
    /// Seconds from the run's start to the firing's end.
    pub ended_s: f64,
    /// Whether the run's end cut a hold (storm, slow clients) short.
    pub cut_short: bool,
    /// What it saw.
    pub seen: Seen,
}

/// What a firing saw, by kind of behaviour.
#[derive(Debug, Clone, PartialEq)]
pub enum Seen {
    /// Nothing could be sent: the request could not be built or encoded.
    NotSent {
        /// Why.
        reason: String,
    },
    /// A burst or a double submit: copies released together.
    Submissions(Box<Submissions>),
    /// A refresh storm.
    Storm(StormSeen),
    /// Slow clients.
    Crowd(CrowdSeen),
}

/// Copies of one request released together (a burst, or a double submit with
/// its repeat), and the invariant read before and after.
#[derive(Debug, Clone, PartialEq)]
pub struct Submissions {
    /// The request every copy sent (they are identical).
    pub request: RequestRecord,
    /// The header name and value of the idempotency key the copies shared,
    /// when the behaviour asked for one.
    pub idempotency_key: Option<(String, String)>,
    /// One exchange per copy released together, in order.
    pub copies: Vec<Exchange>,
    /// Milliseconds between the first and the last copy's last byte.
    pub release_spread_ms: f64,
    /// A double submit's extra copy, sent once the others were answered.
    pub repeat: Option<Exchange>,
    /// The invariant read before the copies went out: `None` without an
    /// invariant, `Some(Err(why))` when it could not be sent.
    pub read_before: Option<Result<InvariantRead, String>>,
    /// The invariant read once every copy was answered.
    pub read_after: Option<Result<InvariantRead, String>>,
}

/// An invariant's read: the request and its answer.
#[derive(Debug, Clone, PartialEq)]
pub struct InvariantRead {
    /// The read as sent.
    pub request: RequestRecord,
    /// What came back.
    pub answer: Exchange,
}

/// One request's answer, or why there was none.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Exchange {
    /// The status, when an answer arrived.
    pub status: Option<u16>,
    /// How the exchange failed, when no complete answer arrived.
    pub error: Option<ErrorClass>,
    /// What the client saw when it failed.
    pub error_detail: Option<String>,
    /// The `Location` header of the answer, if any.
    pub location: Option<String>,
    /// The `Content-Type` header of the answer, if any.
    pub content_type: Option<String>,
    /// The first bytes of the body, lossily decoded.
    pub body: String,
    /// Whether `body` holds the whole body.
    pub body_complete: bool,
    /// Milliseconds from the release of the request to the end of its answer.
    pub latency_ms: f64,
}

impl Exchange {
    /// Whether the answer had a 2xx status.
    pub fn is_success(&self) -> bool {
        self.status.is_some_and(|s| (200..300).contains(&s))
    }
}

/// What a refresh storm saw.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct StormSeen {
    /// The request every tab sent.
    pub request: RequestRecord,
    /// Requests answered or failed (abandoned ones not included).
    pub requests: u64,
    /// Requests abandoned on purpose before their answer.
    pub abandoned: u64,
    /// Answers by status.
    pub statuses: BTreeMap<u16, u64>,
    /// Failures (no answer) by error class name.
    pub failures: BTreeMap<String, u64>,
    /// The first 5xx or failure: seconds from the storm's start and what it was.
    pub first_problem: Option<(f64, String)>,
    /// Latencies of the answered requests.
    pub latency_ms: LatencySummary,
}

impl StormSeen {
    /// Answers with a 5xx status plus failures.
    pub fn problems(&self) -> u64 {
        self.statuses.range(500..600).map(|(_, n)| n).sum::<u64>()
            + self.failures.values().sum::<u64>()
    }
}

/// What a crowd of slow clients saw.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CrowdSeen {
    /// The request every client sent (slowly).
    pub request: RequestRecord,
    /// Clients started.
    pub started: u64,
    /// Clients that got a connection.
    pub connected: u64,
    /// Clients that could not connect.
    pub connect_failures: u64,
    /// Clients the target cut off (or answered) before they were done.
    pub cut_by_server: u64,
    /// Clients that sent everything and got their answer.
    pub answered: u64,
    /// Bytes sent by all clients.
    pub bytes_sent: u64,
    /// Milliseconds the crowd was held at its size.
    pub held_ms: f64,
}

/// What the health probe saw while one thing ran (a behaviour, or the load).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct HealthTally {
    /// Probes sent.
    pub probes: u64,
    /// Probes that failed (no 2xx within the probe's timeout).
    pub failures: u64,
    /// Of those, probes whose connection was refused: the target was gone
    /// rather than busy.
    pub refused: u64,
    /// The first failure: seconds from the run's start and what it was.
    pub first_failure: Option<(f64, String)>,
}

/// What the health probe saw through a run, by what was running.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct HealthSeen {
    /// The probe's request.
    pub request: RequestRecord,
    /// Probes and failures by the label of what was running: a behaviour's
    /// name, or `load`.
    pub during: BTreeMap<String, HealthTally>,
}
