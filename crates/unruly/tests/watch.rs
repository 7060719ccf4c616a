//! Watching the target from the CLI: `--spawn` starts small Python services that leak
//! memory per session, keep it flat, log tracebacks or die mid-run; `--watch-pid` and
//! `--watch-log` follow one started by the test; `--metrics-addr` is read while a run
//! goes, by Python's prometheus_client parser.

mod common;

use common::*;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// A Python HTTP service on `127.0.0.1:PORT` (its first argument). `POST /sessions` opens a
/// session; with `LEAK` set each session keeps 128 KiB forever. `GET /metrics` exposes its
/// request and session counts in Prometheus text format. `GET /items/ID` answers
/// 200, except `GET /items/13`, which logs a traceback and answers 500. With `DIE_AFTER`
/// set it exits (status 3) after that many requests. With `LOG` set it logs to that file
/// instead of stderr. With `STARTUP_ERROR` set it logs an ERROR line as it starts.
const SERVICE: &str = r##"
import os, sys, traceback
from http.server import ThreadingHTTPServer, BaseHTTPRequestHandler

LEAK = os.environ.get("LEAK") == "1"
DIE_AFTER = int(os.environ.get("DIE_AFTER", "0"))
LOG = open(os.environ["LOG"], "a", buffering=1) if os.environ.get("LOG") else sys.stderr
sessions = {}
served = [0]

def lookup(item):
    prices = {1: 10, 2: 20}
    return prices[item]

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *args):
        pass
    def answer(self, status, body):
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        served[0] += 1
        if DIE_AFTER and served[0] >= DIE_AFTER:
            LOG.write("fatal: giving up after %d requests\n" % served[0])
            LOG.flush()
            os._exit(3)
    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        self.rfile.read(length)
        sid = len(sessions) + 1
        sessions[sid] = (b"s" * 131072) if LEAK else None
        self.answer(201, '{"session": %d}' % sid)
    def do_GET(self):
        if self.path == "/health":
            return self.answer(200, '{"ok": true}')
        if self.path == "/metrics":
            text = "# TYPE app_requests_total counter\napp_requests_total %d\n# TYPE app_sessions gauge\napp_sessions %d\n" % (served[0], len(sessions))
            data = text.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            return self.wfile.write(data)
        item = int(self.path.rsplit("/", 1)[-1])
        if item == 13:
            try:
                lookup(item)
            except Exception:
                LOG.write(traceback.format_exc())
                LOG.flush()
                return self.answer(500, '{"error": "internal"}')
        self.answer(200, '{"item": %d}' % item)

if os.environ.get("STARTUP_ERROR"):
    LOG.write("2026-11-26T10:00:00Z ERROR cache at 10.0.0.7:6379 unreachable, serving without it\n")
    LOG.flush()
ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
"##;

/// Writes the service and a scenario against it (open model, `rate`/s for `seconds`);
/// returns the scenario's path, the service's path and the port.
fn setup(dir: &Path, rate: u32, seconds: u32, items: &str) -> (PathBuf, PathBuf, u16) {
    let service = dir.join("service.py");
    std::fs::write(&service, SERVICE).expect("write the service");
    let port = closed_port();
    let scenario = format!(
        r#"
[target]
url = "http://127.0.0.1:{port}"
timeout = "2s"

[[operation]]
name = "POST /sessions"
method = "POST"
path = "/sessions"
body = '{{"user": "u{{{{vu}}}}"}}'
weight = 1

[[operation]]
name = "GET /items/{{id}}"
path = "/items/{items}"
weight = 1

[workload]
model = "open"
connections = 32
threads = 1

[[workload.stage]]
rate = {rate}
duration = "{seconds}s"
"#
    );
    let path = dir.join("scenario.toml");
    std::fs::write(&path, scenario).expect("write the scenario");
    (path, service, port)
}

fn report_of(dir: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(dir.join("report.json")).expect("report.json");
    serde_json::from_str(&text).expect("report.json parses")
}

fn findings_of<'a>(report: &'a serde_json::Value, kind: &str) -> Vec<&'a serde_json::Value> {
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|finding| finding["kind"] == kind)
        .collect()
}

