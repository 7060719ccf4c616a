//! Helpers shared by the demo's integration tests.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::header::{HeaderName, HeaderValue, CONTENT_TYPE};
use hyper::{HeaderMap, Method};
use serde_json::Value;
use tokio::sync::Barrier;
use tokio::task::JoinSet;
use unruly_demo::{DemoHandle, Variant};
use unruly_testkit::client::{self, Connection, TestResponse};

/// Starts a variant, failing the test if it cannot.
pub fn start(variant: Variant) -> DemoHandle {
    DemoHandle::start(variant).expect("the demo starts")
}

/// `GET path` on a fresh connection.
pub async fn get(addr: SocketAddr, path: &str) -> TestResponse {
    client::get(addr, path).await.expect("a response")
}

/// `POST path` with a body on a fresh connection.
pub async fn post(addr: SocketAddr, path: &str, body: impl Into<bytes::Bytes>) -> TestResponse {
    client::post_json(addr, path, body)
        .await
        .expect("a response")
}

/// `method path` on a fresh connection, with the body (if any) sent as `content_type`
/// (`None`: no `Content-Type` at all).
pub async fn send(
    addr: SocketAddr,
    method: Method,
    path: &str,
    content_type: Option<&str>,
    body: Option<Bytes>,
) -> TestResponse {
    send_with(addr, method, path, content_type, &[], body).await
}

/// As [`send`], with more headers (each appended, so a name may repeat).
pub async fn send_with(
    addr: SocketAddr,
    method: Method,
    path: &str,
    content_type: Option<&str>,
    headers: &[(&str, HeaderValue)],
    body: Option<Bytes>,
) -> TestResponse {
    let mut connection = Connection::open(addr).await.expect("connect");
    let mut request = connection
        .build(method, path, body)
        .expect("a valid request");
    request.headers_mut().remove(CONTENT_TYPE);
    if let Some(content_type) = content_type {
        request
            .headers_mut()
            .insert(CONTENT_TYPE, content_type.parse().expect("a header value"));
    }
    for (name, value) in headers {
        let name = HeaderName::from_bytes(name.as_bytes()).expect("a header name");
        request.headers_mut().append(name, value.clone());
    }
    let response = connection
        .send_streaming(request)
        .await
        .expect("a response");
    let (parts, body) = response.into_parts();
    let body = body.collect().await.expect("a body").to_bytes();
    TestResponse {
        status: parts.status,
        headers: parts.headers,
        body,
    }
}

/// The headers of a response, for a test that needs one.
pub fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// A `POST /users` body.
pub fn user(name: &str, email: &str) -> String {
    serde_json::json!({"name": name, "email": email}).to_string()
}

/// Registers a user and returns its id, failing the test unless it is a 201.
pub async fn create_user(addr: SocketAddr, name: &str, email: &str) -> u64 {
    let response = post(addr, "/users", user(name, email)).await;
    assert_eq!(response.status, 201, "{name:?}: {}", response.text());
    json(&response)["id"].as_u64().expect("an id")
}

/// The body of a response, as JSON; fails the test if it is not JSON with a JSON content type.
pub fn json(response: &TestResponse) -> Value {
    assert_eq!(
        response.content_type(),
        Some("application/json"),
        "status {}: {}",
        response.status,
        response.text()
    );
    serde_json::from_slice(&response.body).expect("a JSON body")
}

/// Asserts an `{"error": string}` body with the given status.
pub fn assert_error(response: &TestResponse, status: u16) {
    assert_eq!(response.status, status, "{}", response.text());
    let body = json(response);
    assert!(body["error"].is_string(), "{body}");
    assert_eq!(body.as_object().map(|o| o.len()), Some(1), "{body}");
}

/// A `POST /orders` body.
pub fn order(product_id: i64, quantity: i64, customer: &str) -> String {
    serde_json::json!({"product_id": product_id, "quantity": quantity, "customer": customer})
        .to_string()
}

/// The stock a product shows.
pub async fn stock(addr: SocketAddr, product_id: i64) -> i64 {
    let response = get(addr, &format!("/products/{product_id}")).await;
    json(&response)["stock"].as_i64().expect("a stock")
}

/// Sends `n` identical orders at once, each on its own connection (all opened first, then
/// released together), and returns their statuses and how long the burst took.
pub async fn burst(addr: SocketAddr, n: usize, body: &str) -> (Vec<u16>, Duration) {
    let (responses, took) = burst_to(addr, n, "/orders", &[], body).await;
    let statuses = responses.iter().map(|r| r.status.as_u16()).collect();
    (statuses, took)
}

/// Sends `n` identical `POST path` requests with a JSON body and these extra headers at
/// once, each on its own connection (all opened first, then released together), and
/// returns their responses (in the order they finished) and how long the burst took.
pub async fn burst_to(
    addr: SocketAddr,
    n: usize,
    path: &str,
    headers: &[(&'static str, &str)],
    body: &str,
) -> (Vec<TestResponse>, Duration) {
    let mut requests = Vec::with_capacity(n);
    for _ in 0..n {
        let connection = Connection::open(addr).await.expect("connect");
        let mut request = connection
            .build(Method::POST, path, Some(Bytes::from(body.to_owned())))
            .expect("a valid request");
        for (name, value) in headers {
            request
                .headers_mut()
                .append(*name, value.parse().expect("a header value"));
        }
        requests.push((connection, request));
    }
    let barrier = Arc::new(Barrier::new(n + 1));
    let mut tasks = JoinSet::new();
    for (mut connection, request) in requests {
        let barrier = Arc::clone(&barrier);
        tasks.spawn(async move {
            barrier.wait().await;
            let response = connection
                .send_streaming(request)
                .await
                .expect("a response");
            let (parts, body) = response.into_parts();
            let body = body.collect().await.expect("a body").to_bytes();
            TestResponse {
                status: parts.status,
                headers: parts.headers,
                body,
            }
        });
    }
    barrier.wait().await;
    let started = Instant::now();
    let mut responses = Vec::with_capacity(n);
    while let Some(response) = tasks.join_next().await {
        responses.push(response.expect("the task finishes"));
    }
    (responses, started.elapsed())
}

/// How many of `statuses` are `status`.
pub fn count(statuses: &[u16], status: u16) -> usize {
    statuses.iter().filter(|&&s| s == status).count()
}
