//! The HTTP side of a proxy with HTTP faults: the client's bytes (after the TCP toxics)
//! are served as HTTP/1.1, each request matched against the faults, and forwarded on one
//! upstream connection per client connection.

use crate::faults::{Dice, SharedFaults};
use crate::http_fault::{HttpAction, HttpFault};
use bytes::Bytes;
use http::{HeaderValue, Request, Response, StatusCode};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::{Body, Frame, Incoming, SizeHint};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use rand::Rng;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::DuplexStream;
use tokio::net::TcpStream;
use tokio::sync::{watch, Mutex};

type ProxyBody = BoxBody<Bytes, Box<dyn std::error::Error + Send + Sync>>;

/// The error a faulty body ends with (the connection is then closed or reset).
#[derive(Debug, thiserror::Error)]
#[error("the response body was cut by an HTTP fault")]
struct Cut;

/// What the HTTP side of one connection shares between its requests.
struct Exchange {
    upstream: String,
    faults: watch::Receiver<SharedFaults>,
    dice: Dice,
    requests: AtomicU64,
    sender: Mutex<Option<SendRequest<Incoming>>>,
    /// Set when a fault wants the client's connection reset once the bytes before it have
    /// gone; the downstream pump reads it at the end of the stream.
    reset_on_close: Arc<AtomicBool>,
}

/// Serves the HTTP/1.1 requests arriving on `duplex` until the client or a fault ends it.
pub(crate) async fn serve(
    duplex: DuplexStream,
    upstream: String,
    faults: watch::Receiver<SharedFaults>,
    dice: Dice,
    reset_on_close: Arc<AtomicBool>,
) {
    let exchange = Arc::new(Exchange {
        upstream,
        faults,
        dice,
        requests: AtomicU64::new(0),
        sender: Mutex::new(None),
        reset_on_close,
    });
    let service = hyper::service::service_fn(move |request| {
        let exchange = Arc::clone(&exchange);
        async move { exchange.answer(request).await }
    });
    let _ = hyper::server::conn::http1::Builder::new()
        .keep_alive(true)
        .serve_connection(TokioIo::new(duplex), service)
        .await;
}

impl Exchange {
    async fn answer(&self, request: Request<Incoming>) -> Result<Response<ProxyBody>, Cut> {
        let index = self.requests.fetch_add(1, Ordering::Relaxed);
        let fault = self.fault_for(&request, index);
        if let Some(HttpAction::Status {
            status,
            retry_after,
            body,
        }) = fault.as_ref().map(|fault| &fault.action)
        {
            return Ok(injected(*status, *retry_after, body.as_deref()));
        }
        let Some(response) = self.forward(request).await else {
            // The upstream is down or broke the exchange: the client is reset, as the TCP
            // proxy would do.
            self.reset_on_close.store(true, Ordering::Relaxed);
            return Err(Cut);
        };
        let (parts, body) = response.into_parts();
        let body = match fault.map(|fault| fault.action) {
            Some(HttpAction::Delay { delay }) => {
                tokio::time::sleep(Duration::from_millis(delay)).await;
                body.map_err(boxed).boxed()
            }
            Some(HttpAction::Abort { after_bytes }) => {
                let reset = Some(Arc::clone(&self.reset_on_close));
                FaultyBody::cut(body, after_bytes, reset).boxed()
            }
            Some(HttpAction::Truncate { bytes }) => FaultyBody::cut(body, bytes, None).boxed(),
            Some(HttpAction::Garble) => FaultyBody::garble(body).boxed(),
            Some(HttpAction::Status { .. }) | None => body.map_err(boxed).boxed(),
        };
        Ok(Response::from_parts(parts, body))
    }

    fn fault_for(&self, request: &Request<Incoming>, index: u64) -> Option<HttpFault> {
        let faults = self.faults.borrow().clone();
        let method = request.method().as_str();
        let path = request.uri().path();
        faults.http.iter().find_map(|placed| {
            let fault = &placed.item;
            if !fault.matches(method, path) {
                return None;
            }
            let draw: f64 = self.dice.rng(placed.uid, index).random::<f64>() * 100.0;
            (draw < fault.percent).then(|| fault.clone())
        })
    }

