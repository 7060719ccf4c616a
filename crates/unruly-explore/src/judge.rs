//! What one exchange shows: server errors and leaks (by themselves), answers
//! the spec does not allow, and invalid requests accepted.

use crate::exchange::Exchange;
use unruly_core::FindingKind;
use unruly_core::{ApiSpec, ResponseSample, SAMPLE_BODY_BYTES};
use unruly_inputs::{Case, Category, Expect};
use unruly_verdict::{Conformance, Observation};

/// Judges exchanges of one spec.
pub(crate) struct Judge<'s> {
    spec: &'s ApiSpec,
    conformance: Conformance,
}

impl<'s> Judge<'s> {
    pub fn new(spec: &'s ApiSpec, conformance: Conformance) -> Self {
        Self { spec, conformance }
    }

    /// The spec's response schemas.
    pub fn conformance(&self) -> &Conformance {
        &self.conformance
    }

    /// Everything `exchange` (of `case`) shows, except slowness, which needs
    /// the operation's baseline.
    pub fn observe(&self, case: &Case, exchange: &Exchange) -> Vec<Observation> {
        let operation = &self.spec.operations[case.operation];
        let mut found =
            unruly_verdict::observe_with_echo(&sample(operation.name(), exchange), &exchange.echo);
        let Ok(response) = &exchange.outcome else {
            return found;
        };
        if response.status < 500 {
            if let Some(violation) = self.conformance.check_response(
                case.operation,
                operation,
                response.status,
                response.content_type(),
                &response.body,
                response.is_complete(),
            ) {
                found.push(violation);
            }
        }
        if case.category == Category::Large {
            // Refusing an oversized upload by closing the connection mid-body,
            // or with a protocol-level 413/414/431 the spec does not list, is
            // a server protecting itself, not a bug.
            found.retain(|o| !excused_for_large(o));
        }
        if let Expect::Invalid(reason) = &case.expect {
            if let Some(accepted) = unruly_verdict::accepted_invalid_input(
                operation,
                response.status,
                reason,
                case.slot.as_deref(),
            ) {
                found.push(accepted);
            }
        }
        found
    }
}

fn excused_for_large(observation: &Observation) -> bool {
    match observation.kind {
        FindingKind::ServerError => observation.cause == "reset",
        FindingKind::ResponseSchemaViolation => {
            ["status 413", "status 414", "status 431"].contains(&observation.cause.as_str())
        }
        _ => false,
    }
}

/// The exchange as a response sample (the shape evidence is built from).
pub(crate) fn sample(operation: String, exchange: &Exchange) -> ResponseSample {
    let (status, error, error_detail, content_type, body) = match &exchange.outcome {
        Ok(response) => {
            let end = response.body.len().min(SAMPLE_BODY_BYTES);
            (
                Some(response.status),
                None,
                None,
                response.content_type().map(str::to_owned),
                String::from_utf8_lossy(&response.body[..end]).into_owned(),
            )
        }
        Err(failure) => (
            None,
            Some(failure.class),
            Some(failure.message.clone()),
            None,
            String::new(),
        ),
    };
    ResponseSample {
        operation,
        request: exchange.record.clone(),
        status,
        error,
        error_detail,
        content_type,
        body_excerpt: body,
        latency_ms: exchange.latency().as_secs_f64() * 1000.0,
        first_seen_s: 0.0,
        count: 1,
    }
}
