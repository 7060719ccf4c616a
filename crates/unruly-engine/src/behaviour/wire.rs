//! HTTP/1.1 on a raw connection: a request written as bytes (so that it can be
//! held back, trickled or abandoned at any byte) and its answer read back.
//!
//! Requests carry `Connection: close`; the answer ends at its `Content-Length`,
//! its last chunk, or the connection's end, and what is kept of its body is
//! bounded whatever the target sends.

use crate::endpoint::{Endpoint, Stream};
use crate::probe::{ProbeBody, ProbeFailure, ProbeRequest, ProbeResponse};
use bytes::Bytes;
use http::header::{HeaderName, HeaderValue};
use http::HeaderMap;
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncReadExt};
use unruly_core::ErrorClass;

/// The most bytes read of one answer before it counts as a protocol error.
const READ_CAP: usize = 8 * 1024 * 1024;
/// The longest response head accepted.
const HEAD_CAP: usize = 64 * 1024;
/// Headers parsed at most.
const MAX_HEADERS: usize = 128;

/// A request as the bytes that go on the wire.
#[derive(Debug, Clone)]
pub(crate) struct WireRequest {
    /// The request head, up to and including the empty line.
    pub head: Vec<u8>,
    /// The body (its length is in the head's `Content-Length`).
    pub body: Bytes,
}

impl WireRequest {
    /// Encodes `request` for `endpoint`, with `Host`, `User-Agent`,
    /// `Content-Length` (when there is a body or the method usually has one) and
    /// `Connection: close`. Streamed bodies are refused: bursts and slow clients
    /// send what fits in memory.
    pub fn encode(endpoint: &Endpoint, request: &ProbeRequest) -> Result<Self, String> {
        let method = http::Method::from_bytes(request.method.as_bytes())
            .map_err(|_| format!("`{}` is not an HTTP method", request.method))?;
        let target = format!("{}{}", endpoint.base_path, request.path_and_query);
        let _: http::Uri = target
            .parse()
            .map_err(|e| format!("path `{target}` is not a valid URI path: {e}"))?;
        let body = match &request.body {
            ProbeBody::Empty => Bytes::new(),
            ProbeBody::Bytes(bytes) => bytes.clone(),
            ProbeBody::Stream { .. } => {
                return Err("a streamed body cannot be sent on a raw connection".to_owned())
            }
        };
        let mut head = format!(
            "{method} {target} HTTP/1.1\r\nHost: {}\r\n",
            endpoint.authority
        );
        let mut has_agent = false;
        for (name, value) in &request.headers {
            let name = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| format!("`{name}` is not a valid header name"))?;
            HeaderValue::from_str(value)
                .map_err(|_| format!("the value of header `{name}` is not valid"))?;
            if matches!(name.as_str(), "host" | "content-length" | "connection") {
                continue;
            }
            has_agent |= name == http::header::USER_AGENT;
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        if !has_agent {
            head.push_str(concat!(
                "user-agent: unruly/",
                env!("CARGO_PKG_VERSION"),
                "\r\n"
            ));
        }
        let wants_length = !body.is_empty()
            || matches!(
                method,
                http::Method::POST | http::Method::PUT | http::Method::PATCH
            );
        if wants_length {
            head.push_str(&format!("content-length: {}\r\n", body.len()));
        }
        head.push_str("connection: close\r\n\r\n");
        Ok(Self {
            head: head.into_bytes(),
            body,
        })
    }

    /// The whole request as one buffer.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut bytes = Vec::with_capacity(self.head.len() + self.body.len());
        bytes.extend_from_slice(&self.head);
        bytes.extend_from_slice(&self.body);
        bytes
    }
}

/// Opens connection `index` to `endpoint` within `timeout`.
pub(crate) async fn connect(
    endpoint: &Endpoint,
    index: usize,
    timeout: Duration,
) -> Result<Stream, String> {
    match tokio::time::timeout(timeout, endpoint.connect(index)).await {
        Ok(Ok(connected)) => Ok(connected.io),
        Ok(Err(failure)) => Err(failure.to_string()),
        Err(_) => Err(format!("no connection within {timeout:?}")),
    }
}

