//! `unruly explore`: every operation of an API, driven by its OpenAPI document,
//! with valid, boundary, invalid, strange and large inputs.
//!
//! Cases come from `unruly-inputs`, go out through the engine's [`Prober`]s,
//! and each answer is judged by `unruly-verdict`: server errors, information
//! leaks, answers the spec does not allow, invalid requests accepted, and
//! inputs far slower than the operation's own median (confirmed by sending
//! them again). Values the target creates (ids in answers to `POST`s, OpenAPI
//! links) feed later operations, so `GET /users/{id}` runs on users that exist,
//! including those created with strange values. Each distinct finding is then
//! shrunk to the smallest input that still shows it and written as a runnable
//! curl reproduction.
//!
//! Order: for each operation (creators first), positive, boundary and negative
//! cases, then strange strings, then large bodies; then random combinations of
//! them until 35% of the duration; then the unruly users' behaviours (repeated
//! submissions, bursts, a spike, storms, slow clients) until 80% (without them,
//! random cases go on until 80%); shrinking takes the rest. A health probe asks
//! its own path twice a second throughout (`unavailable` when it fails).
//!
//! [`Prober`]: unruly_engine::Prober
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod book;
mod exchange;
mod explorer;
mod judge;
mod links;
mod pool;
mod repro;
mod stats;

use std::time::{Duration, SystemTime};
use unruly_core::{ApiSpec, Finding, Stats};
use unruly_engine::{CancellationToken, Endpoint, EngineError};

/// How to explore.
#[derive(Debug, Clone)]
pub struct ExploreOptions {
    /// The target's base URL (`http://127.0.0.1:8080`, maybe with a base path).
    pub target: String,
    /// Accept any TLS certificate.
    pub insecure: bool,
    /// The longest the whole exploration may take, shrinking included.
    pub duration: Duration,
    /// The seed every case flows from.
    pub seed: u64,
    /// Headers added to every request (`Authorization`, ...), unless a case sets them.
    pub headers: Vec<(String, String)>,
    /// Only these operations (`METHOD /path` as in the spec); all when empty.
    pub only: Vec<String>,
    /// At most this many generated cases per operation (created values visited
    /// and shrinking come on top).
    pub max_cases: Option<usize>,
    /// Requests in flight at once.
    pub concurrency: usize,
    /// How long one request may take.
    pub timeout: Duration,
    /// The health path probed all along (`/health`); `None`: a `GET` of the
    /// spec named like a health check (health, healthz, livez, ready, status,
    /// ping), if there is one.
    pub health: Option<String>,
    /// Apply the unruly users' behaviours after the input passes: repeated
    /// submissions, bursts, refresh storms, slow clients and a traffic spike.
    pub behaviours: bool,
    /// Dependencies to put behind fault proxies and fail one after another (down,
    /// resets, 503s, a bandwidth squeeze, slow); each adds about 20 s to the duration.
    pub dependencies: Vec<Dependency>,
}

/// A dependency of the target: the target is configured to call `listen`, where a fault
/// proxy stands and forwards to `upstream`, the real dependency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dependency {
    /// A name for it, e.g. `payments`.
    pub name: String,
    /// Where the proxy listens (`host:port`): what the target calls.
    pub listen: String,
    /// Where the dependency really is (`host:port`).
    pub upstream: String,
}

impl Dependency {
    /// Parses `NAME=LISTEN@UPSTREAM`, e.g. `payments=127.0.0.1:7001@127.0.0.1:7000`.
    pub fn parse(text: &str) -> Result<Dependency, String> {
        let expected = "expected NAME=LISTEN@UPSTREAM, e.g. payments=127.0.0.1:7001@127.0.0.1:7000";
        let (name, addresses) = text
            .split_once('=')
            .ok_or_else(|| format!("no `=` in `{text}`: {expected}"))?;
        let (listen, upstream) = addresses
            .split_once('@')
            .ok_or_else(|| format!("no `@` in `{text}`: {expected}"))?;
        let address = |what: &str, value: &str| -> Result<String, String> {
            match value.rsplit_once(':') {
                Some((host, port)) if !host.is_empty() && port.parse::<u16>().is_ok() => {
                    Ok(value.to_owned())
                }
                _ => Err(format!("{what} `{value}` is not host:port: {expected}")),
            }
        };
        let name = name.trim();
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            return Err(format!(
                "name `{name}` must be letters, digits, `_` or `-`: {expected}"
            ));
        }
        Ok(Dependency {
            name: name.to_owned(),
            listen: address("LISTEN", listen.trim())?,
            upstream: address("UPSTREAM", upstream.trim())?,
        })
    }
}

impl ExploreOptions {
    /// The defaults of `unruly explore` for `target`: 30 s, seed 1, 8 requests
    /// in flight, 10 s per request, the spec's health path, behaviours on.
    pub fn new(target: String) -> Self {
        Self {
            target,
            insecure: false,
            duration: Duration::from_secs(30),
            seed: 1,
            headers: Vec::new(),
            only: Vec::new(),
            max_cases: None,
            concurrency: 8,
            timeout: Duration::from_secs(10),
            health: None,
            behaviours: true,
            dependencies: Vec::new(),
        }
    }
}

