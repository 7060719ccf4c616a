//! HTTP faults against a real HTTP/1.1 upstream on loopback. A fault applies to the
//! connections opened after it was added, so every request here opens its own.

mod common;

use common::*;
use std::io::{ErrorKind, Read, Write};
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use unruly_faults::{HttpFault, Toxic};

const BODY_BYTES: usize = 2_000;

fn fault(json: &str) -> HttpFault {
    HttpFault::from_json(json.as_bytes()).expect("a valid HTTP fault")
}

/// A proxy named `web` in front of a fresh HTTP server answering `BODY_BYTES`-byte bodies,
/// with `faults` added before any connection; returns the rig (kept alive by the caller)
/// and the proxy's address.
fn web(seed: u64, faults: &[&str]) -> (Rig, SocketAddr) {
    web_sized(seed, BODY_BYTES, faults)
}

fn web_sized(seed: u64, body_bytes: usize, faults: &[&str]) -> (Rig, SocketAddr) {
    let rig = Rig::new(seed);
    let proxy = listen(&rig.proxy("web", http_server(body_bytes)));
    for json in faults {
        rig.proxies
            .add_http_fault("web", fault(json))
            .expect("the fault is added");
    }
    (rig, proxy)
}

/// The body `http_server(BODY_BYTES)` sends.
fn upstream_body() -> Vec<u8> {
    format!("{{\"pad\":\"{}\"}}", "p".repeat(BODY_BYTES - 10)).into_bytes()
}

fn get(addr: SocketAddr, path: &str) -> Answer {
    call(addr, "GET", path)
}

/// One request on a new connection, read up to the end of its body as framed by
/// Content-Length (the test upstream keeps connections open whatever the client asks, so
/// the end of the connection cannot frame it when nothing in between speaks HTTP).
fn call(addr: SocketAddr, method: &str, path: &str) -> Answer {
    let mut stream = connect(addr);
    let text = format!(
        "{method} {path} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n"
    );
    stream.write_all(text.as_bytes()).expect("send");
    let mut raw = Vec::new();
    let mut buffer = [0u8; 16 * 1024];
    loop {
        if let Some(answer) = parse_answer(&raw) {
            let wanted = answer
                .header("content-length")
                .and_then(|length| length.parse::<usize>().ok());
            if wanted.is_some_and(|wanted| answer.body.len() >= wanted) {
                return answer;
            }
        }
        match stream.read(&mut buffer) {
            Ok(0) | Err(_) => break,
            Ok(read) => raw.extend_from_slice(&buffer[..read]),
        }
    }
    parse_answer(&raw).expect("an HTTP answer")
}

/// Sends a GET with `Connection: close` and reads until the end; returns the raw bytes and
/// how the reading ended.
fn raw_get(addr: SocketAddr, path: &str) -> (Vec<u8>, Result<(), ErrorKind>) {
    let mut stream = connect(addr);
    let text = format!("GET {path} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\n\r\n");
    stream.write_all(text.as_bytes()).expect("send");
    match read_all(&mut stream) {
        Ok(bytes) => (bytes, Ok(())),
        Err((kind, bytes)) => (bytes, Err(kind)),
    }
}

fn content_length(answer: &Answer) -> usize {
    answer
        .header("content-length")
        .expect("a content-length")
        .parse()
        .expect("a number")
}

