//! Cutting one source's lines into error blocks: a Python traceback through its final
//! `Type: message` line (and chained tracebacks), a Java, Node or .NET exception with its
//! `at` frames and `Caused by:` lines, a Go panic with its goroutines, a Rust panic with
//! its message and backtrace, a Ruby error with its `from` lines, or one line at level
//! ERROR or worse (which joins the stack trace that follows it, as `logger.exception`
//! writes them). Everything else is passed over.

use super::level::{level_line, Level, LevelLine};
use super::normalize::{cap, pattern};
use super::Language;
use regex::Regex;
use std::sync::LazyLock;

/// A block ends after this many lines.
pub(crate) const MAX_BLOCK_LINES: usize = 200;
/// A block ends when its source is quiet for this long.
pub(crate) const BLOCK_QUIET_S: f64 = 1.0;
/// Longest line kept in a block, in bytes.
const MAX_LINE_BYTES: usize = 2048;

/// What a block starts with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Start {
    /// `Traceback (most recent call last):`
    PythonTraceback,
    /// `thread 'main' panicked at …`
    RustPanic,
    /// `panic: …`, `fatal error: …`, `http: panic serving …`
    GoPanic,
    /// `file.rb:12:in 'method': message (Type)`
    Ruby,
    /// Rails: `NoMethodError (undefined method …):`
    Rails,
    /// ASP.NET's console logger: `fail: Category[id]` and indented lines.
    DotnetLog(Level),
    /// `Type: message` (optionally after `Exception in thread "…"`, `Uncaught`,
    /// `Unhandled exception.`), followed by frames or not.
    Exception {
        /// The language the header gives away.
        hint: Language,
        /// Whether the header says the exception was not caught.
        uncaught: bool,
    },
    /// One line at level ERROR or worse.
    Line(LevelLine),
}

/// A finished block of lines.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Block {
    /// How it started (after any leading ERROR lines).
    pub start: Start,
    /// Its lines, each capped at 2 KiB.
    pub lines: Vec<String>,
    /// How many of the lines are a leading ERROR line merged into the block.
    pub lead: usize,
    /// Seconds from the start of the run to its first line.
    pub first_t: f64,
    /// Seconds from the start of the run to its last line.
    pub last_t: f64,
}

/// Where in its block the scanner is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// A single ERROR line, waiting to see whether a stack trace follows.
    Lead,
    /// Inside a Python traceback, before the exception line.
    PyTrace,
    /// After a Python exception line: a chained traceback may follow.
    PyAfterException,
    /// After `During handling of the above exception…`.
    PyAfterChain,
    /// After the `panicked at file:line:col:` header; the message comes next.
    RustMessage,
    /// After a Rust panic's message: notes and backtrace frames.
    RustNotes,
    /// Inside a Go panic.
    Go,
    /// Inside a stack trace of `at` or `from` frames.
    Frames,
    /// Inside an ASP.NET log entry's indented lines.
    Indented,
}

static RUST_PANIC: LazyLock<Regex> = LazyLock::new(|| pattern(r"^thread '[^']*' panicked at "));
static RUST_NEW_FORMAT: LazyLock<Regex> =
    LazyLock::new(|| pattern(r"panicked at [^\s']+:\d+:\d+:$"));
static GO_PANIC: LazyLock<Regex> =
    LazyLock::new(|| pattern(r"^(?:panic: |fatal error: )|\bhttp: panic serving "));
static GO_FRAME: LazyLock<Regex> = LazyLock::new(|| pattern(r"^[\w/~.-]+\.\S*\(.*\)$"));
static RUBY_HEADER: LazyLock<Regex> =
    LazyLock::new(|| pattern(r"^\S+:\d+:in [`'][^']*': .*\([A-Z][\w:]*\)$"));
static RAILS_HEADER: LazyLock<Regex> =
    LazyLock::new(|| pattern(r"^(?:(?:[A-Z]\w*::)+[A-Z]\w*|[A-Z]\w*(?:Error|Exception)) \(.*\):$"));
static RUBY_FRAME: LazyLock<Regex> = LazyLock::new(|| pattern(r"\.rb:\d+:in "));
/// An exception header: an optional preamble, then a type named like one, then a message.
pub(crate) static EXCEPTION: LazyLock<Regex> = LazyLock::new(|| {
    pattern(
        r#"^(?P<pre>Exception in thread "[^"]*" |Uncaught (?:exception )?|Unhandled exception\. |Unhandled [Rr]ejection:? |\(node:\d+\) UnhandledPromiseRejectionWarning: |Caused by: |\s*---> )?(?P<type>(?:[A-Za-z_$][\w$]*(?:\.|::))*[A-Z]?[\w$]*(?:Exception|Error|Throwable|Exit|Interrupt))(?: \[[A-Z_\d]+\])?(?::(?: (?P<msg>.*))?)?$"#,
    )
});