    async fn forward(&self, request: Request<Incoming>) -> Option<Response<Incoming>> {
        let mut sender = self.sender.lock().await;
        if sender.as_ref().is_none_or(|sender| sender.is_closed()) {
            *sender = Some(self.connect().await?);
        }
        let sender = sender.as_mut()?;
        sender.ready().await.ok()?;
        sender.send_request(request).await.ok()
    }

    async fn connect(&self) -> Option<SendRequest<Incoming>> {
        let connect = TcpStream::connect(&self.upstream);
        let stream = tokio::time::timeout(Duration::from_secs(10), connect)
            .await
            .ok()?
            .ok()?;
        let _ = stream.set_nodelay(true);
        let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .ok()?;
        tokio::spawn(connection);
        Some(sender)
    }
}

fn boxed(error: hyper::Error) -> Box<dyn std::error::Error + Send + Sync> {
    Box::new(error)
}

/// The answer of a `status` fault: the status, `Retry-After` when given, and a body.
fn injected(status: u16, retry_after: Option<u64>, body: Option<&str>) -> Response<ProxyBody> {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
    let body = body.map(str::to_owned).unwrap_or_else(|| {
        format!(
            "{{\"error\":\"{} (injected by unruly proxy)\",\"status\":{}}}",
            status.canonical_reason().unwrap_or("fault"),
            status.as_u16()
        )
    });
    let mut response = Response::new(
        Full::new(Bytes::from(body))
            .map_err(|never| match never {})
            .boxed(),
    );
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if let Some(seconds) = retry_after {
        headers.insert(http::header::RETRY_AFTER, HeaderValue::from(seconds));
    }
    response
}

/// A response body passed on with a fault: cut after some bytes, or garbled.
struct FaultyBody {
    inner: Incoming,
    /// Bytes still to pass before the cut; `None` passes everything.
    remaining: Option<u64>,
    garble: bool,
    /// Set when the cut happens, for a reset rather than a close.
    reset_on_cut: Option<Arc<AtomicBool>>,
}

impl FaultyBody {
    fn cut(inner: Incoming, after: u64, reset_on_cut: Option<Arc<AtomicBool>>) -> FaultyBody {
        FaultyBody {
            inner,
            remaining: Some(after),
            garble: false,
            reset_on_cut,
        }
    }

    fn garble(inner: Incoming) -> FaultyBody {
        FaultyBody {
            inner,
            remaining: None,
            garble: true,
            reset_on_cut: None,
        }
    }
}

impl Body for FaultyBody {
    type Data = Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        context: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        if self.remaining == Some(0) {
            // Cut: the body ends here, short of what the head announced. Ending it (rather
            // than failing it) lets hyper send what it holds; the connection then closes,
            // or is reset when the downstream pump reads the flag.
            if let Some(reset) = &self.reset_on_cut {
                reset.store(true, Ordering::Relaxed);
            }
            return Poll::Ready(None);
        }
        let frame = match Pin::new(&mut self.inner).poll_frame(context) {
            Poll::Pending => return Poll::Pending,
            // The upstream's body ended before the cut: nothing to cut.
            Poll::Ready(None) => return Poll::Ready(None),
            Poll::Ready(Some(Err(error))) => return Poll::Ready(Some(Err(Box::new(error)))),
            Poll::Ready(Some(Ok(frame))) => frame,
        };
        let frame = match frame.into_data() {
            Ok(mut data) => {
                if let Some(remaining) = self.remaining {
                    if data.len() as u64 >= remaining {
                        data.truncate(remaining as usize);
                        if let Some(reset) = &self.reset_on_cut {
                            reset.store(true, Ordering::Relaxed);
                        }
                    }
                    self.remaining = Some(remaining - data.len() as u64);
                }
                if self.garble {
                    data = data.iter().map(|byte| byte ^ 0x5A).collect();
                }
                Frame::data(data)
            }
            Err(frame) => frame,
        };
        Poll::Ready(Some(Ok(frame)))
    }

    fn is_end_stream(&self) -> bool {
        self.remaining == Some(0) || self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
