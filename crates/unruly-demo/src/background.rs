//! [`Background`]: a server on `127.0.0.1:<random port>` with its own OS thread and its own
//! multi-threaded tokio runtime, stopped on demand or when dropped.

use std::future::Future;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::thread::JoinHandle;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::oneshot;

/// How long the runtime's remaining tasks get once the server has returned.
const RUNTIME_GRACE: Duration = Duration::from_secs(1);

/// A running server thread.
#[derive(Debug)]
pub(crate) struct Background {
    addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Background {
    /// Binds `127.0.0.1:0`, then runs `serve(listener, stop)` on a new thread called `name`
    /// in a runtime of `workers` worker threads. `stop` completes when the server should
    /// stop: on [`Background::stop`], or when the `Background` is dropped. Connections are
    /// accepted as soon as this returns.
    ///
    /// # Errors
    ///
    /// When the socket cannot be bound, or the runtime or thread cannot be created.
    pub(crate) fn start<F, Fut>(name: String, workers: usize, serve: F) -> io::Result<Background>
    where
        F: FnOnce(TcpListener, oneshot::Receiver<()>) -> Fut + Send + 'static,
        Fut: Future<Output = ()>,
    {
        let std_listener = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
        std_listener.set_nonblocking(true)?;
        let addr = std_listener.local_addr()?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(workers)
            .thread_name(format!("{name}-worker"))
            .enable_all()
            .build()?;
        let listener = {
            let _guard = runtime.enter();
            TcpListener::from_std(std_listener)?
        };
        let (tx, rx) = oneshot::channel::<()>();
        let thread = std::thread::Builder::new().name(name).spawn(move || {
            runtime.block_on(serve(listener, rx));
            runtime.shutdown_timeout(RUNTIME_GRACE);
        })?;
        Ok(Background {
            addr,
            shutdown: Some(tx),
            thread: Some(thread),
        })
    }

    /// The bound address (always `127.0.0.1`).
    pub(crate) fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops the server and waits for its thread to end.
    pub(crate) fn stop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(thread) = self.thread.take() {
            // A panic on the server thread has already been reported by the panic hook.
            let _ = thread.join();
        }
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        self.stop();
    }
}