/// Where an exploration is, for live progress.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    /// `exploring` (generated cases), `random` (random combinations),
    /// `shrinking` or `done`.
    pub phase: &'static str,
    /// Operations sent at least one case.
    pub operations_covered: usize,
    /// Operations to explore.
    pub operations_total: usize,
    /// Requests sent so far (shrinking and confirmations included).
    pub cases_run: u64,
    /// Distinct findings so far.
    pub findings: usize,
    /// Time since the start.
    pub elapsed: Duration,
}

/// What an exploration found.
#[derive(Debug, Clone)]
pub struct ExploreResult {
    /// When the first case was sent.
    pub started_at: SystemTime,
    /// How long it took.
    pub duration: Duration,
    /// Whether it was cut short (Ctrl-C).
    pub interrupted: bool,
    /// The findings, shrunk, each with its reproduction.
    pub findings: Vec<Finding>,
    /// Requests per operation, their outcomes and latencies.
    pub stats: Stats,
    /// The operations explored, `METHOD /path`.
    pub operations: Vec<String>,
    /// Requests sent in all.
    pub cases_run: u64,
}

/// Why an exploration could not start.
#[derive(Debug, thiserror::Error)]
pub enum ExploreError {
    /// The target is unusable or unreachable.
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// The spec's schemas cannot be used to make cases.
    #[error(transparent)]
    Inputs(#[from] unruly_inputs::InputsError),
    /// The spec's response schemas cannot be compiled.
    #[error(transparent)]
    Conformance(#[from] unruly_verdict::ConformanceError),
    /// `--only` names an operation the spec does not have.
    #[error("--only `{given}`: no such operation in the spec; expected `METHOD /path` as written there, one of: {available}")]
    UnknownOperation {
        /// The value given.
        given: String,
        /// The spec's operations, comma-separated.
        available: String,
    },
    /// Nothing to explore.
    #[error("the spec has no operations to explore")]
    NoOperations,
    /// The runtime could not start.
    #[error("cannot start the explorer: {0}")]
    Runtime(#[from] std::io::Error),
    /// A dependency's fault proxy could not start (its listen address taken, say).
    #[error("--dependency {name}: {error}")]
    Dependency {
        /// The dependency's name.
        name: String,
        /// Why.
        error: String,
    },
}

/// Explores every operation of `spec` on `options.target`, calling
/// `on_progress` about four times a second. Cancelling `cancel` stops it early;
/// what was found until then is kept, as found (not shrunk).
pub fn explore(
    spec: &ApiSpec,
    options: &ExploreOptions,
    cancel: CancellationToken,
    on_progress: impl FnMut(&Snapshot),
) -> Result<ExploreResult, ExploreError> {
    let selected = select_operations(spec, &options.only)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let proxies = start_proxies(runtime.handle(), options)?;
    runtime.block_on(async {
        let mut endpoint = Endpoint::resolve(&options.target, options.insecure)?;
        endpoint.preflight(Duration::from_secs(3)).await?;
        let explorer = explorer::Explorer::new(spec, options, selected, endpoint, cancel, proxies)?;
        Ok(explorer.run(on_progress).await)
    })
}

/// A fault proxy per dependency, on the explorer's runtime; `None` without dependencies.
fn start_proxies(
    runtime: &tokio::runtime::Handle,
    options: &ExploreOptions,
) -> Result<Option<unruly_faults::Proxies>, ExploreError> {
    if options.dependencies.is_empty() {
        return Ok(None);
    }
    let proxies = unruly_faults::Proxies::new(runtime.clone(), options.seed);
    for dependency in &options.dependencies {
        proxies
            .create(unruly_faults::ProxySpec {
                name: dependency.name.clone(),
                listen: dependency.listen.clone(),
                upstream: dependency.upstream.clone(),
                enabled: true,
            })
            .map_err(|error| ExploreError::Dependency {
                name: dependency.name.clone(),
                error: error.error,
            })?;
    }
    Ok(Some(proxies))
}

/// The indices of the operations to explore, in spec order.
fn select_operations(spec: &ApiSpec, only: &[String]) -> Result<Vec<usize>, ExploreError> {
    if spec.operations.is_empty() {
        return Err(ExploreError::NoOperations);
    }
    let normal = |s: &str| {
        let mut words = s.split_whitespace();
        let method = words.next().unwrap_or_default().to_ascii_uppercase();
        format!("{method} {}", words.collect::<Vec<_>>().join(" "))
    };
    let wanted: Vec<String> = only.iter().map(|o| normal(o)).collect();
    for (given, want) in only.iter().zip(&wanted) {
        if !spec.operations.iter().any(|o| &o.name() == want) {
            let available: Vec<String> = spec.operations.iter().map(|o| o.name()).collect();
            return Err(ExploreError::UnknownOperation {
                given: given.clone(),
                available: available.join(", "),
            });
        }
    }
    Ok((0..spec.operations.len())
        .filter(|&i| wanted.is_empty() || wanted.contains(&spec.operations[i].name()))
        .collect())
}
