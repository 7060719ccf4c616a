//! `TestServer::start_tls`: the certificate, the ALPN offer and the HTTP/2 counter, with a
//! real rustls client that trusts the server's own certificate.

use std::io::ErrorKind;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper::client::conn::{http1, http2};
use hyper::{Request, StatusCode, Version};
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName};
use tokio_rustls::rustls::{self, ClientConfig, RootCertStore};
use tokio_rustls::TlsConnector;
use unruly_testkit::{Behaviour, TestServer, TlsAlpn};

/// Connects to `server` trusting only its certificate, offering `alpn`, checking the
/// certificate against `name`.
async fn connect(server: &TestServer, name: &str, alpn: &[&[u8]]) -> TlsStream<TcpStream> {
    let mut roots = RootCertStore::empty();
    let der = server
        .certificate_der()
        .expect("a TLS server has a certificate");
    roots
        .add(CertificateDer::from(der.to_vec()))
        .expect("the certificate parses");
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    let tcp = TcpStream::connect(server.addr()).await.expect("connect");
    let name = ServerName::try_from(name.to_string()).expect("server name");
    TlsConnector::from(Arc::new(config))
        .connect(name, tcp)
        .await
        .expect("the handshake succeeds and the certificate is valid for the name")
}

/// `GET /` over HTTP/2; returns the status, the body and the version.
async fn get_h2(stream: TlsStream<TcpStream>, authority: &str) -> (StatusCode, Bytes, Version) {
    let (mut sender, conn) = http2::handshake(TokioExecutor::new(), TokioIo::new(stream))
        .await
        .expect("HTTP/2 handshake");
    tokio::spawn(conn);
    let request = Request::get(format!("https://{authority}/"))
        .body(Empty::<Bytes>::new())
        .expect("request");
    let response = sender.send_request(request).await.expect("response");
    let (parts, body) = response.into_parts();
    let body = body.collect().await.expect("body").to_bytes();
    (parts.status, body, parts.version)
}

/// `GET /` over HTTP/1.1; returns the status, the body and the version.
async fn get_h1(stream: TlsStream<TcpStream>, authority: &str) -> (StatusCode, Bytes, Version) {
    let (mut sender, conn) = http1::handshake(TokioIo::new(stream))
        .await
        .expect("HTTP/1.1 handshake");
    tokio::spawn(conn);
    let request = Request::get("/")
        .header(hyper::header::HOST, authority)
        .body(Empty::<Bytes>::new())
        .expect("request");
    let response = sender.send_request(request).await.expect("response");
    let (parts, body) = response.into_parts();
    let body = body.collect().await.expect("body").to_bytes();
    (parts.status, body, parts.version)
}

#[tokio::test]
async fn http2_server_negotiates_h2_and_counts_it() {
    let server = TestServer::start_tls(Behaviour::Fast, TlsAlpn::Http2).expect("start");
    assert_eq!(
        server.url(),
        format!("https://127.0.0.1:{}/", server.addr().port())
    );
    let authority = server.addr().to_string();
    for _ in 0..2 {
        let stream = connect(&server, "127.0.0.1", &[b"h2", b"http/1.1"]).await;
        assert_eq!(stream.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));
        let (status, body, version) = get_h2(stream, &authority).await;
        assert_eq!(status, 200);
        assert_eq!(body, "hello world\n");
        assert_eq!(version, Version::HTTP_2);
    }
    assert_eq!(server.requests(), 2);
    assert_eq!(server.http2_requests(), 2);
    assert_eq!(server.connections(), 2);
}

#[tokio::test]
async fn http2_server_still_speaks_http1_to_a_client_without_h2() {
    let server = TestServer::start_tls(Behaviour::Status(503), TlsAlpn::Http2).expect("start");
    let stream = connect(&server, "localhost", &[b"http/1.1"]).await;
    assert_eq!(stream.get_ref().1.alpn_protocol(), Some(&b"http/1.1"[..]));
    let (status, body, version) = get_h1(stream, "localhost").await;
    assert_eq!(status, 503);
    assert_eq!(body, "status 503\n");
    assert_eq!(version, Version::HTTP_11);
    assert_eq!(server.requests(), 1);
    assert_eq!(server.http2_requests(), 0);
}

#[tokio::test]
async fn http1_only_server_refuses_h2_in_alpn() {
    let server = TestServer::start_tls(Behaviour::Fast, TlsAlpn::Http1Only).expect("start");
    let stream = connect(&server, "127.0.0.1", &[b"h2", b"http/1.1"]).await;
    assert_eq!(stream.get_ref().1.alpn_protocol(), Some(&b"http/1.1"[..]));
    let (status, body, _) = get_h1(stream, &server.addr().to_string()).await;
    assert_eq!(status, 200);
    assert_eq!(body, "hello world\n");
    assert_eq!(server.requests(), 1);
    assert_eq!(server.http2_requests(), 0);
}

#[tokio::test]
async fn status_over_h2() {
    let server = TestServer::start_tls(Behaviour::Status(204), TlsAlpn::Http2).expect("start");
    let stream = connect(&server, "localhost", &[b"h2"]).await;
    let (status, body, _) = get_h2(stream, "localhost").await;
    assert_eq!(status, 204);
    assert!(body.is_empty());
    assert_eq!(server.http2_requests(), 1);
}

#[test]
fn each_server_has_its_own_certificate_and_plain_servers_have_none() {
    let a = TestServer::start_tls(Behaviour::Fast, TlsAlpn::Http2).expect("start");
    let b = TestServer::start_tls(Behaviour::Fast, TlsAlpn::Http1Only).expect("start");
    assert_ne!(a.certificate_der(), b.certificate_der());
    let plain = TestServer::start(Behaviour::Fast).expect("start");
    assert!(plain.certificate_der().is_none());
    assert_eq!(plain.http2_requests(), 0);
}

#[test]
fn raw_and_invalid_behaviours_are_refused_over_tls() {
    for behaviour in [Behaviour::Garbage, Behaviour::Reset, Behaviour::Status(42)] {
        let err = TestServer::start_tls(behaviour.clone(), TlsAlpn::Http2)
            .expect_err("not servable over TLS");
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{behaviour:?}");
    }
}

#[tokio::test]
async fn a_client_that_is_not_tls_does_not_stop_the_server() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let server = TestServer::start_tls(Behaviour::Fast, TlsAlpn::Http2).expect("start");
    let mut plain = TcpStream::connect(server.addr()).await.expect("connect");
    plain
        .write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .expect("write");
    let mut buf = Vec::new();
    // The handshake fails; the server closes (possibly after a TLS alert).
    let _ = plain.read_to_end(&mut buf).await;
    assert!(!buf.starts_with(b"HTTP/"));
    let stream = connect(&server, "127.0.0.1", &[b"h2"]).await;
    let (status, _, _) = get_h2(stream, "127.0.0.1").await;
    assert_eq!(status, 200);
    assert_eq!(server.requests(), 1);
}
