//! [`TestServer`]: the accept loop, its thread and its runtime.

use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinSet;

use crate::behaviour::Behaviour;
use crate::tls::{TlsAlpn, TlsSetup};

/// What every connection of one server shares.
#[derive(Debug)]
pub(crate) struct Shared {
    /// The script.
    pub(crate) behaviour: Behaviour,
    /// Requests fully received.
    pub(crate) requests: AtomicU64,
    /// Requests fully received over HTTP/2 (also counted in `requests`).
    pub(crate) http2_requests: AtomicU64,
    /// Connections accepted.
    pub(crate) connections: AtomicU64,
    /// When the first request arrived (for [`Behaviour::StallOnce`]).
    pub(crate) first_request: OnceLock<Instant>,
}

impl Shared {
    /// Counts one fully received request.
    pub(crate) fn count_request(&self) {
        self.requests.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts one fully received request that came over HTTP/2 (after
    /// [`Shared::count_request`]).
    pub(crate) fn count_http2_request(&self) {
        self.http2_requests.fetch_add(1, Ordering::Relaxed);
    }
}

/// A scripted server on `127.0.0.1:<random port>`, running on its own OS thread with its own
/// single-threaded tokio runtime, in plain HTTP ([`TestServer::start`]) or HTTPS with a
/// self-signed certificate ([`TestServer::start_tls`]). It stops (and drops every open
/// connection) when dropped.
///
/// ```
/// use unruly_testkit::{Behaviour, TestServer, TlsAlpn};
///
/// let server = TestServer::start(Behaviour::Fast)?;
/// assert!(server.url().starts_with("http://127.0.0.1:"));
/// let server = TestServer::start_tls(Behaviour::Fast, TlsAlpn::Http2)?;
/// assert!(server.url().starts_with("https://127.0.0.1:"));
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
pub struct TestServer {
    addr: SocketAddr,
    tls: Option<TlsSetup>,
    shared: Arc<Shared>,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl TestServer {
    /// Binds `127.0.0.1:0` and starts serving `behaviour`. The server accepts connections as
    /// soon as this returns.
    ///
    /// # Errors
    ///
    /// When the socket cannot be bound, the runtime or thread cannot be created, or the
    /// behaviour is invalid (e.g. `Status(42)`), as [`io::ErrorKind::InvalidInput`].
    pub fn start(behaviour: Behaviour) -> io::Result<TestServer> {
        TestServer::start_with(behaviour, None)
    }

    /// Binds `127.0.0.1:0` and starts serving `behaviour` over TLS, with a certificate for
    /// `localhost` and `127.0.0.1` generated now and signed by itself (so clients must accept
    /// any certificate, or trust [`TestServer::certificate_der`]). `alpn` says whether `h2` is
    /// offered. The server accepts connections as soon as this returns.
    ///
    /// # Errors
    ///
    /// As [`TestServer::start`]; also when the certificate cannot be made, and for the raw
    /// behaviours ([`Behaviour::Garbage`], [`Behaviour::Reset`]), which speak plain TCP, as
    /// [`io::ErrorKind::InvalidInput`].
    pub fn start_tls(behaviour: Behaviour, alpn: TlsAlpn) -> io::Result<TestServer> {
        if behaviour.is_raw() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{behaviour:?} speaks raw TCP and cannot be served over TLS"),
            ));
        }
        TestServer::start_with(behaviour, Some(TlsSetup::new(alpn)?))
    }

    /// Binds, then serves `behaviour` in plain TCP or, with `tls`, over TLS.
    fn start_with(behaviour: Behaviour, tls: Option<TlsSetup>) -> io::Result<TestServer> {
        behaviour.validate()?;
        let std_listener = std::net::TcpListener::bind((std::net::Ipv4Addr::LOCALHOST, 0))?;
        std_listener.set_nonblocking(true)?;
        let addr = std_listener.local_addr()?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let listener = {
            let _guard = runtime.enter();
            TcpListener::from_std(std_listener)?
        };
        let shared = Arc::new(Shared {
            behaviour,
            requests: AtomicU64::new(0),
            http2_requests: AtomicU64::new(0),
            connections: AtomicU64::new(0),
            first_request: OnceLock::new(),
        });
        let (tx, rx) = oneshot::channel();
        let loop_shared = Arc::clone(&shared);
        let loop_tls = tls.clone();
        let thread = std::thread::Builder::new()
            .name(format!("unruly-testkit-{}", addr.port()))
            .spawn(move || {
                runtime.block_on(accept_loop(listener, loop_shared, loop_tls, rx));
                runtime.shutdown_timeout(Duration::from_secs(1));
            })?;
        Ok(TestServer {
            addr,
            tls,
            shared,
            shutdown: Some(tx),
            thread: Some(thread),
        })
    }

    /// The bound address (always `127.0.0.1`).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The base URL: `http://127.0.0.1:PORT/`, or `https://127.0.0.1:PORT/` for a server
    /// started with [`TestServer::start_tls`].
    pub fn url(&self) -> String {
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        format!("{scheme}://{}/", self.addr)
    }

    /// The self-signed certificate (DER) of a server started with [`TestServer::start_tls`],
    /// for clients that want to trust it; `None` for a plain server.
    pub fn certificate_der(&self) -> Option<&[u8]> {
        self.tls.as_ref().map(TlsSetup::certificate)
    }

    /// Requests fully received so far (head and body), over any protocol.
    pub fn requests(&self) -> u64 {
        self.shared.requests.load(Ordering::Relaxed)
    }

    /// How many of [`TestServer::requests`] came over HTTP/2 (only a TLS server offering `h2`
    /// gets any).
    pub fn http2_requests(&self) -> u64 {
        self.shared.http2_requests.load(Ordering::Relaxed)
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> u64 {
        self.shared.connections.load(Ordering::Relaxed)
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            // The loop may already be gone; then there is nothing to stop.
            let _ = tx.send(());
        }
        if let Some(thread) = self.thread.take() {
            // A panic on the server thread has already been reported by the panic hook.
            let _ = thread.join();
        }
    }
}

/// Accepts connections (and does the TLS handshake on each, with `tls`) until `shutdown` fires (or its sender is dropped), then drops every
/// connection still open.
async fn accept_loop(
    listener: TcpListener,
    shared: Arc<Shared>,
    tls: Option<TlsSetup>,
    mut shutdown: oneshot::Receiver<()>,
) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            _ = &mut shutdown => break,
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => {
                    shared.connections.fetch_add(1, Ordering::Relaxed);
                    let shared = Arc::clone(&shared);
                    if let Some(tls) = &tls {
                        connections.spawn(crate::tls::serve(stream, tls.clone(), shared));
                    } else if shared.behaviour.is_raw() {
                        connections.spawn(crate::raw::serve(stream, shared));
                    } else {
                        connections.spawn(crate::http::serve(stream, shared));
                    }
                }
                // Out of descriptors or a connection aborted before accept: back off a little
                // and keep serving.
                Err(_) => tokio::time::sleep(Duration::from_millis(5)).await,
            },
        }
    }
    connections.shutdown().await;
}
