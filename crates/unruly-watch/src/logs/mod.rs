//! The target's logs: its output or a followed file, scanned for errors, panics and tracebacks.
//!
//! Lines arrive through [`LogWatch::line`] (from the captured stdout and stderr of the
//! target, or from a file followed like `tail -F` by [`LogWatch::follow`]). Each source's
//! lines are cut into blocks (`scan.rs`): a Python traceback, a Java, Node or .NET exception
//! with its frames, a Go or Rust panic, a Ruby error with its `from` lines, or one line at
//! level ERROR or worse. Blocks are grouped by a signature that stays the same across
//! occurrences (`signature.rs`), and each group becomes one `log_error` finding tied to the
//! operation that was failing around its first occurrence ([`log_error_findings`]).

mod blame;
mod finding;
mod follow;
mod group;
mod level;
mod normalize;
mod scan;
mod signature;

#[cfg(test)]
mod samples;

pub use blame::{tie_to_failures, NEAR_S};
pub use finding::log_error_findings;
pub use follow::{split_lines, Follower, POLL_INTERVAL};
pub use group::{LogErrorGroup, MAX_EXCERPT_BYTES, MAX_GROUPS, MAX_TIMES};
pub use normalize::{redact, strip_ansi, REDACTED};

use group::GroupTable;
use scan::Scanner;
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;
use unruly_core::Severity;

/// Lines kept for [`LogWatch::tail`].
pub const TAIL_LINES: usize = 50;
/// Longest line kept, in bytes; the rest of a longer line is dropped.
pub const MAX_LINE_BYTES: usize = 16 * 1024;
/// Sources scanned separately; lines from further sources share one scanner.
const MAX_SOURCES: usize = 32;

/// The language that wrote an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Language {
    /// Rust.
    Rust,
    /// Python.
    Python,
    /// Java (and other JVM languages).
    Java,
    /// Go.
    Go,
    /// Node.js (JavaScript, TypeScript).
    Node,
    /// .NET (C#, F#).
    Dotnet,
    /// Ruby.
    Ruby,
    /// Not known: a plain error line.
    #[default]
    Generic,
}

impl Language {
    /// `rust`, `python`, `java`, `go`, `node`, `dotnet`, `ruby` or `generic`.
    pub fn as_str(self) -> &'static str {
        match self {
            Language::Rust => "rust",
            Language::Python => "python",
            Language::Java => "java",
            Language::Go => "go",
            Language::Node => "node",
            Language::Dotnet => "dotnet",
            Language::Ruby => "ruby",
            Language::Generic => "generic",
        }
    }

    /// The name for people: `Python`, `.NET`, `Node.js`.
    pub fn display_name(self) -> &'static str {
        match self {
            Language::Rust => "Rust",
            Language::Python => "Python",
            Language::Java => "Java",
            Language::Go => "Go",
            Language::Node => "Node.js",
            Language::Dotnet => ".NET",
            Language::Ruby => "Ruby",
            Language::Generic => "Logged",
        }
    }

    /// The language named by [`Language::as_str`], or [`Language::Generic`].
    pub fn from_name(name: &str) -> Language {
        [
            Language::Rust,
            Language::Python,
            Language::Java,
            Language::Go,
            Language::Node,
            Language::Dotnet,
            Language::Ruby,
        ]
        .into_iter()
        .find(|l| l.as_str() == name)
        .unwrap_or(Language::Generic)
    }
}

impl std::fmt::Display for Language {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What kind of error a log block is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum LogErrorKind {
    /// A Python traceback.
    Traceback,
    /// A Rust or Go panic.
    Panic,
    /// An exception nothing caught (`Exception in thread`, `Uncaught`, `Unhandled
    /// exception.`, a Ruby error ending the program).
    UncaughtException,
    /// An exception logged with its stack trace.
    Exception,
    /// A line at level FATAL, CRITICAL, PANIC, ALERT or EMERG.
    Fatal,
    /// A line at level ERROR (or an exception's one line, without a stack trace).
    #[default]
    Error,
}

impl LogErrorKind {
    /// `traceback`, `panic`, `uncaught exception`, `exception`, `fatal error` or `error`.
    pub fn as_str(self) -> &'static str {
        match self {
            LogErrorKind::Traceback => "traceback",
            LogErrorKind::Panic => "panic",
            LogErrorKind::UncaughtException => "uncaught exception",
            LogErrorKind::Exception => "exception",
            LogErrorKind::Fatal => "fatal error",
            LogErrorKind::Error => "error",
        }
    }

