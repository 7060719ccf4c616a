//! unruly's own `/metrics`, served for real and read by Prometheus' own Python parser
//! (`prometheus_client.parser`), so that what we write is what scrapers read.

use serde_json::Value;
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Command, Stdio};
use std::time::Duration;
use unruly_core::{
    ErrorClass, Evidence, Finding, FindingKind, LatencySummary, ProcessSample, Severity, Window,
    WindowOperation,
};
use unruly_watch::metrics::{serve, LiveMetrics, MetricsError};

const PARSER: &str = r#"
import json, sys
from prometheus_client.parser import text_string_to_metric_families
families = []
for family in text_string_to_metric_families(sys.stdin.read()):
    families.append({
        "name": family.name,
        "type": family.type,
        "samples": [
            {"name": s.name, "labels": s.labels, "value": s.value} for s in family.samples
        ],
    })
print(json.dumps(families))
"#;

fn ensure_prometheus_client() {
    let present = Command::new("python3")
        .args(["-c", "import prometheus_client"])
        .status()
        .expect("python3 runs");
    if !present.success() {
        let installed = Command::new("python3")
            .args(["-m", "pip", "install", "--quiet", "prometheus-client"])
            .status()
            .expect("pip runs");
        assert!(installed.success(), "pip install prometheus-client failed");
    }
}

/// The families Python's parser reads from `text`, by name.
fn parse_with_python(text: &str) -> BTreeMap<String, Value> {
    ensure_prometheus_client();
    let mut child = Command::new("python3")
        .args(["-c", PARSER])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 starts");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(text.as_bytes())
        .expect("text written");
    let output = child.wait_with_output().expect("python3 ends");
    assert!(
        output.status.success(),
        "the parser refused the exposition: {}\n{text}",
        String::from_utf8_lossy(&output.stderr)
    );
    let families: Vec<Value> = serde_json::from_slice(&output.stdout).expect("JSON");
    families
        .into_iter()
        .map(|family| (family["name"].as_str().expect("name").to_string(), family))
        .collect()
}

/// GET `path` over a plain TCP socket: (status line, headers, body).
fn get(addr: SocketAddr, path: &str) -> (String, String, String) {
    let mut stream = TcpStream::connect(addr).expect("connects");
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .expect("request written");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("response read");
    let (head, body) = response.split_once("\r\n\r\n").expect("a head and a body");
    let (status, headers) = head.split_once("\r\n").unwrap_or((head, ""));
    (status.to_string(), headers.to_lowercase(), body.to_string())
}

fn window(t_s: u64, operations: &[(&str, u64, u64)], latency: LatencySummary) -> Window {
    let requests = operations.iter().map(|(_, requests, _)| requests).sum();
    let errors = operations.iter().map(|(_, _, errors)| errors).sum();
    Window {
        t_s,
        requests,
        errors,
        errors_by_class: BTreeMap::from([
            (ErrorClass::Status5xx, errors),
            (ErrorClass::Status4xx, 1),
        ]),
        latency_ms: latency,
        operations: operations
            .iter()
            .map(|(name, requests, errors)| {
                (
                    name.to_string(),
                    WindowOperation {
                        requests: *requests,
                        errors: *errors,
                        p50_ms: latency.p50,
                        p99_ms: latency.p99,
                    },
                )
            })
            .collect(),
    }
}

fn latency(p50: f64, p90: f64, p99: f64) -> LatencySummary {
    LatencySummary {
        min: 0.4,
        mean: p50 * 1.2,
        p50,
        p90,
        p99,
        p99_9: p99 * 1.5,
        max: p99 * 2.0,
    }
}

fn finding(kind: FindingKind, severity: Severity) -> Finding {
    Finding {
        id: "F1".to_string(),
        kind,
        severity,
        operation: "GET /products/{id}".to_string(),
        summary: "s".to_string(),
        evidence: Evidence::default(),
        reproduce: "curl".to_string(),
        seed: 1,
        first_seen_s: 0.0,
        count: 1,
    }
}

fn samples(family: &Value) -> Vec<(String, BTreeMap<String, String>, f64)> {
    family["samples"]
        .as_array()
        .expect("samples")
        .iter()
        .map(|sample| {
            let labels = sample["labels"]
                .as_object()
                .expect("labels")
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().expect("label value").to_string()))
                .collect();
            let value = sample["value"].as_f64().expect("a finite value");
            (
                sample["name"].as_str().expect("name").to_string(),
                labels,
                value,
            )
        })
        .collect()
}

const PRODUCTS: &str = "GET /products/{id}";
const QUOTED: &str = "POST /say \"hi\" \\ now";

