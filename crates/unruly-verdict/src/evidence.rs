//! Evidence: the request and response of a sample, as a report shows them.

use crate::leaks::{cap_text, mask_secrets};
use crate::redact::redact_headers;
use unruly_core::{ErrorClass, Evidence, RequestRecord, ResponseSample};

/// Bytes of a request body or response body kept in evidence.
pub(crate) const EVIDENCE_BODY_BYTES: usize = 1024;

/// The request as `METHOD URL`, one `Name: value` line per header (secrets
/// redacted), then a blank line and the body (capped) if there is one.
pub(crate) fn request_text(request: &RequestRecord) -> String {
    let mut out = format!("{} {}", request.method, request.url);
    for (name, value) in redact_headers(&request.headers) {
        out.push('\n');
        out.push_str(&name);
        out.push_str(": ");
        out.push_str(&value);
    }
    if let Some(body) = &request.body {
        out.push_str("\n\n");
        out.push_str(&cap_text(body, EVIDENCE_BODY_BYTES));
    }
    out
}

/// The evidence of a sample, with `excerpt` as the response excerpt.
pub fn evidence(sample: &ResponseSample, excerpt: Option<String>) -> Evidence {
    Evidence {
        request: request_text(&sample.request),
        status: sample.status,
        error: sample.error,
        excerpt,
        latency_ms: Some(sample.latency_ms).filter(|l| l.is_finite()),
        measurements: Default::default(),
    }
}

/// The start of the response body (secrets masked), or the transport error's
/// description when there is no body; `None` when there is neither.
pub(crate) fn response_excerpt(sample: &ResponseSample) -> Option<String> {
    let body = sample.body_excerpt.trim_end();
    if !body.is_empty() {
        return Some(mask_secrets(&cap_text(body, EVIDENCE_BODY_BYTES)));
    }
    sample
        .error_detail
        .as_deref()
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .map(|d| cap_text(d, EVIDENCE_BODY_BYTES))
}

/// What a server error looked like, as a summary says it.
pub(crate) fn server_error_summary(
    operation: &str,
    status: Option<u16>,
    error: Option<ErrorClass>,
) -> String {
    match (status, error) {
        (Some(status), _) => match reason_phrase(status) {
            Some(reason) => format!("{operation} answered {status} {reason}."),
            None => format!("{operation} answered {status}."),
        },
        (None, Some(ErrorClass::Reset)) => {
            format!(
                "{operation}: the connection was reset or closed before the answer was complete."
            )
        }
        (None, Some(ErrorClass::Connect)) => format!(
            "{operation}: the target stopped accepting connections (it accepted them before the run)."
        ),
        (None, Some(ErrorClass::Protocol)) => {
            format!("{operation}: the answer was not valid HTTP (or its body was over the cap).")
        }
        (None, _) => format!("{operation}: the request failed without an answer."),
    }
}

/// The reason phrase of the common 5xx statuses.
fn reason_phrase(status: u16) -> Option<&'static str> {
    Some(match status {
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        505 => "HTTP Version Not Supported",
        507 => "Insufficient Storage",
        508 => "Loop Detected",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_text_redacts_and_caps() {
        let request = RequestRecord {
            method: "POST".into(),
            url: "http://h/users".into(),
            headers: vec![
                ("Authorization".into(), "Bearer t0ken".into()),
                ("Content-Type".into(), "application/json".into()),
            ],
            body: Some("x".repeat(3000)),
        };
        let text = request_text(&request);
        assert!(text.starts_with(
            "POST http://h/users\nAuthorization: <redacted>\nContent-Type: application/json\n\nxxx"
        ));
        assert!(!text.contains("t0ken"));
        assert!(text.len() < 1200);
    }

    #[test]
    fn summaries() {
        assert_eq!(
            server_error_summary("GET /a", Some(500), Some(ErrorClass::Status5xx)),
            "GET /a answered 500 Internal Server Error."
        );
        assert_eq!(
            server_error_summary("GET /a", Some(599), None),
            "GET /a answered 599."
        );
        assert!(server_error_summary("GET /a", None, Some(ErrorClass::Reset)).contains("reset"));
    }
}
