//! [`DependencyStub`]: the shop's shipping-quote dependency, embedded.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use http::header::{HeaderValue, ALLOW, CONTENT_TYPE};
use http::{Method, Request, Response, StatusCode};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::task::JoinSet;

use crate::background::Background;
use crate::query;
use crate::quote::Quote;

/// The pause after a failed accept (e.g. out of file descriptors).
const ACCEPT_BACKOFF: Duration = Duration::from_millis(5);

/// An embedded "shipping quotes" service on `127.0.0.1:<random port>`, with its own OS
/// thread and its own tokio runtime (1 worker): the dependency the demo shop calls from
/// `GET /products/{id}/shipping`.
///
/// It speaks HTTP/1.1 with keep-alive and answers `GET /quote?product=ID` (ID an integer of
/// at least 1) with `200` and a JSON quote, the same for the same id:
/// `{"product_id": ID, "carrier": "...", "days": N, "price_cents": N}`. A missing or bad
/// `product` is a `400`, another method a `405`, any other path a `404`, each with an
/// `{"error": ...}` body. It stops on [`DependencyStub::stop`] or when dropped.
///
/// Put a fault proxy between the shop and this stub to see what the shop makes of a
/// failing dependency:
///
/// ```
/// use unruly_demo::{DemoHandle, DemoOptions, DependencyStub, Variant};
///
/// let shipping = DependencyStub::start()?;
/// // A fault proxy would listen somewhere and forward to `shipping.addr()`.
/// let options = DemoOptions { shipping: Some(shipping.addr()), ..DemoOptions::default() };
/// let demo = DemoHandle::start_with(Variant::Correct, options)?;
/// assert_eq!(demo.shipping_addr(), shipping.addr());
/// demo.stop();
/// shipping.stop();
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
pub struct DependencyStub {
    server: Background,
}

impl DependencyStub {
    /// Binds `127.0.0.1:0` and starts answering. Connections are accepted as soon as this
    /// returns.
    ///
    /// # Errors
    ///
    /// When the socket cannot be bound, or the runtime or thread cannot be created.
    pub fn start() -> io::Result<DependencyStub> {
        let server = Background::start("unruly-demo-shipping".to_owned(), 1, |listener, stop| {
            serve_quotes(listener, async {
                // A dropped sender means the stub is gone: stop as well.
                let _ = stop.await;
            })
        })?;
        Ok(DependencyStub { server })
    }

    /// The bound address (always `127.0.0.1`).
    pub fn addr(&self) -> SocketAddr {
        self.server.addr()
    }

    /// The base URL, `http://127.0.0.1:PORT` (no trailing slash).
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr())
    }

    /// Stops the stub and waits for its thread to end (at most about a second).
    pub fn stop(mut self) {
        self.server.stop();
    }
}

/// Serves quotes on `listener` until `shutdown` completes, then drops every connection.
pub(crate) async fn serve_quotes(listener: TcpListener, shutdown: impl Future<Output = ()>) {
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
                let connection = http1::Builder::new()
                    .keep_alive(true)
                    .serve_connection(
                        TokioIo::new(stream),
                        service_fn(|request| async move { Ok::<_, Infallible>(answer(&request)) }),
                    );
                connections.spawn(async move {
                    // A client that goes away just ends its connection.
                    let _ = connection.await;
                });
            }
        }
    }
    drop(listener);
    connections.shutdown().await;
}

/// The answer to one request.
fn answer(request: &Request<Incoming>) -> Response<Full<Bytes>> {
    if request.uri().path() != "/quote" {
        return error(StatusCode::NOT_FOUND, "no such resource");
    }
    if request.method() != Method::GET {
        let mut response = error(StatusCode::METHOD_NOT_ALLOWED, "method not allowed");
        response
            .headers_mut()
            .insert(ALLOW, HeaderValue::from_static("GET"));
        return response;
    }
    let product = query::param(request.uri().query(), "product")
        .ok()
        .flatten()
        .and_then(|raw| raw.parse::<i64>().ok())
        .filter(|&id| id >= 1);
    match product {
        Some(id) => json(StatusCode::OK, &Quote::for_product(id)),
        None => error(
            StatusCode::BAD_REQUEST,
            "product must be an integer of at least 1",
        ),
    }
}

/// An `{"error": message}` answer.
fn error(status: StatusCode, message: &str) -> Response<Full<Bytes>> {
    json(status, &serde_json::json!({ "error": message }))
}

/// A JSON answer.
fn json<T: serde::Serialize>(status: StatusCode, value: &T) -> Response<Full<Bytes>> {
    let body = serde_json::to_vec(value).unwrap_or_else(|_| b"{}".to_vec());
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}
