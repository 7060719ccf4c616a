//! The open model: arrivals on schedule, latency from the scheduled time.

mod common;

use common::*;
use std::time::Duration;
use unruly_testkit::{Behaviour, TestServer};

#[test]
fn rate_20000_for_10s_issues_200000_requests() {
    let server = TestServer::start(Behaviour::Fast).unwrap();
    let (output, _) = run(&[
        "load",
        &server.url(),
        "--rate",
        "20000",
        "-d",
        "10s",
        "-c",
        "64",
        "--threads",
        "1",
        "--json",
        "-q",
    ]);
    assert!(matches!(output.status.code(), Some(0)), "{}", text(&output));
    let requests = overall(&json(&output))["requests"].as_u64().unwrap();
    let expected = 200_000f64;
    assert!(
        (requests as f64 - expected).abs() <= expected * 0.01,
        "{requests} requests, expected 200000 ± 1%"
    );
}

#[test]
fn a_one_second_stall_shows_in_p99_as_queueing_delay() {
    let server = TestServer::start(Behaviour::StallOnce {
        after: Duration::from_secs(2),
        stall: Duration::from_secs(1),
    })
    .unwrap();
    let (output, _) = run(&[
        "load",
        &server.url(),
        "--rate",
        "2000",
        "-d",
        "5s",
        "-c",
        "20",
        "--json",
        "-q",
    ]);
    assert!(matches!(output.status.code(), Some(0)), "{}", text(&output));
    let report = json(&output);
    let p99 = overall(&report)["latency_ms"]["p99"].as_f64().unwrap();
    let p50 = overall(&report)["latency_ms"]["p50"].as_f64().unwrap();
    assert!(
        p99 >= 800.0,
        "p99 {p99} ms: the stall's queueing delay must count"
    );
    assert!(p50 < 100.0, "p50 {p50} ms: most requests were fast");
}

#[test]
fn closed_model_stops_on_time() {
    let server = TestServer::start(Behaviour::Fast).unwrap();
    let (output, took) = run(&["load", &server.url(), "-d", "1s", "-c", "4", "--json", "-q"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    assert!(took < Duration::from_secs(6), "took {took:?}");
    let report = json(&output);
    let duration = report["duration_s"].as_f64().unwrap();
    assert!((0.9..1.5).contains(&duration), "duration {duration}");
    assert!(!report["timeline"].as_array().unwrap().is_empty());
}
