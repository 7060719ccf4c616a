//! Servers that measure what clients do:
//!
//! * [`ArrivalServer`] records when each request has arrived whole (its last
//!   byte read), for the spread of synchronised bursts (on one event-loop
//!   thread, like most servers);
//! * [`CapacityServer`] serves `/slow` through one lock held for a fixed time
//!   per request (a known capacity) and anything else at once, keep-alive.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// Reads one request (head and `Content-Length` body) from `stream`; `None` at
/// the end of the connection.
fn read_request(stream: &mut TcpStream, buffer: &mut Vec<u8>) -> Option<String> {
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(whole) = request_length(buffer).filter(|&whole| buffer.len() >= whole) {
            let head_end = buffer
                .windows(4)
                .position(|w| w == b"\r\n\r\n")
                .unwrap_or(0);
            let head = String::from_utf8_lossy(&buffer[..head_end]).into_owned();
            buffer.drain(..whole);
            return Some(head);
        }
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => return None,
            Ok(n) => buffer.extend_from_slice(&chunk[..n]),
        }
    }
}

/// Accepts on `listener` until `stop`, handing each connection to `serve` on a
/// thread of its own.
fn accept_loop(
    listener: TcpListener,
    stop: Arc<AtomicBool>,
    serve: impl Fn(TcpStream) + Send + Sync + 'static,
) {
    let serve = Arc::new(serve);
    thread::spawn(move || {
        for stream in listener.incoming() {
            if stop.load(Ordering::SeqCst) {
                break;
            }
            let Ok(stream) = stream else { continue };
            let _ = stream.set_nodelay(true);
            let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
            let serve = Arc::clone(&serve);
            thread::spawn(move || serve(stream));
        }
    });
}

/// Wakes the accept loop so that it sees `stop`.
fn wake(addr: SocketAddr) {
    let _ = TcpStream::connect_timeout(&addr, Duration::from_millis(200));
}

/// Records the instant each request arrived whole, answers `200 ok` and closes.
/// It runs on one event-loop thread (tokio, current-thread), as most servers
/// do, so that a burst's arrivals are not spread by thread wake-ups.
pub struct ArrivalServer {
    addr: SocketAddr,
    arrivals: Arc<Mutex<Vec<Instant>>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl ArrivalServer {
    /// Starts on `127.0.0.1:0`.
    pub fn start() -> io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let arrivals = Arc::new(Mutex::new(Vec::new()));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let seen = Arc::clone(&arrivals);
        thread::spawn(move || {
            runtime.block_on(async move {
                let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
                    return;
                };
                let accept = async {
                    loop {
                        let Ok((stream, _)) = listener.accept().await else {
                            continue;
                        };
                        let seen = Arc::clone(&seen);
                        tokio::spawn(record_one(stream, seen));
                    }
                };
                tokio::select! {
                    _ = stopped => {}
                    () = accept => {}
                }
            });
        });
        Ok(Self {
            addr,
            arrivals,
            stop: Some(stop),
        })
    }

    /// Its base URL.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Takes the arrivals recorded so far.
    pub fn take_arrivals(&self) -> Vec<Instant> {
        self.arrivals
            .lock()
            .map(|mut seen| std::mem::take(&mut *seen))
            .unwrap_or_default()
    }
}

/// Reads one request, records when it was whole, answers and closes.
async fn record_one(mut stream: tokio::net::TcpStream, seen: Arc<Mutex<Vec<Instant>>>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let _ = stream.set_nodelay(true);
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buffer.extend_from_slice(&chunk[..n]),
        }
        if let Some(whole) = request_length(&buffer) {
            if buffer.len() >= whole {
                break;
            }
        }
    }
    let at = Instant::now();
    if let Ok(mut seen) = seen.lock() {
        seen.push(at);
    }
    // Let the other requests that are ready be timed before answering this one.
    tokio::task::yield_now().await;
    let _ = stream
        .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok")
        .await;
}

/// The length of the request at the start of `buffer` (head and body), once its
/// head is complete.
fn request_length(buffer: &[u8]) -> Option<usize> {
    let end = buffer.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&buffer[..end]);
    let length: usize = head
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse().ok())?
        })
        .unwrap_or(0);
    Some(end + 4 + length)
}

impl Drop for ArrivalServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// `/slow` takes one global lock for `service_time` per request: its capacity
/// is `1 / service_time` requests per second whatever the concurrency. Any
/// other path answers at once. Keep-alive HTTP/1.1.
pub struct CapacityServer {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
}

impl CapacityServer {
    /// Starts on `127.0.0.1:0`.
    pub fn start(service_time: Duration) -> io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let stop = Arc::new(AtomicBool::new(false));
        let lock = Arc::new(Mutex::new(()));
        accept_loop(listener, Arc::clone(&stop), move |mut stream| {
            let mut buffer = Vec::new();
            while let Some(head) = read_request(&mut stream, &mut buffer) {
                let path = head.split_whitespace().nth(1).unwrap_or("/");
                if path.starts_with("/slow") {
                    let _held = lock.lock();
                    thread::sleep(service_time);
                }
                let body = b"{\"ok\":true}";
                let answer = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
                    body.len()
                );
                if stream.write_all(answer.as_bytes()).is_err() || stream.write_all(body).is_err() {
                    break;
                }
            }
        });
        Ok(Self { addr, stop })
    }

    /// Its base URL.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for CapacityServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        wake(self.addr);
    }
}
