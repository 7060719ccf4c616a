//! One proxied connection. Two readers stamp each chunk with the time it arrived; two
//! pumps (client → upstream, upstream → client) pass the chunks on through the proxy's
//! toxics, read afresh for every chunk; a supervisor ends the connection when a
//! `timeout` or `reset_peer` toxic says so or when the proxy stops.

use crate::faults::{Dice, Faults, SharedFaults};
use crate::http_layer;
use crate::toxic::{Stream, ToxicKind};
use bytes::{Bytes, BytesMut};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use std::collections::HashMap;
use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::tcp::OwnedWriteHalf;
use tokio::net::TcpStream;
use tokio::sync::{mpsc, watch};
use tokio::time::{sleep_until, Instant};
use tokio_util::sync::CancellationToken;

/// The most a reader takes from its socket at once.
const CHUNK_BYTES: usize = 32 * 1024;
/// Chunks read ahead of their pump, per direction: with [`CHUNK_BYTES`], at most 1 MiB
/// held per direction and connection, whatever the peers send.
const CHUNKS_AHEAD: usize = 32;
/// How long the proxy tries to reach the upstream for a new connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// What a connection needs from its proxy.
pub(crate) struct LinkContext {
    /// The upstream address to dial.
    pub upstream: String,
    /// The proxy's toxics and HTTP faults, as they change.
    pub faults: watch::Receiver<SharedFaults>,
    /// Cancelled when the proxy stops (disabled, deleted or replaced).
    pub stop: CancellationToken,
    /// The connection's seeded decisions.
    pub dice: Dice,
}

/// How a connection ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fate {
    /// Still open.
    Open,
    /// Closed in the usual way (FIN).
    Close,
    /// The client's side is reset (RST).
    Reset,
}

/// A chunk of bytes and the time it arrived.
struct Chunk {
    data: Bytes,
    at: Instant,
}

/// Serves one accepted client until both directions are done or a fault ends it.
pub(crate) async fn serve(client: TcpStream, context: LinkContext) {
    let _ = client.set_nodelay(true);
    // A second handle on the client's socket, kept until the end: it sets SO_LINGER 0 for a
    // reset, which applies when the last handle closes.
    let Ok(client_socket) = socket2::SockRef::from(&client).try_clone() else {
        return;
    };
    let (fate, _) = watch::channel(Fate::Open);
    let reset_on_close = Arc::new(AtomicBool::new(false));
    let http_faults = !context.faults.borrow().http.is_empty();
    if http_faults {
        let (ours, theirs) = tokio::io::duplex(64 * 1024);
        tokio::spawn(http_layer::serve(
            theirs,
            context.upstream.clone(),
            context.faults.clone(),
            context.dice,
            Arc::clone(&reset_on_close),
        ));
        let (up_read, up_write) = tokio::io::split(ours);
        let ends = Ends {
            fate: &fate,
            client_socket: &client_socket,
            reset_on_close: &reset_on_close,
        };
        relay(client, up_read, up_write, &context, ends).await;
    } else {
        let connect = tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(&context.upstream));
        let upstream = tokio::select! {
            _ = context.stop.cancelled() => None,
            connected = connect => connected.ok().and_then(Result::ok),
        };
        let Some(upstream) = upstream else {
            // The upstream is down: the client gets a clean reset, as it would from a
            // service that is not there.
            let _ = client_socket.set_linger(Some(Duration::ZERO));
            return;
        };
        let _ = upstream.set_nodelay(true);
        let (up_read, up_write) = upstream.into_split();
        let ends = Ends {
            fate: &fate,
            client_socket: &client_socket,
            reset_on_close: &reset_on_close,
        };
        relay(client, up_read, up_write, &context, ends).await;
    }
}

/// How a connection's end is told and done.
#[derive(Clone, Copy)]
struct Ends<'a> {
    fate: &'a watch::Sender<Fate>,
    client_socket: &'a socket2::Socket,
    /// Set by the HTTP side when the client must be reset once the upstream's bytes so far
    /// have reached it (an `abort` fault, an upstream that is down).
    reset_on_close: &'a AtomicBool,
}

