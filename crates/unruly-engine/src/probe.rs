//! Single requests with their whole answers, for exploration: any method, path,
//! headers and body (streamed when large), and back the status, the headers and
//! the first bytes of the body, with the time it all took.
//!
//! A [`Prober`] keeps one keep-alive connection and reopens it when the target
//! closes it; several probers run side by side for throughput.

use crate::connection::{classify, ExchangeError};
use crate::endpoint::{Connected, Endpoint};
use bytes::Bytes;
use http::header::{HeaderName, HeaderValue, HOST, USER_AGENT};
use http::{HeaderMap, Method, Request, Uri};
use http_body_util::BodyExt;
use hyper::body::{Body, Frame, SizeHint};
use hyper::client::conn::{http1, http2};
use hyper_util::rt::{TokioExecutor, TokioIo};
use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use unruly_core::ErrorClass;

/// Bytes of a response body read past what is kept, before the answer is cut
/// off: enough for any sane API answer, bounded whatever the target sends.
const DRAIN_CAP: u64 = 64 * 1024 * 1024;

/// One request to send.
pub struct ProbeRequest {
    /// `GET`, `POST`, ... (any token).
    pub method: String,
    /// The path and query, already percent-encoded, without the target's base path.
    pub path_and_query: String,
    /// Header names and values; invalid ones make the request fail as
    /// [`ErrorClass::InvalidRequest`].
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: ProbeBody,
}

impl ProbeRequest {
    /// A copy of this request, unless its body is streamed (a stream is sent once).
    pub fn try_clone(&self) -> Option<Self> {
        let body = match &self.body {
            ProbeBody::Empty => ProbeBody::Empty,
            ProbeBody::Bytes(bytes) => ProbeBody::Bytes(bytes.clone()),
            ProbeBody::Stream { .. } => return None,
        };
        Some(Self {
            method: self.method.clone(),
            path_and_query: self.path_and_query.clone(),
            headers: self.headers.clone(),
            body,
        })
    }
}

/// A request body.
pub enum ProbeBody {
    /// No body.
    Empty,
    /// A body held in memory.
    Bytes(Bytes),
    /// A body generated chunk by chunk as it is sent, `len` bytes in all.
    Stream {
        /// The exact total length (sent as `Content-Length`).
        len: u64,
        /// The chunks; they must add up to `len`.
        chunks: Box<dyn Iterator<Item = Bytes> + Send>,
    },
}

/// A complete answer.
#[derive(Debug, Clone)]
pub struct ProbeResponse {
    /// The status code.
    pub status: u16,
    /// The response headers.
    pub headers: HeaderMap,
    /// The first bytes of the body (up to the prober's keep limit).
    pub body: Bytes,
    /// The whole body's length in bytes.
    pub body_len: u64,
    /// Time from sending the request to the end of the body.
    pub elapsed: Duration,
}

impl ProbeResponse {
    /// The `Content-Type` header, when present and readable.
    pub fn content_type(&self) -> Option<&str> {
        self.headers
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
    }

    /// Whether `body` holds the whole body.
    pub fn is_complete(&self) -> bool {
        self.body.len() as u64 == self.body_len
    }
}

/// An exchange that produced no complete answer.
#[derive(Debug, Clone)]
pub struct ProbeFailure {
    /// How it failed.
    pub class: ErrorClass,
    /// What the client saw.
    pub message: String,
    /// Time until it failed.
    pub elapsed: Duration,
}

/// Sends requests one at a time over one keep-alive connection.
pub struct Prober {
    endpoint: Endpoint,
    index: usize,
    keep: usize,
    sender: Option<Sender>,
}

enum Sender {
    Http1(http1::SendRequest<ProbeRequestBody>),
    Http2(http2::SendRequest<ProbeRequestBody>),
}

impl Prober {
    /// A prober for `endpoint` that keeps up to `keep` bytes of each response
    /// body; `index` picks the address when the target has several.
    pub fn new(endpoint: Endpoint, index: usize, keep: usize) -> Self {
        Self {
            endpoint,
            index,
            keep,
            sender: None,
        }
    }

    /// The full URL of `path_and_query` on the target (base path included), for
    /// reproductions.
    pub fn url(&self, path_and_query: &str) -> String {
        format!("{}{path_and_query}", self.endpoint.base_url)
    }

