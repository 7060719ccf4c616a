//! A tiny HTTP/1.1 client for tests: one connection, requests in sequence, bodies capped.
//!
//! ```no_run
//! # async fn demo(addr: std::net::SocketAddr) -> Result<(), unruly_testkit::client::ClientError> {
//! use unruly_testkit::client::Connection;
//!
//! let mut conn = Connection::open(addr).await?;
//! let health = conn.get("/health").await?;
//! assert_eq!(health.status.as_u16(), 200);
//! let order = conn.post_json("/orders", r#"{"product_id":1,"quantity":1,"customer":"a"}"#).await?;
//! println!("{}", order.text());
//! # Ok(())
//! # }
//! ```

use std::io;
use std::net::SocketAddr;

use bytes::{Bytes, BytesMut};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::client::conn::http1::{self, SendRequest};
use hyper::header::{CONTENT_TYPE, HOST};
use hyper::{HeaderMap, Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio::task::JoinHandle;

/// The largest response body [`Connection::send`] collects.
pub const MAX_BODY: usize = 16 * 1024 * 1024;

/// Why a test request failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The TCP connection could not be made.
    #[error("cannot connect to {addr}: {source}")]
    Connect {
        /// Where we tried to connect.
        addr: SocketAddr,
        /// Why it failed.
        source: io::Error,
    },
    /// The HTTP exchange failed (parse error, reset, closed connection...).
    #[error("HTTP error: {0}")]
    Http(#[from] hyper::Error),
    /// The request could not be built (e.g. an invalid path).
    #[error("invalid request: {0}")]
    Request(#[from] hyper::http::Error),
    /// The response body was larger than [`MAX_BODY`].
    #[error("response body larger than {limit} bytes")]
    BodyTooLarge {
        /// The cap.
        limit: usize,
    },
}

/// A complete response.
#[derive(Debug, Clone)]
pub struct TestResponse {
    /// The status.
    pub status: StatusCode,
    /// The headers.
    pub headers: HeaderMap,
    /// The whole body.
    pub body: Bytes,
}

impl TestResponse {
    /// The body as text (invalid UTF-8 replaced).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The `Content-Type` header, if present and visible ASCII.
    pub fn content_type(&self) -> Option<&str> {
        self.headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok())
    }
}

/// One keep-alive HTTP/1.1 connection. Dropping it closes the connection.
#[derive(Debug)]
pub struct Connection {
    addr: SocketAddr,
    sender: SendRequest<Full<Bytes>>,
    driver: JoinHandle<()>,
}

impl Connection {
    /// Connects to `addr` and does the HTTP/1.1 handshake (nothing is sent yet).
    ///
    /// # Errors
    ///
    /// [`ClientError::Connect`] when the TCP connection fails.
    pub async fn open(addr: SocketAddr) -> Result<Connection, ClientError> {
        let stream = TcpStream::connect(addr)
            .await
            .map_err(|source| ClientError::Connect { addr, source })?;
        let _ = stream.set_nodelay(true);
        let (sender, conn) = http1::handshake(TokioIo::new(stream)).await?;
        let driver = tokio::spawn(async move {
            // Errors surface through `send_request`.
            let _ = conn.await;
        });
        Ok(Connection {
            addr,
            sender,
            driver,
        })
    }

    /// The address this connection goes to.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `GET path`.
    ///
    /// # Errors
    ///
    /// As [`Connection::send`].
    pub async fn get(&mut self, path: &str) -> Result<TestResponse, ClientError> {
        self.send(Method::GET, path, None).await
    }

    /// `POST path` with a JSON body.
    ///
    /// # Errors
    ///
    /// As [`Connection::send`].
    pub async fn post_json(
        &mut self,
        path: &str,
        json: impl Into<Bytes>,
    ) -> Result<TestResponse, ClientError> {
        self.send(Method::POST, path, Some(json.into())).await
    }

    /// Sends `method path` (with a JSON body, if any) and collects the whole response.
    ///
    /// # Errors
    ///
    /// [`ClientError::Request`] for a path that is not a valid URI, [`ClientError::Http`] when
    /// the exchange fails, [`ClientError::BodyTooLarge`] past [`MAX_BODY`].
    pub async fn send(
        &mut self,
        method: Method,
        path: &str,
        body: Option<Bytes>,
    ) -> Result<TestResponse, ClientError> {
        let response = self.send_streaming(self.build(method, path, body)?).await?;
        let (parts, mut body) = response.into_parts();
        let mut collected = BytesMut::new();
        while let Some(frame) = body.frame().await {
            if let Ok(data) = frame?.into_data() {
                if collected.len() + data.len() > MAX_BODY {
                    return Err(ClientError::BodyTooLarge { limit: MAX_BODY });
                }
                collected.extend_from_slice(&data);
            }
        }
        Ok(TestResponse {
            status: parts.status,
            headers: parts.headers,
            body: collected.freeze(),
        })
    }

    /// Sends a request as is and returns the response with its body still streaming (for
    /// endless or huge bodies).
    ///
    /// # Errors
    ///
    /// [`ClientError::Http`] when the exchange fails before the response head arrives.
    pub async fn send_streaming(
        &mut self,
        request: Request<Full<Bytes>>,
    ) -> Result<Response<Incoming>, ClientError> {
        self.sender.ready().await?;
        Ok(self.sender.send_request(request).await?)
    }

    /// Builds `method path` with `Host` set and, when there is a body, a JSON content type.
    ///
    /// # Errors
    ///
    /// [`ClientError::Request`] for a path that is not a valid URI.
    pub fn build(
        &self,
        method: Method,
        path: &str,
        body: Option<Bytes>,
    ) -> Result<Request<Full<Bytes>>, ClientError> {
        let mut builder = Request::builder()
            .method(method)
            .uri(path)
            .header(HOST, self.addr.to_string());
        if body.is_some() {
            builder = builder.header(CONTENT_TYPE, "application/json");
        }
        Ok(builder.body(Full::new(body.unwrap_or_default()))?)
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        self.driver.abort();
    }
}

/// `GET path` on a fresh connection.
///
/// # Errors
///
/// As [`Connection::open`] and [`Connection::send`].
pub async fn get(addr: SocketAddr, path: &str) -> Result<TestResponse, ClientError> {
    Connection::open(addr).await?.get(path).await
}

/// `POST path` with a JSON body on a fresh connection.
///
/// # Errors
///
/// As [`Connection::open`] and [`Connection::send`].
pub async fn post_json(
    addr: SocketAddr,
    path: &str,
    json: impl Into<Bytes>,
) -> Result<TestResponse, ClientError> {
    Connection::open(addr).await?.post_json(path, json).await
}
