//! Real servers on loopback for the proxy's tests, and a raw HTTP/1.1 client.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::thread;
use std::time::Duration;
use unruly_faults::{Proxies, ProxyInfo, ProxySpec};

/// A runtime and a proxy set on it.
pub struct Rig {
    pub runtime: tokio::runtime::Runtime,
    pub proxies: Proxies,
}

impl Rig {
    pub fn new(seed: u64) -> Rig {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a runtime");
        let proxies = Proxies::new(runtime.handle().clone(), seed);
        Rig { runtime, proxies }
    }

    /// A proxy named `name` on 127.0.0.1:0 in front of `upstream`.
    pub fn proxy(&self, name: &str, upstream: SocketAddr) -> ProxyInfo {
        self.proxies
            .create(ProxySpec {
                name: name.into(),
                listen: "127.0.0.1:0".into(),
                upstream: upstream.to_string(),
                enabled: true,
            })
            .expect("the proxy starts")
    }
}

pub fn listen(info: &ProxyInfo) -> SocketAddr {
    info.listen_addr().expect("a bound address")
}

/// An echo server: every connection gets back what it sends.
pub fn echo_server() -> SocketAddr {
    serve_each(|mut stream| {
        let mut buffer = [0u8; 16 * 1024];
        while let Ok(read) = stream.read(&mut buffer) {
            if read == 0 || stream.write_all(&buffer[..read]).is_err() {
                return;
            }
        }
    })
}

/// A server that sends `bytes` bytes to every connection and closes it.
pub fn sender_server(bytes: usize) -> SocketAddr {
    serve_each(move |mut stream| {
        let _ = stream.write_all(&vec![b'x'; bytes]);
    })
}

/// A server that answers each HTTP/1.1 request (keep-alive) with a 200 and a JSON body
/// of `body_bytes` bytes.
pub fn http_server(body_bytes: usize) -> SocketAddr {
    serve_each(move |mut stream| {
        let mut pending = Vec::new();
        let mut buffer = [0u8; 4096];
        loop {
            while let Some(end) = find(&pending, b"\r\n\r\n") {
                pending.drain(..end + 4);
                let body = format!(
                    "{{\"pad\":\"{}\"}}",
                    "p".repeat(body_bytes.saturating_sub(10))
                );
                let answer = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
                    body.len()
                );
                if stream.write_all(answer.as_bytes()).is_err() {
                    return;
                }
            }
            match stream.read(&mut buffer) {
                Ok(0) | Err(_) => return,
                Ok(read) => pending.extend_from_slice(&buffer[..read]),
            }
        }
    })
}

fn serve_each(handler: impl Fn(TcpStream) + Send + Sync + Copy + 'static) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            thread::spawn(move || handler(stream));
        }
    });
    addr
}

/// A loopback port nobody listens on.
pub fn closed_port() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr")
}

pub fn connect(addr: SocketAddr) -> TcpStream {
    let stream = TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    stream
}

/// Reads until EOF; `Err` carries the error kind (e.g. ConnectionReset) and the bytes read.
pub fn read_all(stream: &mut TcpStream) -> Result<Vec<u8>, (std::io::ErrorKind, Vec<u8>)> {
    let mut all = Vec::new();
    let mut buffer = [0u8; 16 * 1024];
    loop {
        match stream.read(&mut buffer) {
            Ok(0) => return Ok(all),
            Ok(read) => all.extend_from_slice(&buffer[..read]),
            Err(error) => return Err((error.kind(), all)),
        }
    }
}

/// An HTTP answer: status, headers (lowercase names) and body.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }
}

/// Sends one request with `Connection: close` and reads the whole answer.
pub fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Answer {
    let mut stream = connect(addr);
    let mut text = format!(
        "{method} {path} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\ncontent-length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        text.push_str(&format!("{name}: {value}\r\n"));
    }
    text.push_str("\r\n");
    text.push_str(body);
    stream.write_all(text.as_bytes()).expect("send");
    let raw = read_all(&mut stream).unwrap_or_else(|(_, bytes)| bytes);
    parse_answer(&raw).expect("an HTTP answer")
}

pub fn parse_answer(raw: &[u8]) -> Option<Answer> {
    let end = find(raw, b"\r\n\r\n")?;
    let head = std::str::from_utf8(&raw[..end]).ok()?;
    let mut lines = head.split("\r\n");
    let status = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let headers = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_owned()))
        .collect();
    Some(Answer {
        status,
        headers,
        body: raw[end + 4..].to_vec(),
    })
}

pub fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}
