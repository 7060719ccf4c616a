//! Dev-only helpers for unruly's tests.
//!
//! * [`TestServer`]: a scripted server on `127.0.0.1:0`, running on its own OS thread
//!   with its own tokio runtime, that behaves as a [`Behaviour`] says (fast, slow, stalling,
//!   hostile, endless...), in plain HTTP or over TLS with a self-signed certificate and
//!   HTTP/2 offered or not ([`TlsAlpn`]). It stops when dropped.
//! * [`ArrivalServer`] and [`CapacityServer`]: thread-per-connection servers that time
//!   when requests arrive whole, and serve `/slow` at a known capacity.
//! * [`client`]: a tiny HTTP/1.1 client for tests that need to talk to a server.
//!
//! This crate must never be a production dependency.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod arrivals;
mod behaviour;
mod body;
pub mod client;
mod http;
mod raw;
mod server;
mod tls;

pub use arrivals::{ArrivalServer, CapacityServer};
pub use behaviour::Behaviour;
pub use body::RepeatBody;
pub use server::TestServer;
pub use tls::TlsAlpn;
