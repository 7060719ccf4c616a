//! Answers judged against the API's own description: whether an answer's status,
//! content type and body are ones the spec allows (`response_schema_violation`),
//! and whether a request the spec forbids was accepted (`accepted_invalid_input`).
//!
//! Bodies are checked with a real JSON Schema validator (the `jsonschema` crate,
//! draft 2020-12, formats asserted), compiled once per documented media type.

use crate::findings::Observation;
use crate::leaks::cap_text;
use jsonschema::{Draft, Registry, Resource, Validator};
use serde_json::Value;
use std::collections::HashMap;
use unruly_core::{
    api::essence, directional_view, ApiOperation, ApiSpec, Direction, FindingKind, Severity,
};

/// The URI the spec document is registered under, so that its `#/components/...`
/// references resolve from any schema compiled against it.
const SPEC_URI: &str = "urn:unruly:spec";
/// Violations quoted in one finding's summary.
const MAX_QUOTED: usize = 1;

/// Why the spec's schemas could not be compiled.
#[derive(Debug, thiserror::Error)]
#[error(
    "{operation}: the schema of the {status} response ({content_type}) cannot be used: {reason}"
)]
pub struct ConformanceError {
    /// The operation, `METHOD /path`.
    pub operation: String,
    /// The documented status, as written.
    pub status: String,
    /// The media type.
    pub content_type: String,
    /// What the validator said.
    pub reason: String,
}

/// The response validators of every operation of a spec.
pub struct Conformance {
    /// (operation index, documented status, media type essence) → validator.
    validators: HashMap<(usize, String, String), Validator>,
}

impl std::fmt::Debug for Conformance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Conformance")
            .field("validators", &self.validators.len())
            .finish()
    }
}

impl Conformance {
    /// Compiles a validator for every JSON response schema of `spec`.
    pub fn new(spec: &ApiSpec) -> Result<Self, ConformanceError> {
        let document = directional_view(&spec.document, Direction::Response);
        let registry = Resource::from_contents(document)
            .and_then(|resource| Registry::try_new(SPEC_URI, resource))
            .map_err(|e| e.to_string());
        let mut validators = HashMap::new();
        for (index, operation) in spec.operations.iter().enumerate() {
            for response in &operation.responses {
                for media in &response.contents {
                    let Some(schema) = media.schema.as_ref().filter(|_| media.is_json()) else {
                        continue;
                    };
                    let error = |reason: String| ConformanceError {
                        operation: operation.name(),
                        status: response.status.clone(),
                        content_type: media.content_type.clone(),
                        reason,
                    };
                    let registry = registry.clone().map_err(error)?;
                    let schema = directional_view(schema, Direction::Response);
                    let validator = compile(&schema, registry).map_err(error)?;
                    validators.insert(
                        (index, response.status.clone(), essence(&media.content_type)),
                        validator,
                    );
                }
            }
        }
        Ok(Self { validators })
    }

