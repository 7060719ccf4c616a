//! A realistic report for the tests: two operations, errors, assumptions held and
//! broken, findings (one with a hostile excerpt), a timeline.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::PathBuf;
use unruly_core::{
    AssumptionResult, ErrorClass, Evidence, Finding, FindingKind, LatencySummary, OperationStats,
    Report, Settings, Severity, Stats, Window, WindowOperation, SCHEMA_VERSION,
};

/// Errors by class with every class present.
fn classes(pairs: &[(ErrorClass, u64)]) -> BTreeMap<ErrorClass, u64> {
    let mut map: BTreeMap<ErrorClass, u64> = ErrorClass::ALL.iter().map(|c| (*c, 0)).collect();
    for (class, n) in pairs {
        map.insert(*class, *n);
    }
    map
}

fn op(
    name: &str,
    requests: u64,
    errors: &[(ErrorClass, u64)],
    status: &[(u16, u64)],
    latency: LatencySummary,
    rps: f64,
) -> OperationStats {
    OperationStats {
        operation: name.into(),
        requests,
        errors: errors.iter().map(|(_, n)| n).sum(),
        errors_by_class: classes(errors),
        status: status.iter().copied().collect(),
        latency_ms: latency,
        rps,
        bytes_received: requests * 512,
    }
}

pub const HOSTILE_EXCERPT: &str =
    "Traceback (most recent call last):\n  File \"/srv/app/views.py\", line 42, in create_user\n\u{1b}[2J\u{1b}]0;pwned\u{07}KeyError: 'email'\u{1b}[31m";

