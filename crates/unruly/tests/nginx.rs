//! `unruly load` against a real nginx from Debian (installed by scripts/test),
//! started by the test on a loopback port with a config of its own.

mod common;

use common::*;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// nginx on 127.0.0.1, stopped on drop. Tests that start one hold this lock, so
/// two of them never race for the same just-released port.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

struct Nginx {
    child: Child,
    port: u16,
    _dir: PathBuf,
    _turn: std::sync::MutexGuard<'static, ()>,
}

impl Nginx {
    /// Starts nginx on a free loopback port (retrying with another port when a
    /// concurrent test took the same one first).
    fn start() -> Nginx {
        for _ in 0..5 {
            if let Some(nginx) = Nginx::try_start() {
                return nginx;
            }
        }
        panic!("nginx did not start on a loopback port after 5 attempts");
    }

    fn try_start() -> Option<Nginx> {
        let turn = ONE_AT_A_TIME
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let dir = temp_dir("nginx");
        std::fs::create_dir_all(dir.join("www")).unwrap();
        std::fs::write(dir.join("www/index.html"), "x".repeat(100)).unwrap();
        std::fs::create_dir_all(dir.join("www/base")).unwrap();
        std::fs::write(dir.join("www/base/page.html"), "y".repeat(10)).unwrap();
        let port = closed_port();
        let d = dir.display();
        let config = format!(
            "worker_processes 1; daemon off; pid {d}/nginx.pid; error_log {d}/error.log warn;\n\
             events {{ worker_connections 1024; }}\n\
             http {{ access_log off; client_body_temp_path {d}/body; proxy_temp_path {d}/proxy;\n\
               fastcgi_temp_path {d}/fcgi; uwsgi_temp_path {d}/uwsgi; scgi_temp_path {d}/scgi;\n\
               server {{ listen 127.0.0.1:{port}; root {d}/www; location / {{ }} location = /fail {{ return 502; }}\n\
                 location = /idle {{ keepalive_timeout 200ms; return 200 \"ok\"; }} }} }}\n"
        );
        std::fs::write(dir.join("nginx.conf"), config).unwrap();
        let child = Command::new("nginx")
            .args(["-c", &format!("{d}/nginx.conf"), "-p", &d.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("nginx is installed (scripts/test installs it)");
        let mut nginx = Nginx {
            child,
            port,
            _dir: dir,
            _turn: turn,
        };
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if nginx.child.try_wait().ok().flatten().is_some()
                || started.elapsed() > Duration::from_secs(5)
            {
                return None; // e.g. the port was taken meanwhile
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        // Our nginx, not another test's on a reused port: it must still be running.
        std::thread::sleep(Duration::from_millis(50));
        match nginx.child.try_wait() {
            Ok(None) => Some(nginx),
            _ => None,
        }
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        // SIGTERM lets the master stop its workers; SIGKILL would orphan them.
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let started = Instant::now();
        while matches!(self.child.try_wait(), Ok(None))
            && started.elapsed() < Duration::from_secs(5)
        {
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn load_against_nginx_counts_every_request_and_byte() {
    let nginx = Nginx::start();
    let url = format!("http://127.0.0.1:{}/index.html", nginx.port);
    let (output, _) = run(&[
        "load",
        &url,
        "-n",
        "5000",
        "-c",
        "20",
        "--threads",
        "1",
        "--json",
        "-q",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    let report = json(&output);
    assert_eq!(overall(&report)["requests"], 5000);
    assert_eq!(overall(&report)["status"]["200"], 5000);
    assert_eq!(overall(&report)["bytes_received"], 5000 * 100);
}

#[test]
fn nginx_502_is_a_server_error_finding() {
    let nginx = Nginx::start();
    let url = format!("http://127.0.0.1:{}/fail", nginx.port);
    let (output, _) = run(&["load", &url, "-n", "100", "-c", "2", "--json", "-q"]);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    let report = json(&output);
    assert_eq!(errors_of(&report, "status_5xx"), 100);
    let finding = &report["findings"][0];
    assert_eq!(finding["kind"], "server_error");
    assert_eq!(finding["count"], 100);
    assert_eq!(finding["evidence"]["status"], 502);
    assert!(finding["reproduce"].as_str().unwrap().contains("/fail"));
}

fn run_scenario(name: &str, scenario: String) -> serde_json::Value {
    let dir = temp_dir(name);
    let path = dir.join("scenario.toml");
    std::fs::write(&path, scenario).unwrap();
    let (output, _) = run(&[
        "run",
        path.to_str().unwrap(),
        "--report-dir",
        dir.to_str().unwrap(),
        "--json",
        "-q",
    ]);
    assert!(matches!(output.status.code(), Some(0)), "{}", text(&output));
    json(&output)
}

#[test]
fn a_target_with_a_base_path_prefixes_every_operation() {
    let nginx = Nginx::start();
    let report = run_scenario(
        "base-path",
        format!(
            "[target]\nurl = \"http://127.0.0.1:{}/base/\"\n\n[[operation]]\npath = \"/page.html\"\n\n\
             [workload]\nrequests = 50\nusers = 2\n",
            nginx.port
        ),
    );
    assert_eq!(
        overall(&report)["status"]["200"],
        50,
        "{:#}",
        overall(&report)
    );
    assert_eq!(overall(&report)["bytes_received"], 500);
}

#[test]
fn connections_the_server_closes_while_idle_are_not_errors() {
    let nginx = Nginx::start();
    // nginx closes idle keep-alive connections after 200 ms; users think 300 ms.
    let report = run_scenario(
        "idle-close",
        format!(
            "[target]\nurl = \"http://127.0.0.1:{}\"\n\n[[operation]]\npath = \"/idle\"\n\n\
             [workload]\nusers = 4\nthink_time = \"300ms\"\nduration = \"2s\"\n",
            nginx.port
        ),
    );
    let requests = overall(&report)["requests"].as_u64().unwrap();
    assert!(requests >= 16, "{requests} requests");
    assert_eq!(overall(&report)["errors"], 0, "{:#}", overall(&report));
    assert_eq!(overall(&report)["status"]["200"].as_u64(), Some(requests));
}
