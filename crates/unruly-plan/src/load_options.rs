//! `unruly load URL` flags → a one-operation [`Plan`], like wrk, oha or hey.

use crate::assumption::parse_located;
use crate::duration::format_duration;
use crate::scenario::{is_header_name, DEFAULT_MAX_BODY_BYTES};
use crate::url::split_url;
use crate::workload::{default_threads, DEFAULT_DURATION, MAX_CONNECTIONS};
use std::time::Duration;
use unruly_core::{Operation, Plan, Stage, StopCondition, Target, Template, Workload};

/// Flag names as [`FlagError`] reports them (the CLI should use the same).
pub mod flags {
    /// The positional target URL.
    pub const URL: &str = "URL";
    /// Connections (closed model: virtual users).
    pub const CONNECTIONS: &str = "-c";
    /// Run length.
    pub const DURATION: &str = "-d";
    /// Number of requests.
    pub const REQUESTS: &str = "-n";
    /// Open-model arrival rate.
    pub const RATE: &str = "--rate";
    /// HTTP method.
    pub const METHOD: &str = "-m";
    /// A request header.
    pub const HEADER: &str = "-H";
    /// OS threads.
    pub const THREADS: &str = "--threads";
    /// Per-request timeout.
    pub const TIMEOUT: &str = "--timeout";
    /// An assumption to check.
    pub const ASSUME: &str = "--assume";
}

/// The flags of `unruly load`, already parsed by the CLI.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadOptions {
    /// Target URL; `http://` is assumed without a scheme; path and query
    /// (default `/`) become the one operation.
    pub url: String,
    /// Connections: virtual users in the closed model, carriers of the
    /// arrivals with `rate`. 1 to 1,000,000.
    pub connections: usize,
    /// Run length; 10 s when neither this nor `requests` is given.
    pub duration: Option<Duration>,
    /// Stop after this many requests instead.
    pub requests: Option<u64>,
    /// Open model: this many requests per second, whatever the target does.
    pub rate: Option<f64>,
    /// HTTP method, e.g. `GET` (upper-cased).
    pub method: String,
    /// Raw `Name: value` headers.
    pub headers: Vec<String>,
    /// A request body, sent as is.
    pub body: Option<String>,
    /// OS threads; default one per CPU.
    pub threads: Option<usize>,
    /// Per-request timeout.
    pub timeout: Duration,
    /// Accept any TLS certificate.
    pub insecure: bool,
    /// The seed of every random choice.
    pub seed: u64,
    /// Assumption texts, e.g. `p99 < 300ms`.
    pub assumptions: Vec<String>,
}

impl Default for LoadOptions {
    fn default() -> Self {
        Self {
            url: "http://127.0.0.1:8080/".into(),
            connections: 50,
            duration: None,
            requests: None,
            rate: None,
            method: "GET".into(),
            headers: Vec::new(),
            body: None,
            threads: None,
            timeout: crate::scenario::DEFAULT_TIMEOUT,
            insecure: false,
            seed: crate::scenario::DEFAULT_SEED,
            assumptions: Vec::new(),
        }
    }
}

/// A flag with a bad value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{flag} '{value}': {message}")]
pub struct FlagError {
    /// The flag, e.g. `-c` (see [`flags`]).
    pub flag: &'static str,
    /// The value given.
    pub value: String,
    /// What is wrong and what is expected.
    pub message: String,
}

fn flag_error(flag: &'static str, value: impl ToString, message: impl Into<String>) -> FlagError {
    FlagError {
        flag,
        value: value.to_string(),
        message: message.into(),
    }
}

/// Parses a `-H 'Name: value'` flag: a header name of letters, digits and `-`,
/// a value without line breaks (both trimmed).
pub fn parse_header_flag(raw: &str) -> Result<(String, String), FlagError> {
    let Some((name, value)) = raw.split_once(':') else {
        return Err(flag_error(
            flags::HEADER,
            raw,
            "expected `Name: value`, e.g. -H 'Accept: application/json'",
        ));
    };
    let name = name.trim();
    if !is_header_name(name) {
        return Err(flag_error(
            flags::HEADER,
            raw,
            format!("\"{name}\" is not a valid header name: expected letters, digits and `-`"),
        ));
    }
    if value.contains(['\r', '\n']) {
        return Err(flag_error(
            flags::HEADER,
            raw,
            "a header value cannot contain a line break",
        ));
    }
    Ok((name.to_string(), value.trim().to_string()))
}

