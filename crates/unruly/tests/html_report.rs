//! report.html in a real browser: a real `unruly run` against a server whose 500s
//! carry script, then the page loaded from `file://` in Debian's headless Chromium.
//!
//! Chromium is found as `$CHROMIUM`, else `chromium` on the PATH (`apt-get install
//! chromium`). Without it the test FAILS when `CI` is set, and otherwise skips with
//! a loud message on stderr.
//!
//! Console messages are read from Chromium's own log: with `--enable-logging=stderr
//! --v=0` every message the page sends to the console (errors, warnings, CSP
//! violations, uncaught exceptions, and plain logs too) is printed on stderr as an
//! `INFO:CONSOLE` line. The page must print none. The test first checks, on a page
//! with a deliberate `console.error`, that this Chromium still reports it that way.

mod common;

use common::*;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What the failing path answers: markup that would retitle the page if it ran.
const HOSTILE_BODY: &str =
    "<script>document.title='PWNED'</script><img src=x onerror=\"document.title='PWNED'\">";

/// A keep-alive HTTP/1.1 server on a loopback port: `/boom` answers 500 with
/// [`HOSTILE_BODY`], anything else 200. It stops when the returned flag is set, or
/// after a minute whatever happens.
fn hostile_server() -> (String, Arc<AtomicBool>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    listener.set_nonblocking(true).expect("nonblocking");
    let stop = Arc::new(AtomicBool::new(false));
    let stopping = stop.clone();
    std::thread::spawn(move || {
        let deadline = Instant::now() + Duration::from_secs(60);
        while !stopping.load(Ordering::Relaxed) && Instant::now() < deadline {
            match listener.accept() {
                Ok((stream, _)) => {
                    let stopping = stopping.clone();
                    std::thread::spawn(move || serve(stream, &stopping, deadline));
                }
                Err(_) => std::thread::sleep(Duration::from_millis(5)),
            }
        }
    });
    (base, stop)
}

fn serve(stream: TcpStream, stop: &AtomicBool, deadline: Instant) {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let Ok(mut writer) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(stream);
    while !stop.load(Ordering::Relaxed) && Instant::now() < deadline {
        let mut request_line = String::new();
        if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
            return;
        }
        let mut length = 0usize;
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            if line == "\r\n" || line == "\n" {
                break;
            }
            if let Some((name, value)) = line.split_once(':') {
                if name.eq_ignore_ascii_case("content-length") {
                    length = value.trim().parse().unwrap_or(0);
                }
            }
        }
        let mut body = vec![0; length.min(1 << 20)];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let (status, content) = if request_line.contains(" /boom") {
            ("500 Internal Server Error", HOSTILE_BODY)
        } else {
            ("200 OK", "ok")
        };
        let answer = format!(
            "HTTP/1.1 {status}\r\nContent-Type: text/html\r\nContent-Length: {}\r\n\r\n{content}",
            content.len()
        );
        if writer.write_all(answer.as_bytes()).is_err() {
            return;
        }
    }
}

/// The Chromium to use, or `None` (after saying so loudly) when the test must skip.
fn chromium() -> Option<String> {
    let program = std::env::var("CHROMIUM").unwrap_or_else(|_| "chromium".into());
    let found = Command::new(&program)
        .arg("--version")
        .stdin(Stdio::null())
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if found {
        return Some(program);
    }
    if std::env::var_os("CI").is_some() {
        panic!("{program} is missing and CI is set: install it (apt-get install -y chromium)");
    }
    eprintln!(
        "\n!!!!!!!!!!\nSKIPPED html_report: `{program}` was not found. Install it with \
         `apt-get install -y chromium` (or point $CHROMIUM at one); with CI set this fails.\n!!!!!!!!!!\n"
    );
    None
}

/// Chromium's output on one page.
struct Browsed {
    stdout: String,
    console: Vec<String>,
}

/// Runs headless Chromium on `page` with `extra` flags, bounded to a minute.
fn browse(program: &str, page: &Path, work: &Path, extra: &[String]) -> Browsed {
    let profile = work.join("chromium-profile");
    let out = work.join("chromium.stdout");
    let err = work.join("chromium.stderr");
    let mut child = Command::new(program)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--no-first-run",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(extra)
        .arg(format!("file://{}", page.display()))
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out).expect("stdout file"))
        .stderr(std::fs::File::create(&err).expect("stderr file"))
        .spawn()
        .expect("chromium starts");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        match child.try_wait().expect("wait for chromium") {
            Some(_) => break,
            None if Instant::now() > deadline => {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "chromium did not finish within a minute on {}",
                    page.display()
                );
            }
            None => std::thread::sleep(Duration::from_millis(50)),
        }
    }
    let stderr = std::fs::read_to_string(&err).unwrap_or_default();
    Browsed {
        stdout: std::fs::read_to_string(&out).unwrap_or_default(),
        console: stderr
            .lines()
            .filter(|line| line.contains(":CONSOLE"))
            .map(str::to_owned)
            .collect(),
    }
}

