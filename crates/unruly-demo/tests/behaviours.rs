//! The planted bugs that only unruly's user behaviours show (requests released together,
//! the same submission repeated, slow clients), and the correct twin's answers to them.

mod common;

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use common::{assert_error, burst_to, get, json, order, post};
use hyper::header::HeaderValue;
use hyper::Method;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use unruly_demo::Variant;
use unruly_testkit::client::TestResponse;

/// Opens an account with `balance` and returns its id.
async fn open_account(addr: SocketAddr, balance: i64) -> u64 {
    let body = serde_json::json!({"owner": "racer", "balance": balance}).to_string();
    let response = post(addr, "/accounts", body).await;
    assert_eq!(response.status, 201, "{}", response.text());
    json(&response)["id"].as_u64().expect("an id")
}

/// The balance `GET /accounts/{id}` shows.
async fn balance(addr: SocketAddr, id: u64) -> i64 {
    json(&get(addr, &format!("/accounts/{id}")).await)["balance"]
        .as_i64()
        .expect("a balance")
}

/// How many responses have this status.
fn count(responses: &[TestResponse], status: u16) -> usize {
    responses.iter().filter(|r| r.status == status).count()
}

/// Twenty withdrawals of 60, released together, on a fresh account of 100.
async fn withdraw_together(addr: SocketAddr) -> (u64, Vec<TestResponse>) {
    let id = open_account(addr, 100).await;
    let path = format!("/accounts/{id}/withdrawals");
    let (responses, _) = burst_to(addr, 20, &path, &[], r#"{"amount":60}"#).await;
    (id, responses)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_withdrawals_overdraw_only_in_the_buggy_variant() {
    let buggy = common::start(Variant::Buggy);
    let mut overdrawn = false;
    for _ in 0..5 {
        let (id, responses) = withdraw_together(buggy.addr()).await;
        let passed = count(&responses, 200);
        assert_eq!(passed + count(&responses, 409), 20);
        if passed > 1 {
            let balance = balance(buggy.addr(), id).await;
            assert!(
                balance < 0,
                "{passed} withdrawals passed, balance {balance}"
            );
            assert_eq!(balance, 100 - 60 * passed as i64);
            overdrawn = true;
            break;
        }
    }
    assert!(
        overdrawn,
        "20 concurrent withdrawals never overdrew a balance"
    );

    let correct = common::start(Variant::Correct);
    for _ in 0..3 {
        let (id, responses) = withdraw_together(correct.addr()).await;
        assert_eq!(count(&responses, 200), 1);
        assert_eq!(count(&responses, 409), 19);
        for response in &responses {
            if response.status == 200 {
                let account = json(response);
                assert_eq!(account["id"].as_u64(), Some(id));
                assert_eq!(account["balance"], 40);
            } else {
                assert_error(response, 409);
            }
        }
        assert_eq!(balance(correct.addr(), id).await, 40);
    }
}

/// `POST /orders` with these `Idempotency-Key` values (each a header line of its own).
async fn order_with_keys(addr: SocketAddr, keys: &[&str], body: String) -> TestResponse {
    let headers: Vec<(&str, HeaderValue)> = keys
        .iter()
        .map(|key| {
            (
                "idempotency-key",
                HeaderValue::from_str(key).expect("a key"),
            )
        })
        .collect();
    common::send_with(
        addr,
        Method::POST,
        "/orders",
        Some("application/json"),
        &headers,
        Some(body.into()),
    )
    .await
}

fn order_id(response: &TestResponse) -> u64 {
    json(response)["id"].as_u64().expect("an order id")
}

#[tokio::test]
async fn a_repeated_idempotency_key_is_replayed_only_by_the_correct_twin() {
    let correct = common::start(Variant::Correct);
    let addr = correct.addr();
    let before = common::stock(addr, 2).await;
    let first = order_with_keys(addr, &["key-1"], order(2, 3, "Ada")).await;
    assert_eq!(first.status, 201, "{}", first.text());
    let again = order_with_keys(addr, &["key-1"], order(2, 3, "Ada")).await;
    assert_eq!(again.status, 201, "{}", again.text());
    // The same answer, byte for byte: same order, same Location, same content type.
    assert_eq!(again.body, first.body);
    for header in ["content-type", "location"] {
        assert_eq!(
            again.headers.get(header),
            first.headers.get(header),
            "{header}"
        );
    }
    let id = order_id(&first);
    assert_eq!(
        common::stock(addr, 2).await,
        before - 3,
        "the stock was taken twice"
    );
    assert_error(&get(addr, &format!("/orders/{}", id + 1)).await, 404);

    // The same key with another body.
    let other = order_with_keys(addr, &["key-1"], order(2, 1, "Ada")).await;
    assert_error(&other, 422);
    assert_eq!(common::stock(addr, 2).await, before - 3);
    // Another key is another order; a key sent twice is refused.
    let second = order_with_keys(addr, &["key-2"], order(2, 3, "Ada")).await;
    assert_eq!(order_id(&second), id + 1);
    assert_error(
        &order_with_keys(addr, &["key-3", "key-4"], order(2, 1, "Ada")).await,
        400,
    );
    // A request that failed gives its key back: the retry runs, with any body.
    assert_error(
        &order_with_keys(addr, &["key-5"], order(7, 1, "Ada")).await,
        409,
    );
    let retried = order_with_keys(addr, &["key-5"], order(2, 1, "Ada")).await;
    assert_eq!(retried.status, 201, "{}", retried.text());
    // Without a key, the same body is a new order each time.
    let plain = post(addr, "/orders", order(2, 3, "Ada")).await;
    assert_eq!(order_id(&plain), id + 3);

    let buggy = common::start(Variant::Buggy);
    let addr = buggy.addr();
    let before = common::stock(addr, 2).await;
    let first = order_with_keys(addr, &["key-1"], order(2, 3, "Ada")).await;
    let again = order_with_keys(addr, &["key-1"], order(2, 3, "Ada")).await;
    assert_eq!((first.status.as_u16(), again.status.as_u16()), (201, 201));
    assert_ne!(order_id(&first), order_id(&again));
    assert_eq!(common::stock(addr, 2).await, before - 6);
    let other = order_with_keys(addr, &["key-1"], order(2, 1, "Ada")).await;
    assert_eq!(other.status, 201);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_key_sent_together_places_one_order_in_the_correct_twin() {
    let headers = [("idempotency-key", "burst")];
    let body = order(2, 1, "tab");

    let correct = common::start(Variant::Correct);
    let before = common::stock(correct.addr(), 2).await;
    let (responses, _) = burst_to(correct.addr(), 10, "/orders", &headers, &body).await;
    let mut ids = BTreeSet::new();
    for response in &responses {
        match response.status.as_u16() {
            201 => {
                ids.insert(order_id(response));
            }
            _ => assert_error(response, 409),
        }
    }
    assert_eq!(ids.len(), 1, "{ids:?}");
    assert_eq!(common::stock(correct.addr(), 2).await, before - 1);

    let buggy = common::start(Variant::Buggy);
    let (responses, _) = burst_to(buggy.addr(), 10, "/orders", &headers, &body).await;
    let ids: BTreeSet<u64> = responses.iter().map(order_id).collect();
    assert_eq!(ids.len(), 10, "{ids:?}");
}

/// Opens `n` connections that each send the head of a `POST /orders` declaring 100 bytes
/// of body, and only the first 5 of them.
async fn slow_uploads(addr: SocketAddr, n: usize) -> Vec<TcpStream> {
    let mut streams = Vec::with_capacity(n);
    for _ in 0..n {
        let mut stream = TcpStream::connect(addr).await.expect("connect");
        stream
            .write_all(
                b"POST /orders HTTP/1.1\r\nHost: demo\r\nContent-Type: application/json\r\n\
                  Content-Length: 100\r\n\r\n{\"pro",
            )
            .await
            .expect("the head");
        streams.push(stream);
    }
    streams
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_uploads_starve_every_request_only_in_the_buggy_variant() {
    for variant in [Variant::Buggy, Variant::Correct] {
        let demo = common::start(variant);
        let addr = demo.addr();
        let uploads = slow_uploads(addr, 32).await;
        // Time for the service to read the 32 heads.
        tokio::time::sleep(Duration::from_millis(300)).await;
        let started = Instant::now();
        let health = tokio::time::timeout(Duration::from_secs(2), get(addr, "/health")).await;
        match variant {
            Variant::Buggy => assert!(
                health.is_err(),
                "GET /health was answered while 32 uploads held every reader"
            ),
            Variant::Correct => {
                let health = health.expect("GET /health is answered at once");
                assert_eq!(health.status, 200);
                assert!(started.elapsed() < Duration::from_secs(1));
            }
        }
        drop(uploads);
        // Once the slow clients are gone, the buggy variant recovers.
        let health = tokio::time::timeout(Duration::from_secs(5), get(addr, "/health"))
            .await
            .expect("GET /health is answered once the uploads are closed");
        assert_eq!(health.status, 200, "{variant}");
    }
}

/// Sends the start of a request head, then waits up to `wait` for the service to close the
/// connection. Returns whether it did.
async fn closes_a_slow_head(addr: SocketAddr, wait: Duration) -> bool {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    stream
        .write_all(b"GET /health HTTP/1.1\r\nHo")
        .await
        .expect("a partial head");
    let mut buffer = [0u8; 256];
    match tokio::time::timeout(wait, stream.read(&mut buffer)).await {
        Err(_) => false,
        // Closed (or reset) without an answer.
        Ok(Ok(0) | Err(_)) => true,
        Ok(Ok(n)) => panic!(
            "an answer to half a head: {}",
            String::from_utf8_lossy(&buffer[..n])
        ),
    }
}

#[tokio::test]
async fn only_the_correct_twin_times_out_slow_headers() {
    let buggy = common::start(Variant::Buggy);
    let correct = common::start(Variant::Correct);
    let (buggy_closed, correct_closed) = tokio::join!(
        closes_a_slow_head(buggy.addr(), Duration::from_secs(6)),
        closes_a_slow_head(correct.addr(), Duration::from_secs(8)),
    );
    assert!(!buggy_closed, "the buggy variant closed a slow head");
    assert!(correct_closed, "the correct twin kept a slow head open");
}