    /// What is wrong with an answer of `status` to operation `index`: an
    /// undocumented status or content type, or a JSON body that breaks its
    /// schema. `body` is the body (or its first bytes when `complete` is false:
    /// a cut body is not judged).
    pub fn check_response(
        &self,
        index: usize,
        operation: &ApiOperation,
        status: u16,
        content_type: Option<&str>,
        body: &[u8],
        complete: bool,
    ) -> Option<Observation> {
        let name = operation.name();
        let violation = |cause: String, summary: String, excerpt: Option<String>| Observation {
            kind: FindingKind::ResponseSchemaViolation,
            cause,
            severity: Severity::Medium,
            summary,
            excerpt,
        };
        let Some(documented) = operation.response_for(status) else {
            let listed: Vec<&str> = operation
                .responses
                .iter()
                .map(|r| r.status.as_str())
                .collect();
            return Some(violation(
                format!("status {status}"),
                format!(
                    "{name} answered {status}, a status its spec does not document (documented: {}).",
                    listed.join(", ")
                ),
                excerpt(body),
            ));
        };
        if documented.contents.is_empty() || body.is_empty() && content_type.is_none() {
            return None;
        }
        let actual = content_type.map(essence);
        let media = documented
            .contents
            .iter()
            .find(|m| media_matches(&m.content_type, actual.as_deref()));
        let Some(media) = media else {
            let listed: Vec<&str> = documented
                .contents
                .iter()
                .map(|m| m.content_type.as_str())
                .collect();
            let shown = actual.unwrap_or_else(|| "no content type".to_owned());
            return Some(violation(
                format!("status {status} content type {shown}"),
                format!(
                    "{name} answered {status} with {shown}, which its spec does not document for \
                     that status (documented: {}).",
                    listed.join(", ")
                ),
                excerpt(body),
            ));
        };
        if !complete || !media.is_json() {
            return None;
        }
        let validator = self.validators.get(&(
            index,
            documented.status.clone(),
            essence(&media.content_type),
        ))?;
        let instance: Value = match serde_json::from_slice(body) {
            Ok(value) => value,
            Err(e) => {
                return Some(violation(
                    format!("status {status} body not JSON"),
                    format!(
                        "{name} answered {status} as {} but the body is not JSON ({e}).",
                        media.content_type
                    ),
                    excerpt(body),
                ))
            }
        };
        // A hostile body can hold millions of errors: only the first few are kept.
        let errors: Vec<_> = validator
            .iter_errors(&instance)
            .take(MAX_QUOTED + 1)
            .collect();
        let first = errors.first()?;
        let mut quoted: Vec<String> = errors
            .iter()
            .take(MAX_QUOTED)
            .map(|e| describe(&e.instance_path.to_string(), &e.to_string()))
            .collect();
        if errors.len() > MAX_QUOTED {
            quoted.push("and more".to_owned());
        }
        Some(violation(
            format!("status {status} schema {}", first.schema_path),
            format!(
                "{name} answered {status} with a body its own schema forbids: {}.",
                quoted.join("; ")
            ),
            excerpt(body),
        ))
    }
}

/// `accepted_invalid_input`: a 2xx to a request the spec forbids. `invalid` is
/// why the request is invalid, `slot` what the case varied.
pub fn accepted_invalid_input(
    operation: &ApiOperation,
    status: u16,
    invalid: &str,
    slot: Option<&str>,
) -> Option<Observation> {
    if !(200..300).contains(&status) {
        return None;
    }
    // The place the reason names (`body /quantity: 11 is greater than ...`)
    // is the cause: a case that varies several things is filed under the one
    // that made it invalid.
    let named = invalid
        .split_once(':')
        .map(|(place, _)| place.trim())
        .filter(|place| {
            [
                "body",
                "query ",
                "path ",
                "header ",
                "cookie ",
                "content-type",
            ]
            .iter()
            .any(|p| place.starts_with(p))
        });
    Some(Observation {
        kind: FindingKind::AcceptedInvalidInput,
        cause: named.or(slot).unwrap_or("request").to_owned(),
        severity: Severity::Medium,
        summary: format!(
            "{} accepted with {status} a request its spec forbids: {}.",
            operation.name(),
            invalid.trim_end_matches('.')
        ),
        excerpt: None,
    })
}

/// `slow_response`: one input made an operation far slower than usual.
pub fn slow_response(
    operation: &ApiOperation,
    slot: Option<&str>,
    latency_ms: f64,
    baseline_ms: f64,
) -> Observation {
    let times = if baseline_ms > 0.0 {
        format!(
            " ({:.0}× its median of {baseline_ms:.2} ms)",
            latency_ms / baseline_ms
        )
    } else {
        String::new()
    };
    Observation {
        kind: FindingKind::SlowResponse,
        cause: slot.unwrap_or("request").to_owned(),
        severity: Severity::High,
        summary: format!(
            "{} took {latency_ms:.0} ms to answer one input{times}, every time it was sent: one \
             client can tie up a worker that long.",
            operation.name()
        ),
        excerpt: None,
    }
}

fn compile(schema: &Value, registry: Registry) -> Result<Validator, String> {
    // The schema is compiled as written, with relative references resolving
    // against the registered spec document.
    jsonschema::options()
        .with_draft(Draft::Draft202012)
        .should_validate_formats(true)
        .with_base_uri(SPEC_URI)
        .with_registry(registry)
        .build(schema)
        .map_err(|e| e.to_string())
}

