//! `unruly run` with scenario behaviours against the demo service: each planted
//! behaviour bug (a withdrawal race, an ignored Idempotency-Key, a reader pool
//! that slow uploads exhaust) is found by the behaviour made for it, and the
//! correct twin gives none of them; bad behaviours are refused with their place.

mod common;

use common::*;
use std::path::Path;
use unruly_demo::{DemoHandle, Variant};
use unruly_testkit::client::Connection;

/// A scenario for `demo`: a light load of product listings plus `rest`
/// (operations of weight 0 and behaviours), for `seconds`.
fn scenario(demo: &DemoHandle, seconds: u32, rest: &str) -> String {
    format!(
        r#"seed = 7

[target]
url = "{url}"
timeout = "5s"

[[operation]]
name = "browse"
path = "/products?limit=5"

[workload]
users = 2
think_time = "100ms"
duration = "{seconds}s"

{rest}"#,
        url = demo.base_url()
    )
}

/// Runs `unruly run` on `text` (written to a fresh directory) with `extra`
/// flags; returns the exit code, the report and the output.
fn run_scenario(name: &str, scenario: &str, extra: &[&str]) -> (i32, serde_json::Value, String) {
    let dir = temp_dir(name);
    let path = dir.join("scenario.toml");
    std::fs::write(&path, scenario).expect("write the scenario");
    let report_dir = dir.join("report");
    let mut args = vec![
        "run",
        path.to_str().expect("utf-8 path"),
        "-q",
        "--report-dir",
        report_dir.to_str().expect("utf-8 path"),
    ];
    args.extend_from_slice(extra);
    let (output, _) = run(&args);
    let report = read_report(&report_dir, &text(&output));
    (output.status.code().unwrap_or(-1), report, text(&output))
}

fn read_report(dir: &Path, output: &str) -> serde_json::Value {
    let text = std::fs::read_to_string(dir.join("report.json"))
        .unwrap_or_else(|e| panic!("no report.json ({e}):\n{output}"));
    serde_json::from_str(&text).expect("report.json is JSON")
}

/// The findings of `kind` in `report`.
fn findings_of<'a>(report: &'a serde_json::Value, kind: &str) -> Vec<&'a serde_json::Value> {
    report["findings"]
        .as_array()
        .expect("findings is an array")
        .iter()
        .filter(|f| f["kind"] == kind)
        .collect()
}

