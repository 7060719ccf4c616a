//! [`serve`]: the accept loop, HTTP/1.1 and h2c via hyper-util's auto builder.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::task::JoinSet;

use crate::dependency::serve_quotes;
use crate::router;
use crate::shop::Shop;
use crate::{DemoOptions, Variant};

/// How long open connections get to finish their requests after shutdown.
const GRACE: Duration = Duration::from_secs(1);
/// How long the correct variant gives a client to send a request's headers (the buggy one
/// waits for ever: no slow-header protection).
const HEADER_TIMEOUT: Duration = Duration::from_secs(5);
/// The pause after a failed accept (e.g. out of file descriptors).
const ACCEPT_BACKOFF: Duration = Duration::from_millis(5);

/// Serves the demo shop on an already-bound `listener` until `shutdown` completes, then
/// gives open connections a moment to finish and drops the rest. The shop's shipping
/// dependency is a stub of its own, served on `127.0.0.1:<random port>` in the same runtime
/// for as long as the shop is; [`serve_with`] wires another one.
///
/// Each call has its own freshly seeded state. HTTP/1.1 (keep-alive) and HTTP/2 with prior
/// knowledge (h2c) are both spoken on the same port. The correct variant closes an HTTP/1.1
/// connection whose request headers take more than 5 s to arrive (hyper's timer also runs
/// while a keep-alive connection waits idle for its next request); the buggy one never does.
///
/// # Errors
///
/// When the shop's own shipping stub cannot be bound on `127.0.0.1:0`. Failed accepts are
/// retried after a short pause, so that a burst of clients or a descriptor shortage cannot
/// stop the service.
pub async fn serve(
    listener: TcpListener,
    variant: Variant,
    shutdown: impl Future<Output = ()>,
) -> io::Result<()> {
    serve_with(listener, variant, DemoOptions::default(), shutdown).await
}

/// As [`serve`], wired as `options` say: with `DemoOptions { shipping: Some(addr) }` the
/// shop calls the shipping dependency at `addr` (e.g. a fault proxy in front of a
/// [`DependencyStub`](crate::DependencyStub)) and serves no stub of its own.
///
/// # Errors
///
/// When no address is given and the shop's own stub cannot be bound on `127.0.0.1:0`;
/// failed accepts are retried, as in [`serve`].
pub async fn serve_with(
    listener: TcpListener,
    variant: Variant,
    options: DemoOptions,
    shutdown: impl Future<Output = ()>,
) -> io::Result<()> {
    let (shipping, stub) = match options.shipping {
        Some(addr) => (addr, None),
        None => {
            let stub = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
            let addr = stub.local_addr()?;
            let task = tokio::spawn(serve_quotes(stub, std::future::pending()));
            (addr, Some(task))
        }
    };
    let served = serve_shop(listener, variant, shipping, options.log_to_stderr, shutdown).await;
    if let Some(task) = stub {
        task.abort();
    }
    served
}

/// The accept loop of the shop, which calls its shipping dependency at `shipping`.
async fn serve_shop(
    listener: TcpListener,
    variant: Variant,
    shipping: SocketAddr,
    log_to_stderr: bool,
    shutdown: impl Future<Output = ()>,
) -> io::Result<()> {
    crate::validate::prepare();
    let mut shop = Shop::new(variant, shipping);
    shop.log_to_stderr = log_to_stderr;
    let shop = Arc::new(shop);
    let header_timeout = match variant {
        // Bug: a client may take as long as it likes to send its headers.
        Variant::Buggy => None,
        Variant::Correct => Some(HEADER_TIMEOUT),
    };
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .keep_alive(true)
        .header_read_timeout(header_timeout);
    builder.http2().timer(TokioTimer::new());
    let graceful = GracefulShutdown::new();
    let mut connections = JoinSet::new();
    tokio::pin!(shutdown);

    loop {
        tokio::select! {
            () = &mut shutdown => break,
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            accepted = listener.accept() => {
                let stream = match accepted {
                    Ok((stream, _peer)) => stream,
                    Err(_) => {
                        tokio::time::sleep(ACCEPT_BACKOFF).await;
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                let shop = Arc::clone(&shop);
                let service = service_fn(move |request| {
                    let shop = Arc::clone(&shop);
                    async move { Ok::<_, Infallible>(router::route(request, &shop).await) }
                });
                let connection = builder
                    .serve_connection(TokioIo::new(stream), service)
                    .into_owned();
                let connection = graceful.watch(connection);
                connections.spawn(async move {
                    // A client that misbehaves or goes away just ends its connection.
                    let _ = connection.await;
                });
            }
        }
    }

    drop(listener);
    let _ = tokio::time::timeout(GRACE, graceful.shutdown()).await;
    connections.shutdown().await;
    Ok(())
}