#[test]
fn served_metrics_parse_with_prometheus_client() {
    let metrics = LiveMetrics::new();
    let server = serve("127.0.0.1:0".parse().expect("addr"), metrics.clone()).expect("serves");
    metrics.phase("load");
    metrics.window(&window(
        0,
        &[(PRODUCTS, 90, 3), (QUOTED, 10, 0)],
        latency(2.0, 20.0, 40.0),
    ));
    metrics.window(&window(1, &[(PRODUCTS, 50, 0)], latency(8.0, 30.0, 100.0)));
    metrics.finding(&finding(FindingKind::ServerError, Severity::High));
    metrics.finding(&finding(FindingKind::ServerError, Severity::High));
    metrics.finding(&finding(FindingKind::InformationLeak, Severity::Medium));
    metrics.explore(42, 3);
    metrics.target(&ProcessSample {
        t_s: 1.0,
        rss_bytes: 50_000_000,
        cpu_percent: 12.5,
        threads: 9,
        fds: 31,
    });

    let (status, headers, body) = get(server.addr(), "/metrics");
    assert!(status.contains(" 200 "), "{status}");
    assert!(
        headers.contains("content-type: text/plain; version=0.0.4; charset=utf-8"),
        "{headers}"
    );
    let families = parse_with_python(&body);

    let kinds: BTreeMap<&str, &str> = families
        .iter()
        .map(|(name, family)| (name.as_str(), family["type"].as_str().expect("type")))
        .collect();
    for (name, kind) in [
        ("unruly_up", "gauge"),
        ("unruly_phase_info", "gauge"),
        ("unruly_requests", "counter"),
        ("unruly_errors", "counter"),
        ("unruly_operation_errors", "counter"),
        ("unruly_request_duration_seconds", "histogram"),
        ("unruly_findings", "counter"),
        ("unruly_cases", "counter"),
        ("unruly_target_resident_memory_bytes", "gauge"),
        ("unruly_target_cpu_percent", "gauge"),
        ("unruly_target_threads", "gauge"),
        ("unruly_target_open_fds", "gauge"),
    ] {
        assert_eq!(kinds.get(name), Some(&kind), "{name} in {kinds:?}");
    }

    let requests = samples(&families["unruly_requests"]);
    let by_operation: BTreeMap<String, f64> = requests
        .iter()
        .map(|(_, labels, value)| (labels["operation"].clone(), *value))
        .collect();
    assert_eq!(
        by_operation,
        BTreeMap::from([(PRODUCTS.to_string(), 140.0), (QUOTED.to_string(), 10.0)])
    );
    let errors = samples(&families["unruly_errors"]);
    assert!(errors
        .iter()
        .any(|(_, labels, value)| labels["class"] == "status_5xx" && *value == 3.0));
    let operation_errors = samples(&families["unruly_operation_errors"]);
    assert!(operation_errors
        .iter()
        .any(|(_, labels, value)| labels["operation"] == PRODUCTS && *value == 3.0));

    let phase = samples(&families["unruly_phase_info"]);
    assert_eq!(phase.len(), 1);
    assert_eq!(phase[0].1["phase"], "load");
    assert_eq!(phase[0].2, 1.0);

    let findings = samples(&families["unruly_findings"]);
    assert!(findings
        .iter()
        .any(|(name, labels, value)| name == "unruly_findings_total"
            && labels["kind"] == "server_error"
            && labels["severity"] == "high"
            && *value == 2.0));
    assert_eq!(samples(&families["unruly_cases"])[0].2, 42.0);
    assert_eq!(samples(&families["unruly_target_threads"])[0].2, 9.0);
    assert_eq!(samples(&families["unruly_up"])[0].2, 1.0);

    let histogram = samples(&families["unruly_request_duration_seconds"]);
    let buckets: Vec<(f64, f64)> = histogram
        .iter()
        .filter(|(name, _, _)| name.ends_with("_bucket"))
        .map(|(_, labels, value)| {
            let le = match labels["le"].as_str() {
                "+Inf" => f64::INFINITY,
                le => le.parse().expect("a number"),
            };
            (le, *value)
        })
        .collect();
    assert!(buckets.len() >= 10);
    assert!(buckets
        .windows(2)
        .all(|pair| pair[0].0 < pair[1].0 && pair[0].1 <= pair[1].1));
    let count = histogram
        .iter()
        .find(|(name, _, _)| name.ends_with("_count"))
        .map(|(_, _, value)| *value);
    assert_eq!(buckets.last(), Some(&(f64::INFINITY, 150.0)));
    assert_eq!(count, Some(150.0));

    let (status, _, _) = get(server.addr(), "/other");
    assert!(status.contains(" 404 "), "{status}");
    server.stop();
}

#[test]
fn bucket_approximation_puts_half_under_the_median() {
    let metrics = LiveMetrics::new();
    metrics.window(&window(0, &[(PRODUCTS, 1000, 0)], latency(2.0, 20.0, 40.0)));
    let families = parse_with_python(&metrics.render());
    let under = samples(&families["unruly_request_duration_seconds"])
        .into_iter()
        .find(|(_, labels, _)| labels.get("le").map(String::as_str) == Some("0.0025"))
        .map(|(_, _, value)| value)
        .expect("a 2.5 ms bucket");
    assert!(
        (480.0..=560.0).contains(&under),
        "{under} of 1000 under 2.5 ms"
    );
}

#[test]
fn a_taken_address_is_a_clear_error() {
    let first = serve("127.0.0.1:0".parse().expect("addr"), LiveMetrics::new()).expect("serves");
    let taken = first.addr();
    match serve(taken, LiveMetrics::new()) {
        Err(error @ MetricsError::Bind { .. }) => {
            let message = error.to_string();
            assert!(message.contains(&taken.to_string()), "{message}");
        }
        Err(other) => panic!("expected a bind error, got {other}"),
        Ok(_) => panic!("{taken} was served twice"),
    }
    // Dropped means stopped: a connection still open is closed. (Not "the port refuses":
    // another test may bind the freed port at once.)
    let (status, _, _) = get(taken, "/metrics");
    assert!(status.contains(" 200 "), "{status}");
    let mut open = TcpStream::connect(taken).expect("connects");
    open.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    drop(first);
    let mut rest = Vec::new();
    let read = open.read_to_end(&mut rest);
    let closed = match &read {
        Ok(0) => true,
        Err(error) => error.kind() == std::io::ErrorKind::ConnectionReset,
        Ok(_) => false,
    };
    assert!(closed, "{read:?} {rest:?}");
}
