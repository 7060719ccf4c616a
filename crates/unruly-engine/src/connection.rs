//! One client connection driven directly: the hyper connection future and the
//! requests sent on it run in the same task (no pool, no extra task).

use crate::endpoint::{Connected, Endpoint};
use crate::request::RequestBody;
use http::Request;
use http_body_util::BodyExt;
use hyper::client::conn::{http1, http2};
use hyper_util::rt::{TokioExecutor, TokioIo};
use std::future::Future;
use std::pin::Pin;
use unruly_core::{ErrorClass, SAMPLE_BODY_BYTES};

type Driver = Pin<Box<dyn Future<Output = ()>>>;

enum Sender {
    Http1(http1::SendRequest<RequestBody>),
    Http2(http2::SendRequest<RequestBody>),
}

/// A live connection to the target.
pub(crate) struct Connection {
    sender: Sender,
    driver: Driver,
    driver_done: bool,
}

/// A complete answer.
pub(crate) struct Answer {
    pub status: u16,
    pub body_bytes: u64,
    /// The `content-type` header (a cheap shared clone; decoded only for samples).
    pub content_type: Option<http::HeaderValue>,
}

/// Why an exchange did not produce a complete answer.
#[derive(Debug)]
pub(crate) enum ExchangeError {
    /// The connection was closed before the request was sent: reconnect and retry,
    /// nothing was asked of the target.
    ClosedBeforeSend,
    /// The request failed in this way.
    Failed(ErrorClass, String),
}

impl Connection {
    /// Opens connection number `index`, HTTP/2 when TLS negotiated it.
    pub async fn open(endpoint: &Endpoint, index: usize) -> Result<Self, String> {
        let Connected { io, http2 } = endpoint.connect(index).await.map_err(|e| e.to_string())?;
        let io = TokioIo::new(io);
        let (sender, driver): (Sender, Driver) = if http2 {
            let (sender, conn) = http2::Builder::new(TokioExecutor::new())
                .handshake(io)
                .await
                .map_err(|e| format!("HTTP/2 handshake: {e}"))?;
            (
                Sender::Http2(sender),
                Box::pin(async move { drop(conn.await) }),
            )
        } else {
            let (sender, conn) = http1::Builder::new()
                .handshake(io)
                .await
                .map_err(|e| format!("HTTP/1.1 handshake: {e}"))?;
            (
                Sender::Http1(sender),
                Box::pin(async move { drop(conn.await) }),
            )
        };
        Ok(Self {
            sender,
            driver,
            driver_done: false,
        })
    }

    /// Whether requests on this connection use HTTP/2.
    pub fn is_http2(&self) -> bool {
        matches!(self.sender, Sender::Http2(_))
    }

    /// Sends `request` and reads the whole answer, failing past `body_cap`
    /// bytes. When `wants_excerpt(status)` says so, the first
    /// [`SAMPLE_BODY_BYTES`] of the body are kept in `excerpt` (cleared first).
    pub async fn exchange(
        &mut self,
        request: Request<RequestBody>,
        excerpt: &mut Vec<u8>,
        wants_excerpt: &dyn Fn(u16) -> bool,
        body_cap: u64,
    ) -> Result<Answer, ExchangeError> {
        excerpt.clear();
        let Connection {
            sender,
            driver,
            driver_done,
        } = self;
        let work = send_and_read(sender, request, excerpt, wants_excerpt, body_cap);
        let mut work = std::pin::pin!(work);
        if !*driver_done {
            tokio::select! {
                biased;
                result = &mut work => return result,
                _ = driver.as_mut() => *driver_done = true,
            }
        }
        work.await
    }
}

async fn send_and_read(
    sender: &mut Sender,
    request: Request<RequestBody>,
    excerpt: &mut Vec<u8>,
    wants_excerpt: &dyn Fn(u16) -> bool,
    body_cap: u64,
) -> Result<Answer, ExchangeError> {
    // try_send_request hands the request back when it was never written (the
    // server closed an idle connection): that is no error of the target.
    let sent = match sender {
        Sender::Http1(s) => {
            if s.ready().await.is_err() {
                return Err(ExchangeError::ClosedBeforeSend);
            }
            s.try_send_request(request).await
        }
        Sender::Http2(s) => {
            if s.ready().await.is_err() {
                return Err(ExchangeError::ClosedBeforeSend);
            }
            s.try_send_request(request).await
        }
    };
    let response = match sent {
        Ok(response) => response,
        Err(error) if error.message().is_some() => return Err(ExchangeError::ClosedBeforeSend),
        Err(error) => return Err(classify(&error.into_error())),
    };
    let status = response.status().as_u16();
    let keep_excerpt = wants_excerpt(status);
    let content_type = response.headers().get(http::header::CONTENT_TYPE).cloned();
    let mut body = response.into_body();
    let mut body_bytes = 0u64;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| classify(&e))?;
        if let Some(data) = frame.data_ref() {
            body_bytes += data.len() as u64;
            if keep_excerpt && excerpt.len() < SAMPLE_BODY_BYTES {
                let take = (SAMPLE_BODY_BYTES - excerpt.len()).min(data.len());
                excerpt.extend_from_slice(&data[..take]);
            }
            if body_bytes > body_cap {
                return Err(ExchangeError::Failed(
                    ErrorClass::Protocol,
                    format!("response body exceeded the cap of {body_cap} bytes"),
                ));
            }
        }
    }
    Ok(Answer {
        status,
        body_bytes,
        content_type,
    })
}

/// Classifies a hyper error by type, walking its sources; never by its text.
pub(crate) fn classify(error: &hyper::Error) -> ExchangeError {
    let detail = error_chain(error);
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(current) = source {
        if let Some(io) = current.downcast_ref::<std::io::Error>() {
            use std::io::ErrorKind::*;
            let class = match io.kind() {
                ConnectionReset | ConnectionAborted | BrokenPipe | UnexpectedEof | NotConnected => {
                    ErrorClass::Reset
                }
                TimedOut => ErrorClass::Timeout,
                _ => ErrorClass::Reset,
            };
            return ExchangeError::Failed(class, detail);
        }
        source = current.source();
    }
    let class = if error.is_user() {
        // hyper refused the request we built: our fault, not the target's.
        ErrorClass::InvalidRequest
    } else if error.is_parse() || error.is_parse_status() {
        ErrorClass::Protocol
    } else if error.is_timeout() {
        ErrorClass::Timeout
    } else {
        // Incomplete messages, closed and canceled connections: the peer went away.
        ErrorClass::Reset
    };
    ExchangeError::Failed(class, detail)
}

pub(crate) fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(current) = source {
        text.push_str(": ");
        text.push_str(&current.to_string());
        source = current.source();
    }
    text
}