/// What the line starts, if anything.
fn start_of(line: &str) -> Option<(Start, State)> {
    let trimmed_end = line.trim_end();
    if trimmed_end.trim_start() == "Traceback (most recent call last):" {
        return Some((Start::PythonTraceback, State::PyTrace));
    }
    if RUST_PANIC.is_match(trimmed_end) {
        let state = if RUST_NEW_FORMAT.is_match(trimmed_end) {
            State::RustMessage
        } else {
            State::RustNotes
        };
        return Some((Start::RustPanic, state));
    }
    if GO_PANIC.is_match(trimmed_end) {
        return Some((Start::GoPanic, State::Go));
    }
    if RUBY_HEADER.is_match(trimmed_end) {
        return Some((Start::Ruby, State::Frames));
    }
    if RAILS_HEADER.is_match(trimmed_end) {
        return Some((Start::Rails, State::Frames));
    }
    if let Some(c) = EXCEPTION.captures(trimmed_end) {
        let pre = c.name("pre").map_or("", |m| m.as_str());
        if !pre.starts_with("Caused by") && !pre.trim_start().starts_with("--->") {
            let ty = c.name("type").map_or("", |m| m.as_str());
            let hint = if pre.starts_with("Exception in thread") {
                Language::Java
            } else if pre.starts_with("Uncaught")
                || pre.contains("node:")
                || pre.to_ascii_lowercase().starts_with("unhandled rejection")
            {
                Language::Node
            } else if pre.starts_with("Unhandled exception.")
                || ty.starts_with("System.")
                || ty.starts_with("Microsoft.")
            {
                Language::Dotnet
            } else if ty.starts_with("java.") || ty.starts_with("javax.") {
                Language::Java
            } else {
                Language::Generic
            };
            return Some((
                Start::Exception {
                    hint,
                    uncaught: !pre.is_empty(),
                },
                State::Frames,
            ));
        }
    }
    let level = level_line(trimmed_end)?;
    if level.language == Language::Dotnet {
        return Some((Start::DotnetLog(level.level), State::Indented));
    }
    Some((Start::Line(level), State::Lead))
}

fn indented(line: &str) -> bool {
    line.starts_with([' ', '\t'])
}

/// Whether the block in `state` goes on with `line`; updates the state.
fn continues(state: &mut State, line: &str) -> bool {
    let t = line.trim();
    match *state {
        State::Lead => false,
        State::PyTrace => {
            if indented(line) || t.is_empty() {
                true
            } else if EXCEPTION.is_match(t) || is_python_exception_line(t) {
                *state = State::PyAfterException;
                true
            } else {
                false
            }
        }
        State::PyAfterException | State::PyAfterChain => {
            if t.is_empty() {
                true
            } else if t == "During handling of the above exception, another exception occurred:"
                || t == "The above exception was the direct cause of the following exception:"
            {
                *state = State::PyAfterChain;
                true
            } else if *state == State::PyAfterChain && t == "Traceback (most recent call last):" {
                *state = State::PyTrace;
                true
            } else {
                false
            }
        }
        State::RustMessage => {
            *state = State::RustNotes;
            true
        }
        State::RustNotes => indented(line) || t.starts_with("note: ") || t == "stack backtrace:",
        State::Go => {
            t.is_empty()
                || indented(line)
                || t.starts_with("goroutine ")
                || t.starts_with("created by ")
                || t.starts_with("[signal ")
                || t.starts_with("panic: ")
                || t.starts_with("panic(")
                || t.starts_with("[recovered")
                || t.starts_with("exit status ")
                || GO_FRAME.is_match(t)
        }
        State::Frames => {
            // Rails and Node put a blank line among or after the frames; trailing blank
            // lines are dropped when the block ends.
            t.is_empty()
                || indented(line)
                || t.starts_with("Caused by: ")
                || t.starts_with("--- End of")
                || t.starts_with("... ")
                || RUBY_FRAME.is_match(t)
        }
        State::Indented => indented(line),
    }
}

/// `KeyError: 'sku'`, `StopIteration`, `app.errors.OutOfStock: sku 12`.
fn is_python_exception_line(t: &str) -> bool {
    let name = t.split(':').next().unwrap_or(t);
    !name.is_empty()
        && !name.contains(' ')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
        && name
            .rsplit('.')
            .next()
            .is_some_and(|n| n.starts_with(|c: char| c.is_ascii_uppercase()))
}

/// A block being built.
#[derive(Debug, Clone)]
struct Pending {
    block: Block,
    state: State,
}

impl Pending {
    fn push(&mut self, t: f64, line: &str) {
        self.block.lines.push(cap(line, MAX_LINE_BYTES).to_owned());
        self.block.last_t = t;
    }

