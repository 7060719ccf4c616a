//! Old devices and slow networks: a crowd of clients that send their requests
//! (or read their answers) a byte at a time, held open until dispersed.
//!
//! Each client is a task with its own connection; [`SlowCrowd::disperse`]
//! stops them all and waits until every socket is closed, and dropping the
//! crowd aborts whatever is left, so nothing outlives it.

use super::wire::{self, WireRequest};
use crate::endpoint::Endpoint;
use crate::probe::ProbeRequest;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
pub use unruly_core::SlowMode;

/// How long one client may take to connect.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// What slow-header clients keep sending once their request head is out (never
/// the empty line that would end it).
const ENDLESS_HEADER: &[u8] = b"x-unruly-slow: 1\r\n";

/// How the crowd is doing, counted as it goes.
#[derive(Debug, Default)]
struct Counters {
    started: AtomicU64,
    connected: AtomicU64,
    connect_failures: AtomicU64,
    cut_by_server: AtomicU64,
    answered: AtomicU64,
    bytes_sent: AtomicU64,
}

/// A snapshot of a crowd.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CrowdCounts {
    /// Clients started.
    pub started: u64,
    /// Clients that got a connection.
    pub connected: u64,
    /// Clients that could not connect.
    pub connect_failures: u64,
    /// Clients whose connection the target closed or answered before they were
    /// done (a read timeout doing its job).
    pub cut_by_server: u64,
    /// Clients that sent everything and got their answer.
    pub answered: u64,
    /// Bytes sent by all clients.
    pub bytes_sent: u64,
}

/// Slow clients, all sending the same request in the same way.
pub struct SlowCrowd {
    endpoint: Endpoint,
    request: Arc<WireRequest>,
    mode: SlowMode,
    interval: Duration,
    cancel: CancellationToken,
    clients: JoinSet<()>,
    counters: Arc<Counters>,
}

impl SlowCrowd {
    /// A crowd (empty until [`grow_to`](Self::grow_to)) that sends `request` in
    /// `mode` at `bytes_per_second` (at least 1). Fails when the request cannot
    /// be encoded.
    pub fn new(
        endpoint: &Endpoint,
        request: &ProbeRequest,
        mode: SlowMode,
        bytes_per_second: u64,
    ) -> Result<Self, String> {
        let request = WireRequest::encode(endpoint, request)?;
        Ok(Self {
            endpoint: endpoint.clone(),
            request: Arc::new(request),
            mode,
            interval: Duration::from_secs(1)
                / u32::try_from(bytes_per_second.max(1)).unwrap_or(u32::MAX),
            cancel: CancellationToken::new(),
            clients: JoinSet::new(),
            counters: Arc::new(Counters::default()),
        })
    }

    /// Clients started so far.
    pub fn len(&self) -> usize {
        self.clients.len()
    }

    /// Whether no client was started.
    pub fn is_empty(&self) -> bool {
        self.clients.is_empty()
    }

