//! `unruly proxy`: the fault proxy from the command line, over loopback only.

mod common;

use common::*;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Output, Stdio};
use std::time::{Duration, Instant};

/// How long a bad invocation may take to fail before the test calls it a hang.
const FAIL_WITHIN: Duration = Duration::from_secs(20);

/// A running `unruly proxy`, killed when dropped whatever happens in the test.
struct Running {
    child: Option<Child>,
}

impl Running {
    fn start(args: &[&str]) -> Running {
        let child = unruly()
            .arg("proxy")
            .args(args)
            .env_remove("UNRULY_PROXY_TOKEN")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the unruly binary runs");
        Running { child: Some(child) }
    }

    fn child(&mut self) -> &mut Child {
        self.child.as_mut().expect("running")
    }

    /// Waits up to `limit` for the process to end by itself.
    fn wait_for_exit(&mut self, limit: Duration) -> Option<Output> {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if self.child().try_wait().expect("try_wait").is_some() {
                let child = self.child.take().expect("running");
                return Some(child.wait_with_output().expect("output"));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Runs `unruly proxy <args>`, which should fail at once; its output.
fn fails(args: &[&str]) -> Output {
    let mut running = Running::start(args);
    running
        .wait_for_exit(FAIL_WITHIN)
        .unwrap_or_else(|| panic!("unruly proxy {args:?} should fail at once, but it runs"))
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// A loopback address nothing listens on now.
fn free_addr() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr")
}

/// An echo server on loopback.
fn echo_server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let mut buffer = [0u8; 4096];
                while let Ok(read) = stream.read(&mut buffer) {
                    if read == 0 || stream.write_all(&buffer[..read]).is_err() {
                        return;
                    }
                }
            });
        }
    });
    addr
}

/// One API call with `Connection: close`; the status and the body, or `None` when the API
/// does not answer (yet).
fn api_call(api: SocketAddr, method: &str, path: &str) -> Option<(u16, String)> {
    let mut stream = TcpStream::connect(api).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .ok()?;
    let text = format!(
        "{method} {path} HTTP/1.1\r\nhost: {api}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n"
    );
    stream.write_all(text.as_bytes()).ok()?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).ok()?;
    let raw = String::from_utf8(raw).ok()?;
    let (head, body) = raw.split_once("\r\n\r\n")?;
    let status = head.split(' ').nth(1)?.parse().ok()?;
    Some((status, body.to_owned()))
}

/// Waits for the API to answer GET /version, while the process runs.
fn wait_for_api(running: &mut Running, api: SocketAddr) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if let Some(status) = running.child().try_wait().expect("try_wait") {
            let mut message = String::new();
            if let Some(mut err) = running.child().stderr.take() {
                let _ = err.read_to_string(&mut message);
            }
            panic!("unruly proxy ended early ({status}): {message}");
        }
        if let Some((200, _)) = api_call(api, "GET", "/version") {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("the control API on {api} did not answer within 30 s");
}

fn write_config(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write the config");
    path.to_str().expect("a UTF-8 path").to_owned()
}

#[test]
fn proxy_serves_its_config_and_the_api_until_terminated() {
    let upstream = echo_server();
    let dir = temp_dir("proxy-config");
    let config = write_config(
        &dir,
        "proxies.json",
        &format!(r#"[{{"name": "echo", "listen": "127.0.0.1:0", "upstream": "{upstream}"}}]"#),
    );
    let api = free_addr();
    let api_text = api.to_string();
    let mut running = Running::start(&["--api", &api_text, "--config", &config, "--seed", "3"]);
    wait_for_api(&mut running, api);

    let (status, body) = api_call(api, "GET", "/proxies").expect("GET /proxies answers");
    assert_eq!(status, 200, "{body}");
    let proxies: serde_json::Value = serde_json::from_str(&body).expect("JSON");
    let echo = &proxies["echo"];
    assert_eq!(echo["upstream"], upstream.to_string(), "{proxies}");
    assert_eq!(echo["enabled"], true, "{proxies}");
    let listen: SocketAddr = echo["listen"]
        .as_str()
        .and_then(|listen| listen.parse().ok())
        .unwrap_or_else(|| panic!("a bound listen address: {proxies}"));
    assert!(listen.ip().is_loopback() && listen.port() != 0, "{listen}");

    let mut stream = TcpStream::connect(listen).expect("the proxy accepts");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    stream.write_all(b"through the proxy").expect("send");
    let mut echoed = [0u8; 17];
    stream.read_exact(&mut echoed).expect("the echo");
    assert_eq!(&echoed, b"through the proxy");
    drop(stream);

    // SIGTERM stops it cleanly.
    let pid = running.child().id().to_string();
    let signalled = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill runs");
    assert!(signalled.success());
    let output = running
        .wait_for_exit(Duration::from_secs(20))
        .expect("unruly proxy stops on SIGTERM");
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(
        TcpStream::connect(api).is_err(),
        "the API port is closed after the exit"
    );
}

#[test]
fn a_config_with_a_syntax_error_names_file_line_and_column() {
    let dir = temp_dir("proxy-syntax");
    let config = write_config(
        &dir,
        "broken.json",
        "[\n  {\"name\": \"db\",\n   \"upstream\": }\n]\n",
    );
    let api = free_addr().to_string();
    let output = fails(&["--api", &api, "--config", &config]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let message = stderr(&output);
    let at = format!("{config}:3:");
    let place = message
        .find(&at)
        .unwrap_or_else(|| panic!("names {at}<col>: {message}"));
    let column = &message[place + at.len()..];
    assert!(
        column.starts_with(|c: char| c.is_ascii_digit()),
        "a column after the line: {message}"
    );
}

#[test]
fn a_config_without_an_upstream_names_the_field_and_the_proxy() {
    let dir = temp_dir("proxy-no-upstream");
    let config = write_config(
        &dir,
        "proxies.json",
        r#"[{"name": "db", "listen": "127.0.0.1:0"}]"#,
    );
    let api = free_addr().to_string();
    let output = fails(&["--api", &api, "--config", &config]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let message = stderr(&output);
    assert!(message.contains("upstream"), "{message}");
    assert!(
        message.contains("proxy 1") || message.contains("db"),
        "{message}"
    );
    assert!(message.contains(&config), "{message}");
}

#[test]
fn an_api_off_loopback_needs_a_token() {
    // Refused before anything is bound: the port is never listened on, off loopback or not.
    let port = free_addr().port();
    let api = format!("0.0.0.0:{port}");
    let output = fails(&["--api", &api]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(stderr(&output).contains("--token"), "{}", stderr(&output));
}

#[test]
fn a_taken_api_port_is_named() {
    let holder = TcpListener::bind("127.0.0.1:0").expect("bind");
    let taken = holder.local_addr().expect("addr").to_string();
    let output = fails(&["--api", &taken]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(stderr(&output).contains(&taken), "{}", stderr(&output));
    drop(holder);
}

#[test]
fn a_nonsense_api_address_is_refused() {
    let output = fails(&["--api", "nonsense"]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(stderr(&output).contains("nonsense"), "{}", stderr(&output));
}
