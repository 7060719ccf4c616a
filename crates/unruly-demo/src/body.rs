//! Reading request bodies with bounded memory and time.
//!
//! At most [`MAX_BODY`] bytes are kept. A bigger body is still read, and dropped as it
//! arrives, up to [`MAX_DRAIN`] bytes, so that a client streaming 100 MiB gets a clean 413
//! instead of a connection reset in the middle of its upload; memory stays flat whatever it
//! sends. Only past [`MAX_DRAIN`] (declared or sent) is the connection given up on.

use std::time::Duration;

use bytes::{Bytes, BytesMut};
use http::header::CONTENT_LENGTH;
use http::HeaderMap;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use tokio::time::Instant;

use crate::respond::{ApiError, MAX_BODY};

/// How much of an oversized body is read and dropped so that the client sees the 413.
pub(crate) const MAX_DRAIN: u64 = 256 * 1024 * 1024;
/// The longest pause allowed between two pieces of a body.
const IDLE_TIMEOUT: Duration = Duration::from_secs(10);
/// The longest a whole body may take to arrive.
const TOTAL_TIMEOUT: Duration = Duration::from_secs(60);

/// Reads the whole `body` of a request with these `headers`, if it is at most
/// [`MAX_BODY`] bytes.
///
/// # Errors
///
/// [`ApiError::PayloadTooLarge`] for a larger body (once read, up to [`MAX_DRAIN`]),
/// [`ApiError::RequestTimeout`] when it stalls for 10 s or takes more than 60 s,
/// [`ApiError::BadRequest`] when it cannot be read (a broken chunked encoding, a client
/// gone mid-body).
pub(crate) async fn read(headers: &HeaderMap, body: Incoming) -> Result<Bytes, ApiError> {
    let declared = headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    collect(body, declared).await
}

async fn collect(mut body: Incoming, declared: Option<u64>) -> Result<Bytes, ApiError> {
    let limit = MAX_BODY as u64;
    if declared.is_some_and(|len| len > MAX_DRAIN) {
        return Err(ApiError::PayloadTooLarge);
    }
    let deadline = Instant::now() + TOTAL_TIMEOUT;
    let mut too_large = declared.is_some_and(|len| len > limit);
    let mut seen: u64 = 0;
    let mut collected = BytesMut::new();
    loop {
        let wake = deadline.min(Instant::now() + IDLE_TIMEOUT);
        let frame = tokio::time::timeout_at(wake, body.frame())
            .await
            .map_err(|_| ApiError::RequestTimeout)?;
        let Some(frame) = frame else {
            break;
        };
        let frame = frame
            .map_err(|_| ApiError::BadRequest("could not read the request body".to_owned()))?;
        let Ok(data) = frame.into_data() else {
            continue;
        };
        seen = seen.saturating_add(data.len() as u64);
        if seen > limit && !too_large {
            too_large = true;
            collected = BytesMut::new();
        }
        if too_large {
            if seen > MAX_DRAIN {
                break;
            }
            continue;
        }
        collected.extend_from_slice(&data);
    }
    if too_large {
        Err(ApiError::PayloadTooLarge)
    } else {
        Ok(collected.freeze())
    }
}
