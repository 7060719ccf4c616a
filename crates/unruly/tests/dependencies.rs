//! `unruly explore --dependency`: the demo shop calls its shipping dependency through a
//! fault proxy. The buggy shop, which calls it without a timeout under its catalog lock,
//! is reported as `dependency_cascade` (its product reads break with it, its shipping
//! quotes turn into 500s), and the reproduction shows it again; the correct twin, with a
//! timeout and a fallback, is not reported. Bad `--dependency` values exit with 2.

mod common;

use common::*;
use std::process::Command;
use unruly_demo::{DemoHandle, DemoOptions, DependencyStub, Variant};

struct Explored {
    demo: DemoHandle,
    _stub: DependencyStub,
    report: serde_json::Value,
    code: i32,
    output: String,
}

/// The demo shop calling its shipping stub through `listen`, a free loopback port where
/// a fault proxy is to stand.
fn shop_with_shipping(variant: Variant) -> (DemoHandle, DependencyStub, String) {
    let stub = DependencyStub::start().expect("the shipping stub starts");
    let listen = format!("127.0.0.1:{}", closed_port());
    let demo = DemoHandle::start_with(
        variant,
        DemoOptions {
            shipping: Some(listen.parse().expect("an address")),
            ..DemoOptions::default()
        },
    )
    .expect("the demo starts");
    (demo, stub, listen)
}

fn explore_with_shipping(variant: Variant, name: &str) -> Explored {
    let (demo, stub, listen) = shop_with_shipping(variant);
    let dir = temp_dir(name);
    let target = demo.base_url();
    let dependency = format!("shipping={listen}@{}", stub.addr());
    let (output, _) = run(&[
        "explore",
        "--openapi",
        "/openapi.json",
        "--target",
        &target,
        "--no-behaviours",
        "-d",
        "4s",
        "--only",
        "GET /products",
        "--only",
        "GET /products/{id}",
        "--only",
        "GET /products/{id}/shipping",
        "--only",
        "GET /health",
        "--dependency",
        &dependency,
        "-q",
        "--report-dir",
        dir.to_str().expect("a UTF-8 path"),
    ]);
    let report = std::fs::read_to_string(dir.join("report.json"))
        .unwrap_or_else(|error| panic!("no report.json ({error}): {}", text(&output)));
    Explored {
        demo,
        _stub: stub,
        report: serde_json::from_str(&report).expect("report.json parses"),
        code: output.status.code().unwrap_or(-1),
        output: text(&output),
    }
}

fn cascades(report: &serde_json::Value) -> Vec<&serde_json::Value> {
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|finding| finding["kind"] == "dependency_cascade")
        .collect()
}

