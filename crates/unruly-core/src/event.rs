//! Events streamed to `events.jsonl` while a run goes on, one JSON object a line.

use crate::{Finding, Window};
use serde::{Deserialize, Serialize};

/// One line of `events.jsonl`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// The run started.
    Start {
        /// Target base URL.
        target: String,
        /// RFC 3339 start time.
        started_at: String,
        /// The seed.
        seed: u64,
    },
    /// One second of aggregates.
    Window(Window),
    /// A finding, as soon as it is known.
    Finding(Finding),
    /// The run ended.
    End {
        /// Seconds the run lasted.
        duration_s: f64,
        /// Whether it was interrupted.
        interrupted: bool,
    },
}
