//! The control API as Toxiproxy's clients see it: endpoints, JSON shapes, status codes and
//! error bodies, over a real socket on loopback.

mod common;

use common::*;
use serde_json::{json, Value};
use std::io::{ErrorKind, Read, Write};
use std::net::SocketAddr;
use tokio_util::sync::CancellationToken;
use unruly_faults::ControlApi;

/// A proxy set with its control API served on a loopback port.
struct Api {
    rig: Rig,
    addr: SocketAddr,
    stop: CancellationToken,
}

impl Api {
    fn start(token: Option<&str>) -> Api {
        let rig = Rig::new(1);
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind the API");
        listener.set_nonblocking(true).expect("non-blocking");
        let addr = listener.local_addr().expect("addr");
        let stop = CancellationToken::new();
        let listener = {
            let _entered = rig.runtime.enter();
            tokio::net::TcpListener::from_std(listener).expect("a tokio listener")
        };
        let api = ControlApi::new(rig.proxies.clone(), token.map(str::to_owned));
        rig.runtime.spawn(api.serve(listener, stop.clone()));
        Api { rig, addr, stop }
    }

    fn call(&self, method: &str, path: &str, body: &str) -> Answer {
        self.call_with(method, path, &[], body)
    }

    fn call_with(&self, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> Answer {
        let mut all = vec![("content-type", "application/json")];
        all.extend_from_slice(headers);
        request(self.addr, method, path, &all, body)
    }

    /// Creates a proxy in front of `upstream` on any loopback port; returns its JSON.
    fn create(&self, name: &str, upstream: SocketAddr) -> Value {
        let answer = self.call(
            "POST",
            "/proxies",
            &json!({"name": name, "listen": "127.0.0.1:0", "upstream": upstream.to_string()})
                .to_string(),
        );
        assert_eq!(answer.status, 201, "{}", body_text(&answer));
        answer.json()
    }
}

impl Drop for Api {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

fn body_text(answer: &Answer) -> String {
    String::from_utf8_lossy(&answer.body).into_owned()
}

fn assert_error(answer: &Answer, status: u16, message: &str) {
    assert_eq!(answer.status, status, "{}", body_text(answer));
    assert_eq!(
        answer.json(),
        json!({"error": message, "status": status}),
        "the error body"
    );
}

fn listen_of(proxy: &Value) -> SocketAddr {
    proxy["listen"]
        .as_str()
        .expect("listen is a string")
        .parse()
        .expect("listen is an address")
}

/// One echo round trip through `addr`.
fn echoes(addr: SocketAddr) {
    let mut stream = connect(addr);
    stream.write_all(b"ping").expect("send");
    let mut echoed = [0u8; 4];
    stream.read_exact(&mut echoed).expect("the echo");
    assert_eq!(&echoed, b"ping");
}

#[test]
fn create_proxy_answers_201_with_toxiproxys_shape() {
    let api = Api::start(None);
    let upstream = echo_server();
    let proxy = api.create("echo", upstream);
    let listen = listen_of(&proxy);
    assert_ne!(listen.port(), 0, "the bound port, not 0");
    assert_eq!(
        proxy,
        json!({"name": "echo", "listen": listen.to_string(), "upstream": upstream.to_string(),
            "enabled": true, "toxics": []})
    );
    echoes(listen);

    let again = api.call(
        "POST",
        "/proxies",
        &json!({"name": "echo", "upstream": upstream.to_string()}).to_string(),
    );
    assert_error(&again, 409, "proxy already exists");
    assert_error(
        &api.call("GET", "/proxies/nope", ""),
        404,
        "proxy not found",
    );

    let got = api.call("GET", "/proxies/echo", "");
    assert_eq!(got.status, 200);
    assert_eq!(got.json(), proxy);

    let other = api.create("other", upstream);
    let all = api.call("GET", "/proxies", "");
    assert_eq!(all.status, 200);
    assert_eq!(all.json(), json!({"echo": proxy, "other": other}));
}

#[test]
fn toxics_are_created_read_updated_and_deleted() {
    let api = Api::start(None);
    api.create("echo", echo_server());
    let created = api.call(
        "POST",
        "/proxies/echo/toxics",
        r#"{"type":"latency","attributes":{"latency":100}}"#,
    );
    assert_eq!(created.status, 200, "{}", body_text(&created));
    let toxic = json!({"attributes": {"latency": 100, "jitter": 0}, "name": "latency_downstream",
        "type": "latency", "stream": "downstream", "toxicity": 1.0});
    assert_eq!(created.json(), toxic);

    let again = api.call(
        "POST",
        "/proxies/echo/toxics",
        r#"{"type":"latency","attributes":{"latency":100}}"#,
    );
    assert_error(&again, 409, "toxic already exists");
    assert_error(
        &api.call("POST", "/proxies/echo/toxics", r#"{"type":"sideways"}"#),
        400,
        "invalid toxic type",
    );
    let bad_stream = api.call(
        "POST",
        "/proxies/echo/toxics",
        r#"{"type":"latency","name":"other","stream":"sideways"}"#,
    );
    assert_eq!(bad_stream.status, 400, "{}", body_text(&bad_stream));
    assert_eq!(bad_stream.json()["status"], 400);
    assert!(
        bad_stream.json()["error"]
            .as_str()
            .is_some_and(|error| error.starts_with("stream was invalid")),
        "{}",
        body_text(&bad_stream)
    );
    assert_error(
        &api.call("POST", "/proxies/nope/toxics", r#"{"type":"latency"}"#),
        404,
        "proxy not found",
    );

    let got = api.call("GET", "/proxies/echo/toxics/latency_downstream", "");
    assert_eq!(got.status, 200);
    assert_eq!(got.json(), toxic);
    let listed = api.call("GET", "/proxies/echo/toxics", "");
    assert_eq!(listed.status, 200);
    assert_eq!(listed.json(), json!([toxic]));
    assert_eq!(
        api.call("GET", "/proxies/echo", "").json()["toxics"],
        json!([toxic])
    );

    let patched = api.call(
        "PATCH",
        "/proxies/echo/toxics/latency_downstream",
        r#"{"attributes":{"jitter":10},"toxicity":0.5}"#,
    );
    assert_eq!(patched.status, 200, "{}", body_text(&patched));
    assert_eq!(
        patched.json(),
        json!({"attributes": {"latency": 100, "jitter": 10}, "name": "latency_downstream",
            "type": "latency", "stream": "downstream", "toxicity": 0.5})
    );
    // Toxiproxy's clients update with POST.
    let posted = api.call(
        "POST",
        "/proxies/echo/toxics/latency_downstream",
        r#"{"attributes":{"latency":50}}"#,
    );
    assert_eq!(posted.status, 200, "{}", body_text(&posted));
    assert_eq!(
        posted.json()["attributes"],
        json!({"latency": 50, "jitter": 10})
    );

    let deleted = api.call("DELETE", "/proxies/echo/toxics/latency_downstream", "");
    assert_eq!(deleted.status, 204);
    assert!(deleted.body.is_empty());
    assert_error(
        &api.call("GET", "/proxies/echo/toxics/latency_downstream", ""),
        404,
        "toxic not found",
    );
    assert_error(
        &api.call("DELETE", "/proxies/echo/toxics/latency_downstream", ""),
        404,
        "toxic not found",
    );
    assert_eq!(
        api.call("GET", "/proxies/echo/toxics", "").json(),
        json!([])
    );
}

#[test]
fn malformed_json_is_a_400_on_every_post_and_the_server_goes_on() {
    let api = Api::start(None);
    api.create("echo", echo_server());
    let toxic = api.call("POST", "/proxies/echo/toxics", r#"{"type":"latency"}"#);
    assert_eq!(toxic.status, 200);
    for (method, path) in [
        ("POST", "/proxies"),
        ("POST", "/proxies/echo"),
        ("PATCH", "/proxies/echo"),
        ("POST", "/proxies/echo/toxics"),
        ("POST", "/proxies/echo/toxics/latency_downstream"),
        ("PATCH", "/proxies/echo/toxics/latency_downstream"),
        ("POST", "/proxies/echo/http_faults"),
        ("POST", "/populate"),
    ] {
        let answer = api.call(method, path, r#"{"name":"#);
        assert_eq!(
            answer.status,
            400,
            "{method} {path}: {}",
            body_text(&answer)
        );
        let body = answer.json();
        assert_eq!(body["status"], 400, "{method} {path}: {body}");
        assert!(
            body["error"]
                .as_str()
                .is_some_and(|error| error.starts_with("bad request body")),
            "{method} {path}: {body}"
        );
    }
    let version = api.call("GET", "/version", "");
    assert_eq!(version.status, 200, "the server still answers");
    // Nothing changed.
    let proxy = api.call("GET", "/proxies/echo", "").json();
    assert_eq!(proxy["enabled"], true);
    assert_eq!(proxy["toxics"].as_array().map(Vec::len), Some(1));
}

#[test]
fn populate_creates_keeps_and_refuses_objects() {
    let api = Api::start(None);
    let echo = echo_server();
    let sender = sender_server(10);
    let entries = json!([
        {"name": "a", "listen": "127.0.0.1:0", "upstream": echo.to_string()},
        {"name": "b", "listen": "127.0.0.1:0", "upstream": sender.to_string()},
    ])
    .to_string();
    let first = api.call("POST", "/populate", &entries);
    assert_eq!(first.status, 201, "{}", body_text(&first));
    let first = first.json();
    let proxies = first["proxies"].as_array().expect("a proxies array");
    assert_eq!(proxies.len(), 2, "{first}");
    assert_eq!(proxies[0]["name"], "a");
    assert_eq!(proxies[0]["upstream"], echo.to_string());
    assert_eq!(proxies[0]["enabled"], true);
    assert_eq!(proxies[0]["toxics"], json!([]));
    assert_eq!(proxies[1]["name"], "b");
    let listens: Vec<SocketAddr> = proxies.iter().map(listen_of).collect();
    echoes(listens[0]);

    let second = api.call("POST", "/populate", &entries);
    assert_eq!(second.status, 201, "{}", body_text(&second));
    let second = second.json();
    let again: Vec<SocketAddr> = second["proxies"]
        .as_array()
        .expect("a proxies array")
        .iter()
        .map(listen_of)
        .collect();
    assert_eq!(again, listens, "the same proxies are kept on their ports");
    echoes(listens[0]);

    let object = api.call(
        "POST",
        "/populate",
        &json!({"name": "c", "upstream": echo.to_string()}).to_string(),
    );
    assert_eq!(object.status, 400, "{}", body_text(&object));
    assert_eq!(object.json()["status"], 400);
    assert!(
        object.json()["error"]
            .as_str()
            .is_some_and(|error| error.starts_with("bad request body")),
        "{}",
        body_text(&object)
    );
    assert_error(&api.call("GET", "/proxies/c", ""), 404, "proxy not found");
}

#[test]
fn disabling_a_proxy_closes_its_port_and_enabling_reopens_it() {
    let api = Api::start(None);
    let proxy = api.create("echo", echo_server());
    let addr = listen_of(&proxy);
    echoes(addr);

    let disabled = api.call("POST", "/proxies/echo", r#"{"enabled":false}"#);
    assert_eq!(disabled.status, 200, "{}", body_text(&disabled));
    assert_eq!(disabled.json()["enabled"], false);
    let refused = std::net::TcpStream::connect(addr).expect_err("not listening");
    assert_eq!(refused.kind(), ErrorKind::ConnectionRefused);

    let enabled = api.call("POST", "/proxies/echo", r#"{"enabled":true}"#);
    assert_eq!(enabled.status, 200, "{}", body_text(&enabled));
    assert_eq!(enabled.json()["enabled"], true);
    assert_eq!(listen_of(&enabled.json()), addr, "back on its port");
    echoes(addr);

    let deleted = api.call("DELETE", "/proxies/echo", "");
    assert_eq!(deleted.status, 204);
    assert_error(
        &api.call("GET", "/proxies/echo", ""),
        404,
        "proxy not found",
    );
}

#[test]
fn reset_removes_toxics_and_enables_every_proxy() {
    let api = Api::start(None);
    let proxy = api.create("echo", echo_server());
    let addr = listen_of(&proxy);
    let toxic = api.call(
        "POST",
        "/proxies/echo/toxics",
        r#"{"type":"timeout","attributes":{"timeout":0}}"#,
    );
    assert_eq!(toxic.status, 200);
    let fault = api.call("POST", "/proxies/echo/http_faults", r#"{"type":"garble"}"#);
    assert_eq!(fault.status, 200, "{}", body_text(&fault));
    let disabled = api.call("POST", "/proxies/echo", r#"{"enabled":false}"#);
    assert_eq!(disabled.status, 200);

    let reset = api.call("POST", "/reset", "");
    assert_eq!(reset.status, 204, "{}", body_text(&reset));
    let after = api.call("GET", "/proxies/echo", "").json();
    assert_eq!(
        after,
        json!({"name": "echo", "listen": addr.to_string(), "upstream": proxy["upstream"],
            "enabled": true, "toxics": []})
    );
    echoes(addr);
}

#[test]
fn version_user_agents_and_unknown_routes() {
    let api = Api::start(None);
    let version = api.call("GET", "/version", "");
    assert_eq!(version.status, 200);
    assert_eq!(
        version.json()["version"],
        unruly_faults::TOXIPROXY_VERSION,
        "{}",
        body_text(&version)
    );

    let browser = api.call_with(
        "GET",
        "/proxies",
        &[(
            "user-agent",
            "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
        )],
        "",
    );
    assert_eq!(browser.status, 403, "{}", body_text(&browser));
    assert_eq!(browser.json()["status"], 403);
    let client = api.call_with("GET", "/proxies", &[("user-agent", "toxiproxy-cli")], "");
    assert_eq!(client.status, 200);

    let unknown = api.call("GET", "/nowhere", "");
    assert_eq!(unknown.status, 404, "{}", body_text(&unknown));
    assert_eq!(unknown.json()["status"], 404);
    assert!(unknown.json()["error"].is_string());

    for (method, path) in [
        ("DELETE", "/version"),
        ("PUT", "/proxies"),
        ("GET", "/reset"),
    ] {
        let wrong = api.call(method, path, "");
        assert_eq!(wrong.status, 405, "{method} {path}: {}", body_text(&wrong));
        assert_eq!(wrong.json()["status"], 405);
        assert!(wrong.json()["error"].is_string());
    }
}

#[test]
fn a_token_is_required_when_set() {
    let api = Api::start(Some("s3cret"));
    let missing = api.call("GET", "/proxies", "");
    assert_eq!(missing.status, 401, "{}", body_text(&missing));
    assert_eq!(missing.json()["status"], 401);
    let wrong = api.call_with("GET", "/proxies", &[("authorization", "Bearer nope")], "");
    assert_eq!(wrong.status, 401);
    let created = api.call_with(
        "POST",
        "/proxies",
        &[("authorization", "Bearer s3cret")],
        &json!({"name": "echo", "upstream": echo_server().to_string()}).to_string(),
    );
    assert_eq!(created.status, 201, "{}", body_text(&created));
    let listed = api.call_with("GET", "/proxies", &[("authorization", "Bearer s3cret")], "");
    assert_eq!(listed.status, 200);
    assert!(listed.json()["echo"].is_object());
    assert!(api.rig.proxies.get("echo").is_ok());
}

#[test]
fn a_taken_listen_address_is_a_500_naming_it() {
    let api = Api::start(None);
    let holder = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let taken = holder.local_addr().expect("addr");
    let answer = api.call(
        "POST",
        "/proxies",
        &json!({"name": "clash", "listen": taken.to_string(),
            "upstream": echo_server().to_string()})
        .to_string(),
    );
    assert_eq!(answer.status, 500, "{}", body_text(&answer));
    let body = answer.json();
    assert_eq!(body["status"], 500);
    let error = body["error"].as_str().expect("an error message");
    assert!(error.contains(&taken.to_string()), "{error}");
    assert!(error.contains("in use"), "{error}");
    assert_error(
        &api.call("GET", "/proxies/clash", ""),
        404,
        "proxy not found",
    );
    drop(holder);
}

#[test]
fn http_fault_endpoints() {
    let api = Api::start(None);
    api.create("web", http_server(100));
    let created = api.call(
        "POST",
        "/proxies/web/http_faults",
        r#"{"type":"status","path":"/quote*","attributes":{"status":503,"retry_after":5}}"#,
    );
    assert_eq!(created.status, 200, "{}", body_text(&created));
    let fault = created.json();
    assert_eq!(fault["name"], "status");
    assert_eq!(fault["type"], "status");
    assert_eq!(fault["path"], "/quote*");
    assert_eq!(fault["percent"], 100.0);
    assert_eq!(fault["attributes"]["status"], 503);
    assert_eq!(fault["attributes"]["retry_after"], 5);

    let listed = api.call("GET", "/proxies/web/http_faults", "");
    assert_eq!(listed.status, 200);
    assert_eq!(listed.json(), json!([fault]));
    let one = api.call("GET", "/proxies/web/http_faults/status", "");
    assert_eq!(one.status, 200);
    assert_eq!(one.json(), fault);
    let again = api.call(
        "POST",
        "/proxies/web/http_faults",
        r#"{"type":"status","path":"/quote*"}"#,
    );
    assert_eq!(again.status, 409, "{}", body_text(&again));

    let bad = api.call("POST", "/proxies/web/http_faults", r#"{"type":"teapot"}"#);
    assert_eq!(bad.status, 400, "{}", body_text(&bad));
    assert_eq!(bad.json()["status"], 400);
    assert_error(
        &api.call("POST", "/proxies/nope/http_faults", r#"{"type":"garble"}"#),
        404,
        "proxy not found",
    );

    let deleted = api.call("DELETE", "/proxies/web/http_faults/status", "");
    assert_eq!(deleted.status, 204);
    assert_eq!(
        api.call("GET", "/proxies/web/http_faults", "").json(),
        json!([])
    );
    let gone = api.call("DELETE", "/proxies/web/http_faults/status", "");
    assert_eq!(gone.status, 404, "{}", body_text(&gone));
}
