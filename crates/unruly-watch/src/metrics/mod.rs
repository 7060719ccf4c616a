//! Metrics: the target's Prometheus endpoint scraped (`--scrape`), unruly's own exposed (`--metrics-addr`).
//!
//! unruly's own: a run feeds a [`LiveMetrics`] (windows, findings, phase, explore's progress,
//! the watched target's samples) and a [`MetricsServer`] serves it as `GET /metrics` in the
//! Prometheus text format. The target's: a [`Scraper`] reads its endpoint every second into
//! [`unruly_core::ScrapedSeries`] for the report's timeline.

pub mod exposition;
pub mod live;
pub mod parse;
pub mod scrape;
pub mod server;

pub use live::LiveMetrics;
pub use scrape::{ScrapeOutcome, Scraper, SCRAPE_INTERVAL};
pub use server::{serve, MetricsServer};

use std::net::SocketAddr;

/// What can go wrong starting the metrics server or the scraper.
#[derive(Debug, thiserror::Error)]
pub enum MetricsError {
    /// The metrics address could not be bound (taken, not local, no permission).
    #[error("cannot serve metrics on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// Why binding failed.
        source: std::io::Error,
    },
    /// The scrape URL is not a plain `http://host[:port]/path` URL.
    #[error("cannot scrape {url:?}: {reason}")]
    ScrapeUrl {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The thread (or its runtime) that serves or scrapes could not be started.
    #[error("cannot start the {what} thread: {source}")]
    Thread {
        /// Which thread: `metrics server` or `scrape`.
        what: &'static str,
        /// Why it could not start.
        source: std::io::Error,
    },
}
