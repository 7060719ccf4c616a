//! [`DemoHandle`]: the demo service on its own thread and runtime.

use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::thread::JoinHandle;
use std::time::Duration;

use tokio::sync::oneshot;

use crate::Variant;

/// A running demo service on `127.0.0.1:<random port>`, with its own OS thread and its own
/// multi-threaded tokio runtime (2 workers). It stops on [`DemoHandle::stop`] or when dropped.
#[derive(Debug)]
pub struct DemoHandle {
    addr: SocketAddr,
    variant: Variant,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl DemoHandle {
    /// Binds `127.0.0.1:0` and starts serving `variant`. Connections are accepted as soon as
    /// this returns.
    ///
    /// # Errors
    ///
    /// When the socket cannot be bound, or the runtime or thread cannot be created.
    pub fn start(variant: Variant) -> io::Result<DemoHandle> {
        let std_listener = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
        std_listener.set_nonblocking(true)?;
        let addr = std_listener.local_addr()?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("unruly-demo-worker")
            .enable_all()
            .build()?;
        let listener = {
            let _guard = runtime.enter();
            tokio::net::TcpListener::from_std(std_listener)?
        };
        let (tx, rx) = oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name(format!("unruly-demo-{variant}"))
            .spawn(move || {
                let shutdown = async {
                    // A dropped sender means the handle is gone: stop as well.
                    let _ = rx.await;
                };
                // `serve` only returns errors it cannot recover from; there is no one left
                // to tell but the handle, which learns of it as a closed port.
                let _ = runtime.block_on(crate::serve(listener, variant, shutdown));
                runtime.shutdown_timeout(Duration::from_secs(1));
            })?;
        Ok(DemoHandle {
            addr,
            variant,
            shutdown: Some(tx),
            thread: Some(thread),
        })
    }

    /// The bound address (always `127.0.0.1`).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The base URL, `http://127.0.0.1:PORT` (no trailing slash, so paths of the OpenAPI
    /// document can be appended as they are).
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Which variant is running.
    pub fn variant(&self) -> Variant {
        self.variant
    }

    /// Stops the service and waits for its thread to end (at most about two seconds).
    pub fn stop(mut self) {
        self.shut_down();
    }

    fn shut_down(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(thread) = self.thread.take() {
            // A panic on the service thread has already been reported by the panic hook.
            let _ = thread.join();
        }
    }
}

impl Drop for DemoHandle {
    fn drop(&mut self) {
        self.shut_down();
    }
}
