//! The target's address: URL parsing, name resolution, TCP and TLS connections.

use crate::error::EngineError;
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_rustls::rustls;
use tokio_rustls::TlsConnector;

/// Where requests go, resolved once before any load starts.
#[derive(Clone)]
pub struct Endpoint {
    /// `http` or `https`.
    pub scheme: &'static str,
    /// `host:port` as written in the URL (used for the Host header).
    pub authority: String,
    /// Base URL without a trailing slash, base path included.
    pub base_url: String,
    /// The target URL's path (e.g. `/api`, or empty), put before every operation's path.
    pub base_path: String,
    addrs: Arc<[SocketAddr]>,
    tls: Option<(TlsConnector, rustls::pki_types::ServerName<'static>)>,
}

impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Endpoint")
            .field("base_url", &self.base_url)
            .field("addrs", &self.addrs)
            .finish()
    }
}

/// A connected byte stream, plain or TLS, and whether the server chose HTTP/2.
pub(crate) struct Connected {
    pub io: Stream,
    pub http2: bool,
}

/// A plain or TLS stream.
pub(crate) enum Stream {
    Plain(TcpStream),
    Tls(Box<tokio_rustls::client::TlsStream<TcpStream>>),
}

/// Why a connection could not be made.
#[derive(Debug)]
pub(crate) enum ConnectFailure {
    /// The server's TLS certificate was rejected (untrusted issuer, wrong name, expired...):
    /// the server is there, but it cannot be trusted without `insecure`.
    Certificate(String),
    /// Anything else: TCP connect, or a TLS handshake failing for another reason.
    Other(String),
}

impl std::fmt::Display for ConnectFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ConnectFailure::Certificate(reason) | ConnectFailure::Other(reason) => {
                f.write_str(reason)
            }
        }
    }
}

/// Classifies a failed TLS handshake by the rustls error inside the I/O error (by type,
/// never by text).
fn handshake_failure(addr: SocketAddr, error: &std::io::Error) -> ConnectFailure {
    let rustls_error = error
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>());
    match rustls_error {
        Some(rustls::Error::InvalidCertificate(certificate_error)) => {
            let why = match certificate_error {
                rustls::CertificateError::UnknownIssuer => {
                    "it is not signed by a trusted authority (self-signed?)".to_string()
                }
                other => other.to_string(),
            };
            ConnectFailure::Certificate(format!(
                "TLS handshake with {addr}: invalid peer certificate: {why}"
            ))
        }
        _ => ConnectFailure::Other(format!("TLS handshake with {addr}: {error}")),
    }
}

impl Endpoint {
    /// Parses `base_url` and resolves its host. Fails on a malformed URL or a name
    /// that does not resolve; does not connect.
    pub fn resolve(base_url: &str, insecure: bool) -> Result<Self, EngineError> {
        let invalid = |reason: &str| EngineError::InvalidTarget {
            url: base_url.to_string(),
            reason: reason.to_string(),
        };
        let uri: http::Uri = base_url
            .parse()
            .map_err(|e: http::uri::InvalidUri| invalid(&e.to_string()))?;
        let scheme = match uri.scheme_str() {
            Some("http") => "http",
            Some("https") => "https",
            Some(other) => return Err(invalid(&format!("scheme `{other}` is not http or https"))),
            None => return Err(invalid("no scheme: expected http:// or https://")),
        };
        let host = uri.host().ok_or_else(|| invalid("no host"))?;
        let port = uri
            .port_u16()
            .unwrap_or(if scheme == "https" { 443 } else { 80 });
        let bare_host = host.trim_start_matches('[').trim_end_matches(']');
        let addrs: Vec<SocketAddr> = (bare_host, port)
            .to_socket_addrs()
            .map_err(|e| EngineError::Resolve {
                host: host.to_string(),
                source: e,
            })?
            .collect();
        if addrs.is_empty() {
            return Err(EngineError::Resolve {
                host: host.to_string(),
                source: std::io::Error::other("no addresses"),
            });
        }
        let authority = match uri.port_u16() {
            Some(port) => format!("{host}:{port}"),
            None => host.to_string(),
        };
        let tls = if scheme == "https" {
            let name = rustls::pki_types::ServerName::try_from(bare_host.to_string())
                .map_err(|e| invalid(&format!("not a valid TLS server name: {e}")))?;
            Some((
                TlsConnector::from(Arc::new(crate::tls::client_config(insecure))),
                name,
            ))
        } else {
            None
        };
        let base_path = uri.path().trim_end_matches('/').to_string();
        Ok(Self {
            scheme,
            authority,
            base_url: format!(
                "{scheme}://{}{base_path}",
                uri.authority().map(|a| a.as_str()).unwrap_or(host)
            ),
            base_path,
            addrs: addrs.into(),
            tls,
        })
    }

