//! Error blocks grouped by signature, with bounded memory: at most [`MAX_GROUPS`]
//! groups (later new signatures are only counted), excerpts capped at
//! [`MAX_EXCERPT_BYTES`], at most [`MAX_TIMES`] times kept per group.

use super::scan::Block;
use super::signature::analyze;
use super::LogErrorKind;
use std::collections::HashMap;
use unruly_core::Severity;

/// Most groups kept; blocks with a new signature after that are counted in
/// [`LogWatch::other_count`](super::LogWatch::other_count).
pub const MAX_GROUPS: usize = 100;
/// Longest excerpt kept, in bytes.
pub const MAX_EXCERPT_BYTES: usize = 4096;
/// Most occurrence times kept per group (the first ones).
pub const MAX_TIMES: usize = 100;

/// Occurrences of one error in the target's log, grouped by signature.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LogErrorGroup {
    /// Stable across occurrences: language, kind, exception type and the innermost
    /// frame of the application (no line numbers, ids or values), e.g.
    /// `python traceback: KeyError in get_product (app/views.py)`; for a plain error line,
    /// its message with numbers, ids and quoted values replaced by placeholders.
    pub signature: String,
    /// `rust`, `python`, `java`, `go`, `node`, `dotnet`, `ruby` or `generic`.
    pub language: String,
    /// Seconds from the start of the run to the first occurrence.
    pub first_t_s: f64,
    /// Seconds from the start of the run to the last occurrence.
    pub last_t_s: f64,
    /// How many times it occurred.
    pub count: u64,
    /// The first occurrence's whole block, credentials redacted, capped at 4 KiB.
    pub excerpt: String,
    /// When it occurred, in seconds from the start of the run (the first 100 times).
    pub times: Vec<f64>,
    /// Traceback, panic, exception, or error line.
    pub kind: LogErrorKind,
    /// The signature for people, without language and kind:
    /// `KeyError in get_product (app/views.py)`.
    pub title: String,
    /// Where the first occurrence was read: `stderr`, `stdout` or a file's path.
    pub source: String,
}

impl LogErrorGroup {
    /// High for panics, tracebacks, exceptions with a stack trace and FATAL lines;
    /// Medium for plain ERROR lines.
    pub fn severity(&self) -> Severity {
        self.kind.severity()
    }
}

/// The groups seen so far.
#[derive(Debug, Clone, Default)]
pub(crate) struct GroupTable {
    groups: Vec<LogErrorGroup>,
    index: HashMap<String, usize>,
    other: u64,
}

impl GroupTable {
    /// Counts one finished block read from `source`.
    pub fn add(&mut self, source: &str, block: &Block) {
        let analysis = analyze(block);
        if let Some(&i) = self.index.get(&analysis.signature) {
            let group = &mut self.groups[i];
            group.count += 1;
            group.last_t_s = group.last_t_s.max(block.first_t);
            if group.times.len() < MAX_TIMES {
                group.times.push(block.first_t);
            }
            return;
        }
        if self.groups.len() >= MAX_GROUPS {
            self.other += 1;
            return;
        }
        self.index
            .insert(analysis.signature.clone(), self.groups.len());
        self.groups.push(LogErrorGroup {
            signature: analysis.signature,
            language: analysis.language.as_str().to_owned(),
            first_t_s: block.first_t,
            last_t_s: block.first_t,
            count: 1,
            excerpt: excerpt(&block.lines),
            times: vec![block.first_t],
            kind: analysis.kind,
            title: analysis.title,
            source: source.to_owned(),
        });
    }

    /// The groups, in order of first occurrence.
    pub fn groups(&self) -> &[LogErrorGroup] {
        &self.groups
    }

    /// Blocks not grouped because [`MAX_GROUPS`] groups were already kept.
    pub fn other(&self) -> u64 {
        self.other
    }
}

/// The block's lines (already redacted when read), capped at [`MAX_EXCERPT_BYTES`] on a
/// line boundary where possible.
fn excerpt(lines: &[String]) -> String {
    let mut out = String::new();
    for line in lines {
        if out.len() + line.len() + 1 > MAX_EXCERPT_BYTES {
            if out.is_empty() {
                out.push_str(super::normalize::cap(line, MAX_EXCERPT_BYTES - 4));
            }
            out.push_str("\n…");
            break;
        }
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str(line);
    }
    out
}