fn kinds(report: &serde_json::Value) -> Vec<String> {
    report["findings"]
        .as_array()
        .expect("findings is an array")
        .iter()
        .map(|f| f["kind"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// Opens an account with `balance` on `demo`; returns its id.
fn open_account(demo: &DemoHandle, balance: u64) -> u64 {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let mut connection = Connection::open(demo.addr()).await.expect("connect");
        let answer = connection
            .post_json(
                "/accounts",
                format!(r#"{{"owner":"Ada","balance":{balance}}}"#).into_bytes(),
            )
            .await
            .expect("POST /accounts");
        assert_eq!(answer.status.as_u16(), 201, "{}", answer.text());
        let account: serde_json::Value =
            serde_json::from_slice(&answer.body).expect("the account is JSON");
        account["id"].as_u64().expect("the account has an id")
    })
}

/// A burst of 20 withdrawals of 60 on an account of 100, with the invariant
/// that the balance never goes below zero.
fn withdrawal_race(variant: Variant, name: &str) -> (i32, serde_json::Value, String) {
    let demo = DemoHandle::start(variant).expect("the demo starts");
    let id = open_account(&demo, 100);
    let rest = format!(
        r#"[[operation]]
name = "POST /accounts/{{id}}/withdrawals"
method = "POST"
path = "/accounts/{id}/withdrawals"
json = {{ amount = 60 }}
weight = 0

[[behaviour]]
kind = "burst"
name = "withdraw race"
operation = "POST /accounts/{{id}}/withdrawals"
count = 20
at = "500ms"
invariant = {{ read = "GET /accounts/{{id}}", expect = "$.balance >= 0" }}
"#
    );
    run_scenario(name, &scenario(&demo, 2, &rest), &[])
}

#[test]
fn a_burst_of_withdrawals_breaks_the_buggy_balance_and_not_the_correct_one() {
    let (code, report, output) = withdrawal_race(Variant::Buggy, "race-buggy");
    assert_eq!(code, 1, "{output}");
    let races = findings_of(&report, "race_condition");
    assert_eq!(races.len(), 1, "{output}");
    let race = races[0];
    assert_eq!(race["operation"], "POST /accounts/{id}/withdrawals");
    let summary = race["summary"].as_str().unwrap_or_default();
    assert!(summary.contains("$.balance >= 0"), "{summary}");
    assert!(summary.contains("$.balance = -"), "{summary}");
    assert!(
        summary.contains("it held before: $.balance = 100"),
        "{summary}"
    );
    assert_eq!(race["evidence"]["measurements"]["copies"], 20.0);
    assert!(
        race["evidence"]["measurements"]["copies_2xx"]
            .as_f64()
            .unwrap_or(0.0)
            >= 2.0
    );
    let reproduce = race["reproduce"].as_str().unwrap_or_default();
    assert!(
        reproduce.contains("for i in $(seq 1 20); do"),
        "{reproduce}"
    );
    assert!(
        reproduce.contains("/withdrawals' &\ndone\nwait\n"),
        "{reproduce}"
    );
    assert!(
        reproduce.contains("curl -i --max-time 10 'http://127.0.0.1:"),
        "{reproduce}"
    );

    let (code, report, output) = withdrawal_race(Variant::Correct, "race-correct");
    assert!(kinds(&report).is_empty(), "{output}");
    assert_eq!(code, 0, "{output}");
}

fn double_order(variant: Variant, name: &str) -> (i32, serde_json::Value, String) {
    let demo = DemoHandle::start(variant).expect("the demo starts");
    let rest = r#"[[operation]]
name = "POST /orders"
method = "POST"
path = "/orders"
json = { product_id = 2, quantity = 1, customer = "ada" }
weight = 0

[[behaviour]]
kind = "double_submit"
name = "double click"
operation = "POST /orders"
idempotency_key = true
at = "300ms"
"#;
    run_scenario(name, &scenario(&demo, 2, rest), &[])
}

#[test]
fn a_double_submit_with_one_key_places_two_buggy_orders_and_one_correct_one() {
    let (code, report, output) = double_order(Variant::Buggy, "double-buggy");
    assert_eq!(code, 1, "{output}");
    let duplicates = findings_of(&report, "duplicate_side_effect");
    assert_eq!(duplicates.len(), 1, "{output}");
    let summary = duplicates[0]["summary"].as_str().unwrap_or_default();
    assert!(summary.contains("Idempotency-Key"), "{summary}");
    assert!(summary.contains("3 different resources"), "{summary}");
    assert!(summary.contains("first answer again"), "{summary}");
    let reproduce = duplicates[0]["reproduce"].as_str().unwrap_or_default();
    assert!(
        reproduce.contains("'Idempotency-Key: '\"$key\""),
        "{reproduce}"
    );

    let (code, report, output) = double_order(Variant::Correct, "double-correct");
    assert!(kinds(&report).is_empty(), "{output}");
    assert_eq!(code, 0, "{output}");
}

fn slow_uploads(variant: Variant, name: &str) -> (i32, serde_json::Value, String) {
    let demo = DemoHandle::start(variant).expect("the demo starts");
    let rest = r#"[[operation]]
name = "POST /orders"
method = "POST"
path = "/orders"
json = { product_id = 3, quantity = 1, customer = "ada" }
weight = 0

[[behaviour]]
kind = "slow_clients"
name = "slow uploads"
operation = "POST /orders"
mode = "upload"
clients = 48
duration = "3s"
"#;
    run_scenario(name, &scenario(&demo, 4, rest), &["--health", "/health"])
}

#[test]
fn slow_uploads_exhaust_the_buggy_readers_and_not_the_correct_service() {
    let (code, report, output) = slow_uploads(Variant::Buggy, "slow-buggy");
    assert_eq!(code, 1, "{output}");
    let exhausted = findings_of(&report, "resource_exhaustion");
    assert_eq!(exhausted.len(), 1, "{output}");
    let finding = exhausted[0];
    assert_eq!(finding["operation"], "POST /orders");
    let summary = finding["summary"].as_str().unwrap_or_default();
    assert!(summary.contains("48 slow clients"), "{summary}");
    assert!(summary.contains("upload"), "{summary}");
    assert!(summary.contains("1 byte/s"), "{summary}");
    assert!(summary.contains("health probe failed"), "{summary}");
    let measurements = &finding["evidence"]["measurements"];
    assert_eq!(measurements["clients"], 48.0);
    assert!(measurements["health_failures"].as_f64().unwrap_or(0.0) >= 1.0);
    // The probe's failures during the slow uploads are this finding, not
    // `unavailable` as well.
    let unavailable = findings_of(&report, "unavailable");
    assert!(
        unavailable.iter().all(|f| !f["summary"]
            .as_str()
            .unwrap_or_default()
            .contains("slow uploads")),
        "{output}"
    );

    let (code, report, output) = slow_uploads(Variant::Correct, "slow-correct");
    assert!(
        findings_of(&report, "resource_exhaustion").is_empty(),
        "{output}"
    );
    assert!(findings_of(&report, "unavailable").is_empty(), "{output}");
    assert_eq!(code, 0, "{output}");
}

#[test]
fn bad_behaviours_are_refused_with_their_place() {
    let dir = temp_dir("bad-behaviour");
    let path = dir.join("bad.toml");
    std::fs::write(
        &path,
        r#"[target]
url = "http://127.0.0.1:9"

[[operation]]
path = "/products"

[[behaviour]]
kind = "burst"
operation = "POST /nowhere"
invariant = { read = "GET /products", expect = "$.balance >=" }
"#,
    )
    .expect("write");
    let (output, took) = run(&[
        "run",
        path.to_str().expect("utf-8 path"),
        "--report-dir",
        dir.join("report").to_str().expect("utf-8 path"),
    ]);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("bad.toml:9:13"), "{stderr}");
    assert!(stderr.contains("POST /nowhere"), "{stderr}");
    assert!(stderr.contains("bad.toml:10:61"), "{stderr}");
    assert!(took.as_secs() < 5, "refused before any load: {took:?}");

    let (output, _) = run(&[
        "run",
        path.to_str().expect("utf-8 path"),
        "--health",
        "health",
    ]);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
}

#[test]
fn ctrl_c_during_slow_clients_ends_the_run_at_once_with_its_report() {
    let demo = DemoHandle::start(Variant::Buggy).expect("the demo starts");
    let rest = r#"[[operation]]
name = "POST /orders"
method = "POST"
path = "/orders"
json = { product_id = 4, quantity = 1, customer = "ada" }
weight = 0

[[behaviour]]
kind = "slow_clients"
name = "slow uploads"
operation = "POST /orders"
mode = "upload"
clients = 40
duration = "60s"
"#;
    let dir = temp_dir("behaviour-interrupt");
    let path = dir.join("scenario.toml");
    std::fs::write(&path, scenario(&demo, 60, rest)).expect("write the scenario");
    let report_dir = dir.join("report");
    let child = unruly()
        .args([
            "run",
            path.to_str().expect("utf-8 path"),
            "-q",
            "--health",
            "/health",
            "--report-dir",
            report_dir.to_str().expect("utf-8 path"),
        ])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("unruly runs");
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let interrupted_at = std::time::Instant::now();
    let killed = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(killed.success());
    let output = child.wait_with_output().expect("unruly ends");
    assert_eq!(output.status.code(), Some(130), "{}", text(&output));
    assert!(
        interrupted_at.elapsed() < std::time::Duration::from_secs(5),
        "took {:?} after Ctrl-C",
        interrupted_at.elapsed()
    );
    let report = read_report(&report_dir, &text(&output));
    assert_eq!(report["interrupted"], true);
}
