//! report.json and events.jsonl from real runs: valid against the committed
//! schema, complete after Ctrl-C and after the target dies.

mod common;

use common::*;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};
use unruly_testkit::{Behaviour, TestServer};

fn schema() -> jsonschema::Validator {
    let text = include_str!("../../unruly-report/schema/report.schema.json");
    let schema: serde_json::Value =
        serde_json::from_str(text).expect("the committed schema is JSON");
    jsonschema::validator_for(&schema).expect("the committed schema compiles")
}

fn read_report(dir: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(dir.join("report.json")).expect("report.json written");
    let report: serde_json::Value = serde_json::from_str(&text).expect("report.json is JSON");
    let validator = schema();
    let errors: Vec<String> = validator
        .iter_errors(&report)
        .map(|e| format!("{e} at {}", e.instance_path))
        .collect();
    assert!(
        errors.is_empty(),
        "report.json violates its schema: {errors:#?}"
    );
    report
}

fn read_events(dir: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(dir.join("events.jsonl"))
        .expect("events.jsonl written")
        .lines()
        .map(|line| serde_json::from_str(line).expect("each events line is JSON"))
        .collect()
}

fn scenario(dir: &Path, target: &str, body: &str) -> String {
    let path = dir.join("scenario.toml");
    std::fs::write(&path, format!("[target]\nurl = \"{target}\"\n\n{body}")).unwrap();
    path.to_str().unwrap().to_string()
}

#[test]
fn a_real_run_writes_a_report_valid_against_its_schema() {
    let fast = TestServer::start(Behaviour::Delay {
        path_prefix: "/slow".into(),
        delay: Duration::from_millis(20),
    })
    .unwrap();
    let dir = temp_dir("schema");
    let file = scenario(
        &dir,
        fast.url().trim_end_matches('/'),
        r#"
[[operation]]
name = "home"
path = "/?user={{vu}}"
weight = 3

[[operation]]
name = "slow page"
path = "/slow/{{random_int(1, 9)}}"

[workload]
users = 4
duration = "2s"

[[assumption]]
check = 'error_rate < 0.01'

[[assumption]]
check = 'p99("slow page") < "5ms"'

[[assumption]]
check = 'p50("home") < "1s"'
"#,
    );
    let (output, _) = run(&["run", &file, "--report-dir", dir.to_str().unwrap(), "-q"]);
    assert_eq!(
        output.status.code(),
        Some(1),
        "a broken assumption exits 1: {}",
        text(&output)
    );
    let report = read_report(&dir);
    assert_eq!(report["schema_version"], 1);
    assert_eq!(report["command"], "run");
    let held: Vec<bool> = report["assumptions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["held"].as_bool().unwrap())
        .collect();
    assert_eq!(held, vec![true, false, true], "{:#}", report["assumptions"]);
    let operations = report["stats"]["operations"].as_array().unwrap();
    assert_eq!(operations.len(), 2);
    let slow_p50 = operations[1]["latency_ms"]["p50"].as_f64().unwrap();
    assert!(
        slow_p50 >= 20.0,
        "the slow page takes its 20 ms: {slow_p50}"
    );
    let events = read_events(&dir);
    assert_eq!(events.first().unwrap()["event"], "start");
    assert_eq!(events.last().unwrap()["event"], "end");
    let windows = events.iter().filter(|e| e["event"] == "window").count();
    assert!(windows >= 2, "{windows} windows");
    let in_windows: u64 = events
        .iter()
        .filter(|e| e["event"] == "window")
        .map(|e| e["requests"].as_u64().unwrap())
        .sum();
    assert_eq!(
        in_windows,
        report["stats"]["overall"]["requests"].as_u64().unwrap()
    );
}

/// Starts `unruly run` on a scenario of one `GET /` against `server` with
/// `workload`, and waits until the server has seen `requests` requests.
fn start_run(
    server: &TestServer,
    name: &str,
    workload: &str,
    requests: u64,
) -> (std::process::Child, std::path::PathBuf) {
    let dir = temp_dir(name);
    let file = scenario(
        &dir,
        server.url().trim_end_matches('/'),
        &format!("[[operation]]\npath = \"/\"\n\n[workload]\n{workload}"),
    );
    let child = unruly()
        .args(["run", &file, "--report-dir", dir.to_str().unwrap(), "-q"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while server.requests() < requests {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "load never started"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    (child, dir)
}

#[test]
fn ctrl_c_stops_the_run_and_still_writes_the_report() {
    let server = TestServer::start(Behaviour::Fast).unwrap();
    let started = Instant::now();
    // Load is flowing: interrupt like a terminal's Ctrl-C.
    let (child, dir) = start_run(
        &server,
        "interrupt",
        "users = 2\nthink_time = \"1ms\"\nduration = \"60s\"\n",
        50,
    );
    let killed = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(130), "{}", text(&output));
    assert!(started.elapsed() < Duration::from_secs(30));
    let report = read_report(&dir);
    assert_eq!(report["interrupted"], true);
    assert!(report["stats"]["overall"]["requests"].as_u64().unwrap() >= 50);
    let events = read_events(&dir);
    assert_eq!(events.last().unwrap()["event"], "end");
    assert_eq!(events.last().unwrap()["interrupted"], true);
}

#[test]
fn a_target_that_dies_mid_run_still_gets_a_complete_report() {
    let server = TestServer::start(Behaviour::Fast).unwrap();
    let (child, dir) = start_run(
        &server,
        "dying",
        "users = 2\nthink_time = \"2ms\"\nduration = \"3s\"\n",
        20,
    );
    drop(server);
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    let report = read_report(&dir);
    assert_eq!(report["interrupted"], false);
    let overall = &report["stats"]["overall"];
    assert!(overall["status"]["200"].as_u64().unwrap() >= 20);
    let failed = errors_of(&report, "connect") + errors_of(&report, "reset");
    assert!(failed > 0, "{overall:#}");
    let kinds: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["kind"].as_str().unwrap())
        .collect();
    // It accepted connections before, so refusing them now is the target's failure.
    assert!(kinds.contains(&"server_error"), "{kinds:?}");
}