#[test]
fn status_fault_answers_on_matching_paths_only() {
    let (_rig, proxy) = web(
        1,
        &[r#"{"type":"status","path":"/quote*","attributes":{"status":503,"retry_after":5}}"#],
    );
    for path in ["/quote", "/quotes/42"] {
        let answer = get(proxy, path);
        assert_eq!(answer.status, 503, "{path}");
        assert_eq!(answer.header("retry-after"), Some("5"), "{path}");
        assert_eq!(answer.body.len(), content_length(&answer), "{path}");
    }
    for path in ["/products", "/", "/q"] {
        let answer = get(proxy, path);
        assert_eq!(answer.status, 200, "{path}");
        assert_eq!(answer.header("retry-after"), None, "{path}");
        assert_eq!(answer.body, upstream_body(), "{path}: the body untouched");
        assert_eq!(answer.body.len(), BODY_BYTES);
    }
}

#[test]
fn status_fault_filters_by_method() {
    let (_rig, proxy) = web(
        1,
        &[r#"{"type":"status","method":"POST","attributes":{"status":429}}"#],
    );
    let get_answer = get(proxy, "/orders");
    assert_eq!(get_answer.status, 200);
    let post = call(proxy, "POST", "/orders");
    assert_eq!(post.status, 429);
    assert_eq!(post.header("retry-after"), None);
    let put = call(proxy, "PUT", "/orders");
    assert_eq!(put.status, 200);
}

#[test]
fn percent_gives_a_mix_that_repeats_with_the_seed() {
    let statuses = |seed: u64| -> Vec<u16> {
        let (_rig, proxy) = web(
            seed,
            &[r#"{"type":"status","percent":50,"attributes":{"status":503}}"#],
        );
        (0..40).map(|_| get(proxy, "/").status).collect()
    };
    let first = statuses(21);
    let failed = first.iter().filter(|status| **status == 503).count();
    let passed = first.iter().filter(|status| **status == 200).count();
    assert_eq!(failed + passed, 40, "{first:?}");
    assert!(
        (8..=32).contains(&failed),
        "about half of 40 requests fail: {first:?}"
    );
    assert_eq!(first, statuses(21), "the same seed gives the same mix");
}

#[test]
fn delay_fault_holds_the_response() {
    let (_rig, proxy) = web(1, &[r#"{"type":"delay","attributes":{"delay":300}}"#]);
    let started = Instant::now();
    let answer = get(proxy, "/slow");
    let took = started.elapsed();
    assert_eq!(answer.status, 200);
    assert_eq!(answer.body.len(), BODY_BYTES);
    assert!(took >= Duration::from_millis(300), "{took:?}");
}

#[test]
fn truncate_passes_fewer_bytes_than_announced_then_closes() {
    let (_rig, proxy) = web(1, &[r#"{"type":"truncate","attributes":{"bytes":100}}"#]);
    let (raw, ended) = raw_get(proxy, "/big");
    assert_eq!(ended, Ok(()), "a close, not a reset or a hang");
    let answer = parse_answer(&raw).expect("the head gets through");
    assert_eq!(answer.status, 200);
    assert_eq!(
        content_length(&answer),
        BODY_BYTES,
        "Content-Length unchanged"
    );
    assert_eq!(answer.body.len(), 100, "the first 100 bytes of the body");
}

#[test]
fn truncate_of_a_large_body_still_passes_the_head_and_the_first_bytes() {
    // The cut falls inside a chunk of the upstream's body that is not its last.
    let (_rig, proxy) = web_sized(
        1,
        500_000,
        &[r#"{"type":"truncate","attributes":{"bytes":100}}"#],
    );
    let (raw, ended) = raw_get(proxy, "/big");
    assert_eq!(ended, Ok(()), "a close, not a reset or a hang");
    let answer = parse_answer(&raw).unwrap_or_else(|| {
        panic!(
            "the head and 100 bytes of the body should get through, got {} bytes",
            raw.len()
        )
    });
    assert_eq!(answer.status, 200);
    assert_eq!(content_length(&answer), 500_000);
    assert_eq!(answer.body.len(), 100);
}

#[test]
fn abort_resets_the_connection_after_some_bytes() {
    let (_rig, proxy) = web(1, &[r#"{"type":"abort","attributes":{"after_bytes":100}}"#]);
    let (raw, ended) = raw_get(proxy, "/big");
    assert_eq!(
        ended,
        Err(ErrorKind::ConnectionReset),
        "a reset, after {} bytes",
        raw.len()
    );
    let answer = parse_answer(&raw).unwrap_or_else(|| {
        panic!(
            "the head gets through before the reset, got {} bytes",
            raw.len()
        )
    });
    assert_eq!(answer.status, 200);
    assert!(answer.body.len() <= 100, "{} body bytes", answer.body.len());
}

#[test]
fn abort_of_a_large_body_resets_after_the_head() {
    let (_rig, proxy) = web_sized(
        1,
        500_000,
        &[r#"{"type":"abort","attributes":{"after_bytes":100}}"#],
    );
    let (raw, ended) = raw_get(proxy, "/big");
    assert_eq!(
        ended,
        Err(ErrorKind::ConnectionReset),
        "a reset, after {} bytes",
        raw.len()
    );
    let answer = parse_answer(&raw).unwrap_or_else(|| {
        panic!(
            "the head gets through before the reset, got {} bytes",
            raw.len()
        )
    });
    assert_eq!(answer.status, 200);
    assert!(answer.body.len() <= 100, "{} body bytes", answer.body.len());
}

#[test]
fn garble_keeps_the_length_and_changes_the_bytes() {
    let (_rig, proxy) = web(1, &[r#"{"type":"garble"}"#]);
    let garbled = get(proxy, "/data");
    assert_eq!(garbled.status, 200);
    assert_eq!(garbled.body.len(), BODY_BYTES);
    assert_eq!(garbled.body.len(), content_length(&garbled));
    assert_ne!(garbled.body, upstream_body());
    assert!(
        serde_json::from_slice::<serde_json::Value>(&garbled.body).is_err(),
        "no longer JSON"
    );
}

#[test]
fn a_latency_toxic_and_a_status_fault_both_apply() {
    let (rig, proxy) = web(
        1,
        &[r#"{"type":"status","path":"/quote","attributes":{"status":503,"retry_after":2}}"#],
    );
    rig.proxies
        .add_toxic(
            "web",
            Toxic::from_json(br#"{"type":"latency","attributes":{"latency":250}}"#)
                .expect("a valid toxic"),
        )
        .expect("added");
    let started = Instant::now();
    let faulted = get(proxy, "/quote");
    let took = started.elapsed();
    assert_eq!(faulted.status, 503);
    assert_eq!(faulted.header("retry-after"), Some("2"));
    assert!(took >= Duration::from_millis(250), "{took:?}");

    let started = Instant::now();
    let passed = get(proxy, "/other");
    let took = started.elapsed();
    assert_eq!(passed.status, 200);
    assert_eq!(passed.body.len(), BODY_BYTES);
    assert!(took >= Duration::from_millis(250), "{took:?}");
}

#[test]
fn a_fault_applies_to_connections_opened_after_it() {
    let (rig, proxy) = web(1, &[]);
    assert_eq!(get(proxy, "/quote").status, 200);
    rig.proxies
        .add_http_fault(
            "web",
            fault(r#"{"type":"status","attributes":{"status":502}}"#),
        )
        .expect("added");
    assert_eq!(get(proxy, "/quote").status, 502);
    rig.proxies
        .remove_http_fault("web", "status")
        .expect("removed");
    assert_eq!(get(proxy, "/quote").status, 200);
}