/// Whether a documented media type (maybe a wildcard) covers the actual one.
fn media_matches(documented: &str, actual: Option<&str>) -> bool {
    let documented = essence(documented);
    let Some(actual) = actual else {
        return documented == "*/*";
    };
    if documented == "*/*" || documented == actual {
        return true;
    }
    match documented.strip_suffix("/*") {
        Some(kind) => actual.split('/').next() == Some(kind),
        None => false,
    }
}

fn describe(path: &str, message: &str) -> String {
    let path = if path.is_empty() { "the body" } else { path };
    format!("{path}: {}", cap_text(message, 200))
}

fn excerpt(body: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    (!text.is_empty()).then(|| cap_text(text, 1024))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use unruly_core::{ApiResponse, MediaType};

    fn spec() -> ApiSpec {
        let document = json!({
            "openapi": "3.1.0",
            "components": {"schemas": {
                "User": {"type": "object", "required": ["id", "name"],
                         "properties": {"id": {"type": "integer"}, "name": {"type": "string"},
                                        "friend": {"$ref": "#/components/schemas/User"},
                                        "email": {"type": "string", "format": "email"}}}
            }}
        });
        let json_media = |schema: Value| MediaType {
            content_type: "application/json".into(),
            schema: Some(schema),
        };
        ApiSpec {
            title: None,
            openapi_version: "3.1.0".into(),
            servers: vec![],
            operations: vec![ApiOperation {
                method: "GET".into(),
                path: "/users/{id}".into(),
                operation_id: None,
                parameters: vec![],
                body: None,
                responses: vec![
                    ApiResponse {
                        status: "200".into(),
                        contents: vec![json_media(json!({"$ref": "#/components/schemas/User"}))],
                        links: vec![],
                    },
                    ApiResponse {
                        status: "4XX".into(),
                        contents: vec![json_media(json!({"type": "object"}))],
                        links: vec![],
                    },
                ],
                security: vec![],
            }],
            document,
        }
    }

    fn check(status: u16, content_type: Option<&str>, body: &str) -> Option<Observation> {
        let spec = spec();
        let conformance = Conformance::new(&spec).unwrap();
        conformance.check_response(
            0,
            &spec.operations[0],
            status,
            content_type,
            body.as_bytes(),
            true,
        )
    }

    #[test]
    fn a_conforming_answer_passes() {
        let body = r#"{"id": 1, "name": "a", "friend": {"id": 2, "name": "b"}}"#;
        assert_eq!(
            check(200, Some("application/json; charset=utf-8"), body),
            None
        );
        assert_eq!(check(404, Some("application/json"), "{}"), None);
    }

    #[test]
    fn a_body_breaking_a_nested_reference_is_reported() {
        let body = r#"{"id": 1, "name": "a", "friend": {"id": 2, "name": null}}"#;
        let found = check(200, Some("application/json"), body).unwrap();
        assert_eq!(found.kind, FindingKind::ResponseSchemaViolation);
        assert!(found.summary.contains("/friend/name"), "{}", found.summary);
    }

    #[test]
    fn formats_are_asserted() {
        let body = r#"{"id": 1, "name": "a", "email": "not an email"}"#;
        assert!(check(200, Some("application/json"), body).is_some());
    }

    #[test]
    fn undocumented_statuses_and_content_types_are_reported() {
        let found = check(500, Some("application/json"), "{}").unwrap();
        assert_eq!(found.cause, "status 500");
        let found = check(200, Some("text/plain"), "hi").unwrap();
        assert_eq!(found.cause, "status 200 content type text/plain");
        let found = check(200, Some("application/json"), "{").unwrap();
        assert_eq!(found.cause, "status 200 body not JSON");
    }

    #[test]
    fn only_2xx_answers_accept_invalid_input() {
        let spec = spec();
        let op = &spec.operations[0];
        assert!(accepted_invalid_input(op, 201, "too long", Some("body /name")).is_some());
        assert!(accepted_invalid_input(op, 400, "too long", Some("body /name")).is_none());
    }
}
