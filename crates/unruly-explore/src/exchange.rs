//! One case sent and answered: the request as a record (for evidence and
//! reproductions) and the answer or the failure.

use std::time::Duration;
use unruly_core::{ApiSpec, ErrorClass, Outcome, ParameterLocation, RequestRecord};
use unruly_engine::{ProbeBody, ProbeFailure, ProbeRequest, ProbeResponse, Prober};
use unruly_inputs::{BodyParts, Case, CaseBody};

/// Bytes of a request body kept in its record; bigger bodies are described.
const RECORDED_BODY_BYTES: usize = 64 * 1024;

/// A case and what came back.
#[derive(Debug, Clone)]
pub(crate) struct Exchange {
    /// The request as sent (URL with the target's base path).
    pub record: RequestRecord,
    /// Every text the request carried, values decoded: what the target may
    /// legitimately echo back.
    pub echo: String,
    /// The answer, or why there was none.
    pub outcome: Result<ProbeResponse, ProbeFailure>,
}

impl Exchange {
    /// Time from sending to the end of the answer (or the failure).
    pub fn latency(&self) -> Duration {
        match &self.outcome {
            Ok(response) => response.elapsed,
            Err(failure) => failure.elapsed,
        }
    }

    /// The answer's status, when there was one.
    pub fn status(&self) -> Option<u16> {
        self.outcome.as_ref().ok().map(|r| r.status)
    }

    /// The failure's class, when there was no answer.
    pub fn error(&self) -> Option<ErrorClass> {
        self.outcome.as_ref().err().map(|f| f.class)
    }

    /// The answer's status or the failure's class.
    pub fn outcome(&self) -> Outcome {
        match &self.outcome {
            Ok(response) => Outcome::Status(response.status),
            Err(failure) => Outcome::Failed(failure.class),
        }
    }

    /// The answer's body parsed as JSON, when it is complete JSON.
    pub fn json(&self) -> Option<serde_json::Value> {
        let response = self.outcome.as_ref().ok()?;
        if !response.is_complete() {
            return None;
        }
        serde_json::from_slice(&response.body).ok()
    }
}

/// Sends `case` (plus `extra_headers`) with `prober`.
pub(crate) async fn send(
    prober: &mut Prober,
    spec: &ApiSpec,
    case: &Case,
    extra_headers: &[(String, String)],
    timeout: Duration,
) -> Exchange {
    let prepared = prepare(&|path| prober.url(path), spec, case, extra_headers);
    let outcome = prober.send(prepared.request, timeout).await;
    Exchange {
        record: prepared.record,
        echo: prepared.echo,
        outcome,
    }
}

/// A case ready to send: the request, its record and what the target may echo.
pub(crate) struct Prepared {
    pub request: ProbeRequest,
    pub record: RequestRecord,
    pub echo: String,
}

/// Builds the request of `case` (plus `extra_headers`); `url` gives the full
/// URL of a path and query, for the record.
pub(crate) fn prepare(
    url: &dyn Fn(&str) -> String,
    spec: &ApiSpec,
    case: &Case,
    extra_headers: &[(String, String)],
) -> Prepared {
    let parts = case.to_request(spec);
    let mut headers = parts.headers;
    let operation = &spec.operations[case.operation];
    // A header the spec makes a parameter is the case's to set or leave out:
    // `-H` must not turn a case that omits it on purpose into a valid one.
    let is_parameter = |name: &str| {
        operation.parameters.iter().any(|p| match p.location {
            ParameterLocation::Header => p.name.eq_ignore_ascii_case(name),
            ParameterLocation::Cookie => name.eq_ignore_ascii_case("cookie"),
            _ => false,
        })
    };
    for (name, value) in extra_headers {
        if !is_parameter(name) && !headers.iter().any(|(n, _)| n.eq_ignore_ascii_case(name)) {
            headers.push((name.clone(), value.clone()));
        }
    }
    let (body, recorded_body) = match parts.body {
        BodyParts::Empty => (ProbeBody::Empty, None),
        BodyParts::Bytes(bytes) => {
            let recorded = if bytes.len() <= RECORDED_BODY_BYTES {
                String::from_utf8_lossy(&bytes).into_owned()
            } else {
                format!("<{} bytes>", bytes.len())
            };
            (ProbeBody::Bytes(bytes), Some(recorded))
        }
        BodyParts::Stream(large) => {
            let len = large.len();
            (
                ProbeBody::Stream {
                    len,
                    chunks: Box::new(large),
                },
                Some(format!("<{len} bytes, generated>")),
            )
        }
    };
    let record = RequestRecord {
        method: parts.method.clone(),
        url: url(&parts.path_and_query),
        headers: headers.clone(),
        body: recorded_body,
    };
    let echo = echo_text(case, &record);
    let request = ProbeRequest {
        method: parts.method,
        path_and_query: parts.path_and_query,
        headers,
        body,
    };
    Prepared {
        request,
        record,
        echo,
    }
}

/// The URL, headers, parameter values as text and the body: anything the
/// target could echo.
fn echo_text(case: &Case, record: &RequestRecord) -> String {
    let mut text = record.url.clone();
    for parameter in &case.parameters {
        if let Some(value) = &parameter.value {
            push_strings(&mut text, value);
        }
    }
    match &case.body {
        Some(CaseBody::Json { value, .. })
        | Some(CaseBody::Form { value })
        | Some(CaseBody::Multipart { value }) => push_strings(&mut text, value),
        Some(CaseBody::Raw { bytes, .. }) => {
            text.push('\n');
            text.push_str(&String::from_utf8_lossy(bytes));
        }
        _ => {}
    }
    text
}

fn push_strings(text: &mut String, value: &serde_json::Value) {
    match value {
        serde_json::Value::String(s) => {
            text.push('\n');
            text.push_str(s);
            // Echoed inside a JSON answer, the same text is escaped.
            text.push('\n');
            text.push_str(&serde_json::Value::String(s.clone()).to_string());
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| push_strings(text, v)),
        serde_json::Value::Object(fields) => {
            for (key, v) in fields {
                text.push('\n');
                text.push_str(key);
                push_strings(text, v);
            }
        }
        other => {
            text.push('\n');
            text.push_str(&other.to_string());
        }
    }
}
