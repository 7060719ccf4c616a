//! Findings from samples: kinds, deduplication, ordering, evidence.

use unruly_core::{ErrorClass, FindingKind, RequestRecord, ResponseSample, Severity};
use unruly_verdict::findings_from_samples;

fn sample(
    operation: &str,
    status: Option<u16>,
    body: &str,
    first_seen_s: f64,
    count: u64,
) -> ResponseSample {
    let (method, path) = operation.split_once(' ').unwrap_or(("GET", operation));
    ResponseSample {
        operation: operation.into(),
        request: RequestRecord {
            method: method.into(),
            url: format!("http://127.0.0.1:8080{path}"),
            headers: vec![
                ("Authorization".into(), "Bearer hunter2".into()),
                ("Content-Type".into(), "application/json".into()),
            ],
            body: (method == "POST").then(|| r#"{"name":"O'Brien"}"#.to_string()),
        },
        status,
        error: status.and_then(|s| unruly_core::Outcome::Status(s).error_class()),
        error_detail: None,
        content_type: Some("application/json".into()),
        body_excerpt: body.into(),
        latency_ms: 12.5,
        first_seen_s,
        count,
    }
}

fn failed(operation: &str, class: ErrorClass, detail: &str, first_seen_s: f64) -> ResponseSample {
    let mut s = sample(operation, None, "", first_seen_s, 3);
    s.error = Some(class);
    s.error_detail = Some(detail.into());
    s
}

const TRACE: &str = "Traceback (most recent call last):\n  File \"/srv/app/views.py\", line 42, in create_user\n    db.insert(user)\nKeyError: 'email'";

#[test]
fn no_samples_no_findings() {
    assert!(findings_from_samples(&[], 7).is_empty());
}

#[test]
fn successful_and_client_error_samples_give_nothing() {
    let samples = [
        sample(
            "GET /products",
            Some(200),
            r#"[{"id":1,"name":"error mug"}]"#,
            0.1,
            100,
        ),
        sample(
            "GET /products/{id}",
            Some(404),
            r#"{"error":"not found"}"#,
            0.2,
            5,
        ),
        sample("GET /slow", None, "", 0.3, 1),
    ];
    assert!(findings_from_samples(&samples, 7).is_empty());
}

#[test]
fn a_500_with_a_traceback_is_a_server_error_and_a_leak() {
    let findings = findings_from_samples(&[sample("POST /users", Some(500), TRACE, 1.5, 12)], 42);
    assert_eq!(findings.len(), 2);

    let server = &findings[0];
    assert_eq!(server.id, "F1");
    assert_eq!(server.kind, FindingKind::ServerError);
    assert_eq!(server.severity, Severity::High);
    assert_eq!(server.operation, "POST /users");
    assert_eq!(
        server.summary,
        "POST /users answered 500 Internal Server Error."
    );
    assert_eq!(server.count, 12);
    assert_eq!(server.seed, 42);
    assert_eq!(server.first_seen_s, 1.5);
    assert_eq!(server.evidence.status, Some(500));
    assert_eq!(server.evidence.error, Some(ErrorClass::Status5xx));
    assert_eq!(server.evidence.latency_ms, Some(12.5));
    assert_eq!(server.evidence.excerpt.as_deref(), Some(TRACE));
    assert_eq!(
        server.evidence.request,
        "POST http://127.0.0.1:8080/users\nAuthorization: <redacted>\nContent-Type: application/json\n\n{\"name\":\"O'Brien\"}"
    );
    assert_eq!(
        server.reproduce,
        r#"curl -i --max-time 10 -X POST -H 'Authorization: <redacted>' -H 'Content-Type: application/json' --data-binary '{"name":"O'\''Brien"}' 'http://127.0.0.1:8080/users'"#
    );

    let leak = &findings[1];
    assert_eq!(leak.id, "F2");
    assert_eq!(leak.kind, FindingKind::InformationLeak);
    assert_eq!(leak.severity, Severity::High);
    assert_eq!(
        leak.summary,
        "Python stack trace in the 500 response to POST /users."
    );
    assert!(leak
        .evidence
        .excerpt
        .as_deref()
        .unwrap_or("")
        .contains("KeyError: 'email'"));
    assert!(!leak.evidence.request.contains("hunter2"));
    assert!(!leak.reproduce.contains("hunter2"));
}

#[test]
fn leaks_are_found_in_any_status() {
    let findings = findings_from_samples(
        &[sample(
            "GET /search",
            Some(400),
            "ERROR:  syntax error at or near \"'\"",
            0.5,
            2,
        )],
        1,
    );
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0].kind, FindingKind::InformationLeak);
    assert_eq!(
        findings[0].summary,
        "PostgreSQL error in the 400 response to GET /search."
    );
}

