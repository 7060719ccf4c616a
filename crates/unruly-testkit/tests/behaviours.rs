//! Every behaviour of `TestServer`, against real sockets.

use std::io::ErrorKind;
use std::time::{Duration, Instant};

use http_body_util::BodyExt;
use hyper::Method;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use unruly_testkit::client::{self, ClientError, Connection};
use unruly_testkit::{Behaviour, TestServer};

const HEAD: &[u8] = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";

#[tokio::test]
async fn fast_answers_hello_world_with_keep_alive() {
    let server = TestServer::start(Behaviour::Fast).expect("start");
    assert!(server.addr().ip().is_loopback());
    assert_eq!(
        server.url(),
        format!("http://127.0.0.1:{}/", server.addr().port())
    );

    let mut conn = Connection::open(server.addr()).await.expect("connect");
    for _ in 0..3 {
        let response = conn.get("/").await.expect("request");
        assert_eq!(response.status, 200);
        assert_eq!(response.text(), "hello world\n");
        assert!(response
            .content_type()
            .unwrap_or("")
            .starts_with("text/plain"));
    }
    let response = conn
        .post_json("/anything", vec![b'{'; 100_000])
        .await
        .expect("request with a body");
    assert_eq!(response.status, 200);
    assert_eq!(server.requests(), 4);
    assert_eq!(server.connections(), 1);
}

#[tokio::test]
async fn status_is_always_the_given_one() {
    let server = TestServer::start(Behaviour::Status(503)).expect("start");
    let response = client::get(server.addr(), "/x").await.expect("request");
    assert_eq!(response.status, 503);
    assert_eq!(response.text(), "status 503\n");

    let server = TestServer::start(Behaviour::Status(204)).expect("start");
    let response = client::get(server.addr(), "/").await.expect("request");
    assert_eq!(response.status, 204);
    assert!(response.body.is_empty());
}

#[test]
fn invalid_status_is_refused() {
    for code in [0, 42, 101, 1000] {
        let err = TestServer::start(Behaviour::Status(code)).expect_err("invalid status");
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{code}");
    }
}

#[tokio::test]
async fn garbage_is_a_parse_error_for_hyper() {
    let server = TestServer::start(Behaviour::Garbage).expect("start");
    match client::get(server.addr(), "/").await {
        Err(ClientError::Http(e)) => assert!(e.is_parse(), "expected a parse error, got {e:?}"),
        other => panic!("expected a parse error, got {other:?}"),
    }

    let mut stream = TcpStream::connect(server.addr()).await.expect("connect");
    stream.write_all(HEAD).await.expect("write");
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.expect("read");
    assert_eq!(answer, b"\x00\x01garbage\r\n\r\n");
    assert_eq!(server.requests(), 2);
}

#[tokio::test]
async fn reset_is_econnreset() {
    let server = TestServer::start(Behaviour::Reset).expect("start");
    let mut stream = TcpStream::connect(server.addr()).await.expect("connect");
    stream.write_all(HEAD).await.expect("write");
    let mut buf = [0u8; 64];
    let err = stream.read(&mut buf).await.expect_err("a reset");
    assert_eq!(err.kind(), ErrorKind::ConnectionReset);
    assert_eq!(server.requests(), 1);
    assert_eq!(server.connections(), 1);
}