fn spawn_run(
    name: &str,
    env: &str,
    rate: u32,
    seconds: u32,
    items: &str,
) -> (serde_json::Value, String, PathBuf) {
    let dir = temp_dir(name);
    let (scenario, service, port) = setup(&dir, rate, seconds, items);
    let command = format!("env {env} python3 -u {} {port}", service.display());
    let reports = dir.join("report");
    let (output, _) = run(&[
        "run",
        scenario.to_str().unwrap(),
        "-q",
        "--report-dir",
        reports.to_str().unwrap(),
        "--spawn",
        &command,
    ]);
    let report = report_of(&reports);
    (report, text(&output), reports)
}

#[test]
fn memory_that_grows_per_session_is_found_and_flat_memory_is_not() {
    let (report, output, _) = spawn_run("watch-leak", "LEAK=1", 150, 6, "{{random_int(1,9)}}");
    let growth = findings_of(&report, "memory_growth");
    assert_eq!(growth.len(), 1, "{output}\n{report:#}");
    let summary = growth[0]["summary"].as_str().unwrap();
    let per_request = growth[0]["evidence"]["measurements"]["bytes_per_request"]
        .as_f64()
        .unwrap_or_default();
    // Every other request opens a session of 128 KiB (plus Python's overhead).
    assert!(
        (40_000.0..200_000.0).contains(&per_request),
        "{per_request} bytes per request: {summary}"
    );
    let watch = &report["watch"];
    assert!(watch["source"].as_str().unwrap().starts_with("spawned: "));
    let samples = watch["samples"].as_array().expect("samples");
    assert!(samples.len() >= 20, "{} samples", samples.len());
    assert!(samples.iter().all(|s| s["rss_bytes"].as_u64().unwrap() > 0));

    let (flat, output, _) = spawn_run("watch-flat", "LEAK=0", 150, 6, "{{random_int(1,9)}}");
    assert!(
        findings_of(&flat, "memory_growth").is_empty(),
        "{output}\n{flat:#}"
    );
    assert!(findings_of(&flat, "crash").is_empty(), "{output}");
}

#[test]
fn an_error_logged_while_the_target_starts_is_reported() {
    let (report, output, _) = spawn_run(
        "watch-startup",
        "STARTUP_ERROR=1",
        50,
        2,
        "{{random_int(1,9)}}",
    );
    let errors = findings_of(&report, "log_error");
    assert_eq!(errors.len(), 1, "{output}\n{report:#}");
    let summary = errors[0]["summary"].as_str().unwrap();
    assert!(summary.contains("cache at <ip> unreachable"), "{summary}");
    assert!(summary.contains("before the first request"), "{summary}");
    assert_eq!(errors[0]["severity"], "medium");
}

#[test]
fn a_target_that_dies_mid_run_is_a_crash_and_the_report_is_complete() {
    let (report, output, dir) = spawn_run(
        "watch-crash",
        "DIE_AFTER=300",
        150,
        5,
        "{{random_int(1,9)}}",
    );
    let crashes = findings_of(&report, "crash");
    assert_eq!(crashes.len(), 1, "{output}\n{report:#}");
    let crash = crashes[0];
    let summary = crash["summary"].as_str().unwrap();
    assert!(summary.contains("exit status 3"), "{summary}");
    let excerpt = crash["evidence"]["excerpt"].as_str().unwrap_or_default();
    assert!(
        excerpt.contains("giving up after 300 requests"),
        "{excerpt}"
    );
    let died_at = crash["first_seen_s"].as_f64().unwrap();
    assert!(died_at > 0.5 && died_at < 4.5, "died at {died_at} s");
    // The run went on to its end against the dead port, and everything was written.
    assert!(report["duration_s"].as_f64().unwrap() >= 4.5);
    assert!(report["timeline"].as_array().unwrap().len() >= 4);
    assert!(errors_of(&report, "connect") > 0, "{output}");
    assert_eq!(report["watch"]["exit"]["how"], "exit status 3");
    for file in ["report.json", "junit.xml", "events.jsonl"] {
        assert!(dir.join(file).exists(), "{file} is missing");
    }
}

