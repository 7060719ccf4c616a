//! The shipping dependency: the embedded stub, and what each variant makes of a dependency
//! that answers, is slow, answers 503, resets its connections, answers garbage or is not
//! there at all. Everything runs over loopback; the fake dependency is served by the test.
//!
//! Buggy: product reads stall while a slow quote is in flight (the catalog lock is held
//! across the call), and failures are leaky 500s. Correct: quotes answer within ~1 s from
//! the last good quote or with a 503 and `Retry-After`, product reads never wait, and every
//! answer is one the OpenAPI document allows.

mod common;

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{get, header, json};
use jsonschema::Validator;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use unruly_demo::{openapi_json, DemoHandle, DemoOptions, DependencyStub, Variant};
use unruly_testkit::client::{Connection, TestResponse};

/// How long the slow dependency takes to answer.
const SLOW: Duration = Duration::from_secs(3);
/// Longer than any answer the correct twin may take (its timeout is 1 s).
const CORRECT_BOUND: Duration = Duration::from_millis(1500);
/// Product reads shorter than this did not wait for the dependency; longer ones did.
const STALL: Duration = Duration::from_secs(1);

/// What the fake dependency does with each request it reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
enum Mode {
    /// `200` with a quote.
    Normal,
    /// The same, [`SLOW`] later.
    Slow,
    /// `503` with an error body.
    Unavailable,
    /// The connection is reset without an answer.
    Reset,
    /// `200` with an HTML page.
    Garbage,
}

/// A fake shipping dependency on the test's runtime, whose [`Mode`] can be switched.
struct FakeShipping {
    addr: SocketAddr,
    mode: Arc<AtomicU8>,
    task: JoinHandle<()>,
}

impl FakeShipping {
    async fn start(mode: Mode) -> FakeShipping {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .await
            .expect("bind the fake dependency");
        let addr = listener.local_addr().expect("its address");
        let mode = Arc::new(AtomicU8::new(mode as u8));
        let shared = Arc::clone(&mode);
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                tokio::spawn(answer_connection(stream, Arc::clone(&shared)));
            }
        });
        FakeShipping { addr, mode, task }
    }

    fn set(&self, mode: Mode) {
        self.mode.store(mode as u8, Ordering::SeqCst);
    }
}

impl Drop for FakeShipping {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Answers the requests of one keep-alive connection as the mode says when each arrives.
async fn answer_connection(mut stream: TcpStream, mode: Arc<AtomicU8>) {
    let mut buffer = Vec::new();
    while let Some(head) = read_head(&mut stream, &mut buffer).await {
        let product = head
            .split_once("product=")
            .and_then(|(_, rest)| rest.split(|c: char| !c.is_ascii_digit()).next())
            .and_then(|digits| digits.parse::<i64>().ok())
            .unwrap_or(0);
        let quote = format!(
            r#"{{"product_id":{product},"carrier":"Test Carrier","days":3,"price_cents":500}}"#
        );
        let (status, content_type, body) = match mode.load(Ordering::SeqCst) {
            m if m == Mode::Normal as u8 => ("200 OK", "application/json", quote),
            m if m == Mode::Slow as u8 => {
                tokio::time::sleep(SLOW).await;
                ("200 OK", "application/json", quote)
            }
            m if m == Mode::Unavailable as u8 => (
                "503 Service Unavailable",
                "application/json",
                r#"{"error":"down for maintenance"}"#.to_owned(),
            ),
            m if m == Mode::Garbage as u8 => (
                "200 OK",
                "text/html",
                "<html><body>502 Bad Gateway</body></html>".to_owned(),
            ),
            _ => {
                // Reset: RST instead of an answer.
                let _ = stream.set_zero_linger();
                return;
            }
        };
        let answer = format!(
            "HTTP/1.1 {status}\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        );
        if stream.write_all(answer.as_bytes()).await.is_err() {
            return;
        }
    }
}

/// The next request head (up to its blank line), or `None` when the peer is gone.
async fn read_head(stream: &mut TcpStream, buffer: &mut Vec<u8>) -> Option<String> {
    loop {
        if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buffer[..end]).into_owned();
            buffer.drain(..end + 4);
            return Some(head);
        }
        let mut chunk = [0u8; 4096];
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => buffer.extend_from_slice(&chunk[..n]),
        }
    }
}

