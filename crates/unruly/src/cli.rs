//! Command-line flags (clap). Raw values only: `unruly-plan` validates them.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// Rehearse production before production: point real-world traffic, unruly users,
/// strange inputs and failing dependencies at an HTTP service, watch it, and report
/// every assumption production would have proven wrong.
#[derive(Debug, Parser)]
#[command(name = "unruly", version, about, long_about = None)]
#[command(
    after_help = "Exit codes: 0 every assumption held; 1 findings or a broken assumption; \
2 bad usage, bad config, or target unreachable; 130 interrupted (partial report written)."
)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Quick load test of one URL, like wrk, oha or hey.
    Load(LoadArgs),
    /// Run a scenario file: load, operations and assumptions.
    Run(RunArgs),
    /// Explore an API from its OpenAPI document: edge-case inputs, checks,
    /// shrunk reproductions.
    Explore(ExploreArgs),
    /// Write a commented starter scenario that runs as-is.
    Init(InitArgs),
    /// Start the embedded demo service (with planted bugs) and rehearse against it.
    Demo(DemoArgs),
    /// Fault proxy between a service and its dependencies, with a control API that
    /// Toxiproxy's clients use unchanged.
    Proxy(ProxyArgs),
}

/// Flags of `unruly proxy`.
#[derive(Debug, Args)]
pub struct ProxyArgs {
    /// Where the control API listens (Toxiproxy's default address). Any address other
    /// than loopback requires --token.
    #[arg(long, default_value = "127.0.0.1:8474")]
    pub api: String,
    /// Proxies to create at start: a JSON array of {"name", "listen", "upstream"}, the
    /// format of Toxiproxy's -config.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// A token every API request must carry as `Authorization: Bearer <token>`.
    #[arg(long, env = "UNRULY_PROXY_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// Seed of every random decision (toxicity per connection, jitter, slice sizes, HTTP
    /// fault percentages), so that a run can be repeated.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}

/// Flags of `unruly load`.
#[derive(Debug, Args)]
pub struct LoadArgs {
    /// The URL to load, e.g. http://127.0.0.1:8080/products.
    pub url: String,
    /// Concurrent connections (closed model: one user each).
    #[arg(short = 'c', long, default_value_t = 50)]
    pub connections: usize,
    /// How long to run, e.g. 10s, 500ms, 2m (default 10s unless -n is given).
    #[arg(short = 'd', long, conflicts_with = "requests")]
    pub duration: Option<String>,
    /// Stop after this many requests.
    #[arg(short = 'n', long)]
    pub requests: Option<u64>,
    /// Open model: this many requests per second, whatever the target does;
    /// latency counts from each request's scheduled time.
    #[arg(long)]
    pub rate: Option<f64>,
    /// HTTP method.
    #[arg(short = 'm', long, default_value = "GET")]
    pub method: String,
    /// A request header, 'Name: value' (repeatable).
    #[arg(short = 'H', long = "header")]
    pub headers: Vec<String>,
    /// Request body.
    #[arg(long, conflicts_with = "body_file")]
    pub body: Option<String>,
    /// Request body read from a file.
    #[arg(long)]
    pub body_file: Option<PathBuf>,
    /// Worker threads (default: number of CPUs).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Per-request timeout, e.g. 2s.
    #[arg(long, default_value = "10s")]
    pub timeout: String,
    /// Accept any TLS certificate.
    #[arg(short = 'k', long)]
    pub insecure: bool,
    /// An assumption to check, e.g. 'p99 < 50ms' (repeatable).
    #[arg(short = 'a', long = "assume")]
    pub assumptions: Vec<String>,
    /// Print the report as one JSON document on stdout.
    #[arg(long)]
    pub json: bool,
    /// Also write the reports (report.json, report.html, junit.xml, events.jsonl) into this directory.
    #[arg(long)]
    pub report_dir: Option<PathBuf>,
    /// No live progress.
    #[arg(short = 'q', long)]
    pub quiet: bool,
}

/// Flags of `unruly run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The scenario file (TOML).
    pub scenario: PathBuf,
    /// Where the reports go: report.json, report.html, junit.xml and events.jsonl.
    #[arg(long, default_value = "unruly-report")]
    pub report_dir: PathBuf,
    /// Override the scenario's target URL.
    #[arg(long)]
    pub target: Option<String>,
    /// A health path probed twice a second through the run, e.g. /health
    /// (overrides the scenario's `[target] health`): failures are an
    /// `unavailable` finding, each blamed on the behaviour running then.
    #[arg(long, value_name = "PATH")]
    pub health: Option<String>,
    /// The target's process, logs and metrics, watched through the run.
    #[command(flatten)]
    pub watch: WatchArgs,
    /// Print the report as one JSON document on stdout.
    #[arg(long)]
    pub json: bool,
    /// No live progress.
    #[arg(short = 'q', long)]
    pub quiet: bool,
}

