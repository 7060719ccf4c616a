//! What a [`TestServer`](crate::TestServer) does with the requests it gets.

use std::io;
use std::time::Duration;

/// The script a [`TestServer`](crate::TestServer) follows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Behaviour {
    /// HTTP/1.1 with keep-alive; every request gets `200 hello world\n` (`text/plain`), as fast
    /// as possible.
    Fast,
    /// Like [`Behaviour::Fast`], but a server that freezes once: any request that arrives while
    /// the time elapsed since the first request lies in `[after, after + stall)` is answered
    /// only at `after + stall`.
    StallOnce {
        /// When the freeze starts, counted from the first request.
        after: Duration,
        /// How long the freeze lasts.
        stall: Duration,
    },
    /// Every request gets this status with a small `text/plain` body (none for 204 and 304).
    /// Must be in `200..=999`: [`TestServer::start`](crate::TestServer::start) refuses others.
    Status(u16),
    /// Raw TCP: reads the request head, writes non-HTTP bytes (`\x00\x01garbage\r\n\r\n`) and
    /// closes.
    Garbage,
    /// Raw TCP: reads the request head, then closes with `SO_LINGER(0)`, so the client sees a
    /// TCP reset.
    Reset,
    /// `200` with `Transfer-Encoding: chunked`, streaming 64 KiB chunks of `x` forever (until
    /// the client goes away).
    EndlessBody,
    /// Like [`Behaviour::Fast`], but every answer waits this long.
    Slow(Duration),
    /// Like [`Behaviour::Fast`], but requests whose path starts with `path_prefix` wait `delay`.
    Delay {
        /// The path prefix of the slow requests, e.g. `/slow`.
        path_prefix: String,
        /// How long those requests wait.
        delay: Duration,
    },
    /// `200` with a body of exactly this many bytes (`x`), `Content-Length` set.
    BodySize(usize),
}

impl Behaviour {
    /// Whether the behaviour speaks raw TCP rather than HTTP.
    pub(crate) fn is_raw(&self) -> bool {
        matches!(self, Behaviour::Garbage | Behaviour::Reset)
    }

    /// Refuses scripts that cannot be served.
    pub(crate) fn validate(&self) -> io::Result<()> {
        match self {
            Behaviour::Status(code) if !(200..=999).contains(code) => Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("Behaviour::Status({code}): the status must be in 200..=999"),
            )),
            _ => Ok(()),
        }
    }
}