    /// Starts clients until there are `count`, then waits (at most the connect
    /// timeout) until each has connected or failed to.
    pub async fn grow_to(&mut self, count: usize) {
        while self.clients.len() < count {
            let index = self.clients.len();
            let client = Client {
                endpoint: self.endpoint.clone(),
                request: Arc::clone(&self.request),
                mode: self.mode,
                interval: self.interval,
                counters: Arc::clone(&self.counters),
            };
            let cancel = self.cancel.clone();
            self.counters.started.fetch_add(1, Ordering::Relaxed);
            self.clients.spawn(async move {
                tokio::select! {
                    () = cancel.cancelled() => {}
                    () = client.run(index) => {}
                }
            });
        }
        let deadline = tokio::time::Instant::now() + CONNECT_TIMEOUT;
        while tokio::time::Instant::now() < deadline {
            let counts = self.counts();
            if counts.connected + counts.connect_failures >= counts.started {
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// The counts so far.
    pub fn counts(&self) -> CrowdCounts {
        let c = &self.counters;
        CrowdCounts {
            started: c.started.load(Ordering::Relaxed),
            connected: c.connected.load(Ordering::Relaxed),
            connect_failures: c.connect_failures.load(Ordering::Relaxed),
            cut_by_server: c.cut_by_server.load(Ordering::Relaxed),
            answered: c.answered.load(Ordering::Relaxed),
            bytes_sent: c.bytes_sent.load(Ordering::Relaxed),
        }
    }

    /// Stops every client and waits until all their connections are closed.
    pub async fn disperse(mut self) -> CrowdCounts {
        self.cancel.cancel();
        while self.clients.join_next().await.is_some() {}
        self.counts()
    }
}

impl Drop for SlowCrowd {
    fn drop(&mut self) {
        self.cancel.cancel();
        self.clients.abort_all();
    }
}

/// One slow client.
struct Client {
    endpoint: Endpoint,
    request: Arc<WireRequest>,
    mode: SlowMode,
    interval: Duration,
    counters: Arc<Counters>,
}

impl Client {
    async fn run(self, index: usize) {
        let stream = match wire::connect(&self.endpoint, index, CONNECT_TIMEOUT).await {
            Ok(stream) => stream,
            Err(_) => {
                self.counters
                    .connect_failures
                    .fetch_add(1, Ordering::Relaxed);
                return;
            }
        };
        self.counters.connected.fetch_add(1, Ordering::Relaxed);
        let (mut reader, mut writer) = tokio::io::split(stream);
        let head = &self.request.head;
        // What goes out at once, and what is trickled.
        let (at_once, trickled): (Vec<u8>, Vec<u8>) = match self.mode {
            SlowMode::Headers => {
                let first_line = head
                    .windows(2)
                    .position(|w| w == b"\r\n")
                    .map_or(head.len(), |p| p + 2);
                // Everything but the empty line that ends the head.
                let open = &head[..head.len().saturating_sub(2)];
                (
                    open[..first_line.min(open.len())].to_vec(),
                    open[first_line.min(open.len())..].to_vec(),
                )
            }
            SlowMode::Upload => (head.clone(), self.request.body.to_vec()),
            SlowMode::Read => (self.request.to_bytes(), Vec::new()),
        };
        if writer.write_all(&at_once).await.is_err() || writer.flush().await.is_err() {
            self.counters.cut_by_server.fetch_add(1, Ordering::Relaxed);
            return;
        }
        self.counters
            .bytes_sent
            .fetch_add(at_once.len() as u64, Ordering::Relaxed);

        if self.mode == SlowMode::Read {
            // The answer, a byte per interval.
            let mut byte = [0u8; 1];
            loop {
                match reader.read(&mut byte).await {
                    Ok(0) => {
                        self.counters.answered.fetch_add(1, Ordering::Relaxed);
                        return;
                    }
                    Ok(_) => tokio::time::sleep(self.interval).await,
                    Err(_) => {
                        self.counters.cut_by_server.fetch_add(1, Ordering::Relaxed);
                        return;
                    }
                }
            }
        }

        let mut ticker = tokio::time::interval(self.interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        ticker.tick().await;
        let mut next = 0usize;
        let mut seen = [0u8; 512];
        loop {
            tokio::select! {
                read = reader.read(&mut seen) => {
                    // Anything from the target before the request is done: it
                    // answered early (408, 400) or closed the connection.
                    let _ = read;
                    self.counters.cut_by_server.fetch_add(1, Ordering::Relaxed);
                    return;
                }
                _ = ticker.tick() => {
                    let byte = match trickled.get(next) {
                        Some(&b) => b,
                        None if self.mode == SlowMode::Headers => {
                            ENDLESS_HEADER[(next - trickled.len()) % ENDLESS_HEADER.len()]
                        }
                        None => break,
                    };
                    next += 1;
                    if writer.write_all(&[byte]).await.is_err() || writer.flush().await.is_err() {
                        self.counters.cut_by_server.fetch_add(1, Ordering::Relaxed);
                        return;
                    }
                    self.counters.bytes_sent.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
        // The whole upload went out: wait for the answer.
        let mut sink = [0u8; 4096];
        loop {
            match reader.read(&mut sink).await {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
        }
        self.counters.answered.fetch_add(1, Ordering::Relaxed);
    }
}