async fn relay<UR, UW>(
    client: TcpStream,
    up_read: UR,
    up_write: UW,
    context: &LinkContext,
    ends: Ends<'_>,
) where
    UR: AsyncRead + Unpin + Send + 'static,
    UW: AsyncWrite + Unpin,
{
    let fate = ends.fate;
    let (client_read, client_write) = client.into_split();
    let client_write = QuietWriteHalf(Some(client_write));
    let (to_upstream, upstream_chunks) = mpsc::channel(CHUNKS_AHEAD);
    let (to_client, client_chunks) = mpsc::channel(CHUNKS_AHEAD);
    tokio::spawn(read_chunks(client_read, to_upstream, fate.clone()));
    tokio::spawn(read_chunks(up_read, to_client, fate.clone()));
    let pumps = async {
        tokio::join!(
            pump(Stream::Upstream, upstream_chunks, up_write, context, ends),
            pump(
                Stream::Downstream,
                client_chunks,
                client_write,
                context,
                ends
            ),
        )
    };
    let mut ending = supervise(context, fate, pumps).await;
    if ends.reset_on_close.load(Ordering::Relaxed) {
        // The HTTP side cut a body to reset it: however the pumps ended (the client's
        // side may have failed first), the client gets the reset.
        ending = Fate::Reset;
    }
    if ending == Fate::Reset {
        let _ = ends.client_socket.set_linger(Some(Duration::ZERO));
    }
    fate.send_if_modified(|now| end(now, ending));
}

/// Sets the fate if the connection is still open; true if it changed.
fn end(now: &mut Fate, ending: Fate) -> bool {
    if *now == Fate::Open && ending != Fate::Open {
        *now = ending;
        return true;
    }
    false
}

async fn ended(fate: &mut watch::Receiver<Fate>) {
    let _ = fate.wait_for(|fate| *fate != Fate::Open).await;
}

/// Reads chunks until EOF, an error or the end of the connection.
async fn read_chunks<R: AsyncRead + Unpin>(
    mut input: R,
    chunks: mpsc::Sender<Chunk>,
    fate: watch::Sender<Fate>,
) {
    let mut watching = fate.subscribe();
    let mut buffer = BytesMut::with_capacity(CHUNK_BYTES);
    loop {
        buffer.reserve(CHUNK_BYTES);
        let read = tokio::select! {
            biased;
            _ = ended(&mut watching) => return,
            read = input.read_buf(&mut buffer) => read,
        };
        match read {
            Ok(0) => return,
            Ok(_) => {}
            Err(_) => {
                fate.send_if_modified(|now| end(now, Fate::Close));
                return;
            }
        }
        let chunk = Chunk {
            data: buffer.split().freeze(),
            at: Instant::now(),
        };
        tokio::select! {
            biased;
            _ = ended(&mut watching) => return,
            sent = chunks.send(chunk) => if sent.is_err() { return },
        }
    }
}

/// Passes one direction's chunks on through the toxics on its stream.
async fn pump<W: AsyncWrite + Unpin>(
    stream: Stream,
    mut chunks: mpsc::Receiver<Chunk>,
    mut output: W,
    context: &LinkContext,
    ends: Ends<'_>,
) {
    let fate = ends.fate;
    let mut watching = fate.subscribe();
    let mut faults = context.faults.clone();
    let mut shaper = Shaper::new(context.dice, stream);
    loop {
        let next = tokio::select! {
            biased;
            _ = ended(&mut watching) => return,
            next = chunks.recv() => next,
        };
        let snapshot: SharedFaults = faults.borrow_and_update().clone();
        let Some(chunk) = next else {
            // The source closed: pass the close on, late under slow_close.
            if let Some(delay) = shaper.slow_close(&snapshot) {
                let wake = Instant::now() + delay;
                tokio::select! {
                    _ = ended(&mut watching) => return,
                    _ = sleep_until(wake) => {}
                }
            }
            if stream == Stream::Downstream && ends.reset_on_close.load(Ordering::Relaxed) {
                fate.send_if_modified(|now| end(now, Fate::Reset));
                return;
            }
            let _ = output.shutdown().await;
            return;
        };
        let shaped = shaper.shape(chunk, &snapshot);
        for piece in shaped.pieces {
            let wake = shaper.pace(&piece);
            if wake > Instant::now() {
                tokio::select! {
                    _ = ended(&mut watching) => return,
                    _ = sleep_precisely_until(wake) => {}
                }
            }
            let written = tokio::select! {
                _ = ended(&mut watching) => return,
                written = output.write_all(&piece.data) => written,
            };
            if written.is_err() {
                fate.send_if_modified(|now| end(now, Fate::Close));
                return;
            }
        }
        if shaped.then_close {
            fate.send_if_modified(|now| end(now, Fate::Close));
            return;
        }
    }
}

/// A piece of a chunk and when it may go at the earliest.
struct Piece {
    data: Bytes,
    not_before: Instant,
    /// Pause after the previous piece (slicer), counted from when that one went.
    gap: Duration,
}

/// A chunk cut into pieces by the toxics, and whether the connection closes after them.
struct Shaped {
    pieces: Vec<Piece>,
    then_close: bool,
}

/// The per-direction state of the toxics: bytes passed (limit_data), the bandwidth clock,
/// and the seeded draws of jitter and slice sizes.
struct Shaper {
    dice: Dice,
    stream: Stream,
    rng: ChaCha8Rng,
    passed: u64,
    /// Bytes per millisecond (bandwidth's KB/s) while a bandwidth toxic applies.
    rate: Option<u64>,
    /// When the next byte may go under bandwidth.
    free_at: Instant,
    last_sent: Instant,
}