#[test]
fn a_traceback_in_the_targets_output_is_a_log_error_tied_to_its_operation() {
    let (report, output, _) =
        spawn_run("watch-traceback", "LEAK=0", 100, 3, "{{random_int(12,13)}}");
    let errors = findings_of(&report, "log_error");
    assert_eq!(errors.len(), 1, "one signature: {output}\n{report:#}");
    let error = errors[0];
    assert_eq!(error["operation"], "GET /items/{id}");
    let summary = error["summary"].as_str().unwrap();
    assert!(summary.contains("KeyError"), "{summary}");
    let count = error["count"].as_u64().unwrap();
    assert!(count >= 20, "{count} tracebacks grouped: {summary}");
    let excerpt = error["evidence"]["excerpt"].as_str().unwrap();
    assert!(
        excerpt.contains("Traceback (most recent call last)"),
        "{excerpt}"
    );
    assert!(excerpt.contains("in lookup"), "{excerpt}");
}

/// A service started by the test (not by unruly), logging to a file.
struct Service {
    child: std::process::Child,
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_service(service: &Path, port: u16, log: &Path) -> Service {
    let child = std::process::Command::new("python3")
        .arg("-u")
        .arg(service)
        .arg(port.to_string())
        .env("LOG", log)
        .spawn()
        .expect("python3 starts");
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "the service did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    Service { child }
}

#[test]
fn watch_pid_watch_log_and_scrape_follow_a_service_started_elsewhere() {
    let dir = temp_dir("watch-pid");
    let (scenario, service, port) = setup(&dir, 100, 3, "{{random_int(12,13)}}");
    let log = dir.join("service.log");
    std::fs::write(&log, "startup noise that is no error\n").expect("the log");
    let service = start_service(&service, port, &log);
    let reports = dir.join("report");
    let pid = service.child.id().to_string();
    let (output, _) = run(&[
        "run",
        scenario.to_str().unwrap(),
        "-q",
        "--report-dir",
        reports.to_str().unwrap(),
        "--watch-pid",
        &pid,
        "--watch-log",
        log.to_str().unwrap(),
        "--scrape",
        "/metrics",
    ]);
    let report = report_of(&reports);
    assert_eq!(
        report["watch"]["pid"].as_u64(),
        Some(u64::from(service.child.id()))
    );
    assert!(
        report["watch"]["samples"].as_array().unwrap().len() >= 10,
        "{}",
        text(&output)
    );
    assert!(report["watch"]["log_lines"].as_u64().unwrap() >= 20);
    let errors = findings_of(&report, "log_error");
    assert_eq!(errors.len(), 1, "{}", text(&output));
    assert!(findings_of(&report, "crash").is_empty());
    // The service's own counter, scraped once a second, rises with the run.
    let scraped = report["watch"]["scraped"]
        .as_array()
        .expect("scraped series");
    let counter = scraped
        .iter()
        .find(|series| series["name"] == "app_requests_total")
        .unwrap_or_else(|| panic!("no app_requests_total in {scraped:#?}"));
    let points = counter["points"].as_array().unwrap();
    assert!(points.len() >= 3, "{points:?}");
    let first = points[0]["value"].as_f64().unwrap();
    let last = points[points.len() - 1]["value"].as_f64().unwrap();
    assert!(last >= first + 100.0, "{first} -> {last}");
    drop(service);
}

#[test]
fn bad_watch_flags_are_clear_errors() {
    let dir = temp_dir("watch-bad");
    let (scenario, _, _) = setup(&dir, 10, 1, "1");
    let scenario = scenario.to_str().unwrap();
    let cases: [(&[&str], &str); 4] = [
        (&["--watch-pid", "4194304"], "--watch-pid 4194304"),
        (
            &["--spawn", "sh -c 'echo cannot open db.sqlite >&2; exit 7'"],
            "exit status 7",
        ),
        (&["--scrape", "ftp://x/metrics"], "--scrape ftp://x/metrics"),
        (&["--metrics-addr", "nonsense"], "--metrics-addr"),
    ];
    for (flags, expected) in cases {
        let mut args = vec!["run", scenario, "-q", "--report-dir"];
        let reports = dir.join("r");
        args.push(reports.to_str().unwrap());
        args.extend_from_slice(flags);
        let (output, elapsed) = run(&args);
        assert_eq!(
            output.status.code(),
            Some(2),
            "{flags:?}: {}",
            text(&output)
        );
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(expected), "{flags:?}: {stderr}");
        if flags[0] == "--spawn" {
            assert!(
                stderr.contains("cannot open db.sqlite"),
                "its output is shown: {stderr}"
            );
        }
        assert!(
            elapsed < Duration::from_secs(10),
            "{flags:?} took {elapsed:?}"
        );
    }
}

