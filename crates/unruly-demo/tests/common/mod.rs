//! Helpers shared by the demo's integration tests.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

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
    let mut connections = Vec::with_capacity(n);
    for _ in 0..n {
        connections.push(Connection::open(addr).await.expect("connect"));
    }
    let barrier = Arc::new(Barrier::new(n + 1));
    let mut tasks = JoinSet::new();
    for mut connection in connections {
        let barrier = Arc::clone(&barrier);
        let body = body.to_owned();
        tasks.spawn(async move {
            barrier.wait().await;
            let response = connection
                .post_json("/orders", body)
                .await
                .expect("a response");
            response.status.as_u16()
        });
    }
    barrier.wait().await;
    let started = Instant::now();
    let mut statuses = Vec::with_capacity(n);
    while let Some(status) = tasks.join_next().await {
        statuses.push(status.expect("the task finishes"));
    }
    (statuses, started.elapsed())
}

/// How many of `statuses` are `status`.
pub fn count(statuses: &[u16], status: u16) -> usize {
    statuses.iter().filter(|&&s| s == status).count()
}
