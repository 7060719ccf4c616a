//! The terminal summary printed when a run ends, in the spirit of oha's and k6's:
//! compact, aligned, numbers in units a person reads at a glance.

mod layout;
mod operations;
mod overview;
mod paint;
mod sanitize;
pub(crate) mod units;
mod verdict;

pub use sanitize::sanitize;

use paint::{Paint, Tone};
use unruly_core::Report;

/// How the summary is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TerminalStyle {
    /// Use ANSI colors (when stdout is a terminal and `NO_COLOR` is unset, say).
    pub color: bool,
    /// Columns available; lines are fitted to it where they can be (names are
    /// truncated, summaries wrapped), though reproduction commands are never cut.
    pub width: usize,
}

impl TerminalStyle {
    /// The narrowest width honoured: below it the layout would not hold.
    pub const MIN_WIDTH: usize = 60;

    /// Plain text (no color) for `width` columns.
    pub fn plain(width: usize) -> Self {
        Self {
            color: false,
            width,
        }
    }
}

impl Default for TerminalStyle {
    /// Plain text, 100 columns.
    fn default() -> Self {
        Self::plain(100)
    }
}

/// Renders the end-of-run summary of `report`: a header, requests, errors, latency
/// and status codes, a per-operation table (when there is more than one operation),
/// the assumptions, the findings with their reproductions, and a notice when the
/// run was interrupted. The text ends with a newline.
///
/// Every string of the report is passed through [`sanitize`] before it is printed:
/// a hostile response cannot put escape sequences on the user's terminal.
pub fn render_terminal(report: &Report, style: TerminalStyle) -> String {
    let mut out = Out {
        lines: Vec::new(),
        paint: Paint::new(style.color),
        width: style.width.max(TerminalStyle::MIN_WIDTH),
    };
    overview::render(&mut out, report);
    if report.stats.operations.len() > 1 {
        out.blank();
        operations::render(&mut out, &report.stats.operations);
    }
    if !report.assumptions.is_empty() {
        out.blank();
        verdict::assumptions(&mut out, &report.assumptions);
    }
    out.blank();
    verdict::findings(&mut out, &report.findings);
    if report.interrupted {
        out.blank();
        let notice = format!(
            "interrupted: the run was stopped before its planned end; this covers the first {}.",
            units::duration(report.duration_s)
        );
        for line in layout::wrap(&notice, out.width - 2) {
            let painted = out.paint.tone(Tone::Yellow, &line);
            out.line(format!("  {painted}"));
        }
    }
    let mut text = out.lines.join("\n");
    text.push('\n');
    text
}

/// The summary being written.
pub(crate) struct Out {
    lines: Vec<String>,
    paint: Paint,
    width: usize,
}

impl Out {
    /// Adds a line (already sanitized and painted).
    fn line(&mut self, line: String) {
        self.lines.push(line.trim_end().to_string());
    }

    /// Adds an empty line.
    fn blank(&mut self) {
        self.lines.push(String::new());
    }

    /// `text` in `tone`, when color is on.
    fn tone(&self, tone: Tone, text: &str) -> String {
        self.paint.tone(tone, text)
    }

    /// A labelled line of the overview: `  label     value`.
    fn field(&mut self, label: &str, value: String) {
        let label = self.tone(Tone::Dim, &layout::pad_right(label, overview::LABEL_WIDTH));
        self.line(format!("  {label}{value}"));
    }
}
