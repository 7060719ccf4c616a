//! `unruly load` against real servers on loopback.

mod common;

use common::*;
use unruly_testkit::{Behaviour, TestServer};

#[test]
fn request_count_is_exact_and_json_is_one_document() {
    let server = TestServer::start(Behaviour::Fast).unwrap();
    let (output, _) = run(&[
        "load",
        &server.url(),
        "-n",
        "1000",
        "-c",
        "8",
        "--json",
        "-q",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    let report = json(&output);
    assert_eq!(overall(&report)["requests"], 1000);
    assert_eq!(overall(&report)["status"]["200"], 1000);
    assert_eq!(overall(&report)["errors"], 0);
    assert_eq!(
        server.requests(),
        1000,
        "the server saw exactly the requests sent"
    );
    // Keep-alive: one connection per user, plus the preflight check's.
    assert!(
        server.connections() <= 9,
        "{} connections",
        server.connections()
    );
    let latency = &overall(&report)["latency_ms"];
    assert!(latency["p50"].as_f64().unwrap() > 0.0);
    assert!(latency["p99"].as_f64().unwrap() >= latency["p50"].as_f64().unwrap());
}

#[test]
fn summary_names_throughput_latency_and_statuses() {
    let server = TestServer::start(Behaviour::Status(503)).unwrap();
    let (output, _) = run(&["load", &server.url(), "-n", "200", "-c", "4"]);
    // 5xx answers are findings: exit 1.
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("503"), "{stdout}");
    assert!(stdout.contains("p99"), "{stdout}");
    assert!(stdout.contains("server_error"), "{stdout}");
}

#[test]
fn headers_method_and_body_are_sent() {
    let server = TestServer::start(Behaviour::Fast).unwrap();
    let (output, _) = run(&[
        "load",
        &server.url(),
        "-n",
        "50",
        "-c",
        "2",
        "-m",
        "POST",
        "-H",
        "X-Test: yes",
        "--body",
        "{\"a\":1}",
        "--json",
        "-q",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    assert_eq!(overall(&json(&output))["requests"], 50);
    assert_eq!(server.requests(), 50);
}

#[test]
fn assumptions_from_flags_are_judged() {
    let server = TestServer::start(Behaviour::Fast).unwrap();
    let (output, _) = run(&[
        "load",
        &server.url(),
        "-n",
        "300",
        "-c",
        "2",
        "--json",
        "-q",
        "-a",
        "error_rate < 0.01",
        "-a",
        "p99 < 1us",
    ]);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    let report = json(&output);
    let assumptions = report["assumptions"].as_array().unwrap();
    assert_eq!(assumptions.len(), 2);
    assert_eq!(assumptions[0]["held"], true, "{assumptions:?}");
    assert_eq!(assumptions[1]["held"], false, "{assumptions:?}");
}