#[test]
fn a_dependency_called_without_a_timeout_is_a_cascade_and_the_reproduction_shows_it() {
    let explored = explore_with_shipping(Variant::Buggy, "dependency-buggy");
    assert_eq!(explored.code, 1, "{}", explored.output);
    let cascades = cascades(&explored.report);
    let on = |operation: &str| {
        cascades
            .iter()
            .find(|finding| finding["operation"] == operation)
            .unwrap_or_else(|| panic!("no dependency_cascade on {operation}: {:#?}", cascades))
    };
    let shipping = on("GET /products/{id}/shipping");
    let summary = shipping["summary"].as_str().expect("a summary");
    for fault in ["down", "resetting", "503"] {
        assert!(
            summary.contains(fault),
            "the quote broke when shipping was {fault}: {summary}"
        );
    }
    assert_eq!(
        shipping["evidence"]["status"], 500,
        "a 500, not a graceful answer"
    );
    // The product list does not need shipping, but waits on the lock the quote holds.
    let products = on("GET /products");
    let summary = products["summary"].as_str().expect("a summary");
    assert!(summary.contains("slow (5 s latency)"), "{summary}");
    assert!(
        summary.contains("without an answer within 2s")
            || summary.contains("answered only after more than 1.5s"),
        "{summary}"
    );
    for finding in &cascades {
        assert_ne!(
            finding["operation"], "GET /health",
            "health does not depend on shipping"
        );
    }

    // The reproduction: `unruly proxy` where the exploration's proxy stood, the fault put
    // on through its Toxiproxy API, a quote in flight, then the product list with a
    // user's patience: curl gives up (exit 28).
    let reproduce = products["reproduce"].as_str().expect("a reproduction");
    let binaries = std::path::Path::new(env!("CARGO_BIN_EXE_unruly"))
        .parent()
        .expect("the binary's directory");
    let path = format!(
        "{}:{}",
        binaries.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let output = Command::new("bash")
        .arg("-c")
        .arg(reproduce)
        .env("PATH", path)
        .output()
        .expect("bash runs");
    assert_eq!(
        output.status.code(),
        Some(28),
        "the product list gets no answer within 2 s:\n{reproduce}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let direct = Command::new("curl")
        .args([
            "-s",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            "--max-time",
            "10",
        ])
        .arg(format!("{}/products", explored.demo.base_url()))
        .output()
        .expect("curl runs");
    assert_eq!(
        String::from_utf8_lossy(&direct.stdout),
        "200",
        "and answers once the fault is gone"
    );
}

#[test]
fn a_dependency_with_a_timeout_and_a_fallback_is_not_a_cascade() {
    let explored = explore_with_shipping(Variant::Correct, "dependency-correct");
    assert!(
        cascades(&explored.report).is_empty(),
        "{:#?}",
        cascades(&explored.report)
    );
    assert_eq!(explored.code, 0, "{}", explored.output);
}

#[test]
fn bad_dependency_values_are_exit_2_naming_the_flag() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let taken = taken.local_addr().expect("addr");
    let demo = DemoHandle::start(Variant::Correct).expect("the demo starts");
    let target = demo.base_url();
    let dir = temp_dir("dependency-bad-input");
    let report_dir = format!("--report-dir={}", dir.display());
    let duplicate = format!("--dependency=a=127.0.0.1:{}@127.0.0.1:1", closed_port());
    for (value, expected) in [
        ("shipping", "expected NAME=LISTEN@UPSTREAM".to_owned()),
        (
            "shipping=127.0.0.1@127.0.0.1:1",
            "LISTEN `127.0.0.1` is not host:port".to_owned(),
        ),
        (
            "shipping=127.0.0.1:1@nowhere",
            "UPSTREAM `nowhere` is not host:port".to_owned(),
        ),
        (
            &format!("shipping={taken}@127.0.0.1:1"),
            format!("--dependency shipping: listen {taken}"),
        ),
    ] {
        let flag = format!("--dependency={value}");
        let (output, _) = run(&[
            "explore",
            "--openapi",
            "/openapi.json",
            "--target",
            &target,
            "-d",
            "1s",
            &report_dir,
            &flag,
        ]);
        assert_eq!(output.status.code(), Some(2), "{value}: {}", text(&output));
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains(&expected),
            "{value}: expected `{expected}` in {stderr}"
        );
    }
    let (output, _) = run(&[
        "explore",
        "--openapi",
        "/openapi.json",
        "--target",
        &target,
        "-d",
        "1s",
        &report_dir,
        &duplicate,
        &duplicate,
    ]);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("given twice"),
        "{}",
        text(&output)
    );
}

/// A scenario with the shop's shipping behind a `[[dependency]]` proxy, a latency fault
/// from 2 s to 5 s, and a steady open-model load (100 requests/s whatever the target
/// does) on the product list and the quotes.
fn scenario(target: &str, listen: &str, upstream: &str) -> String {
    format!(
        r#"
[target]
url = "{target}"
timeout = "3s"

[[operation]]
name = "list"
path = "/products"

[[operation]]
name = "quote"
path = "/products/1/shipping"

[workload]
model = "open"
connections = 200

[[workload.stage]]
rate = 100
duration = "7s"

[[dependency]]
name = "shipping"
listen = "{listen}"
upstream = "{upstream}"

[[fault]]
dependency = "shipping"
at = "2s"
for = "3s"
type = "latency"
attributes = {{ latency = 5000 }}
"#
    )
}

