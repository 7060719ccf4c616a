//! What both variants do alike: the happy paths and the documented errors.

mod common;

use common::{assert_error, get, json, order, post};
use hyper::Method;
use unruly_demo::{serve, DemoHandle, Variant};
use unruly_testkit::client::{ClientError, Connection};

const VARIANTS: [Variant; 2] = [Variant::Buggy, Variant::Correct];

#[tokio::test]
async fn health_and_products() {
    for variant in VARIANTS {
        let demo = common::start(variant);
        assert!(demo.addr().ip().is_loopback());
        assert_eq!(
            demo.base_url(),
            format!("http://127.0.0.1:{}", demo.addr().port())
        );
        let addr = demo.addr();

        let health = get(addr, "/health").await;
        assert_eq!(health.status, 200);
        assert_eq!(json(&health), serde_json::json!({"status": "ok"}));

        let products = json(&get(addr, "/products").await);
        let products = products.as_array().expect("an array");
        assert_eq!(products.len(), 20);
        for (index, product) in products.iter().enumerate() {
            assert_eq!(product["id"].as_u64(), Some(index as u64 + 1));
            assert!(product["name"].as_str().is_some_and(|n| !n.is_empty()));
            assert!(product["price_cents"].as_i64().is_some_and(|p| p >= 0));
            assert!(product["stock"].as_i64().is_some_and(|s| s >= 0));
        }
        let five = json(&get(addr, "/products?limit=5").await);
        assert_eq!(five.as_array().map(Vec::len), Some(5));
        assert_eq!(
            json(&get(addr, "/products?limit=100").await)
                .as_array()
                .map(Vec::len),
            Some(20)
        );
        assert_eq!(
            common::header(
                &get(addr, "/products?limit=7").await.headers,
                "x-total-pages"
            ),
            Some("3")
        );
        // (0 is a planted bug of the buggy variant: see buggy.rs.)
        for bad in [
            "101",
            "-1",
            "abc",
            "",
            "1.5",
            "99999999999999999999999",
            "%2B5",
            "05",
        ] {
            assert_error(&get(addr, &format!("/products?limit={bad}")).await, 400);
        }

        let one = get(addr, "/products/1").await;
        assert_eq!(one.status, 200);
        assert_eq!(json(&one), products[0]);
        assert_eq!(json(&get(addr, "/products/20").await)["id"], 20);
    }
}

#[tokio::test]
async fn search_finds_by_name_ignoring_case() {
    for variant in VARIANTS {
        let demo = common::start(variant);
        let found = json(&get(demo.addr(), "/search?q=TEA").await);
        let names: Vec<&str> = found
            .as_array()
            .expect("an array")
            .iter()
            .filter_map(|p| p["name"].as_str())
            .collect();
        assert!(!names.is_empty());
        assert!(
            names.iter().all(|n| n.to_lowercase().contains("tea")),
            "{names:?}"
        );
        let none = json(&get(demo.addr(), "/search?q=zeppelin").await);
        assert_eq!(none, serde_json::json!([]));
        let spaced = json(&get(demo.addr(), "/search?q=french+press").await);
        assert_eq!(spaced.as_array().map(Vec::len), Some(1));
        let long = "a".repeat(101);
        assert_error(&get(demo.addr(), &format!("/search?q={long}")).await, 400);
        assert_error(&get(demo.addr(), "/search?q=%ff").await, 400);
    }
}

#[tokio::test]
async fn orders_are_placed_and_read_back() {
    for variant in VARIANTS {
        let demo = common::start(variant);
        let addr = demo.addr();
        let before = common::stock(addr, 2).await;
        let created = post(addr, "/orders", order(2, 3, "Ada")).await;
        assert_eq!(created.status, 201, "{}", created.text());
        let body = json(&created);
        let id = body["id"].as_u64().expect("an id");
        assert_eq!(body["product_id"], 2);
        assert_eq!(body["quantity"], 3);
        assert_eq!(body["customer"], "Ada");
        assert_eq!(body["total_cents"], 3 * 1500);
        let location = created
            .headers
            .get("location")
            .and_then(|v| v.to_str().ok());
        assert_eq!(location, Some(format!("/orders/{id}").as_str()));
        assert_eq!(common::stock(addr, 2).await, before - 3);

        let read = get(addr, &format!("/orders/{id}")).await;
        assert_eq!(read.status, 200);
        assert_eq!(json(&read), body);

        assert_error(&get(addr, "/orders/999").await, 404);
        assert_error(&get(addr, "/orders/0").await, 400);
        assert_error(&get(addr, "/orders/abc").await, 400);
    }
}