impl Shaper {
    fn new(dice: Dice, stream: Stream) -> Shaper {
        let salt = match stream {
            Stream::Upstream => 1,
            Stream::Downstream => 2,
        };
        let now = Instant::now();
        Shaper {
            dice,
            stream,
            rng: dice.rng(salt, 0),
            passed: 0,
            rate: None,
            free_at: now,
            last_sent: now,
        }
    }

    fn slow_close(&self, faults: &Faults) -> Option<Duration> {
        faults
            .applying(self.stream, &self.dice)
            .filter_map(|placed| match placed.item.kind {
                ToxicKind::SlowClose { delay } => Some(Duration::from_millis(delay)),
                _ => None,
            })
            .max()
    }

    fn shape(&mut self, chunk: Chunk, faults: &Faults) -> Shaped {
        let mut not_before = chunk.at;
        let mut pieces = vec![chunk.data];
        let mut then_close = false;
        self.rate = None;
        let mut gap = Duration::ZERO;
        let dice = self.dice;
        for placed in faults.applying(self.stream, &dice) {
            match placed.item.kind {
                ToxicKind::Latency { latency, jitter } => {
                    let spread = if jitter > 0 {
                        let jitter = jitter as i64;
                        self.rng.random_range(-jitter..=jitter)
                    } else {
                        0
                    };
                    let millis = (latency as i64 + spread).max(0) as u64;
                    not_before = not_before.max(chunk.at + Duration::from_millis(millis));
                }
                ToxicKind::Bandwidth { rate } if rate > 0 => {
                    // Pieces of at most 100 ms' worth, so that the bytes trickle.
                    pieces = split_every(pieces, (rate * 100) as usize);
                    self.rate = Some(self.rate.map_or(rate, |other| other.min(rate)));
                }
                ToxicKind::Slicer {
                    average_size,
                    size_variation,
                    delay,
                } if average_size > 0 => {
                    pieces = self.slice(pieces, average_size, size_variation);
                    gap = gap.max(Duration::from_micros(delay));
                }
                ToxicKind::Timeout { .. } => {
                    // No data gets through while it applies.
                    pieces.clear();
                }
                ToxicKind::LimitData { bytes } => {
                    let room = bytes.saturating_sub(self.passed);
                    pieces = keep_first(pieces, room);
                    let kept: u64 = pieces.iter().map(|piece| piece.len() as u64).sum();
                    if self.passed + kept >= bytes {
                        then_close = true;
                    }
                }
                _ => {}
            }
        }
        self.passed += pieces.iter().map(|piece| piece.len() as u64).sum::<u64>();
        let pieces = pieces
            .into_iter()
            .enumerate()
            .map(|(index, data)| Piece {
                data,
                not_before,
                gap: if index == 0 { Duration::ZERO } else { gap },
            })
            .collect();
        Shaped { pieces, then_close }
    }

    /// When `piece` may go: after its latency, its slicer gap and the bandwidth clock.
    /// Moves the clocks on as if it went then.
    fn pace(&mut self, piece: &Piece) -> Instant {
        let mut wake = piece.not_before.max(self.last_sent + piece.gap);
        if let Some(rate) = self.rate {
            wake = wake.max(self.free_at);
            self.free_at = wake + Duration::from_micros(piece.data.len() as u64 * 1000 / rate);
        }
        self.last_sent = wake.max(Instant::now());
        wake
    }

    fn slice(&mut self, pieces: Vec<Bytes>, average: u64, variation: u64) -> Vec<Bytes> {
        let mut sliced = Vec::new();
        for mut piece in pieces {
            while !piece.is_empty() {
                let spread = if variation > 0 {
                    let variation = variation.min(average.saturating_sub(1)) as i64;
                    self.rng.random_range(-variation..=variation)
                } else {
                    0
                };
                let size = ((average as i64 + spread).max(1) as usize).min(piece.len());
                sliced.push(piece.split_to(size));
            }
        }
        sliced
    }
}

fn split_every(pieces: Vec<Bytes>, size: usize) -> Vec<Bytes> {
    let size = size.max(1);
    let mut split = Vec::new();
    for mut piece in pieces {
        while piece.len() > size {
            split.push(piece.split_to(size));
        }
        if !piece.is_empty() {
            split.push(piece);
        }
    }
    split
}

fn keep_first(pieces: Vec<Bytes>, mut room: u64) -> Vec<Bytes> {
    let mut kept = Vec::new();
    for mut piece in pieces {
        if room == 0 {
            break;
        }
        if piece.len() as u64 > room {
            piece.truncate(room as usize);
        }
        room -= piece.len() as u64;
        kept.push(piece);
    }
    kept
}