/// Width and height from a PNG's IHDR chunk.
fn png_size(bytes: &[u8]) -> (u32, u32) {
    assert!(
        bytes.len() > 24 && bytes.starts_with(b"\x89PNG\r\n\x1a\n"),
        "a PNG"
    );
    let be =
        |at: usize| u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]);
    (be(16), be(20))
}

#[test]
fn report_html_renders_in_chromium_without_console_errors_or_injected_script() {
    let Some(program) = chromium() else {
        return;
    };
    let dir = temp_dir("html-report");

    // The detector works: a deliberate console.error is seen.
    let probe = dir.join("probe.html");
    std::fs::write(
        &probe,
        "<!DOCTYPE html><title>probe</title><script>console.error('deliberate probe error')</script>",
    )
    .expect("write the probe page");
    let probed = browse(&program, &probe, &dir, &["--dump-dom".into()]);
    assert!(
        probed
            .console
            .iter()
            .any(|l| l.contains("deliberate probe error")),
        "this Chromium no longer logs console messages as CONSOLE lines on stderr: {:?}",
        probed.console
    );

    // A real run: a few seconds, a timeline, 500s with a hostile body.
    let (base, stop) = hostile_server();
    let scenario = dir.join("scenario.toml");
    std::fs::write(
        &scenario,
        format!(
            r#"
seed = 7

[target]
url = "{base}"
timeout = "2s"

[[operation]]
name = "home"
path = "/"
weight = 3

[[operation]]
name = "boom"
path = "/boom?q=%3Cb%3E"
weight = 1

[workload]
users = 2
think_time = "10ms"
duration = "3s"

[[assumption]]
check = 'error_rate < 1%'
"#
        ),
    )
    .expect("write the scenario");
    let report_dir = dir.join("report");
    let (output, _) = run(&[
        "run",
        scenario.to_str().expect("UTF-8"),
        "-q",
        "--report-dir",
        report_dir.to_str().expect("UTF-8"),
    ]);
    stop.store(true, Ordering::Relaxed);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    let report: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(report_dir.join("report.json")).expect("report.json"),
    )
    .expect("JSON");
    assert!(
        report["timeline"].as_array().map_or(0, Vec::len) >= 2,
        "a timeline"
    );
    let findings = report["findings"].as_array().expect("findings");
    assert!(
        findings.iter().any(|f| f["kind"] == "server_error"
            && f["evidence"]["excerpt"]
                .as_str()
                .is_some_and(|e| e.contains("PWNED"))),
        "a server_error finding carries the hostile body: {findings:#?}"
    );
    let page = report_dir.join("report.html");
    assert!(page.exists(), "report.html is written next to report.json");

    // The DOM after the page's script ran.
    let browsed = browse(&program, &page, &dir, &["--dump-dom".into()]);
    let dom = browsed.stdout;
    assert!(
        browsed.console.is_empty(),
        "console messages: {:#?}",
        browsed.console
    );
    assert!(
        dom.contains("<title>unruly run"),
        "the title: {}",
        &dom[..dom.len().min(400)]
    );
    assert!(!dom.contains("PWNED</title>") && !dom.contains("<title>PWNED"));
    assert!(dom.contains("&lt;script&gt;document.title='PWNED'&lt;/script&gt;"));
    assert!(
        !dom.contains("<img"),
        "no image element made it into the page"
    );
    assert!(
        dom.contains("<html lang=\"en\" class=\"js\">"),
        "the script ran under the Content-Security-Policy"
    );
    for chart in ["latency", "rps", "errors"] {
        assert!(
            dom.contains(&format!("data-chart=\"{chart}\"")),
            "the {chart} chart"
        );
    }
    assert!(dom.matches("<path class=\"series\" d=\"M").count() >= 4);
    assert!(dom.matches("<article class=\"finding").count() >= 1);
    assert!(dom.contains("data-copy=\"F1-reproduce\""));

    // A screenshot, next to report.html, that is not blank.
    let shot = report_dir.join("report.png");
    let shot_flag = format!("--screenshot={}", shot.display());
    let browsed = browse(
        &program,
        &page,
        &dir,
        &[
            shot_flag,
            "--window-size=1280,2400".into(),
            "--hide-scrollbars".into(),
        ],
    );
    assert!(
        browsed.console.is_empty(),
        "console messages: {:#?}",
        browsed.console
    );
    let png = std::fs::read(&shot).expect("the screenshot is written");
    assert_eq!(png_size(&png), (1280, 2400));
    // A blank page of that size compresses to a few kilobytes; this one has charts.
    assert!(
        png.len() > 60_000,
        "the screenshot looks blank: {} bytes",
        png.len()
    );
    eprintln!("screenshot: {}", shot.display());
    let _ = std::fs::remove_dir_all(dir.join("chromium-profile"));
}