    /// Opens connection number `index` (addresses are used in turn).
    pub(crate) async fn connect(&self, index: usize) -> Result<Connected, ConnectFailure> {
        let addr = self.addrs[index % self.addrs.len()];
        let tcp = TcpStream::connect(addr)
            .await
            .map_err(|e| ConnectFailure::Other(format!("connect to {addr}: {e}")))?;
        let _ = tcp.set_nodelay(true);
        match &self.tls {
            None => Ok(Connected {
                io: Stream::Plain(tcp),
                http2: false,
            }),
            Some((connector, name)) => {
                let tls = connector
                    .connect(name.clone(), tcp)
                    .await
                    .map_err(|e| handshake_failure(addr, &e))?;
                let http2 = tls.get_ref().1.alpn_protocol() == Some(b"h2");
                Ok(Connected {
                    io: Stream::Tls(Box::new(tls)),
                    http2,
                })
            }
        }
    }

    /// Checks, before any load, that the target accepts a connection within `timeout` (for
    /// `https`, that the TLS handshake succeeds, certificate check included).
    pub async fn preflight(&mut self, timeout: Duration) -> Result<(), EngineError> {
        // Every resolved address is tried (`localhost` may be ::1 and 127.0.0.1
        // while the service listens on one); the run uses those that answer.
        let mut reachable = Vec::with_capacity(self.addrs.len());
        let mut first_failure = None;
        for index in 0..self.addrs.len() {
            match tokio::time::timeout(timeout, self.connect(index)).await {
                Ok(Ok(_)) => reachable.push(self.addrs[index]),
                Ok(Err(failure)) => {
                    first_failure.get_or_insert(failure);
                }
                Err(_) => {
                    first_failure.get_or_insert(ConnectFailure::Other(format!(
                        "no connection to {} within {timeout:?}",
                        self.addrs[index]
                    )));
                }
            }
        }
        if !reachable.is_empty() {
            self.addrs = reachable.into();
            return Ok(());
        }
        Err(match first_failure {
            Some(ConnectFailure::Certificate(reason)) => EngineError::UntrustedCertificate {
                url: self.base_url.clone(),
                reason,
            },
            Some(ConnectFailure::Other(reason)) => EngineError::Unreachable {
                url: self.base_url.clone(),
                reason,
            },
            None => EngineError::Unreachable {
                url: self.base_url.clone(),
                reason: "no address to connect to".into(),
            },
        })
    }
}

impl tokio::io::AsyncRead for Stream {
    fn poll_read(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => std::pin::Pin::new(s).poll_read(cx, buf),
            Stream::Tls(s) => std::pin::Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl tokio::io::AsyncWrite for Stream {
    fn poll_write(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        match self.get_mut() {
            Stream::Plain(s) => std::pin::Pin::new(s).poll_write(cx, buf),
            Stream::Tls(s) => std::pin::Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => std::pin::Pin::new(s).poll_flush(cx),
            Stream::Tls(s) => std::pin::Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => std::pin::Pin::new(s).poll_shutdown(cx),
            Stream::Tls(s) => std::pin::Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }

    fn poll_write_vectored(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> std::task::Poll<std::io::Result<usize>> {
        match self.get_mut() {
            Stream::Plain(s) => std::pin::Pin::new(s).poll_write_vectored(cx, bufs),
            Stream::Tls(s) => std::pin::Pin::new(s.as_mut()).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            Stream::Plain(s) => s.is_write_vectored(),
            Stream::Tls(s) => s.is_write_vectored(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use unruly_testkit::{Behaviour, TestServer, TlsAlpn};

    const TIMEOUT: Duration = Duration::from_secs(5);

    #[tokio::test]
    async fn an_untrusted_certificate_is_its_own_error_and_insecure_accepts_it() {
        let server = TestServer::start_tls(Behaviour::Fast, TlsAlpn::Http2).expect("start");
        let mut strict = Endpoint::resolve(&server.url(), false).expect("resolve");
        match strict.preflight(TIMEOUT).await {
            Err(EngineError::UntrustedCertificate { reason, .. }) => {
                assert!(reason.contains("trusted authority"), "{reason}")
            }
            other => panic!("expected UntrustedCertificate, got {other:?}"),
        }
        let mut insecure = Endpoint::resolve(&server.url(), true).expect("resolve");
        insecure.preflight(TIMEOUT).await.expect("insecure accepts");
        let connected = insecure.connect(0).await.expect("connect");
        assert!(connected.http2, "ALPN chose h2");
    }

    #[tokio::test]
    async fn http1_only_server_gives_http1() {
        let server = TestServer::start_tls(Behaviour::Fast, TlsAlpn::Http1Only).expect("start");
        let endpoint = Endpoint::resolve(&server.url(), true).expect("resolve");
        let connected = endpoint.connect(0).await.expect("connect");
        assert!(!connected.http2);
    }

    #[tokio::test]
    async fn a_server_without_tls_is_unreachable_not_untrusted() {
        let server = TestServer::start(Behaviour::Fast).expect("start");
        let url = server.url().replacen("http://", "https://", 1);
        let mut endpoint = Endpoint::resolve(&url, true).expect("resolve");
        assert!(matches!(
            endpoint.preflight(TIMEOUT).await,
            Err(EngineError::Unreachable { .. })
        ));
    }
}