/// A loopback port with nothing listening on it.
fn closed_port() -> SocketAddr {
    let listener = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind");
    listener.local_addr().expect("an address")
}

/// A demo whose shipping dependency is at `shipping`.
fn start_with(variant: Variant, shipping: SocketAddr) -> DemoHandle {
    let options = DemoOptions {
        shipping: Some(shipping),
        ..DemoOptions::default()
    };
    DemoHandle::start_with(variant, options).expect("the demo starts")
}

/// `GET path`, and how long it took.
async fn timed_get(addr: SocketAddr, path: &str) -> (TestResponse, Duration) {
    let started = Instant::now();
    let response = get(addr, path).await;
    (response, started.elapsed())
}

/// Judges answers against the OpenAPI document, as `conformance.rs` does: the status is
/// documented, and a JSON body is valid against its schema (draft 2020-12, formats on).
struct Document {
    doc: Value,
}

impl Document {
    fn new() -> Document {
        Document {
            doc: serde_json::from_str(openapi_json()).expect("the document is JSON"),
        }
    }

    fn validator(&self, pointer: &str) -> Validator {
        let mut root = self.doc.pointer(pointer).expect("a schema").clone();
        root["components"] = self.doc["components"].clone();
        jsonschema::options()
            .with_draft(jsonschema::Draft::Draft202012)
            .should_validate_formats(true)
            .build(&root)
            .expect("the schema compiles")
    }

    /// Fails the test unless `response` to `GET template` is one the document allows.
    fn assert_conforms(&self, template: &str, response: &TestResponse) {
        let status = response.status.as_u16();
        let documented = format!(
            "/paths/{}/get/responses/{status}",
            template.replace('/', "~1")
        );
        assert!(
            self.doc.pointer(&documented).is_some(),
            "GET {template}: {status} is not documented: {}",
            response.text()
        );
        let body = json(response);
        let validator = self.validator(&format!("{documented}/content/application~1json/schema"));
        assert!(
            validator.is_valid(&body),
            "GET {template}: {status} breaks its schema: {body}"
        );
        if status == 503 {
            let retry = header(&response.headers, "retry-after");
            assert!(
                retry.is_some_and(|r| r.parse::<u32>().is_ok()),
                "a 503 without a Retry-After in seconds: {retry:?}"
            );
        }
    }
}

#[tokio::test]
async fn the_stub_quotes_deterministically_over_keep_alive() {
    let stub = DependencyStub::start().expect("the stub starts");
    assert_eq!(stub.base_url(), format!("http://{}", stub.addr()));
    let mut connection = Connection::open(stub.addr()).await.expect("connect");
    let first = connection.get("/quote?product=3").await.expect("a quote");
    // The same connection again: keep-alive.
    let second = connection.get("/quote?product=3").await.expect("a quote");
    assert_eq!(first.status, 200);
    assert_eq!(first.body, second.body);
    let quote = json(&first);
    assert_eq!(quote["product_id"], 3);
    assert!(quote["carrier"].as_str().is_some_and(|c| !c.is_empty()));
    assert!(quote["days"].as_i64().is_some_and(|d| d >= 1));
    assert!(quote["price_cents"].as_i64().is_some_and(|p| p > 0));
    assert_eq!(quote.as_object().map(|o| o.len()), Some(4), "{quote}");
    let other = json(&connection.get("/quote?product=4").await.expect("a quote"));
    assert_ne!(other, quote);
    for (path, status) in [
        ("/nope", 404),
        ("/quote", 400),
        ("/quote?product=x", 400),
        ("/quote?product=0", 400),
    ] {
        let response = connection.get(path).await.expect("an answer");
        common::assert_error(&response, status);
    }
    drop(connection);
    let addr = stub.addr();
    stub.stop();
    assert!(
        TcpStream::connect(addr).await.is_err(),
        "the stub still listens"
    );
}

