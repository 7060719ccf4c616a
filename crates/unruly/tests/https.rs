//! `unruly load https://...` against TLS servers on loopback with self-signed certificates:
//! HTTP/2 when the server offers `h2` by ALPN, HTTP/1.1 otherwise, and a clear refusal of an
//! untrusted certificate without `-k`.

mod common;

use common::*;
use unruly_testkit::{Behaviour, TestServer, TlsAlpn};

/// `unruly load URL -k -n 500 -c 4 --json -q`: 500 answers of 200, nothing else.
fn load_500(server: &TestServer) -> serde_json::Value {
    let url = server.url();
    assert!(url.starts_with("https://127.0.0.1:"), "{url}");
    let (output, _) = run(&["load", &url, "-k", "-n", "500", "-c", "4", "--json", "-q"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    let report = json(&output);
    assert_eq!(overall(&report)["requests"], 500, "{report}");
    assert_eq!(overall(&report)["status"]["200"], 500, "{report}");
    assert_eq!(overall(&report)["errors"], 0, "{report}");
    assert_eq!(
        server.requests(),
        500,
        "the server saw exactly the requests sent"
    );
    report
}

#[test]
fn http2_is_used_when_the_server_offers_h2() {
    let server = TestServer::start_tls(Behaviour::Fast, TlsAlpn::Http2).unwrap();
    load_500(&server);
    assert_eq!(
        server.http2_requests(),
        500,
        "every request went over HTTP/2"
    );
    // One connection per user, plus the preflight check's.
    assert!(
        server.connections() <= 5,
        "{} connections",
        server.connections()
    );
}

#[test]
fn http1_is_used_when_the_server_offers_only_http1() {
    let server = TestServer::start_tls(Behaviour::Fast, TlsAlpn::Http1Only).unwrap();
    load_500(&server);
    assert_eq!(server.http2_requests(), 0);
    assert!(
        server.connections() <= 5,
        "{} connections",
        server.connections()
    );
}

#[test]
fn statuses_over_http2_are_counted_and_judged() {
    let server = TestServer::start_tls(Behaviour::Status(503), TlsAlpn::Http2).unwrap();
    let (output, _) = run(&[
        "load",
        &server.url(),
        "-k",
        "-n",
        "100",
        "-c",
        "2",
        "--json",
        "-q",
    ]);
    // 5xx answers are findings: exit 1.
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    let report = json(&output);
    assert_eq!(overall(&report)["status"]["503"], 100, "{report}");
    assert_eq!(server.http2_requests(), 100);
}

#[test]
fn a_self_signed_certificate_without_k_is_refused_before_any_load() {
    for alpn in [TlsAlpn::Http2, TlsAlpn::Http1Only] {
        let server = TestServer::start_tls(Behaviour::Fast, alpn).unwrap();
        let (output, _) = run(&["load", &server.url(), "-n", "10", "--json", "-q"]);
        assert_eq!(output.status.code(), Some(2), "{}", text(&output));
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("certificate"), "{stderr}");
        assert!(stderr.contains("-k/--insecure"), "{stderr}");
        assert!(
            !stderr.contains("is the service running"),
            "the service is running; the certificate is the problem: {stderr}"
        );
        assert!(output.stdout.is_empty(), "{}", text(&output));
        assert_eq!(server.requests(), 0, "no load was sent");
    }
}

#[test]
fn a_plain_http_server_behind_an_https_url_is_unreachable() {
    let server = TestServer::start(Behaviour::Fast).unwrap();
    let url = server.url().replacen("http://", "https://", 1);
    let (output, _) = run(&["load", &url, "-k", "-n", "10", "--json", "-q"]);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("TLS"), "{stderr}");
    assert_eq!(server.requests(), 0);
}

#[test]
fn rate_2000_for_2s_over_http2_issues_4000_requests() {
    let server = TestServer::start_tls(Behaviour::Fast, TlsAlpn::Http2).unwrap();
    let (output, _) = run(&[
        "load",
        &server.url(),
        "-k",
        "--rate",
        "2000",
        "-d",
        "2s",
        "-c",
        "16",
        "--json",
        "-q",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    let report = json(&output);
    let requests = overall(&report)["requests"].as_u64().unwrap();
    let expected = 4000f64;
    assert!(
        (requests as f64 - expected).abs() <= expected * 0.05,
        "{requests} requests, expected 4000 ± 5%"
    );
    assert_eq!(overall(&report)["errors"], 0, "{report}");
    assert_eq!(server.http2_requests(), requests);
}