    /// High for panics, tracebacks, exceptions with their stack trace and FATAL lines;
    /// Medium for plain ERROR lines.
    pub fn severity(self) -> Severity {
        match self {
            LogErrorKind::Error => Severity::Medium,
            _ => Severity::High,
        }
    }
}

/// The target's log, scanned as it arrives. Cheap to clone; every clone feeds the same
/// scanners and groups, from any thread.
#[derive(Clone)]
pub struct LogWatch {
    inner: Arc<Inner>,
}

struct Inner {
    start: Instant,
    lines_read: AtomicU64,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    tail: VecDeque<String>,
    scanners: HashMap<String, Scanner>,
    table: GroupTable,
}

impl std::fmt::Debug for LogWatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogWatch")
            .field("lines_read", &self.lines_read())
            .finish_non_exhaustive()
    }
}

impl LogWatch {
    /// A watch whose times are seconds since `start` (the start of the run).
    pub fn new(start: Instant) -> LogWatch {
        LogWatch {
            inner: Arc::new(Inner {
                start,
                lines_read: AtomicU64::new(0),
                state: Mutex::new(State::default()),
            }),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        crate::lock(&self.inner.state)
    }

    /// Takes one line (without its newline) from `source` (`stdout`, `stderr` or a file's
    /// path), timed now. Colour codes are stripped and credentials redacted before the
    /// line is kept or scanned; lines longer than [`MAX_LINE_BYTES`] are cut.
    pub fn line(&self, source: &str, text: &str) {
        let t = self.inner.start.elapsed().as_secs_f64();
        self.line_at(t, source, text);
    }

    /// [`LogWatch::line`], seen `t` seconds into the run.
    pub fn line_at(&self, t: f64, source: &str, text: &str) {
        let clean = redact(&strip_ansi(normalize::cap(text, MAX_LINE_BYTES)));
        self.inner.lines_read.fetch_add(1, Ordering::Relaxed);
        let mut state = self.state();
        let state = &mut *state;
        if state.tail.len() == TAIL_LINES {
            state.tail.pop_front();
        }
        state.tail.push_back(clean.clone());
        let key = if state.scanners.len() < MAX_SOURCES || state.scanners.contains_key(source) {
            source
        } else {
            "(other sources)"
        };
        for (other, scanner) in state.scanners.iter_mut() {
            if other != key {
                if let Some(block) = scanner.expire(t) {
                    state.table.add(other, &block);
                }
            }
        }
        let scanner = state.scanners.entry(key.to_owned()).or_default();
        if let Some(block) = scanner.push(t, &clean) {
            state.table.add(key, &block);
        }
    }

    /// The last [`TAIL_LINES`] lines from all sources, oldest first (redacted), for a
    /// crash report.
    pub fn tail(&self) -> Vec<String> {
        self.state().tail.iter().cloned().collect()
    }

    /// How many lines were taken.
    pub fn lines_read(&self) -> u64 {
        self.inner.lines_read.load(Ordering::Relaxed)
    }

    /// The error groups so far, in order of first occurrence, blocks still open
    /// (a stack trace whose last line may still come) counted as if they had ended.
    pub fn groups(&self) -> Vec<LogErrorGroup> {
        let state = self.state();
        let mut table = state.table.clone();
        let mut pending: Vec<(&String, scan::Block)> = state
            .scanners
            .iter()
            .filter_map(|(source, s)| s.peek().map(|b| (source, b)))
            .collect();
        pending.sort_by(|a, b| a.1.first_t.total_cmp(&b.1.first_t));
        for (source, block) in &pending {
            table.add(source, block);
        }
        let mut groups = table.groups().to_vec();
        groups.sort_by(|a, b| a.first_t_s.total_cmp(&b.first_t_s));
        groups
    }

    /// Error blocks not grouped because [`MAX_GROUPS`] groups were already kept.
    pub fn other_count(&self) -> u64 {
        let state = self.state();
        let mut table = state.table.clone();
        for (source, scanner) in &state.scanners {
            if let Some(block) = scanner.peek() {
                table.add(source, &block);
            }
        }
        table.other()
    }

    /// Ends every open block (say, when the target exits).
    pub fn flush(&self) {
        let mut state = self.state();
        let state = &mut *state;
        for (source, scanner) in state.scanners.iter_mut() {
            if let Some(block) = scanner.flush() {
                state.table.add(source, &block);
            }
        }
    }
}