#[tokio::test]
async fn both_variants_quote_through_a_stub_of_their_own() {
    let document = Document::new();
    for variant in [Variant::Buggy, Variant::Correct] {
        let demo = common::start(variant);
        assert_ne!(demo.shipping_addr(), demo.addr());
        let response = get(demo.addr(), "/products/2/shipping").await;
        assert_eq!(response.status, 200, "{variant}: {}", response.text());
        document.assert_conforms("/products/{id}/shipping", &response);
        let quote = json(&response);
        assert_eq!(quote["product_id"], 2);
        assert_eq!(quote["source"], "live");
        // Bad and unknown ids are refused alike, without asking the dependency.
        for (path, status) in [
            ("/products/21/shipping", 404),
            ("/products/0/shipping", 400),
            ("/products/x/shipping", 400),
            ("/products/01/shipping", 400),
        ] {
            let response = get(demo.addr(), path).await;
            common::assert_error(&response, status);
            document.assert_conforms("/products/{id}/shipping", &response);
        }
        demo.stop();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn buggy_product_reads_stall_while_a_slow_quote_is_in_flight() {
    let fake = FakeShipping::start(Mode::Slow).await;
    let buggy = start_with(Variant::Buggy, fake.addr);
    let addr = buggy.addr();
    let quote = tokio::spawn(async move { timed_get(addr, "/products/1/shipping").await });
    tokio::time::sleep(Duration::from_millis(300)).await;
    // Health does not depend on the dependency...
    let (health, took) = timed_get(addr, "/health").await;
    assert_eq!(health.status, 200);
    assert!(took < STALL, "GET /health took {took:?}");
    // ...but every product read waits for the catalog lock the quote holds.
    let (one, all, search) = tokio::join!(
        timed_get(addr, "/products/1"),
        timed_get(addr, "/products"),
        timed_get(addr, "/search?q=tea"),
    );
    for (path, (response, took)) in [
        ("/products/1", one),
        ("/products", all),
        ("/search?q=tea", search),
    ] {
        assert_eq!(response.status, 200, "{path}");
        assert!(took > STALL, "GET {path} did not wait: {took:?}");
    }
    let (response, took) = quote.await.expect("the quote task");
    assert_eq!(response.status, 200, "{}", response.text());
    assert!(took >= SLOW - Duration::from_millis(100), "{took:?}");
    buggy.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn buggy_dependency_failures_are_leaky_500s() {
    let fake = FakeShipping::start(Mode::Normal).await;
    let buggy = start_with(Variant::Buggy, fake.addr);
    let closed = start_with(Variant::Buggy, closed_port());
    let cases = [
        (
            buggy.addr(),
            Some(Mode::Unavailable),
            "HTTPError: 503 Server Error",
        ),
        (buggy.addr(), Some(Mode::Reset), "ConnectionError"),
        (buggy.addr(), Some(Mode::Garbage), "JSONDecodeError"),
        (closed.addr(), None, "Failed to establish a new connection"),
    ];
    for (addr, mode, exception) in cases {
        if let Some(mode) = mode {
            fake.set(mode);
        }
        let response = get(addr, "/products/1/shipping").await;
        let text = response.text();
        assert_eq!(response.status, 500, "{mode:?}: {text}");
        assert!(
            text.starts_with("Traceback (most recent call last):\n"),
            "{text}"
        );
        assert!(text.contains("/srv/shop/app/clients/shipping.py"), "{text}");
        assert!(text.contains(exception), "{mode:?}: {text}");
        assert_eq!(get(addr, "/health").await.status, 200);
        assert_eq!(get(addr, "/products/1").await.status, 200);
    }
    // Once the dependency is back, so are the quotes.
    fake.set(Mode::Normal);
    assert_eq!(get(buggy.addr(), "/products/1/shipping").await.status, 200);
    buggy.stop();
    closed.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn correct_twin_bounds_a_slow_dependency_and_keeps_reads_flowing() {
    let document = Document::new();
    let fake = FakeShipping::start(Mode::Normal).await;
    let correct = start_with(Variant::Correct, fake.addr);
    let addr = correct.addr();
    let live = get(addr, "/products/1/shipping").await;
    document.assert_conforms("/products/{id}/shipping", &live);
    assert_eq!(json(&live)["source"], "live");

    fake.set(Mode::Slow);
    let uncached = tokio::spawn(async move { timed_get(addr, "/products/2/shipping").await });
    let cached = tokio::spawn(async move { timed_get(addr, "/products/1/shipping").await });
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (one, all, search) = tokio::join!(
        timed_get(addr, "/products/1"),
        timed_get(addr, "/products"),
        timed_get(addr, "/search?q=tea"),
    );
    for (path, template, (response, took)) in [
        ("/products/1", "/products/{id}", one),
        ("/products", "/products", all),
        ("/search?q=tea", "/search", search),
    ] {
        assert!(took < STALL, "GET {path} waited: {took:?}");
        document.assert_conforms(template, &response);
    }

    let (response, took) = uncached.await.expect("the uncached quote");
    assert!(took < CORRECT_BOUND, "{took:?}");
    assert_eq!(response.status, 503, "{}", response.text());
    assert_eq!(header(&response.headers, "retry-after"), Some("5"));
    document.assert_conforms("/products/{id}/shipping", &response);

    let (response, took) = cached.await.expect("the cached quote");
    assert!(took < CORRECT_BOUND, "{took:?}");
    document.assert_conforms("/products/{id}/shipping", &response);
    let quote = json(&response);
    assert_eq!(quote["source"], "cache");
    let mut expected = json(&live);
    expected["source"] = "cache".into();
    assert_eq!(quote, expected);
    correct.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn correct_twin_answers_failures_from_its_cache_or_with_a_503() {
    let document = Document::new();
    let fake = FakeShipping::start(Mode::Normal).await;
    let correct = start_with(Variant::Correct, fake.addr);
    let addr = correct.addr();
    assert_eq!(get(addr, "/products/1/shipping").await.status, 200);
    for mode in [Mode::Unavailable, Mode::Reset, Mode::Garbage] {
        fake.set(mode);
        let (cached, took) = timed_get(addr, "/products/1/shipping").await;
        assert!(took < CORRECT_BOUND, "{mode:?}: {took:?}");
        document.assert_conforms("/products/{id}/shipping", &cached);
        assert_eq!(json(&cached)["source"], "cache", "{mode:?}");
        let (unknown, took) = timed_get(addr, "/products/3/shipping").await;
        assert!(took < CORRECT_BOUND, "{mode:?}: {took:?}");
        assert_eq!(unknown.status, 503, "{mode:?}: {}", unknown.text());
        document.assert_conforms("/products/{id}/shipping", &unknown);
        assert!(!unknown.text().contains("127.0.0.1"), "{}", unknown.text());
        assert_eq!(get(addr, "/health").await.status, 200);
    }
    fake.set(Mode::Normal);
    let back = get(addr, "/products/3/shipping").await;
    assert_eq!(json(&back)["source"], "live");
    correct.stop();

    // A dependency that is not there at all: refused at once, nothing cached yet.
    let correct = start_with(Variant::Correct, closed_port());
    let (response, took) = timed_get(correct.addr(), "/products/1/shipping").await;
    assert!(took < CORRECT_BOUND, "{took:?}");
    assert_eq!(response.status, 503);
    document.assert_conforms("/products/{id}/shipping", &response);
    assert_eq!(get(correct.addr(), "/health").await.status, 200);
    correct.stop();
}