    /// Sends `request` and reads its answer, giving up after `timeout`.
    pub async fn send(
        &mut self,
        request: ProbeRequest,
        timeout: Duration,
    ) -> Result<ProbeResponse, ProbeFailure> {
        let start = Instant::now();
        let fail = |class, message: String| ProbeFailure {
            class,
            message,
            elapsed: start.elapsed(),
        };
        let mut request = self
            .build(request)
            .map_err(|reason| fail(ErrorClass::InvalidRequest, reason))?;
        let outcome = tokio::time::timeout(timeout, async {
            // One retry on a fresh connection when an idle one was closed
            // before the request went out.
            for _ in 0..2 {
                match self.exchange(request).await {
                    Ok(answer) => return Ok(answer),
                    Err(Retry::Again(returned)) => request = *returned,
                    Err(Retry::Failed(class, message)) => return Err((class, message)),
                }
            }
            Err((
                ErrorClass::Reset,
                "the connection closed before the request was sent, twice".to_owned(),
            ))
        })
        .await;
        match outcome {
            Ok(Ok((status, headers, body, body_len))) => Ok(ProbeResponse {
                status,
                headers,
                body,
                body_len,
                elapsed: start.elapsed(),
            }),
            Ok(Err((class, message))) => {
                if class != ErrorClass::InvalidRequest {
                    self.sender = None;
                }
                Err(fail(class, message))
            }
            Err(_) => {
                self.sender = None;
                Err(fail(
                    ErrorClass::Timeout,
                    format!("no complete answer within {timeout:?}"),
                ))
            }
        }
    }

    fn build(&self, request: ProbeRequest) -> Result<Request<ProbeRequestBody>, String> {
        let method = Method::from_bytes(request.method.as_bytes())
            .map_err(|_| format!("`{}` is not an HTTP method", request.method))?;
        let path = format!("{}{}", self.endpoint.base_path, request.path_and_query);
        let uri: Uri = path
            .parse()
            .map_err(|e| format!("path `{path}` is not a valid URI path: {e}"))?;
        let mut headers = HeaderMap::new();
        headers.insert(
            USER_AGENT,
            HeaderValue::from_static(concat!("unruly/", env!("CARGO_PKG_VERSION"))),
        );
        for (name, value) in &request.headers {
            let name = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| format!("`{name}` is not a valid header name"))?;
            let value = HeaderValue::from_str(value)
                .map_err(|_| format!("the value of header `{name}` is not valid"))?;
            headers.append(name, value);
        }
        let body = match request.body {
            ProbeBody::Empty => ProbeRequestBody::Full(None),
            ProbeBody::Bytes(bytes) => ProbeRequestBody::Full(Some(bytes)),
            ProbeBody::Stream { len, chunks } => ProbeRequestBody::Stream {
                remaining: len,
                chunks,
            },
        };
        let mut built = Request::new(body);
        *built.method_mut() = method;
        *built.uri_mut() = uri;
        *built.headers_mut() = headers;
        Ok(built)
    }

    async fn connect(&mut self) -> Result<&mut Sender, Retry> {
        if self.sender.as_ref().is_some_and(Sender::is_closed) {
            self.sender = None;
        }
        if self.sender.is_none() {
            let Connected { io, http2 } = self
                .endpoint
                .connect(self.index)
                .await
                .map_err(|e| Retry::Failed(ErrorClass::Connect, e.to_string()))?;
            let io = TokioIo::new(io);
            let sender = if http2 {
                let (sender, conn) = http2::Builder::new(TokioExecutor::new())
                    .handshake(io)
                    .await
                    .map_err(|e| Retry::Failed(ErrorClass::Protocol, format!("HTTP/2: {e}")))?;
                tokio::spawn(async move { drop(conn.await) });
                Sender::Http2(sender)
            } else {
                let (sender, conn) = http1::Builder::new()
                    .handshake(io)
                    .await
                    .map_err(|e| Retry::Failed(ErrorClass::Protocol, format!("HTTP/1.1: {e}")))?;
                tokio::spawn(async move { drop(conn.await) });
                Sender::Http1(sender)
            };
            self.sender = Some(sender);
        }
        self.sender
            .as_mut()
            .ok_or_else(|| Retry::Failed(ErrorClass::Connect, "no connection".to_owned()))
    }

    async fn exchange(
        &mut self,
        mut request: Request<ProbeRequestBody>,
    ) -> Result<(u16, HeaderMap, Bytes, u64), Retry> {
        let authority = self.endpoint.authority.clone();
        let scheme = self.endpoint.scheme;
        let keep = self.keep;
        let sender = self.connect().await?;
        let sent = match sender {
            Sender::Http1(s) => {
                if let Ok(host) = HeaderValue::from_str(&authority) {
                    request.headers_mut().insert(HOST, host);
                }
                s.try_send_request(request).await
            }
            Sender::Http2(s) => {
                let path = request
                    .uri()
                    .path_and_query()
                    .map_or("/", |p| p.as_str())
                    .to_owned();
                if let Ok(uri) = Uri::builder()
                    .scheme(scheme)
                    .authority(authority.as_str())
                    .path_and_query(path)
                    .build()
                {
                    *request.uri_mut() = uri;
                }
                s.try_send_request(request).await
            }
        };
        let response = match sent {
            Ok(response) => response,
            Err(mut error) => {
                self.sender = None;
                return match error.take_message() {
                    Some(request) if error.error().is_canceled() || error.error().is_closed() => {
                        Err(Retry::Again(Box::new(request)))
                    }
                    _ => Err(failed(classify(&error.into_error()))),
                };
            }
        };
        let status = response.status().as_u16();
        let (parts, mut body) = response.into_parts();
        let mut kept = Vec::new();
        let mut body_len = 0u64;
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|e| failed(classify(&e)))?;
            if let Some(data) = frame.data_ref() {
                body_len += data.len() as u64;
                if kept.len() < keep {
                    let take = (keep - kept.len()).min(data.len());
                    kept.extend_from_slice(&data[..take]);
                }
                if body_len > DRAIN_CAP {
                    return Err(Retry::Failed(
                        ErrorClass::Protocol,
                        format!("response body exceeded {DRAIN_CAP} bytes"),
                    ));
                }
            }
        }
        Ok((status, parts.headers, Bytes::from(kept), body_len))
    }
}