/// The report of a 10-second closed-model run against a shop API.
pub fn sample_report() -> Report {
    let products = op(
        "GET /products",
        100_000,
        &[(ErrorClass::Status5xx, 12)],
        &[(200, 99_988), (500, 12)],
        LatencySummary {
            min: 0.21,
            mean: 1.9,
            p50: 1.234,
            p90: 2.5,
            p99: 8.1,
            p99_9: 15.2,
            max: 120.0,
        },
        10_000.0,
    );
    let users = op(
        "POST /users",
        23_456,
        &[(ErrorClass::Status5xx, 1_000), (ErrorClass::Timeout, 222)],
        &[(201, 22_234), (500, 1_000)],
        LatencySummary {
            min: 0.9,
            mean: 14.0,
            p50: 9.8,
            p90: 30.0,
            p99: 412.3,
            p99_9: 980.0,
            max: 5_000.0,
        },
        2_345.6,
    );
    let overall = OperationStats {
        operation: "all".into(),
        requests: 123_456,
        errors: 1_234,
        errors_by_class: classes(&[(ErrorClass::Status5xx, 1_012), (ErrorClass::Timeout, 222)]),
        status: [(200, 99_988), (201, 22_234), (500, 1_012)]
            .into_iter()
            .collect(),
        latency_ms: LatencySummary {
            min: 0.21,
            mean: 4.2,
            p50: 1.5,
            p90: 9.0,
            p99: 250.0,
            p99_9: 900.0,
            max: 5_000.0,
        },
        rps: 12_345.6,
        bytes_received: 123_456 * 512,
    };
    let timeline = (0..3)
        .map(|t| Window {
            t_s: t,
            requests: 12_000,
            errors: 120,
            errors_by_class: [(ErrorClass::Status5xx, 100), (ErrorClass::Timeout, 20)]
                .into_iter()
                .collect(),
            latency_ms: LatencySummary {
                min: 0.2,
                mean: 4.0,
                p50: 1.5,
                p90: 9.0,
                p99: 240.0,
                p99_9: 880.0,
                max: 1_000.0,
            },
            operations: [
                (
                    "GET /products".to_string(),
                    WindowOperation {
                        requests: 10_000,
                        errors: 1,
                        p50_ms: 1.2,
                        p99_ms: 8.0,
                    },
                ),
                (
                    "POST /users".to_string(),
                    WindowOperation {
                        requests: 2_000,
                        errors: 119,
                        p50_ms: 9.8,
                        p99_ms: 400.0,
                    },
                ),
            ]
            .into_iter()
            .collect(),
        })
        .collect();
    let request = "POST http://127.0.0.1:8080/users\nAuthorization: <redacted>\nContent-Type: application/json\n\n{\"email\":null}";
    let reproduce = "curl -i --max-time 10 -X POST -H 'Authorization: <redacted>' -H 'Content-Type: application/json' --data-binary '{\"email\":null}' 'http://127.0.0.1:8080/users'";
    let findings = vec![
        Finding {
            id: "F1".into(),
            kind: FindingKind::ServerError,
            severity: Severity::High,
            operation: "POST /users".into(),
            summary: "POST /users answered 500 Internal Server Error.".into(),
            evidence: Evidence {
                request: request.into(),
                status: Some(500),
                error: Some(ErrorClass::Status5xx),
                excerpt: Some(HOSTILE_EXCERPT.into()),
                latency_ms: Some(12.5),
                measurements: BTreeMap::new(),
            },
            reproduce: reproduce.into(),
            seed: 42,
            first_seen_s: 1.5,
            count: 1_000,
        },
        Finding {
            id: "F2".into(),
            kind: FindingKind::InformationLeak,
            severity: Severity::High,
            operation: "POST /users".into(),
            summary: "Python stack trace in the 500 response to POST /users.".into(),
            evidence: Evidence {
                request: request.into(),
                status: Some(500),
                error: Some(ErrorClass::Status5xx),
                excerpt: Some(HOSTILE_EXCERPT.into()),
                latency_ms: Some(12.5),
                measurements: [("count".to_string(), 1000.0)].into_iter().collect(),
            },
            reproduce: reproduce.into(),
            seed: 42,
            first_seen_s: 1.5,
            count: 1_000,
        },
        Finding {
            id: "F3".into(),
            kind: FindingKind::ServerError,
            severity: Severity::High,
            operation: "GET /products".into(),
            summary:
                "GET /products: the connection was reset or closed before the answer was complete."
                    .into(),
            evidence: Evidence {
                request: "GET http://127.0.0.1:8080/products".into(),
                status: None,
                error: Some(ErrorClass::Reset),
                excerpt: Some("connection reset by peer".into()),
                latency_ms: None,
                measurements: BTreeMap::new(),
            },
            reproduce: "curl -i --max-time 10 'http://127.0.0.1:8080/products'".into(),
            seed: 42,
            first_seen_s: 3.25,
            count: 12,
        },
    ];
    Report {
        schema_version: SCHEMA_VERSION,
        tool_version: "0.1.0".into(),
        command: "run".into(),
        target: "http://127.0.0.1:8080".into(),
        seed: 42,
        started_at: "2025-01-02T03:04:05Z".into(),
        duration_s: 10.02,
        interrupted: false,
        settings: Settings {
            model: "closed".into(),
            connections: 50,
            threads: 2,
            timeout_ms: 5_000,
            planned_duration_s: Some(10.0),
            planned_requests: None,
            stages: vec![],
            operations: vec!["GET /products".into(), "POST /users".into()],
        },
        assumptions: vec![
            AssumptionResult {
                name: "p99(\"GET /products\") < 300ms".into(),
                held: true,
                observed: "8.10ms".into(),
                expected: "< 300ms".into(),
            },
            AssumptionResult {
                name: "error_rate < 1%".into(),
                held: false,
                observed: "1.00% (1234 of 123456)".into(),
                expected: "< 1%".into(),
            },
        ],
        findings,
        stats: Stats {
            overall,
            operations: vec![products, users],
            missed_arrivals: 12,
        },
        timeline,
        faults: Vec::new(),
        behaviours: Vec::new(),
        watch: None,
    }
}

/// A fresh, empty directory for one test.
pub fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("unruly-report-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create a temporary directory");
    dir
}
