//! Samples: the first few requests of each (operation, outcome) that the engine
//! keeps whole (capped), so the verdict can turn them into findings with evidence.

use crate::ErrorClass;
use serde::{Deserialize, Serialize};

/// Bytes of a response body kept in a sample.
pub const SAMPLE_BODY_BYTES: usize = 4096;

/// A request as sent, enough to reproduce it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestRecord {
    /// HTTP method.
    pub method: String,
    /// Full URL.
    pub url: String,
    /// Headers as sent (secrets are redacted by the report, not here).
    pub headers: Vec<(String, String)>,
    /// The body (capped at [`SAMPLE_BODY_BYTES`]), if any.
    pub body: Option<String>,
}

/// What came back, for one kept request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResponseSample {
    /// Operation name.
    pub operation: String,
    /// The request.
    pub request: RequestRecord,
    /// The status, if an answer arrived.
    pub status: Option<u16>,
    /// The error class, if the request counted as an error.
    pub error: Option<ErrorClass>,
    /// Description of a transport error, if one happened.
    pub error_detail: Option<String>,
    /// The response's `content-type`, if any.
    pub content_type: Option<String>,
    /// The first [`SAMPLE_BODY_BYTES`] bytes of the body, lossily decoded.
    pub body_excerpt: String,
    /// Latency in milliseconds.
    pub latency_ms: f64,
    /// Seconds from the start of the run when it was first seen.
    pub first_seen_s: f64,
    /// How many requests of this operation had this same outcome.
    pub count: u64,
}