#[test]
fn transport_failures_reset_protocol_and_connect_are_server_errors_timeouts_are_not() {
    let samples = [
        failed("GET /a", ErrorClass::Reset, "connection reset by peer", 2.0),
        failed(
            "GET /a",
            ErrorClass::Protocol,
            "invalid HTTP version parsed",
            3.0,
        ),
        failed("GET /a", ErrorClass::Timeout, "no answer within 5s", 1.0),
        failed("GET /a", ErrorClass::Connect, "connection refused", 1.0),
    ];
    let findings = findings_from_samples(&samples, 1);
    assert_eq!(findings.len(), 3);
    // Ordered by first sight: the refused connection (1.0 s), the reset, the garbage.
    assert_eq!(findings[0].evidence.error, Some(ErrorClass::Connect));
    assert!(findings[0]
        .summary
        .contains("stopped accepting connections"));
    let findings = &findings[1..];
    assert_eq!(findings[0].evidence.error, Some(ErrorClass::Reset));
    assert_eq!(findings[0].evidence.status, None);
    assert_eq!(
        findings[0].evidence.excerpt.as_deref(),
        Some("connection reset by peer")
    );
    assert!(findings[0].summary.contains("reset"));
    assert_eq!(findings[1].evidence.error, Some(ErrorClass::Protocol));
    assert_eq!(findings[0].count, 3);
}

#[test]
fn duplicates_are_merged_and_counted_once_per_outcome() {
    let samples = [
        // Three kept samples of one outcome (500 on GET /a), each carrying its total.
        sample("GET /a", Some(500), "boom", 4.0, 30),
        sample("GET /a", Some(500), "boom", 2.0, 30),
        sample("GET /a", Some(500), "boom", 3.0, 30),
        // A different status is a different cause.
        sample("GET /a", Some(503), "busy", 5.0, 4),
    ];
    let findings = findings_from_samples(&samples, 1);
    assert_eq!(findings.len(), 2);
    assert_eq!(findings[0].count, 30);
    assert_eq!(findings[0].first_seen_s, 2.0);
    assert_eq!(findings[0].evidence.status, Some(500));
    assert_eq!(
        findings[1].summary,
        "GET /a answered 503 Service Unavailable."
    );
    assert_eq!(findings[1].count, 4);
}

#[test]
fn one_leak_category_across_outcomes_is_one_finding_with_added_counts() {
    let samples = [
        sample("GET /a", Some(500), TRACE, 1.0, 10),
        sample("GET /a", Some(422), TRACE, 0.5, 4),
    ];
    let findings = findings_from_samples(&samples, 1);
    let leaks: Vec<_> = findings
        .iter()
        .filter(|f| f.kind == FindingKind::InformationLeak)
        .collect();
    assert_eq!(leaks.len(), 1);
    assert_eq!(leaks[0].count, 14);
    assert_eq!(leaks[0].first_seen_s, 0.5);
    assert_eq!(leaks[0].evidence.status, Some(422));
}

#[test]
fn ids_follow_first_seen_then_operation_whatever_the_input_order() {
    let samples = [
        sample("GET /z", Some(500), "", 3.0, 1),
        sample("GET /b", Some(502), "", 1.0, 1),
        sample("GET /a", Some(500), "", 1.0, 1),
        sample("GET /c", Some(500), "", 0.2, 1),
    ];
    let findings = findings_from_samples(&samples, 1);
    let order: Vec<_> = findings
        .iter()
        .map(|f| (f.id.as_str(), f.operation.as_str()))
        .collect();
    assert_eq!(
        order,
        vec![
            ("F1", "GET /c"),
            ("F2", "GET /a"),
            ("F3", "GET /b"),
            ("F4", "GET /z")
        ]
    );
    let mut reversed = samples.to_vec();
    reversed.reverse();
    assert_eq!(findings_from_samples(&reversed, 1), findings);
}

#[test]
fn secrets_in_a_body_are_masked_in_every_excerpt() {
    let findings = findings_from_samples(
        &[sample(
            "GET /config",
            Some(500),
            "{\"key\":\"AKIAIOSFODNN7EXAMPLE\"}",
            1.0,
            1,
        )],
        1,
    );
    assert_eq!(findings.len(), 2);
    for f in &findings {
        let excerpt = f.evidence.excerpt.as_deref().unwrap_or("");
        assert!(
            !excerpt.contains("IOSFODNN7EXAMPLE"),
            "{}: {excerpt}",
            f.kind
        );
    }
    let secret = findings
        .iter()
        .find(|f| f.kind == FindingKind::InformationLeak)
        .map(|f| f.severity);
    assert_eq!(secret, Some(Severity::Critical));
}

#[test]
fn huge_bodies_give_capped_excerpts() {
    let body = format!("{}\n{TRACE}\n{}", "x".repeat(3000), "y".repeat(3000));
    let findings = findings_from_samples(&[sample("GET /big", Some(500), &body, 1.0, 1)], 1);
    for f in &findings {
        let excerpt = f.evidence.excerpt.as_deref().unwrap_or("");
        assert!(excerpt.len() <= 1100, "{}: {} bytes", f.kind, excerpt.len());
    }
}