#[tokio::test]
async fn order_errors_are_documented_ones() {
    for variant in VARIANTS {
        let demo = common::start(variant);
        let addr = demo.addr();
        for malformed in ["", "{", "not json", "[1,2]", "{\"product_id\":1}"] {
            assert_error(&post(addr, "/orders", malformed).await, 400);
        }
        assert_error(&post(addr, "/orders", order(21, 1, "a")).await, 404);
        assert_error(&post(addr, "/orders", order(7, 1, "a")).await, 409);
        assert_error(&post(addr, "/orders", order(1, 1, "")).await, 400);
        assert_error(&post(addr, "/orders", order(1, 0, "a")).await, 400);

        let huge = format!(
            r#"{{"product_id":1,"quantity":1,"customer":"{}"}}"#,
            "x".repeat(2 << 20)
        );
        assert_error(&post(addr, "/orders", huge).await, 413);
        // Just past the cap, with the connection kept for the next request.
        let mut connection = Connection::open(addr).await.expect("connect");
        let over = connection
            .post_json("/orders", vec![b' '; (1 << 20) + 1])
            .await
            .expect("a response");
        assert_error(&over, 413);
        assert_eq!(
            connection.get("/health").await.expect("a response").status,
            200
        );
    }
}

#[tokio::test]
async fn bodies_must_be_declared_as_json() {
    for variant in VARIANTS {
        let demo = common::start(variant);
        let addr = demo.addr();
        let bodies = [
            ("/orders", order(1, 1, "Ada")),
            ("/users", common::user("Ada", "ada@example.com")),
        ];
        for (path, body) in bodies {
            for content_type in [
                None,
                Some("text/plain"),
                Some("application/x-www-form-urlencoded"),
                Some("application/jsonx"),
            ] {
                let response = common::send(
                    addr,
                    Method::POST,
                    path,
                    content_type,
                    Some(body.clone().into()),
                )
                .await;
                assert_error(&response, 415);
            }
            let response = common::send(
                addr,
                Method::POST,
                path,
                Some("Application/JSON; charset=utf-8"),
                Some(body.into()),
            )
            .await;
            assert_eq!(
                response.status,
                201,
                "{variant} {path}: {}",
                response.text()
            );
        }
    }
}

#[tokio::test]
async fn users_are_registered_and_read_back() {
    for variant in VARIANTS {
        let demo = common::start(variant);
        let addr = demo.addr();
        let created = post(
            addr,
            "/users",
            common::user("Ada Lovelace", "ada@example.com"),
        )
        .await;
        assert_eq!(created.status, 201, "{}", created.text());
        assert_eq!(json(&created), serde_json::json!({"id": 1}));
        assert_eq!(
            common::header(&created.headers, "location"),
            Some("/users/1")
        );
        let second = common::create_user(addr, "Zoë Ñ 2", "zoe@example.org").await;
        assert_eq!(second, 2);

        let ada = json(&get(addr, "/users/1").await);
        assert_eq!(ada["id"], 1);
        assert_eq!(ada["name"], "Ada Lovelace");
        assert_eq!(ada["email"], "ada@example.com");
        assert_eq!(ada["display_name"], "Ada Lovelace");
        let created_at = ada["created_at"].as_str().expect("a date-time");
        assert!(
            created_at.len() == 24
                && created_at.as_bytes()[10] == b'T'
                && created_at.ends_with('Z'),
            "{created_at}"
        );
        assert_eq!(json(&get(addr, "/users/2").await)["display_name"], "Zo  2");

        assert_error(&get(addr, "/users/3").await, 404);
        for bad in ["0", "-1", "abc", "1.0", "+1", "01", "99999999999999999999"] {
            assert_error(&get(addr, &format!("/users/{bad}")).await, 400);
        }
    }
}

#[tokio::test]
async fn user_errors_are_documented_ones() {
    for variant in VARIANTS {
        let demo = common::start(variant);
        let addr = demo.addr();
        let long = "x".repeat(65);
        let bodies = [
            "".to_owned(),
            "{".to_owned(),
            "null".to_owned(),
            "[]".to_owned(),
            r#"{"name":"Ada"}"#.to_owned(),
            r#"{"email":"ada@example.com"}"#.to_owned(),
            common::user("", "ada@example.com"),
            common::user(&long, "ada@example.com"),
            common::user("Ada", "ada@"),
            common::user("Ada", "ada@example..com"),
            r#"{"name":7,"email":"ada@example.com"}"#.to_owned(),
            r#"{"name":"Ada","email":null}"#.to_owned(),
        ];
        for body in bodies {
            assert_error(&post(addr, "/users", body).await, 400);
        }
        let huge = common::user(&"x".repeat(2 << 20), "ada@example.com");
        assert_error(&post(addr, "/users", huge).await, 413);
        // Nothing was registered.
        assert_error(&get(addr, "/users/1").await, 404);
    }
}

