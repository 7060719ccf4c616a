//! Huge request bodies get a clean 413 on a connection that stays usable, and the service's
//! memory stays flat while it reads them. (Alone in its test binary, so that no other test
//! moves the resident memory it measures.)

mod common;

use std::net::SocketAddr;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use unruly_demo::Variant;

const MIB: usize = 1024 * 1024;

/// This process's resident set size in bytes, from `/proc/self/status`.
fn rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// Reads one HTTP/1.1 response (head and a `Content-Length` body) and returns its head.
async fn read_response(stream: &mut TcpStream) -> String {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let head_end = buffer.windows(4).position(|w| w == b"\r\n\r\n");
        if let Some(end) = head_end {
            let head = String::from_utf8_lossy(&buffer[..end]).into_owned();
            let length: usize = head
                .lines()
                .find_map(|l| {
                    let (name, value) = l.split_once(':')?;
                    name.eq_ignore_ascii_case("content-length")
                        .then(|| value.trim().parse().ok())?
                })
                .unwrap_or(0);
            while buffer.len() < end + 4 + length {
                let n = stream.read(&mut chunk).await.expect("the body");
                assert!(n > 0, "closed inside the body");
                buffer.extend_from_slice(&chunk[..n]);
            }
            return head;
        }
        let n = stream.read(&mut chunk).await.expect("a response");
        assert!(n > 0, "closed before answering: {buffer:?}");
        buffer.extend_from_slice(&chunk[..n]);
    }
}

/// Streams a `size`-byte JSON-looking body to `path` on a keep-alive connection, 64 KiB at
/// a time (never held whole), then asks for `/health` on the same connection.
async fn stream_body(addr: SocketAddr, path: &str, size: usize) -> (String, String) {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: demo\r\nContent-Type: application/json\r\n\
         Content-Length: {size}\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.expect("the head");
    let chunk = vec![b'x'; 64 * 1024];
    stream.write_all(b"{\"name\":\"").await.expect("the body");
    let mut sent = 9;
    while sent < size {
        let n = chunk.len().min(size - sent);
        stream
            .write_all(&chunk[..n])
            .await
            .unwrap_or_else(|e| panic!("{path}: the upload was cut after {sent} bytes: {e}"));
        sent += n;
    }
    let answer = read_response(&mut stream).await;
    stream
        .write_all(b"GET /health HTTP/1.1\r\nHost: demo\r\n\r\n")
        .await
        .expect("a second request");
    let health = read_response(&mut stream).await;
    (answer, health)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_100_mib_body_gets_a_clean_413_and_memory_stays_flat() {
    for variant in [Variant::Buggy, Variant::Correct] {
        let demo = common::start(variant);
        // Warm up: runtime threads, buffers, allocator arenas.
        stream_body(demo.addr(), "/users", 2 * MIB).await;
        let before = rss_bytes();
        for path in ["/orders", "/users"] {
            let (answer, health) = stream_body(demo.addr(), path, 100 * MIB).await;
            assert!(
                answer.starts_with("HTTP/1.1 413"),
                "{variant} {path}: {answer}"
            );
            assert!(
                answer.contains("content-type: application/json"),
                "{answer}"
            );
            assert!(health.starts_with("HTTP/1.1 200"), "{health}");
        }
        if let (Some(before), Some(after)) = (before, rss_bytes()) {
            let grown = after.saturating_sub(before);
            assert!(
                grown < 16 * MIB as u64,
                "{variant}: reading 200 MiB of bodies grew memory by {grown} bytes"
            );
        }
    }
}

#[tokio::test]
async fn a_body_declared_past_256_mib_is_refused_at_once() {
    for variant in [Variant::Buggy, Variant::Correct] {
        let demo = common::start(variant);
        for path in ["/orders", "/users"] {
            let mut stream = TcpStream::connect(demo.addr()).await.expect("connect");
            let head = format!(
                "POST {path} HTTP/1.1\r\nHost: demo\r\nContent-Type: application/json\r\n\
                 Content-Length: {}\r\n\r\n{{",
                300 * MIB
            );
            stream.write_all(head.as_bytes()).await.expect("the head");
            let answer = read_response(&mut stream).await;
            assert!(
                answer.starts_with("HTTP/1.1 413"),
                "{variant} {path}: {answer}"
            );
        }
    }
}
