//! Helpers shared by the CLI tests: run the real binary, read its report.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The unruly binary built for these tests.
pub fn unruly() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_unruly"));
    command.env("CI", "1").env("NO_COLOR", "1");
    command
}

/// Runs unruly with `args`; returns its output and how long it took.
pub fn run(args: &[&str]) -> (Output, Duration) {
    let started = Instant::now();
    let output = unruly()
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("the unruly binary runs");
    (output, started.elapsed())
}

/// Stdout and stderr as text, for assertion messages.
pub fn text(output: &Output) -> String {
    format!(
        "status {:?}\n--- stdout\n{}\n--- stderr\n{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// Parses `unruly load --json` output.
pub fn json(output: &Output) -> serde_json::Value {
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("stdout is one JSON document ({e}):\n{}", text(output)))
}

/// A fresh temporary directory under the target dir.
pub fn temp_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "{name}-{}-{}",
        std::process::id(),
        Instant::now().elapsed().as_nanos()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// A loopback port nothing listens on (bound, then released).
pub fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    port
}

/// The overall stats of a report document.
pub fn overall(report: &serde_json::Value) -> &serde_json::Value {
    &report["stats"]["overall"]
}

/// A count from `errors_by_class`.
pub fn errors_of(report: &serde_json::Value, class: &str) -> u64 {
    overall(report)["errors_by_class"][class]
        .as_u64()
        .unwrap_or(0)
}