#[tokio::test]
async fn accounts_are_opened_read_back_and_debited() {
    for variant in VARIANTS {
        let demo = common::start(variant);
        let addr = demo.addr();
        let created = post(addr, "/accounts", r#"{"owner":"Ada","balance":100}"#).await;
        assert_eq!(created.status, 201, "{}", created.text());
        assert_eq!(
            json(&created),
            serde_json::json!({"id": 1, "owner": "Ada", "balance": 100})
        );
        assert_eq!(
            common::header(&created.headers, "location"),
            Some("/accounts/1")
        );
        assert_eq!(json(&get(addr, "/accounts/1").await), json(&created));

        let debited = post(addr, "/accounts/1/withdrawals", r#"{"amount":60}"#).await;
        assert_eq!(debited.status, 200, "{}", debited.text());
        assert_eq!(
            json(&debited),
            serde_json::json!({"id": 1, "owner": "Ada", "balance": 40})
        );
        // More than is left.
        assert_error(
            &post(addr, "/accounts/1/withdrawals", r#"{"amount":60}"#).await,
            409,
        );
        // Integers may be written with a fraction of zero, as JSON Schema counts them.
        let exact = post(addr, "/accounts/1/withdrawals", r#"{"amount":40.0}"#).await;
        assert_eq!(json(&exact)["balance"], 0);
        assert_eq!(json(&get(addr, "/accounts/1").await)["balance"], 0);

        let rich = post(addr, "/accounts", r#"{"owner":"é","balance":1000000}"#).await;
        assert_eq!(json(&rich)["id"], 2);
    }
}

#[tokio::test]
async fn account_errors_are_documented_ones() {
    for variant in VARIANTS {
        let demo = common::start(variant);
        let addr = demo.addr();
        for body in [
            "",
            "{",
            "null",
            r#"{"owner":"Ada"}"#,
            r#"{"balance":1}"#,
            r#"{"owner":"","balance":1}"#,
            r#"{"owner":"Ada","balance":-1}"#,
            r#"{"owner":"Ada","balance":1000001}"#,
            r#"{"owner":"Ada","balance":0.5}"#,
            r#"{"owner":7,"balance":1}"#,
        ] {
            assert_error(&post(addr, "/accounts", body).await, 400);
        }
        let long = serde_json::json!({"owner": "x".repeat(65), "balance": 1}).to_string();
        assert_error(&post(addr, "/accounts", long).await, 400);
        assert_error(&get(addr, "/accounts/1").await, 404);
        assert_error(
            &post(addr, "/accounts/1/withdrawals", r#"{"amount":1}"#).await,
            404,
        );
        post(addr, "/accounts", r#"{"owner":"Ada","balance":10}"#).await;
        for bad in ["0", "-1", "abc", "1.0", "+1", "01", "99999999999999999999"] {
            assert_error(&get(addr, &format!("/accounts/{bad}")).await, 400);
            let path = format!("/accounts/{bad}/withdrawals");
            assert_error(&post(addr, &path, r#"{"amount":1}"#).await, 400);
        }
        for body in [
            "",
            "[]",
            r#"{"amount":0}"#,
            r#"{"amount":-5}"#,
            r#"{"amount":1000001}"#,
            r#"{"amount":"1"}"#,
            r#"{}"#,
        ] {
            assert_error(&post(addr, "/accounts/1/withdrawals", body).await, 400);
        }
        for path in ["/accounts", "/accounts/1/withdrawals"] {
            let response = common::send(
                addr,
                Method::POST,
                path,
                Some("text/plain"),
                Some(r#"{"owner":"Ada","balance":1,"amount":1}"#.into()),
            )
            .await;
            assert_error(&response, 415);
            let huge = format!(r#"{{"owner":"{}","balance":1}}"#, "x".repeat(2 << 20));
            assert_error(&post(addr, path, huge).await, 413);
        }
        assert_eq!(json(&get(addr, "/accounts/1").await)["balance"], 10);
    }
}

#[tokio::test]
async fn unknown_routes_and_methods() {
    for variant in VARIANTS {
        let demo = common::start(variant);
        let addr = demo.addr();
        for path in [
            "/",
            "/nope",
            "/products/",
            "/products/1/x",
            "/orders/",
            "/health/",
            "/users/",
            "/users/1/x",
            "/accounts/",
            "/accounts/1/x",
            "/accounts/1/withdrawals/",
            "/accounts//withdrawals",
        ] {
            assert_error(&get(addr, path).await, 404);
        }
        let mut connection = Connection::open(addr).await.expect("connect");
        for (method, path, allow) in [
            (Method::POST, "/health", "GET"),
            (Method::DELETE, "/products/1", "GET"),
            (Method::GET, "/orders", "POST"),
            (Method::PUT, "/orders/1", "GET"),
            (Method::GET, "/users", "POST"),
            (Method::DELETE, "/users/1", "GET"),
            (Method::GET, "/accounts", "POST"),
            (Method::POST, "/accounts/1", "GET"),
            (Method::GET, "/accounts/1/withdrawals", "POST"),
            (Method::PUT, "/accounts/x/withdrawals", "POST"),
        ] {
            let response = connection
                .send(method, path, None)
                .await
                .expect("a response");
            assert_error(&response, 405);
            assert_eq!(
                response.headers.get("allow").and_then(|v| v.to_str().ok()),
                Some(allow)
            );
        }
    }
}

#[tokio::test]
async fn keep_alive_serves_many_requests_on_one_connection() {
    let demo = common::start(Variant::Correct);
    let mut connection = Connection::open(demo.addr()).await.expect("connect");
    for _ in 0..50 {
        assert_eq!(
            connection.get("/health").await.expect("a response").status,
            200
        );
    }
}

#[tokio::test]
async fn h2c_with_prior_knowledge() {
    use http_body_util::{BodyExt, Empty};
    use hyper_util::rt::{TokioExecutor, TokioIo};

    let demo = common::start(Variant::Correct);
    let stream = tokio::net::TcpStream::connect(demo.addr())
        .await
        .expect("connect");
    let (mut sender, connection) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(stream))
            .await
            .expect("an HTTP/2 handshake");
    let driver = tokio::spawn(connection);
    let request = hyper::Request::get(format!("{}/health", demo.base_url()))
        .body(Empty::<bytes::Bytes>::new())
        .expect("a request");
    let response = sender.send_request(request).await.expect("a response");
    assert_eq!(response.status(), 200);
    assert_eq!(response.version(), hyper::Version::HTTP_2);
    let body = response
        .into_body()
        .collect()
        .await
        .expect("a body")
        .to_bytes();
    assert_eq!(&body[..], br#"{"status":"ok"}"#);
    drop(sender);
    let _ = driver.await;
}

#[tokio::test]
async fn stop_closes_the_port() {
    let demo = DemoHandle::start(Variant::Buggy).expect("start");
    let addr = demo.addr();
    assert_eq!(demo.variant(), Variant::Buggy);
    assert_eq!(get(addr, "/health").await.status, 200);
    // An idle keep-alive connection must not hold the stop up.
    let _idle = Connection::open(addr).await.expect("connect");
    demo.stop();
    match unruly_testkit::client::get(addr, "/health").await {
        Err(ClientError::Connect { .. }) => {}
        other => panic!("expected a refused connection, got {other:?}"),
    }
}

#[tokio::test]
async fn serve_runs_until_its_shutdown_signal() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("an address");
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(serve(listener, Variant::Correct, async {
        let _ = rx.await;
    }));
    assert_eq!(get(addr, "/health").await.status, 200);
    let _ = tx.send(());
    let result = tokio::time::timeout(std::time::Duration::from_secs(5), server)
        .await
        .expect("serve returns promptly")
        .expect("serve does not panic");
    assert!(result.is_ok());
}

#[tokio::test]
async fn hostile_requests_never_bring_it_down() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    for variant in VARIANTS {
        let demo = common::start(variant);
        let addr = demo.addr();
        let junk: [&[u8]; 6] = [
            b"\x00\x01\x02\r\n\r\n",
            b"GET /products/%ff%fe HTTP/1.1\r\nHost: x\r\n\r\n",
            b"POST /orders HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999\r\n\r\n{",
            b"POST /orders HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
            b"GET /search?q=%27%27%27%27 HTTP/1.1\r\nHost: x\r\n\r\n",
            b"GET /products?limit=%00 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        ];
        for bytes in junk {
            let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
            let _ = stream.write_all(bytes).await;
            let _ = stream.shutdown().await;
            let mut answer = Vec::new();
            let _ = stream.read_to_end(&mut answer).await;
        }
        assert_eq!(get(addr, "/health").await.status, 200);
    }
}
