//! TLS for [`TestServer::start_tls`](crate::TestServer::start_tls): a self-signed certificate
//! made at start, rustls with the ring provider, and the ALPN offer.

use std::io;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpStream;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio_rustls::rustls::{self, ServerConfig};
use tokio_rustls::TlsAcceptor;

use crate::server::Shared;

/// Which protocols a TLS [`TestServer`](crate::TestServer) offers by ALPN.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsAlpn {
    /// ALPN `http/1.1` only; served by hyper's HTTP/1.1 server.
    Http1Only,
    /// ALPN `h2` then `http/1.1`; served by hyper-util's auto builder, which speaks whichever
    /// the client uses.
    Http2,
}

impl TlsAlpn {
    /// The ALPN protocol names offered, most preferred first.
    fn protocols(self) -> Vec<Vec<u8>> {
        match self {
            TlsAlpn::Http1Only => vec![b"http/1.1".to_vec()],
            TlsAlpn::Http2 => vec![b"h2".to_vec(), b"http/1.1".to_vec()],
        }
    }
}

/// The names the generated certificate is valid for.
const CERTIFICATE_NAMES: [&str; 2] = ["localhost", "127.0.0.1"];

/// How long a client may take to finish the TLS handshake before the connection is dropped.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// A server's TLS side: the acceptor and what it serves after the handshake.
#[derive(Clone)]
pub(crate) struct TlsSetup {
    acceptor: TlsAcceptor,
    alpn: TlsAlpn,
    certificate: CertificateDer<'static>,
}

impl std::fmt::Debug for TlsSetup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsSetup")
            .field("alpn", &self.alpn)
            .finish_non_exhaustive()
    }
}

impl TlsSetup {
    /// Generates a fresh self-signed certificate for `localhost` and `127.0.0.1` and a rustls
    /// server configuration (ring provider) offering `alpn`.
    pub(crate) fn new(alpn: TlsAlpn) -> io::Result<TlsSetup> {
        let names: Vec<String> = CERTIFICATE_NAMES.iter().map(|n| n.to_string()).collect();
        let generated = rcgen::generate_simple_self_signed(names)
            .map_err(|e| io::Error::other(format!("cannot generate a certificate: {e}")))?;
        let certificate = generated.cert.der().clone();
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
            generated.signing_key.serialize_der(),
        ));
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| io::Error::other(format!("TLS versions: {e}")))?
            .with_no_client_auth()
            .with_single_cert(vec![certificate.clone()], key)
            .map_err(|e| io::Error::other(format!("TLS certificate: {e}")))?;
        config.alpn_protocols = alpn.protocols();
        Ok(TlsSetup {
            acceptor: TlsAcceptor::from(Arc::new(config)),
            alpn,
            certificate,
        })
    }

    /// The certificate, DER-encoded.
    pub(crate) fn certificate(&self) -> &[u8] {
        self.certificate.as_ref()
    }
}

/// Does the TLS handshake on one connection, then serves HTTP on it until the client goes
/// away. A failed or too slow handshake just ends the connection.
pub(crate) async fn serve(stream: TcpStream, tls: TlsSetup, shared: Arc<Shared>) {
    let _ = stream.set_nodelay(true);
    let stream = match tokio::time::timeout(HANDSHAKE_TIMEOUT, tls.acceptor.accept(stream)).await {
        Ok(Ok(stream)) => stream,
        Ok(Err(_)) | Err(_) => return,
    };
    match tls.alpn {
        TlsAlpn::Http1Only => crate::http::serve_http1(stream, shared).await,
        TlsAlpn::Http2 => crate::http::serve_auto(stream, shared).await,
    }
}