/// Reads one answer from `stream`, keeping up to `keep` bytes of its body;
/// `start` is when the request was released (the answer's `elapsed` counts from
/// there).
pub(crate) async fn read_response<S: AsyncRead + Unpin>(
    stream: &mut S,
    keep: usize,
    start: Instant,
) -> Result<ProbeResponse, ProbeFailure> {
    let fail = |class, message: String| ProbeFailure {
        class,
        message,
        elapsed: start.elapsed(),
    };
    let mut buffer = Vec::with_capacity(4096);
    let mut chunk = [0u8; 8192];
    // The head.
    let (status, headers, head_len) = loop {
        let read = stream
            .read(&mut chunk)
            .await
            .map_err(|e| fail(ErrorClass::Reset, format!("reading the answer: {e}")))?;
        if read == 0 {
            return Err(fail(
                ErrorClass::Reset,
                if buffer.is_empty() {
                    "the connection closed without an answer".to_owned()
                } else {
                    "the connection closed inside the answer's head".to_owned()
                },
            ));
        }
        buffer.extend_from_slice(&chunk[..read]);
        let mut parsed = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut response = httparse::Response::new(&mut parsed);
        match response.parse(&buffer) {
            Ok(httparse::Status::Complete(len)) => {
                let status = response.code.unwrap_or(0);
                let mut headers = HeaderMap::new();
                for header in response.headers.iter() {
                    if let (Ok(name), Ok(value)) = (
                        HeaderName::from_bytes(header.name.as_bytes()),
                        HeaderValue::from_bytes(header.value),
                    ) {
                        headers.append(name, value);
                    }
                }
                break (status, headers, len);
            }
            Ok(httparse::Status::Partial) if buffer.len() < HEAD_CAP => {}
            Ok(httparse::Status::Partial) => {
                return Err(fail(
                    ErrorClass::Protocol,
                    format!("an answer head longer than {HEAD_CAP} bytes"),
                ))
            }
            Err(e) => return Err(fail(ErrorClass::Protocol, format!("not HTTP: {e}"))),
        }
    };
    buffer.drain(..head_len);
    // The body: by length, by chunks, or to the end of the connection.
    let framing = Framing::of(status, &headers);
    let mut body = Body::new(framing, keep);
    body.feed(&buffer)
        .map_err(|e| fail(ErrorClass::Protocol, e))?;
    while !body.complete() {
        let read = stream
            .read(&mut chunk)
            .await
            .map_err(|e| fail(ErrorClass::Reset, format!("reading the answer: {e}")))?;
        if read == 0 {
            if matches!(body.framing, Framing::ToEnd) {
                break;
            }
            return Err(fail(
                ErrorClass::Reset,
                "the connection closed inside the answer's body".to_owned(),
            ));
        }
        body.feed(&chunk[..read])
            .map_err(|e| fail(ErrorClass::Protocol, e))?;
    }
    Ok(ProbeResponse {
        status,
        headers,
        body_len: body.len,
        body: Bytes::from(body.kept),
        elapsed: start.elapsed(),
    })
}

/// How an answer's body ends.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Framing {
    Length(u64),
    Chunked,
    ToEnd,
}

impl Framing {
    fn of(status: u16, headers: &HeaderMap) -> Self {
        if status == 204 || status == 304 || (100..200).contains(&status) {
            return Framing::Length(0);
        }
        let chunked = headers
            .get_all(http::header::TRANSFER_ENCODING)
            .iter()
            .any(|v| {
                v.to_str()
                    .is_ok_and(|v| v.to_ascii_lowercase().contains("chunked"))
            });
        if chunked {
            return Framing::Chunked;
        }
        headers
            .get(http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse().ok())
            .map_or(Framing::ToEnd, Framing::Length)
    }
}

/// A body being read: what is kept, and where its framing stands.
struct Body {
    framing: Framing,
    keep: usize,
    kept: Vec<u8>,
    /// Body bytes (decoded) so far.
    len: u64,
    /// Raw bytes read so far (framing included), against [`READ_CAP`].
    raw: usize,
    /// Chunked framing: the bytes not decoded yet, and what the decoder expects.
    pending: Vec<u8>,
    chunk_left: u64,
    state: ChunkState,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum ChunkState {
    Size,
    Data,
    DataEnd,
    Trailers,
    Done,
}

impl Body {
    fn new(framing: Framing, keep: usize) -> Self {
        Self {
            framing,
            keep,
            kept: Vec::new(),
            len: 0,
            raw: 0,
            pending: Vec::new(),
            chunk_left: 0,
            state: ChunkState::Size,
        }
    }

    fn complete(&self) -> bool {
        match self.framing {
            Framing::Length(total) => self.len >= total,
            Framing::Chunked => self.state == ChunkState::Done,
            Framing::ToEnd => false,
        }
    }

