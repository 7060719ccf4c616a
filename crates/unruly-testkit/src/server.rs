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

/// What every connection of one server shares.
#[derive(Debug)]
pub(crate) struct Shared {
    /// The script.
    pub(crate) behaviour: Behaviour,
    /// Requests fully received.
    pub(crate) requests: AtomicU64,
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
}

/// A scripted server on `127.0.0.1:<random port>`, running on its own OS thread with its own
/// single-threaded tokio runtime. It stops (and drops every open connection) when dropped.
///
/// ```
/// use unruly_testkit::{Behaviour, TestServer};
///
/// let server = TestServer::start(Behaviour::Fast)?;
/// assert!(server.url().starts_with("http://127.0.0.1:"));
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
pub struct TestServer {
    addr: SocketAddr,
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
            connections: AtomicU64::new(0),
            first_request: OnceLock::new(),
        });
        let (tx, rx) = oneshot::channel();
        let loop_shared = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name(format!("unruly-testkit-{}", addr.port()))
            .spawn(move || {
                runtime.block_on(accept_loop(listener, loop_shared, rx));
                runtime.shutdown_timeout(Duration::from_secs(1));
            })?;
        Ok(TestServer {
            addr,
            shared,
            shutdown: Some(tx),
            thread: Some(thread),
        })
    }

    /// The bound address (always `127.0.0.1`).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The base URL, `http://127.0.0.1:PORT/`.
    pub fn url(&self) -> String {
        format!("http://{}/", self.addr)
    }

    /// Requests fully received so far (head and body).
    pub fn requests(&self) -> u64 {
        self.shared.requests.load(Ordering::Relaxed)
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

/// Accepts connections until `shutdown` fires (or its sender is dropped), then drops every
/// connection still open.
async fn accept_loop(
    listener: TcpListener,
    shared: Arc<Shared>,
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
                    if shared.behaviour.is_raw() {
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