/// Fetches `http://addr/metrics` over a plain socket.
fn fetch_metrics(addr: &str) -> Option<String> {
    let mut stream = std::net::TcpStream::connect(addr).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    write!(
        stream,
        "GET /metrics HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let (head, body) = response.split_once("\r\n\r\n")?;
    head.starts_with("HTTP/1.1 200").then(|| body.to_owned())
}

#[test]
fn the_metrics_addr_exposition_is_read_by_prometheus_clients_parser() {
    let dir = temp_dir("watch-metrics");
    let (scenario, service, port) = setup(&dir, 100, 4, "{{random_int(12,13)}}");
    let log = dir.join("service.log");
    let _service = start_service(&service, port, &log);
    let metrics_port = closed_port();
    let metrics_addr = format!("127.0.0.1:{metrics_port}");
    let reports = dir.join("report");
    let mut child = unruly()
        .args([
            "run",
            scenario.to_str().unwrap(),
            "-q",
            "--report-dir",
            reports.to_str().unwrap(),
            "--metrics-addr",
            &metrics_addr,
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("unruly starts");
    // Read the exposition once the run has done some work.
    let mut exposition = None;
    let deadline = Instant::now() + Duration::from_secs(15);
    while Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(300));
        if let Some(text) = fetch_metrics(&metrics_addr) {
            if text.contains("unruly_requests_total{") {
                exposition = Some(text);
                break;
            }
        }
    }
    let status = child.wait().expect("unruly ends");
    assert_eq!(status.code(), Some(1), "the 500s are findings");
    let exposition = exposition.expect("the exposition was served during the run");
    let parsed = parse_with_prometheus_client(&exposition);
    let families = parsed.as_object().expect("families by name");
    assert_eq!(
        families["unruly_requests"]["type"], "counter",
        "{exposition}"
    );
    assert_eq!(
        families["unruly_request_duration_seconds"]["type"], "histogram",
        "{exposition}"
    );
    let requests: f64 = families["unruly_requests"]["samples"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["labels"]["operation"] == "GET /items/{id}")
        .map(|s| s["value"].as_f64().unwrap())
        .sum();
    assert!(
        requests >= 50.0,
        "{requests} requests of GET /items/{{id}}: {exposition}"
    );
    let errors = families["unruly_errors"]["samples"].as_array().unwrap();
    assert!(
        errors
            .iter()
            .any(|s| s["labels"]["class"] == "status_5xx" && s["value"].as_f64().unwrap() > 0.0),
        "{exposition}"
    );
}

/// The exposition as Python's prometheus_client reads it: `{family: {type, samples:
/// [{name, labels, value}]}}`.
fn parse_with_prometheus_client(exposition: &str) -> serde_json::Value {
    ensure_prometheus_client();
    let script = r#"
import json, sys
from prometheus_client.parser import text_string_to_metric_families
out = {}
for family in text_string_to_metric_families(sys.stdin.read()):
    out[family.name] = {"type": family.type, "samples": [
        {"name": s.name, "labels": s.labels, "value": s.value} for s in family.samples]}
print(json.dumps(out))
"#;
    let mut child = std::process::Command::new("python3")
        .args(["-c", script])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("python3 runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(exposition.as_bytes())
        .expect("write the exposition");
    let output = child.wait_with_output().expect("python3 ends");
    assert!(
        output.status.success(),
        "prometheus_client rejects the exposition: {}\n{exposition}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("JSON from the parser")
}

fn ensure_prometheus_client() {
    let present = std::process::Command::new("python3")
        .args(["-c", "import prometheus_client"])
        .status()
        .is_ok_and(|status| status.success());
    if !present {
        let installed = std::process::Command::new("python3")
            .args(["-m", "pip", "install", "--quiet", "prometheus-client"])
            .status()
            .is_ok_and(|status| status.success());
        assert!(
            installed,
            "prometheus-client cannot be installed (scripts/test installs it)"
        );
    }
}
