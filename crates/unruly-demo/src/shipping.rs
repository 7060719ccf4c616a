//! The shop's client of its shipping-quote dependency: `GET /quote?product=ID` over
//! HTTP/1.1, on a small pool of keep-alive connections.
//!
//! The client has no timeout of its own: the correct variant bounds each call with one, the
//! buggy variant waits for as long as the dependency takes (connect, answer and body).

use std::io;
use std::net::SocketAddr;
use std::sync::{Mutex, MutexGuard};

use bytes::Bytes;
use http::header::HOST;
use http::{Request, StatusCode};
use http_body_util::{BodyExt, Empty, Limited};
use hyper::client::conn::http1::{self, SendRequest};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use crate::quote::Quote;

/// How many idle connections to the dependency are kept.
const MAX_IDLE: usize = 32;
/// The largest answer read from the dependency, in bytes.
const MAX_ANSWER: usize = 64 * 1024;

/// One connection's request half.
type Sender = SendRequest<Empty<Bytes>>;

/// Why no quote came back.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ShippingError {
    /// No connection could be made (refused, unreachable, ...).
    #[error("cannot connect to the shipping service at {addr}: {source}")]
    Connect {
        /// Where it was tried.
        addr: SocketAddr,
        /// What the system said.
        source: io::Error,
    },
    /// The connection broke, was reset or closed before the whole answer arrived.
    #[error("the connection to the shipping service broke: {0}")]
    Broken(String),
    /// The dependency answered, but not 200.
    #[error("the shipping service answered {0}")]
    Status(StatusCode),
    /// The dependency answered 200 with something other than a quote for the product.
    #[error("the shipping service's answer is not a quote: {0}")]
    NotAQuote(String),
}

/// A client of the dependency at one address.
#[derive(Debug)]
pub(crate) struct ShippingClient {
    addr: SocketAddr,
    idle: Mutex<Vec<Sender>>,
}

/// How one exchange on one connection failed.
enum Failure {
    /// Before any answer: a pooled connection may just have been closed meanwhile.
    Unanswered(ShippingError),
    /// After the answer began.
    Answered(ShippingError),
}

impl ShippingClient {
    /// A client of the dependency at `addr`; no connection is made yet.
    pub(crate) fn new(addr: SocketAddr) -> ShippingClient {
        ShippingClient {
            addr,
            idle: Mutex::new(Vec::new()),
        }
    }

    /// The URL of the quote of `product_id`, as a client library would name it.
    pub(crate) fn url(&self, product_id: i64) -> String {
        format!("http://{}{}", self.addr, path(product_id))
    }

    /// Asks for the quote of `product_id`, on an idle connection if there is one (once more
    /// on a fresh connection if that one turns out closed before answering), else on a fresh
    /// one. Takes as long as the dependency does.
    pub(crate) async fn quote(&self, product_id: i64) -> Result<Quote, ShippingError> {
        if let Some(sender) = self.pooled() {
            match self.exchange(sender, product_id).await {
                Err(Failure::Unanswered(_)) => {}
                Ok(quote) => return Ok(quote),
                Err(Failure::Answered(error)) => return Err(error),
            }
        }
        let sender = self.connect().await?;
        self.exchange(sender, product_id)
            .await
            .map_err(|failure| match failure {
                Failure::Unanswered(error) | Failure::Answered(error) => error,
            })
    }

    /// One request and its whole answer on `sender`'s connection, which goes back to the
    /// pool once the answer has been read.
    async fn exchange(&self, mut sender: Sender, product_id: i64) -> Result<Quote, Failure> {
        let broken = |e: hyper::Error| ShippingError::Broken(e.to_string());
        sender
            .ready()
            .await
            .map_err(|e| Failure::Unanswered(broken(e)))?;
        let request = Request::get(path(product_id))
            .header(HOST, self.addr.to_string())
            .body(Empty::new())
            .map_err(|e| Failure::Unanswered(ShippingError::Broken(e.to_string())))?;
        let response = sender
            .send_request(request)
            .await
            .map_err(|e| Failure::Unanswered(broken(e)))?;
        let status = response.status();
        let body = Limited::new(response.into_body(), MAX_ANSWER)
            .collect()
            .await
            .map_err(|e| Failure::Answered(ShippingError::Broken(e.to_string())))?
            .to_bytes();
        self.release(sender);
        if status != StatusCode::OK {
            return Err(Failure::Answered(ShippingError::Status(status)));
        }
        let quote: Quote = serde_json::from_slice(&body)
            .map_err(|e| Failure::Answered(ShippingError::NotAQuote(e.to_string())))?;
        if !quote.fits(product_id) {
            return Err(Failure::Answered(ShippingError::NotAQuote(format!(
                "a quote out of bounds or for another product: {quote:?}"
            ))));
        }
        Ok(quote)
    }

    /// A fresh connection, its driver spawned on the current runtime.
    async fn connect(&self) -> Result<Sender, ShippingError> {
        let stream =
            TcpStream::connect(self.addr)
                .await
                .map_err(|source| ShippingError::Connect {
                    addr: self.addr,
                    source,
                })?;
        let _ = stream.set_nodelay(true);
        let (sender, connection) = http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| ShippingError::Broken(e.to_string()))?;
        tokio::spawn(async move {
            // A connection that breaks shows as an error on its request.
            let _ = connection.await;
        });
        Ok(sender)
    }

    /// An idle connection that is still open, if any.
    fn pooled(&self) -> Option<Sender> {
        let mut idle = self.idle();
        while let Some(sender) = idle.pop() {
            if !sender.is_closed() {
                return Some(sender);
            }
        }
        None
    }

    /// Keeps a connection whose answer has been read, unless the pool is full.
    fn release(&self, sender: Sender) {
        let mut idle = self.idle();
        if !sender.is_closed() && idle.len() < MAX_IDLE {
            idle.push(sender);
        }
    }

    fn idle(&self) -> MutexGuard<'_, Vec<Sender>> {
        // A poisoned pool still holds usable connections.
        self.idle
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The dependency's path for the quote of `product_id`.
fn path(product_id: i64) -> String {
    format!("/quote?product={product_id}")
}