    fn take(&mut self, data: &[u8]) {
        self.len += data.len() as u64;
        if self.kept.len() < self.keep {
            let take = (self.keep - self.kept.len()).min(data.len());
            self.kept.extend_from_slice(&data[..take]);
        }
    }

    fn feed(&mut self, data: &[u8]) -> Result<(), String> {
        self.raw += data.len();
        if self.raw > READ_CAP {
            return Err(format!("an answer longer than {READ_CAP} bytes"));
        }
        match self.framing {
            Framing::Length(total) => {
                let left = usize::try_from(total.saturating_sub(self.len)).unwrap_or(usize::MAX);
                self.take(&data[..left.min(data.len())]);
                Ok(())
            }
            Framing::ToEnd => {
                self.take(data);
                Ok(())
            }
            Framing::Chunked => {
                self.pending.extend_from_slice(data);
                self.decode()
            }
        }
    }

    /// Decodes as much of `pending` as is complete.
    fn decode(&mut self) -> Result<(), String> {
        let mut at = 0;
        loop {
            match self.state {
                ChunkState::Done => break,
                ChunkState::Size | ChunkState::DataEnd | ChunkState::Trailers => {
                    let Some(end) = find_crlf(&self.pending[at..]) else {
                        break;
                    };
                    let line = &self.pending[at..at + end];
                    at += end + 2;
                    self.state = match self.state {
                        ChunkState::Size => {
                            let digits = line.split(|&b| b == b';').next().unwrap_or_default();
                            let size = std::str::from_utf8(digits)
                                .ok()
                                .and_then(|s| u64::from_str_radix(s.trim(), 16).ok())
                                .ok_or_else(|| "a malformed chunk size".to_owned())?;
                            self.chunk_left = size;
                            if size == 0 {
                                ChunkState::Trailers
                            } else {
                                ChunkState::Data
                            }
                        }
                        ChunkState::DataEnd if line.is_empty() => ChunkState::Size,
                        ChunkState::DataEnd => {
                            return Err("a chunk longer than its size".to_owned())
                        }
                        _ if line.is_empty() => ChunkState::Done,
                        other => other,
                    };
                }
                ChunkState::Data => {
                    let available = self.pending.len() - at;
                    if available == 0 {
                        break;
                    }
                    let take =
                        usize::try_from(self.chunk_left).map_or(available, |l| l.min(available));
                    let (from, to) = (at, at + take);
                    let data = self.pending[from..to].to_vec();
                    self.take(&data);
                    at = to;
                    self.chunk_left -= take as u64;
                    if self.chunk_left == 0 {
                        self.state = ChunkState::DataEnd;
                    }
                }
            }
        }
        self.pending.drain(..at);
        Ok(())
    }
}

fn find_crlf(bytes: &[u8]) -> Option<usize> {
    bytes.windows(2).position(|w| w == b"\r\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn parse(raw: &'static [u8], keep: usize) -> Result<ProbeResponse, ProbeFailure> {
        let mut reader = raw;
        read_response(&mut reader, keep, Instant::now()).await
    }

    #[tokio::test]
    async fn reads_bodies_by_length_chunks_and_end() {
        let by_length = parse(
            b"HTTP/1.1 201 Created\r\ncontent-length: 5\r\n\r\nhelloEXTRA",
            64,
        )
        .await
        .unwrap();
        assert_eq!(
            (by_length.status, &by_length.body[..]),
            (201, &b"hello"[..])
        );

        let chunked = parse(
            b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\n\r\n",
            64,
        )
        .await
        .unwrap();
        assert_eq!((&chunked.body[..], chunked.body_len), (&b"abcde"[..], 5));

        let to_end = parse(b"HTTP/1.0 200 OK\r\n\r\nuntil the end", 5)
            .await
            .unwrap();
        assert_eq!((&to_end.body[..], to_end.body_len), (&b"until"[..], 13));
    }

    #[tokio::test]
    async fn cut_or_garbled_answers_are_failures() {
        let cut = parse(b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nabc", 64).await;
        assert_eq!(cut.unwrap_err().class, ErrorClass::Reset);
        let garbage = parse(b"SSH-2.0-OpenSSH\r\n\r\n", 64).await;
        assert_eq!(garbage.unwrap_err().class, ErrorClass::Protocol);
        let nothing = parse(b"", 64).await;
        assert_eq!(nothing.unwrap_err().class, ErrorClass::Reset);
        let bad_chunk = parse(
            b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n",
            64,
        )
        .await;
        assert_eq!(bad_chunk.unwrap_err().class, ErrorClass::Protocol);
    }
}