/// Watches the toxics that end connections (`timeout` with a time, `reset_peer`) and the
/// proxy's stop, while the pumps run; returns how the connection ends.
async fn supervise(
    context: &LinkContext,
    fate: &watch::Sender<Fate>,
    pumps: impl Future<Output = ((), ())>,
) -> Fate {
    let mut pumps = pin!(pumps);
    let mut faults = context.faults.clone();
    let mut watching = fate.subscribe();
    let mut first_seen: HashMap<u64, Instant> = HashMap::new();
    let ending = loop {
        let snapshot: SharedFaults = faults.borrow_and_update().clone();
        let deadline = ending_deadline(&snapshot, &context.dice, &mut first_seen);
        let wake = deadline.map_or_else(far_future, |(at, _)| at);
        if let Some((at, fate)) = deadline {
            if at <= Instant::now() {
                // Due already (a timeout of 0): before another byte passes.
                break fate;
            }
        }
        tokio::select! {
            _ = &mut pumps => return Fate::Close,
            _ = context.stop.cancelled() => break Fate::Close,
            changed = faults.changed() => if changed.is_err() { break Fate::Close },
            _ = ended(&mut watching) => break *watching.borrow(),
            _ = sleep_until(wake), if deadline.is_some() => {
                break deadline.map_or(Fate::Close, |(_, fate)| fate);
            }
        }
    };
    if ending == Fate::Reset {
        // Set before the pumps let go of their halves: the last close sends the RST.
        fate.send_if_modified(|now| end(now, Fate::Reset));
    } else {
        fate.send_if_modified(|now| end(now, ending));
    }
    pumps.await;
    *fate.borrow()
}

/// The earliest time a `timeout` (with a time) or `reset_peer` toxic that applies to this
/// connection ends it, counted from when the connection first saw that toxic.
fn ending_deadline(
    faults: &Faults,
    dice: &Dice,
    first_seen: &mut HashMap<u64, Instant>,
) -> Option<(Instant, Fate)> {
    let now = Instant::now();
    let mut live = Vec::new();
    let mut earliest: Option<(Instant, Fate)> = None;
    for placed in faults.toxics.iter() {
        if !dice.applies(placed.uid, placed.item.toxicity) {
            continue;
        }
        let (millis, fate) = match placed.item.kind {
            ToxicKind::Timeout { timeout } if timeout > 0 => (timeout, Fate::Close),
            ToxicKind::ResetPeer { timeout } => (timeout, Fate::Reset),
            _ => continue,
        };
        live.push(placed.uid);
        let since = *first_seen.entry(placed.uid).or_insert(now);
        let at = since + Duration::from_millis(millis);
        if earliest.is_none_or(|(earliest, _)| at < earliest) {
            earliest = Some((at, fate));
        }
    }
    first_seen.retain(|uid, _| live.contains(uid));
    earliest
}

/// The client's write half, which does not send a FIN when dropped (tokio's does): the
/// connection's end decides between a close and a reset, through the last handle on the
/// socket. An orderly end of the stream still shuts it down through `poll_shutdown`.
struct QuietWriteHalf(Option<OwnedWriteHalf>);

impl Drop for QuietWriteHalf {
    fn drop(&mut self) {
        if let Some(half) = self.0.take() {
            half.forget();
        }
    }
}

impl AsyncWrite for QuietWriteHalf {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        context: &mut std::task::Context<'_>,
        bytes: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        match self.0.as_mut() {
            Some(half) => std::pin::Pin::new(half).poll_write(context, bytes),
            None => std::task::Poll::Ready(Err(std::io::ErrorKind::NotConnected.into())),
        }
    }

    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        context: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        match self.0.as_mut() {
            Some(half) => std::pin::Pin::new(half).poll_flush(context),
            None => std::task::Poll::Ready(Ok(())),
        }
    }

    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        context: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        match self.0.as_mut() {
            Some(half) => std::pin::Pin::new(half).poll_shutdown(context),
            None => std::task::Poll::Ready(Ok(())),
        }
    }
}

/// How much later than asked tokio's timer may fire: it ticks every millisecond and rounds
/// deadlines up.
const TIMER_SLACK: Duration = Duration::from_millis(1);

/// Sleeps until `deadline`, aiming a timer tick early so that a 100 ms latency is 100 ms
/// and not 101.5, then yielding through what is left if the timer fired early.
async fn sleep_precisely_until(deadline: Instant) {
    if let Some(early) = deadline.checked_sub(TIMER_SLACK) {
        sleep_until(early).await;
    }
    while Instant::now() < deadline {
        tokio::task::yield_now().await;
    }
}

fn far_future() -> Instant {
    Instant::now() + Duration::from_secs(86_400 * 365)
}
