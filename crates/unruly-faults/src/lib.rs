//! unruly-faults: the fault proxy.
//!
//! A TCP proxy on tokio, one listener per proxy, each connection dialing the proxy's
//! upstream. Toxics act on either direction with Toxiproxy's names, attributes and
//! semantics (`latency`, `bandwidth`, `slow_close`, `timeout`, `reset_peer`, `slicer`,
//! `limit_data`, and a disabled proxy being down), read afresh for every chunk so that
//! they act on connections already open. Where Toxiproxy is known to be wrong, this is
//! right: a toxic's toxicity is decided once per connection with a seeded generator, so
//! that a run can be repeated, and `reset_peer` resets only the connections it applies to.
//!
//! For HTTP/1.1 upstreams, [`HttpFault`]s answer a chosen status (with `Retry-After`),
//! delay the response, abort or truncate the body, or garble it, on requests matching a
//! method and a path, for a percentage of them.
//!
//! [`ControlApi`] serves Toxiproxy's HTTP API over [`Proxies`], so that Toxiproxy's
//! clients and their test suites work unchanged.
//!
//! ```
//! use unruly_faults::{Proxies, ProxySpec, Toxic};
//!
//! let runtime = tokio::runtime::Runtime::new()?;
//! let proxies = Proxies::new(runtime.handle().clone(), 7);
//! let proxy = proxies.create(ProxySpec {
//!     name: "shipping".into(),
//!     listen: "127.0.0.1:0".into(),
//!     upstream: "127.0.0.1:9".into(),
//!     enabled: true,
//! })?;
//! let toxic = Toxic::from_json(br#"{"type":"latency","attributes":{"latency":100}}"#)?;
//! proxies.add_toxic("shipping", toxic)?;
//! println!("clients of {} get +100 ms", proxy.listen);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod api;
mod body;
mod config;
mod error;
mod faults;
mod http_fault;
mod http_layer;
mod link;
mod proxies;
mod toxic;

pub use api::{ControlApi, TOXIPROXY_VERSION};
pub use config::{parse_config, read_config, ConfigError};
pub use error::ApiError;
pub use http_fault::{glob_match, HttpAction, HttpFault, HTTP_FAULT_TYPES};
pub use proxies::{Proxies, ProxyInfo, ProxySpec};
pub use toxic::{Stream, Toxic, ToxicKind, TOXIC_TYPES};