fn run_scenario(variant: Variant, name: &str) -> (serde_json::Value, String) {
    let (demo, stub, listen) = shop_with_shipping(variant);
    let dir = temp_dir(name);
    let file = dir.join("scenario.toml");
    std::fs::write(
        &file,
        scenario(&demo.base_url(), &listen, &stub.addr().to_string()),
    )
    .expect("write");
    let (output, _) = run(&[
        "run",
        file.to_str().expect("UTF-8"),
        "-q",
        "--report-dir",
        dir.to_str().expect("UTF-8"),
    ]);
    let report = std::fs::read_to_string(dir.join("report.json"))
        .unwrap_or_else(|error| panic!("no report.json ({error}): {}", text(&output)));
    (serde_json::from_str(&report).expect("JSON"), text(&output))
}

#[test]
fn a_scheduled_fault_in_a_scenario_shows_the_cascade_and_its_window() {
    let (report, output) = run_scenario(Variant::Buggy, "scenario-fault-buggy");
    let windows = report["faults"]
        .as_array()
        .unwrap_or_else(|| panic!("no faults in the report: {output}"));
    assert_eq!(windows.len(), 1, "{output}");
    let window = &windows[0];
    assert_eq!(window["name"], "shipping latency");
    let (start, end) = (
        window["start_s"].as_f64().unwrap(),
        window["end_s"].as_f64().unwrap(),
    );
    assert!(
        (1.9..2.5).contains(&start) && (4.9..5.5).contains(&end),
        "{window}"
    );
    let found = cascades(&report);
    assert!(
        found.iter().any(|finding| finding["operation"] == "list"),
        "the product list broke with shipping: {found:#?}\n{output}"
    );

    let (report, output) = run_scenario(Variant::Correct, "scenario-fault-correct");
    assert!(
        cascades(&report).is_empty(),
        "{:#?}\n{output}",
        cascades(&report)
    );
}

#[test]
fn bad_faults_in_a_scenario_are_exit_2_at_their_place() {
    let dir = temp_dir("scenario-fault-bad");
    let base = scenario("http://127.0.0.1:9", "127.0.0.1:7001", "127.0.0.1:7000");
    for (from, to, expected) in [
        (
            "type = \"latency\"",
            "type = \"latncy\"",
            "did you mean \"latency\"",
        ),
        (
            "dependency = \"shipping\"\nat",
            "dependency = \"billing\"\nat",
            "no [[dependency]] is named \"billing\"",
        ),
        ("for = \"3s\"\n", "", "[[fault]] has no `for`"),
        (
            "attributes = { latency = 5000 }",
            "attributes = { latency = -5 }",
            "attribute latency must be a non-negative integer",
        ),
        (
            "upstream = \"127.0.0.1:7000\"",
            "upstream = \"nowhere\"",
            "\"nowhere\" is not valid",
        ),
    ] {
        let text = base.replacen(from, to, 1);
        assert_ne!(text, base, "{from}");
        let file = dir.join("bad.toml");
        std::fs::write(&file, &text).expect("write");
        let (output, _) = run(&[
            "run",
            file.to_str().expect("UTF-8"),
            "-q",
            "--report-dir",
            dir.to_str().expect("UTF-8"),
        ]);
        assert_eq!(output.status.code(), Some(2), "{}", text_of(&output));
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains(expected),
            "expected `{expected}` in {stderr}"
        );
        assert!(stderr.contains("bad.toml:"), "the place is named: {stderr}");
    }
}

fn text_of(output: &std::process::Output) -> String {
    text(output)
}