#[tokio::test]
async fn endless_body_streams_more_than_a_mebibyte() {
    let server = TestServer::start(Behaviour::EndlessBody).expect("start");
    let mut conn = Connection::open(server.addr()).await.expect("connect");
    let request = conn.build(Method::GET, "/", None).expect("request");
    let response = conn.send_streaming(request).await.expect("response head");
    assert_eq!(response.status(), 200);
    assert_eq!(
        response
            .headers()
            .get("transfer-encoding")
            .map(|v| v.as_bytes()),
        Some(&b"chunked"[..])
    );
    let mut body = response.into_body();
    let mut read = 0usize;
    while read <= 4 * 1024 * 1024 {
        let frame = body.frame().await.expect("no end").expect("a frame");
        if let Ok(data) = frame.into_data() {
            assert!(data.iter().all(|&b| b == b'x'));
            read += data.len();
        }
    }
    // Going away mid-body must not trouble the server, and it must still stop promptly.
    drop(body);
    drop(conn);
    let started = Instant::now();
    drop(server);
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn endless_body_is_capped_by_the_client() {
    let server = TestServer::start(Behaviour::EndlessBody).expect("start");
    match client::get(server.addr(), "/").await {
        Err(ClientError::BodyTooLarge { limit }) => assert_eq!(limit, client::MAX_BODY),
        other => panic!("expected BodyTooLarge, got {other:?}"),
    }
}

#[tokio::test]
async fn slow_waits_before_every_answer() {
    let wait = Duration::from_millis(150);
    let server = TestServer::start(Behaviour::Slow(wait)).expect("start");
    let mut conn = Connection::open(server.addr()).await.expect("connect");
    for _ in 0..2 {
        let started = Instant::now();
        let response = conn.get("/").await.expect("request");
        assert_eq!(response.status, 200);
        assert!(started.elapsed() >= wait);
    }
}

#[tokio::test]
async fn delay_slows_only_the_prefix() {
    let delay = Duration::from_millis(300);
    let server = TestServer::start(Behaviour::Delay {
        path_prefix: "/slow".to_owned(),
        delay,
    })
    .expect("start");
    let mut conn = Connection::open(server.addr()).await.expect("connect");

    let started = Instant::now();
    assert_eq!(conn.get("/fast").await.expect("fast").status, 200);
    assert!(started.elapsed() < delay);

    let started = Instant::now();
    assert_eq!(conn.get("/slow/path?x=1").await.expect("slow").status, 200);
    assert!(started.elapsed() >= delay);
}

#[tokio::test]
async fn body_size_is_exact() {
    for len in [0usize, 1, 100_000, 1_000_001] {
        let server = TestServer::start(Behaviour::BodySize(len)).expect("start");
        let response = client::get(server.addr(), "/").await.expect("request");
        assert_eq!(response.status, 200);
        let content_length = response
            .headers
            .get("content-length")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        assert_eq!(content_length, Some(len.to_string()));
        assert_eq!(response.body.len(), len);
        assert!(response.body.iter().all(|&b| b == b'x'));
    }
}

#[tokio::test]
async fn stall_once_freezes_once() {
    let after = Duration::from_millis(100);
    let stall = Duration::from_millis(500);
    let server = TestServer::start(Behaviour::StallOnce { after, stall }).expect("start");
    let mut conn = Connection::open(server.addr()).await.expect("connect");

    // The first request starts the clock and is answered at once.
    let t0 = Instant::now();
    assert_eq!(conn.get("/").await.expect("first").status, 200);
    assert!(t0.elapsed() < after);

    // A request inside the stall window waits until its end (t0 + 600 ms, seen from here).
    tokio::time::sleep_until((t0 + Duration::from_millis(150)).into()).await;
    let started = Instant::now();
    assert_eq!(conn.get("/").await.expect("stalled").status, 200);
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(350),
        "stalled request took only {took:?}"
    );
    assert!(
        took < Duration::from_secs(3),
        "stalled request took {took:?}"
    );

    // After the window, answers are fast again.
    let started = Instant::now();
    assert_eq!(conn.get("/").await.expect("after").status, 200);
    assert!(started.elapsed() < Duration::from_millis(300));
    assert_eq!(server.requests(), 3);
}

#[tokio::test]
async fn dropping_the_server_closes_its_port() {
    let server = TestServer::start(Behaviour::Fast).expect("start");
    let addr = server.addr();
    assert_eq!(client::get(addr, "/").await.expect("request").status, 200);
    drop(server);
    match client::get(addr, "/").await {
        Err(ClientError::Connect { .. }) => {}
        other => panic!("expected a refused connection, got {other:?}"),
    }
}

#[tokio::test]
async fn hostile_clients_do_not_stop_the_server() {
    let server = TestServer::start(Behaviour::Fast).expect("start");
    // Garbage, a half request, an oversized header, then silence.
    for junk in [
        &b"\x00\x01\x02\r\n\r\n"[..],
        b"GET / HTTP/1.1\r\nHost",
        &[b'a'; 200_000][..],
    ] {
        let mut stream = TcpStream::connect(server.addr()).await.expect("connect");
        let _ = stream.write_all(junk).await;
        drop(stream);
    }
    assert_eq!(
        client::get(server.addr(), "/")
            .await
            .expect("request")
            .status,
        200
    );
    assert_eq!(server.connections(), 4);
}