/// Builds the plan of `unruly load`: one operation named `METHOD /path?query`
/// against `scheme://host:port`; a closed model with `connections` users and
/// no think time, or with `rate` an open model holding that rate.
///
/// Bodies and headers are literal: no template variables.
pub fn plan_from_load_options(o: &LoadOptions) -> Result<Plan, FlagError> {
    let url = split_url(&o.url, true).map_err(|m| flag_error(flags::URL, &o.url, m))?;
    let path = if url.path_and_query.is_empty() {
        "/".to_string()
    } else {
        url.path_and_query.clone()
    };

    let method = o.method.trim();
    if method.is_empty() || !method.chars().all(|c| c.is_ascii_alphabetic()) {
        return Err(flag_error(
            flags::METHOD,
            &o.method,
            "not an HTTP method: expected letters A-Z, e.g. GET or POST",
        ));
    }
    let method = method.to_ascii_uppercase();

    let mut headers = Vec::with_capacity(o.headers.len());
    for raw in &o.headers {
        let (name, value) = parse_header_flag(raw)?;
        headers.push((name, Template::literal(&value)));
    }

    if o.connections == 0 || o.connections > MAX_CONNECTIONS {
        return Err(flag_error(
            flags::CONNECTIONS,
            o.connections,
            format!("expected from 1 to {MAX_CONNECTIONS} connections"),
        ));
    }
    if let Some(threads) = o.threads {
        if threads == 0 {
            return Err(flag_error(
                flags::THREADS,
                threads,
                "expected at least 1 thread",
            ));
        }
    }
    if o.timeout.is_zero() {
        return Err(flag_error(
            flags::TIMEOUT,
            format_duration(o.timeout),
            "expected a timeout above 0, e.g. 10s",
        ));
    }
    if let Some(d) = o.duration {
        if d.is_zero() {
            return Err(flag_error(
                flags::DURATION,
                format_duration(d),
                "expected a duration above 0, e.g. 10s",
            ));
        }
    }
    if o.requests == Some(0) {
        return Err(flag_error(
            flags::REQUESTS,
            0,
            "expected at least 1 request",
        ));
    }
    if let (Some(d), Some(n)) = (o.duration, o.requests) {
        return Err(flag_error(
            flags::REQUESTS,
            n,
            format!(
                "cannot be combined with -d {}: expected a duration or a number of requests",
                format_duration(d)
            ),
        ));
    }

    let (workload, stop) = match o.rate {
        Some(rate) if !(rate.is_finite() && rate > 0.0) => {
            return Err(flag_error(
                flags::RATE,
                rate,
                "expected a number of requests per second above 0",
            ));
        }
        Some(rate) => {
            let (duration, stop) = match (o.duration, o.requests) {
                (_, Some(n)) => {
                    let secs = n as f64 / rate;
                    let duration = Duration::try_from_secs_f64(secs).map_err(|_| {
                        flag_error(
                            flags::REQUESTS,
                            n,
                            format!("at --rate {rate} this would run too long"),
                        )
                    })?;
                    (duration, StopCondition::Requests(n))
                }
                (Some(d), None) => (d, StopCondition::Duration(d)),
                (None, None) => (DEFAULT_DURATION, StopCondition::Duration(DEFAULT_DURATION)),
            };
            (
                Workload::Open {
                    connections: o.connections,
                    stages: vec![Stage::Hold { rate, duration }],
                },
                stop,
            )
        }
        None => {
            let stop = match (o.duration, o.requests) {
                (_, Some(n)) => StopCondition::Requests(n),
                (Some(d), None) => StopCondition::Duration(d),
                (None, None) => StopCondition::Duration(DEFAULT_DURATION),
            };
            (
                Workload::Closed {
                    users: o.connections,
                    think_time: Duration::ZERO,
                },
                stop,
            )
        }
    };

    let name = format!("{method} {path}");
    let mut assumptions = Vec::with_capacity(o.assumptions.len());
    for text in &o.assumptions {
        let (assumption, _) = parse_located(text).map_err(|e| {
            flag_error(
                flags::ASSUME,
                text,
                format!(
                    "at character {}: {}",
                    text.get(..e.offset)
                        .map_or(1, |before| before.chars().count() + 1),
                    e.message
                ),
            )
        })?;
        if let Some(op) = &assumption.operation {
            if *op != name {
                return Err(flag_error(
                    flags::ASSUME,
                    text,
                    format!("no operation is named \"{op}\": expected \"{name}\" or no operation"),
                ));
            }
        }
        assumptions.push(assumption);
    }

    Ok(Plan {
        target: Target {
            base_url: url.base,
            health: None,
        },
        operations: vec![Operation {
            name,
            method,
            path: Template::literal(&path),
            headers,
            body: o.body.as_deref().map(Template::literal),
            weight: 1,
        }],
        workload,
        stop,
        timeout: o.timeout,
        threads: o.threads.unwrap_or_else(default_threads),
        max_body_bytes: DEFAULT_MAX_BODY_BYTES,
        seed: o.seed,
        insecure: o.insecure,
        assumptions,
        behaviours: Vec::new(),
        dependencies: Vec::new(),
        faults: Vec::new(),
    })
}
