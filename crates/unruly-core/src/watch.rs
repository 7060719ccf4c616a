//! What unruly saw of the target itself while it rehearsed: its process (memory, CPU,
//! threads, open files), how it ended, and the metrics it exposes. The report carries it
//! for the charts; the findings it leads to (`crash`, `memory_growth`, `log_error`) are
//! in the findings with the rest.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The target as watched through a run (absent from the report when nothing was watched).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TargetWatch {
    /// How the target was watched: `pid 4242`, `spawned: ./server --port 8080`.
    pub source: String,
    /// The process id watched (the last one, if it restarted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pid: Option<u32>,
    /// Samples of the process, every 250 ms (thinned evenly past a cap, so that a long
    /// run stays bounded).
    #[serde(default)]
    pub samples: Vec<ProcessSample>,
    /// How the process ended, if it ended or restarted during the run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit: Option<ProcessExit>,
    /// Log lines read from the target (its output, or the followed file).
    #[serde(default)]
    pub log_lines: u64,
    /// Series scraped from the target's Prometheus endpoint (`--scrape`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scraped: Vec<ScrapedSeries>,
}

/// One sample of the watched process.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ProcessSample {
    /// Seconds from the start of the run.
    pub t_s: f64,
    /// Resident memory, in bytes.
    pub rss_bytes: u64,
    /// CPU used since the previous sample, in percent of one core (200 = two cores busy).
    pub cpu_percent: f64,
    /// Threads.
    pub threads: u64,
    /// Open file descriptors (sockets included).
    pub fds: u64,
}

/// How the watched process ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ProcessExit {
    /// Seconds from the start of the run when it was seen gone (or restarted).
    pub t_s: f64,
    /// What was seen: `exit status 3`, `killed by signal 9 (SIGKILL)`, `gone`,
    /// `restarted as pid 4343`.
    pub how: String,
    /// Whether another process took its place (a supervisor restarted it).
    pub restarted: bool,
}

/// One series of the target's own metrics over the run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ScrapedSeries {
    /// The metric's name with its labels, as exposed: `http_requests_total{code="500"}`.
    pub name: String,
    /// Its values over the run.
    pub points: Vec<MetricPoint>,
}

/// A value of a scraped series at a time.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct MetricPoint {
    /// Seconds from the start of the run.
    pub t_s: f64,
    /// The value.
    pub value: f64,
}

/// When a behaviour of the unruly users ran during a run, for the timeline to shade.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct BehaviourWindow {
    /// The behaviour's name.
    pub name: String,
    /// When it started, in seconds from the start of the run.
    pub start_s: f64,
    /// When it ended, in seconds from the start of the run.
    pub end_s: f64,
}