/// Flags of `unruly explore`.
#[derive(Debug, Args)]
pub struct ExploreArgs {
    /// The OpenAPI 3.0/3.1 document (JSON or YAML): a file, a URL, or a path on
    /// the target such as /openapi.json.
    #[arg(long, value_name = "SPEC")]
    pub openapi: String,
    /// Base URL of the service, e.g. http://127.0.0.1:8080.
    #[arg(long)]
    pub target: String,
    /// How long the exploration takes, shrinking included: a hard limit, which
    /// random cases fill unless --max-cases bounds them.
    #[arg(short = 'd', long, default_value = "30s")]
    pub duration: String,
    /// The seed every case flows from: same seed, same cases.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// A header added to every request, 'Name: value' (repeatable), e.g. for auth.
    #[arg(short = 'H', long = "header")]
    pub headers: Vec<String>,
    /// Only this operation, 'METHOD /path' as written in the spec (repeatable).
    #[arg(long)]
    pub only: Vec<String>,
    /// At most this many generated and random cases per operation; the run
    /// ends when they are done.
    #[arg(long, value_name = "N")]
    pub max_cases: Option<usize>,
    /// Requests in flight at once.
    #[arg(short = 'c', long, default_value_t = 8)]
    pub concurrency: usize,
    /// Per-request timeout, e.g. 5s.
    #[arg(long, default_value = "10s")]
    pub timeout: String,
    /// A health path probed twice a second all along, e.g. /healthz (default: a
    /// GET of the spec named health, healthz, livez, ready, status or ping).
    #[arg(long, value_name = "PATH")]
    pub health: Option<String>,
    /// Inputs only: skip the unruly users' behaviours (repeated submissions
    /// with one Idempotency-Key, bursts on one resource, refresh storms, slow
    /// clients, a traffic spike).
    #[arg(long)]
    pub no_behaviours: bool,
    /// A dependency of the target to fail on purpose, NAME=LISTEN@UPSTREAM (repeatable):
    /// a fault proxy listens on LISTEN (where the target must be configured to call it)
    /// and forwards to UPSTREAM; it is then taken down, made to reset, answer 503,
    /// squeezed and slowed, one after another (about 20 s each dependency, on top of
    /// --duration), and operations that break with it are `dependency_cascade`.
    #[arg(long = "dependency", value_name = "NAME=LISTEN@UPSTREAM")]
    pub dependencies: Vec<String>,
    /// The target's process, logs and metrics, watched through the exploration.
    #[command(flatten)]
    pub watch: WatchArgs,
    /// Accept any TLS certificate.
    #[arg(short = 'k', long)]
    pub insecure: bool,
    /// Where the reports go: report.json, report.html, junit.xml and events.jsonl.
    #[arg(long, default_value = "unruly-report")]
    pub report_dir: PathBuf,
    /// Print the report as one JSON document on stdout.
    #[arg(long)]
    pub json: bool,
    /// No live progress.
    #[arg(short = 'q', long)]
    pub quiet: bool,
}

/// What `run` and `explore` watch of the target besides its answers.
#[derive(Debug, Clone, Default, Args)]
pub struct WatchArgs {
    /// Watch the target's process: RSS, CPU, threads and open files every 250 ms. Its
    /// exit (or restart) is a `crash`; memory that grows with the work and is not given
    /// back is `memory_growth`.
    #[arg(long, value_name = "PID", conflicts_with = "spawn")]
    pub watch_pid: Option<u32>,
    /// Start the target with this shell command (e.g. --spawn './server --port 8080'),
    /// scan its stdout and stderr for errors, panics and tracebacks (`log_error`), wait
    /// until it answers on the target's address, watch it as --watch-pid does, and stop
    /// it at the end (SIGTERM, then SIGKILL after 3 s).
    #[arg(long, value_name = "CMD")]
    pub spawn: Option<String>,
    /// Follow the target's log file like `tail -F` (repeatable): errors, panics and
    /// tracebacks in it are `log_error`, tied to the requests around them.
    #[arg(long = "watch-log", value_name = "FILE")]
    pub watch_logs: Vec<PathBuf>,
    /// Scrape the target's Prometheus endpoint every second into the report's timeline:
    /// a URL, or a path on the target such as /metrics.
    #[arg(long, value_name = "URL")]
    pub scrape: Option<String>,
    /// Expose unruly's own live metrics (requests, latency histogram, errors by class,
    /// findings, the watched process) in Prometheus text format at http://ADDR/metrics.
    #[arg(long, value_name = "ADDR")]
    pub metrics_addr: Option<std::net::SocketAddr>,
}

/// Flags of `unruly init`.
#[derive(Debug, Args)]
pub struct InitArgs {
    /// Base URL of the service the scenario targets.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    pub target: String,
    /// An OpenAPI document (JSON or YAML) to take operations from.
    #[arg(long)]
    pub openapi: Option<PathBuf>,
    /// Where to write the scenario (`-` for stdout).
    #[arg(short = 'o', long, default_value = "unruly.toml")]
    pub output: PathBuf,
    /// Overwrite the output file if it exists.
    #[arg(long)]
    pub force: bool,
}

/// Flags of `unruly demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Where the reports go: report.json, report.html, junit.xml and events.jsonl.
    #[arg(long, default_value = "unruly-demo-report")]
    pub report_dir: PathBuf,
    /// Run against the correct twin of the demo service (expect no findings).
    #[arg(long)]
    pub correct: bool,
    /// Only serve the demo service on this loopback address (e.g. 127.0.0.1:8080)
    /// until Ctrl-C, to point `unruly run` or other tools at it.
    #[arg(long, value_name = "ADDR")]
    pub serve: Option<std::net::SocketAddr>,
    /// With --serve: the shop calls its shipping dependency through this loopback
    /// address (where `unruly explore --dependency` or `unruly proxy` puts a fault proxy)
    /// instead of calling its embedded stub directly; the stub's address is printed.
    #[arg(long, value_name = "ADDR", requires = "serve")]
    pub shipping_via: Option<std::net::SocketAddr>,
    /// With --shipping-via: start no shipping stub; whoever listens behind that address
    /// answers (`unruly demo` runs the stub itself and serves the shop in a child process).
    #[arg(long, requires = "shipping_via", hide = true)]
    pub no_shipping_stub: bool,
    /// Expose unruly's own live metrics in Prometheus text format at http://ADDR/metrics.
    #[arg(long, value_name = "ADDR")]
    pub metrics_addr: Option<std::net::SocketAddr>,
    /// No live progress.
    #[arg(short = 'q', long)]
    pub quiet: bool,
}
