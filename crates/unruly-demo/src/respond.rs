//! Building responses: JSON bodies, `{"error": ...}` bodies, and the buggy variant's leaky
//! text pages.

use crate::shop::Shop;
use bytes::Bytes;
use http::header::{HeaderName, HeaderValue, ALLOW, CONTENT_TYPE, RETRY_AFTER};
use http::{HeaderMap, Response, StatusCode};
use http_body_util::Full;
use serde::Serialize;

/// Every response body of the demo.
pub(crate) type Body = Full<Bytes>;

/// The largest request body accepted, in bytes.
pub(crate) const MAX_BODY: usize = 1024 * 1024;

const JSON: &str = "application/json";
const TEXT: &str = "text/plain; charset=utf-8";

/// A failure the service answers with an `{"error": message}` body, as its spec says.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ApiError {
    /// 400: the request breaks the spec.
    #[error("{0}")]
    BadRequest(String),
    /// 404: no such resource (or route).
    #[error("{0}")]
    NotFound(String),
    /// 405: the path exists, the method does not.
    #[error("method not allowed")]
    MethodNotAllowed {
        /// The methods the path allows, for the `Allow` header.
        allow: &'static str,
    },
    /// 409: the order or withdrawal cannot be met, or its Idempotency-Key is in use.
    #[error("{0}")]
    Conflict(String),
    /// 422: the Idempotency-Key was already used with a different body.
    #[error("{0}")]
    UnprocessableEntity(String),
    /// 408: the body took too long to arrive.
    #[error("the request body took too long to arrive")]
    RequestTimeout,
    /// 413: the body is larger than [`MAX_BODY`].
    #[error("request body larger than {MAX_BODY} bytes")]
    PayloadTooLarge,
    /// 415: the body is not declared as JSON.
    #[error("the body must be sent as Content-Type: application/json")]
    UnsupportedMediaType,
    /// 503: a dependency failed and there is nothing to fall back on; try again later.
    #[error("{message}")]
    Unavailable {
        /// What failed.
        message: String,
        /// When to try again, in seconds, for the `Retry-After` header.
        retry_after_s: u32,
    },
}

impl ApiError {
    /// The status this error is answered with.
    pub(crate) fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::UnprocessableEntity(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// The response: the status and `{"error": message}`.
    pub(crate) fn into_response(self) -> Response<Body> {
        #[derive(Serialize)]
        struct ErrorBody {
            error: String,
        }
        let mut response = json(
            self.status(),
            &ErrorBody {
                error: self.to_string(),
            },
        );
        match self {
            ApiError::MethodNotAllowed { allow } => {
                response
                    .headers_mut()
                    .insert(ALLOW, HeaderValue::from_static(allow));
            }
            ApiError::Unavailable { retry_after_s, .. } => {
                response
                    .headers_mut()
                    .insert(RETRY_AFTER, HeaderValue::from(retry_after_s));
            }
            _ => {}
        }
        response
    }
}

/// A JSON response.
pub(crate) fn json<T: Serialize + ?Sized>(status: StatusCode, value: &T) -> Response<Body> {
    match serde_json::to_vec(value) {
        Ok(bytes) => with_body(status, JSON, Bytes::from(bytes)),
        // Our own types always serialize; this only guards against a future mistake.
        Err(_) => with_body(
            StatusCode::INTERNAL_SERVER_ERROR,
            JSON,
            Bytes::from_static(br#"{"error":"internal error"}"#),
        ),
    }
}

/// A complete answer kept as its parts (status, headers, body bytes), so that it can be sent
/// again byte for byte: what the correct twin replays for a repeated Idempotency-Key.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Recorded {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

impl Recorded {
    /// A JSON answer, serialized once.
    pub(crate) fn json<T: Serialize + ?Sized>(status: StatusCode, value: &T) -> Recorded {
        let (status, body) = match serde_json::to_vec(value) {
            Ok(bytes) => (status, Bytes::from(bytes)),
            // Our own types always serialize; this only guards against a future mistake.
            Err(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                Bytes::from_static(br#"{"error":"internal error"}"#),
            ),
        };
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static(JSON));
        Recorded {
            status,
            headers,
            body,
        }
    }

    /// The same answer with one more header.
    pub(crate) fn with_header(mut self, name: HeaderName, value: HeaderValue) -> Recorded {
        self.headers.insert(name, value);
        self
    }

    /// The response.
    pub(crate) fn into_response(self) -> Response<Body> {
        let mut response = Response::new(Full::new(self.body));
        *response.status_mut() = self.status;
        *response.headers_mut() = self.headers;
        response
    }
}

/// A JSON response from a static document.
pub(crate) fn static_json(document: &'static str) -> Response<Body> {
    with_body(
        StatusCode::OK,
        JSON,
        Bytes::from_static(document.as_bytes()),
    )
}

/// A `500` with a plain-text page: how the buggy variant fails. The page (a traceback, a
/// panic) is what the service's log shows too.
pub(crate) fn leaky_500(shop: &Shop, page: String) -> Response<Body> {
    shop.log(page.clone());
    text(StatusCode::INTERNAL_SERVER_ERROR, page)
}

/// A plain-text response (`text/plain; charset=utf-8`): never one the spec documents.
pub(crate) fn text(status: StatusCode, body: impl Into<Bytes>) -> Response<Body> {
    with_body(status, TEXT, body.into())
}

fn with_body(status: StatusCode, content_type: &'static str, body: Bytes) -> Response<Body> {
    let mut response = Response::new(Full::new(body));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}
