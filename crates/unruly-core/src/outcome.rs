//! What happened to one request.

use serde::{Deserialize, Serialize};

/// Why a request did not get a successful answer.
///
/// The variants are stable snake_case names used as keys in reports and metrics.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ErrorClass {
    /// The TCP (or TLS) connection could not be established.
    Connect,
    /// No complete answer arrived within the per-request timeout.
    Timeout,
    /// The peer reset or closed the connection before the answer was complete.
    Reset,
    /// The peer answered with something that is not valid HTTP, or a body over the cap.
    Protocol,
    /// The target answered with a 4xx status.
    #[serde(rename = "status_4xx")]
    Status4xx,
    /// The target answered with a 5xx status.
    #[serde(rename = "status_5xx")]
    Status5xx,
    /// unruly could not build or send the request (e.g. a rendered template that
    /// is not a valid URI): its own fault, never counted against the target.
    InvalidRequest,
    /// Still waiting for its answer when the run ended (after the drain grace):
    /// slow, but not failed. Its latency so far counts in the percentiles.
    Unfinished,
}

impl ErrorClass {
    /// Every class, in the order reports list them; serialized as [`ErrorClass::as_str`].
    pub const ALL: [ErrorClass; 8] = [
        ErrorClass::Connect,
        ErrorClass::Timeout,
        ErrorClass::Reset,
        ErrorClass::Protocol,
        ErrorClass::Status4xx,
        ErrorClass::Status5xx,
        ErrorClass::InvalidRequest,
        ErrorClass::Unfinished,
    ];

    /// The stable snake_case name of the class.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorClass::Connect => "connect",
            ErrorClass::Timeout => "timeout",
            ErrorClass::Reset => "reset",
            ErrorClass::Protocol => "protocol",
            ErrorClass::Status4xx => "status_4xx",
            ErrorClass::Status5xx => "status_5xx",
            ErrorClass::InvalidRequest => "invalid_request",
            ErrorClass::Unfinished => "unfinished",
        }
    }

    /// Whether the class counts as an error of the target in `errors` and
    /// `error_rate`: transport failures and 5xx do; a 4xx is an answer the
    /// client caused, an invalid request never reached the target, and an
    /// unfinished one was cut by the end of the run: they are counted under
    /// their class but not as errors.
    pub fn is_failure(self) -> bool {
        !matches!(
            self,
            ErrorClass::Status4xx | ErrorClass::InvalidRequest | ErrorClass::Unfinished
        )
    }

    /// Index of the class in [`ErrorClass::ALL`], for dense counters.
    pub fn index(self) -> usize {
        self as usize
    }
}

impl std::fmt::Display for ErrorClass {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The outcome of one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// A complete HTTP answer with this status code.
    Status(u16),
    /// No complete answer; the transport failed in this way.
    Failed(ErrorClass),
}

impl Outcome {
    /// The error class of this outcome, if it counts as an error (4xx and 5xx do).
    pub fn error_class(self) -> Option<ErrorClass> {
        match self {
            Outcome::Status(s) if (400..500).contains(&s) => Some(ErrorClass::Status4xx),
            Outcome::Status(s) if s >= 500 => Some(ErrorClass::Status5xx),
            Outcome::Status(_) => None,
            Outcome::Failed(class) => Some(class),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serialized_names_are_the_stable_names() {
        for class in ErrorClass::ALL {
            let json = serde_json::to_string(&class).unwrap();
            assert_eq!(json, format!("\"{}\"", class.as_str()));
        }
    }
}
