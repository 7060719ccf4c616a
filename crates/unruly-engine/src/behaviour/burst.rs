//! Requests released together: each connection sends its whole request but the
//! last byte, then every last byte goes out at once, so that the requests
//! complete at the server within a fraction of a millisecond of each other
//! (last-byte synchronisation).

use super::wire::{self, WireRequest};
use crate::endpoint::{Endpoint, Stream};
use crate::probe::{ProbeFailure, ProbeRequest, ProbeResponse};
use futures_util::future::join_all;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio::io::AsyncWriteExt;
use unruly_core::ErrorClass;

/// Time given to the target to read the held-back requests before their last
/// bytes go out, so that each is waiting on exactly one byte.
const SETTLE: Duration = Duration::from_millis(20);

/// What a burst saw.
#[derive(Debug)]
pub struct BurstResult {
    /// One answer (or failure) per request, in the order given.
    pub answers: Vec<Result<ProbeResponse, ProbeFailure>>,
    /// Time from the first last byte written to the last one: an upper bound
    /// on the spread of the requests' arrivals that the client controls.
    pub release_spread: Duration,
    /// When the first last byte was written: no request could arrive whole before.
    pub released_at: Instant,
}

impl BurstResult {
    /// How many answers had a 2xx status.
    pub fn successes(&self) -> usize {
        self.answers
            .iter()
            .filter(|a| a.as_ref().is_ok_and(|r| (200..300).contains(&r.status)))
            .count()
    }
}

/// Sends `requests` on one connection each and releases them together; reads
/// every answer within `timeout`, keeping up to `keep` bytes of each body.
/// Connections are closed when this returns.
pub async fn burst(
    endpoint: &Endpoint,
    requests: &[ProbeRequest],
    timeout: Duration,
    keep: usize,
) -> BurstResult {
    let start = Instant::now();
    let failure = |class, message: String| ProbeFailure {
        class,
        message,
        elapsed: start.elapsed(),
    };
    // Encode and connect, each on its own connection.
    let prepared = join_all(
        requests
            .iter()
            .enumerate()
            .map(|(index, request)| async move {
                let wire = WireRequest::encode(endpoint, request)
                    .map_err(|reason| failure(ErrorClass::InvalidRequest, reason))?;
                let mut bytes = wire.to_bytes();
                let last = bytes.pop().unwrap_or(b'\n');
                let mut stream = wire::connect(endpoint, index, timeout)
                    .await
                    .map_err(|reason| failure(ErrorClass::Connect, reason))?;
                write(&mut stream, &bytes)
                    .await
                    .map_err(|e| failure(ErrorClass::Reset, format!("sending the request: {e}")))?;
                Ok::<_, ProbeFailure>((stream, last))
            }),
    )
    .await;
    tokio::time::sleep(SETTLE).await;

    // Release: every last byte, back to back, from two threads when the
    // connections are plain TCP (each send to loopback pays for waking the
    // receiver, so two senders halve the window).
    let (sent_now, released, last_sent) = release_all(&prepared);
    let mut slots: Vec<Result<(Stream, Instant), ProbeFailure>> =
        Vec::with_capacity(prepared.len());
    for (entry, done) in prepared.into_iter().zip(sent_now) {
        slots.push(match entry {
            Ok((stream, _)) if done => Ok((stream, released)),
            Ok((mut stream, last)) => match write(&mut stream, &[last]).await {
                Ok(()) => Ok((stream, Instant::now())),
                Err(e) => Err(failure(
                    ErrorClass::Reset,
                    format!("sending the last byte: {e}"),
                )),
            },
            Err(failed) => Err(failed),
        });
    }
    let release_spread = last_sent.saturating_duration_since(released);

    let answers = join_all(slots.into_iter().map(|slot| async move {
        let (mut stream, sent) = slot?;
        match tokio::time::timeout(timeout, wire::read_response(&mut stream, keep, sent)).await {
            Ok(answer) => answer,
            Err(_) => Err(ProbeFailure {
                class: ErrorClass::Timeout,
                message: format!("no complete answer within {timeout:?}"),
                elapsed: sent.elapsed(),
            }),
        }
    }))
    .await;
    BurstResult {
        answers,
        release_spread,
        released_at: released,
    }
}

/// Writes each plain connection's last byte straight to its socket, split
/// between two threads; says which were sent (the others, TLS or a full socket
/// buffer, go through the runtime after), with when the first and the last
/// byte went out.
fn release_all(prepared: &[Result<(Stream, u8), ProbeFailure>]) -> (Vec<bool>, Instant, Instant) {
    let send = |entries: &[Result<(Stream, u8), ProbeFailure>]| -> (Vec<bool>, Instant, Instant) {
        let first = Instant::now();
        let sent = entries
            .iter()
            .map(|entry| match entry {
                Ok((Stream::Plain(tcp), last)) => matches!(tcp.try_write(&[*last]), Ok(1)),
                _ => false,
            })
            .collect();
        (sent, first, Instant::now())
    };
    let (first, second) = prepared.split_at(prepared.len() / 2);
    // Both senders spin until both are running, then go together (a thread
    // takes far longer to start than the sends take).
    let ready = AtomicUsize::new(0);
    let start_together = || {
        ready.fetch_add(1, Ordering::SeqCst);
        let deadline = Instant::now() + Duration::from_millis(50);
        while ready.load(Ordering::SeqCst) < 2 && Instant::now() < deadline {
            std::hint::spin_loop();
        }
    };
    std::thread::scope(|scope| {
        let other = scope.spawn(|| {
            start_together();
            send(second)
        });
        start_together();
        let (mut sent, mut began, mut ended) = send(first);
        match other.join() {
            Ok((rest, other_began, other_ended)) => {
                sent.extend(rest);
                began = began.min(other_began);
                ended = ended.max(other_ended);
            }
            Err(_) => sent.resize(prepared.len(), false),
        }
        (sent, began, ended)
    })
}

async fn write(stream: &mut Stream, bytes: &[u8]) -> std::io::Result<()> {
    stream.write_all(bytes).await?;
    stream.flush().await
}
