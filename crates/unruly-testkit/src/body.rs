//! A response body made of `x` bytes, finite or endless, that never allocates per chunk.

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use hyper::body::{Body, Frame, SizeHint};

/// The size of one chunk of a [`RepeatBody`].
pub const CHUNK_SIZE: usize = 64 * 1024;

static CHUNK: [u8; CHUNK_SIZE] = [b'x'; CHUNK_SIZE];

/// A body of `x` bytes in chunks of at most 64 KiB: exactly `n` bytes (with an exact size
/// hint, so HTTP/1 gets a `Content-Length`), or endless (chunked).
#[derive(Debug, Clone)]
pub struct RepeatBody {
    remaining: Option<u64>,
}

impl RepeatBody {
    /// A body of exactly `len` bytes.
    pub fn exact(len: u64) -> RepeatBody {
        RepeatBody {
            remaining: Some(len),
        }
    }

    /// A body that never ends.
    pub fn endless() -> RepeatBody {
        RepeatBody { remaining: None }
    }
}

impl Body for RepeatBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        let len = match self.remaining {
            None => CHUNK_SIZE,
            Some(0) => return Poll::Ready(None),
            Some(left) => {
                let len = usize::try_from(left).map_or(CHUNK_SIZE, |l| l.min(CHUNK_SIZE));
                self.remaining = Some(left - len as u64);
                len
            }
        };
        Poll::Ready(Some(Ok(Frame::data(Bytes::from_static(&CHUNK[..len])))))
    }

    fn is_end_stream(&self) -> bool {
        self.remaining == Some(0)
    }

    fn size_hint(&self) -> SizeHint {
        match self.remaining {
            Some(left) => SizeHint::with_exact(left),
            None => SizeHint::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    #[tokio::test]
    async fn exact_body_has_exact_length() {
        for len in [0u64, 1, 65_535, 65_536, 65_537, 200_000] {
            let body = RepeatBody::exact(len);
            assert_eq!(body.size_hint().exact(), Some(len));
            let bytes = body.collect().await.map(|c| c.to_bytes());
            let bytes = match bytes {
                Ok(b) => b,
                Err(never) => match never {},
            };
            assert_eq!(bytes.len() as u64, len);
            assert!(bytes.iter().all(|&b| b == b'x'));
        }
    }

    #[test]
    fn endless_body_has_no_exact_length() {
        assert_eq!(RepeatBody::endless().size_hint().exact(), None);
        assert!(!RepeatBody::endless().is_end_stream());
    }
}
