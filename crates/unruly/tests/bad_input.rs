//! Bad input never panics or hangs: clear errors with exit 2, hostile targets
//! counted as errors with bounded memory and on-time ends.

mod common;

use common::*;
use std::io::Read;
use std::process::Stdio;
use std::time::{Duration, Instant};
use unruly_testkit::{Behaviour, TestServer};

#[test]
fn unreachable_target_is_refused_before_any_load() {
    let port = closed_port();
    let url = format!("http://127.0.0.1:{port}/");
    let (output, took) = run(&["load", &url, "-d", "5s"]);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("unreachable"), "{stderr}");
    assert!(stderr.contains(&format!("127.0.0.1:{port}")), "{stderr}");
    assert!(
        took < Duration::from_secs(4),
        "refused quickly, took {took:?}"
    );
}

#[test]
fn malformed_scenario_points_at_file_line_col() {
    let dir = temp_dir("bad-scenario");
    let path = dir.join("broken.toml");
    std::fs::write(
        &path,
        "[target]\nurl = \"http://127.0.0.1:9\"\n\n[[operation]]\npath = \"/x\"\nmetod = \"GET\"\n",
    )
    .unwrap();
    let (output, _) = run(&[
        "run",
        path.to_str().unwrap(),
        "--report-dir",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("broken.toml:6:1"), "{stderr}");
    assert!(stderr.contains("metod"), "{stderr}");
}

#[test]
fn bad_flags_name_the_flag() {
    let (output, _) = run(&["load", "http://127.0.0.1:9/", "-d", "fast"]);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("-d"),
        "{}",
        text(&output)
    );
    let (output, _) = run(&["load", "http://127.0.0.1:9/", "-H", "no colon"]);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("-H"),
        "{}",
        text(&output)
    );
}

/// Runs `unruly load` for `seconds` against `behaviour`, sampling its RSS.
fn hostile(behaviour: Behaviour, seconds: u64) -> (serde_json::Value, Duration, u64) {
    let server = TestServer::start(behaviour).unwrap();
    let started = Instant::now();
    let mut child = unruly()
        .args([
            "load",
            &server.url(),
            "-d",
            &format!("{seconds}s"),
            "-c",
            "8",
            "--timeout",
            "2s",
            "--json",
            "-q",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let status_path = format!("/proc/{}/status", child.id());
    let mut peak_kib = 0u64;
    let status = loop {
        if let Ok(status) = std::fs::read_to_string(&status_path) {
            if let Some(kib) = status
                .lines()
                .find_map(|line| line.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            {
                peak_kib = peak_kib.max(kib);
            }
        }
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(seconds + 20),
            "the run must end by itself"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    let took = started.elapsed();
    let mut stdout = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .unwrap();
    assert_eq!(
        status.code(),
        Some(1),
        "errors are findings; stdout: {stdout}"
    );
    (serde_json::from_str(&stdout).unwrap(), took, peak_kib)
}

#[test]
fn garbage_answers_are_protocol_errors() {
    let (report, took, _) = hostile(Behaviour::Garbage, 2);
    assert!(errors_of(&report, "protocol") > 0, "{:#}", overall(&report));
    assert_eq!(overall(&report)["status"].as_object().unwrap().len(), 0);
    assert!(took < Duration::from_secs(6), "took {took:?}");
}

#[test]
fn resets_are_reset_errors() {
    let (report, took, _) = hostile(Behaviour::Reset, 2);
    assert!(errors_of(&report, "reset") > 0, "{:#}", overall(&report));
    assert_eq!(overall(&report)["errors"], overall(&report)["requests"]);
    assert!(took < Duration::from_secs(6), "took {took:?}");
}

#[test]
fn endless_body_is_cut_memory_stays_bounded_and_the_run_ends_on_time() {
    let (report, took, peak_kib) = hostile(Behaviour::EndlessBody, 3);
    let failures = errors_of(&report, "protocol") + errors_of(&report, "timeout");
    assert!(failures > 0, "{:#}", overall(&report));
    assert!(took < Duration::from_secs(7), "took {took:?}");
    assert!(
        peak_kib > 0 && peak_kib < 200 * 1024,
        "peak RSS {peak_kib} KiB"
    );
}