    fn finish(mut self) -> Block {
        while self.block.lines.len() > 1
            && self.block.lines.last().is_some_and(|l| l.trim().is_empty())
        {
            self.block.lines.pop();
        }
        self.block
    }
}

/// Cuts one source's lines into blocks. Feed it lines in order with [`Scanner::push`].
#[derive(Debug, Clone, Default)]
pub(crate) struct Scanner {
    pending: Option<Pending>,
}

impl Scanner {
    /// Takes the next line, seen `t` seconds into the run (colour codes stripped);
    /// returns the block it finished, if any.
    pub fn push(&mut self, t: f64, line: &str) -> Option<Block> {
        let mut finished = None;
        if let Some(mut pending) = self.pending.take() {
            let fresh = t - pending.block.last_t <= BLOCK_QUIET_S
                && pending.block.lines.len() < MAX_BLOCK_LINES;
            if fresh && continues(&mut pending.state, line) {
                pending.push(t, line);
                self.pending = Some(pending);
                return None;
            }
            if fresh && pending.state == State::Lead {
                // An ERROR line followed by the stack trace it announces: one block.
                if let Some((start, state)) = start_of(line) {
                    if !matches!(start, Start::Line(_) | Start::DotnetLog(_)) {
                        pending.block.lead = pending.block.lines.len();
                        pending.block.start = start;
                        pending.state = state;
                        pending.push(t, line);
                        self.pending = Some(pending);
                        return None;
                    }
                }
            }
            finished = Some(pending.finish());
        }
        if let Some((start, state)) = start_of(line) {
            let mut pending = Pending {
                block: Block {
                    start,
                    lines: Vec::new(),
                    lead: 0,
                    first_t: t,
                    last_t: t,
                },
                state,
            };
            pending.push(t, line);
            self.pending = Some(pending);
        }
        finished
    }

    /// Ends the pending block if its source has been quiet for a second at `now`.
    pub fn expire(&mut self, now: f64) -> Option<Block> {
        match &self.pending {
            Some(p) if now - p.block.last_t > BLOCK_QUIET_S => self.flush(),
            _ => None,
        }
    }

    /// Ends the pending block now.
    pub fn flush(&mut self) -> Option<Block> {
        self.pending.take().map(Pending::finish)
    }

    /// The pending block as it would end now, leaving it pending.
    pub fn peek(&self) -> Option<Block> {
        self.pending.clone().map(Pending::finish)
    }
}

/// All the blocks in `lines`, read at once (a test helper).
#[cfg(test)]
pub(crate) fn blocks(lines: &str) -> Vec<Block> {
    let mut scanner = Scanner::default();
    let mut out: Vec<Block> = lines
        .lines()
        .filter_map(|line| scanner.push(0.0, line))
        .collect();
    out.extend(scanner.flush());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_traceback_runs_to_its_exception_line() {
        let found = blocks(
            "INFO starting\n\
             Traceback (most recent call last):\n  \
               File \"app/views.py\", line 12, in get\n    \
                 return d[k]\n\
             KeyError: 'x'\n\
             INFO next request\n",
        );
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].start, Start::PythonTraceback);
        assert_eq!(found[0].lines.len(), 4);
        assert_eq!(found[0].lines[3], "KeyError: 'x'");
    }

    #[test]
    fn an_error_line_joins_the_trace_that_follows() {
        let found = blocks(
            "[2024-05-01 12:00:00,1] ERROR in app: Exception on /orders [POST]\n\
             Traceback (most recent call last):\n  \
               File \"app.py\", line 3, in f\n\
             ValueError: bad\n",
        );
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].lead, 1);
        assert_eq!(found[0].lines.len(), 4);
    }

    #[test]
    fn separate_error_lines_are_separate_blocks() {
        let found = blocks("ERROR one\nERROR two\nINFO fine\n");
        assert_eq!(found.len(), 2);
    }

    #[test]
    fn a_quiet_second_ends_a_block() {
        let mut scanner = Scanner::default();
        assert!(scanner
            .push(0.0, "java.lang.IllegalStateException: x")
            .is_none());
        assert!(scanner.push(0.1, "\tat a.B.c(B.java:1)").is_none());
        assert!(scanner.expire(0.5).is_none());
        let block = scanner.push(2.0, "\tat a.B.d(B.java:2)");
        assert_eq!(block.map(|b| b.lines.len()), Some(2));
    }

    #[test]
    fn a_block_ends_after_two_hundred_lines() {
        let mut scanner = Scanner::default();
        let mut done = Vec::new();
        done.extend(scanner.push(0.0, "java.lang.RuntimeException: deep"));
        for i in 0..500 {
            done.extend(scanner.push(0.0, &format!("\tat a.B.m{i}(B.java:{i})")));
        }
        done.extend(scanner.flush());
        assert_eq!(done.len(), 1);
        assert_eq!(done[0].lines.len(), MAX_BLOCK_LINES);
    }
}
