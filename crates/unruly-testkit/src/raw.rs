//! The raw-TCP behaviours: [`Behaviour::Garbage`] and [`Behaviour::Reset`].

use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::behaviour::Behaviour;
use crate::server::Shared;

/// What [`Behaviour::Garbage`] writes.
pub(crate) const GARBAGE: &[u8] = b"\x00\x01garbage\r\n\r\n";

/// The most a raw behaviour reads while looking for the end of a request head.
const MAX_HEAD: usize = 64 * 1024;

/// Serves one raw connection; every I/O error just ends it.
pub(crate) async fn serve(mut stream: TcpStream, shared: Arc<Shared>) {
    if !read_head(&mut stream).await {
        return;
    }
    shared.count_request();
    match shared.behaviour {
        Behaviour::Garbage => {
            let _ = stream.write_all(GARBAGE).await;
            let _ = stream.shutdown().await;
        }
        Behaviour::Reset => {
            // SO_LINGER(0): closing sends RST instead of FIN.
            let _ = stream.set_zero_linger();
            drop(stream);
        }
        _ => {}
    }
}

/// Reads until the end of a request head (`\r\n\r\n`), at most [`MAX_HEAD`] bytes. Returns
/// whether a whole head (or [`MAX_HEAD`] bytes) arrived before the peer closed.
async fn read_head(stream: &mut TcpStream) -> bool {
    let mut head = Vec::with_capacity(1024);
    let mut buf = [0u8; 4096];
    loop {
        let n = match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return false,
            Ok(n) => n,
        };
        let search_from = head.len().saturating_sub(3);
        head.extend_from_slice(&buf[..n]);
        if head[search_from..].windows(4).any(|w| w == b"\r\n\r\n") || head.len() >= MAX_HEAD {
            return true;
        }
    }
}