impl Sender {
    fn is_closed(&self) -> bool {
        match self {
            Sender::Http1(s) => s.is_closed(),
            Sender::Http2(s) => s.is_closed(),
        }
    }
}

enum Retry {
    Again(Box<Request<ProbeRequestBody>>),
    Failed(ErrorClass, String),
}

fn failed(error: ExchangeError) -> Retry {
    match error {
        ExchangeError::ClosedBeforeSend => Retry::Failed(
            ErrorClass::Reset,
            "the connection closed before the request was sent".to_owned(),
        ),
        ExchangeError::Failed(class, message) => Retry::Failed(class, message),
    }
}

/// The body of a probe request: in memory, or generated as it is sent.
pub(crate) enum ProbeRequestBody {
    Full(Option<Bytes>),
    Stream {
        remaining: u64,
        chunks: Box<dyn Iterator<Item = Bytes> + Send>,
    },
}

impl Body for ProbeRequestBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        let this = self.get_mut();
        Poll::Ready(match this {
            ProbeRequestBody::Full(bytes) => bytes.take().map(|b| Ok(Frame::data(b))),
            ProbeRequestBody::Stream { remaining, chunks } => {
                if *remaining == 0 {
                    None
                } else {
                    match chunks.next() {
                        Some(mut chunk) => {
                            // Never send more than announced, whatever the generator does.
                            if chunk.len() as u64 > *remaining {
                                chunk.truncate(*remaining as usize);
                            }
                            *remaining -= chunk.len() as u64;
                            Some(Ok(Frame::data(chunk)))
                        }
                        None => {
                            *remaining = 0;
                            None
                        }
                    }
                }
            }
        })
    }

    fn is_end_stream(&self) -> bool {
        match self {
            ProbeRequestBody::Full(bytes) => bytes.as_ref().is_none_or(Bytes::is_empty),
            ProbeRequestBody::Stream { remaining, .. } => *remaining == 0,
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            ProbeRequestBody::Full(bytes) => {
                SizeHint::with_exact(bytes.as_ref().map_or(0, |b| b.len() as u64))
            }
            ProbeRequestBody::Stream { remaining, .. } => SizeHint::with_exact(*remaining),
        }
    }
}
