//! Where a run's results go: events.jsonl while running, then report.json and
//! the terminal summary (or JSON on stdout).

use anyhow::Context;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use unruly_core::{Event, Report};
use unruly_report::{EventsWriter, TerminalStyle};

/// The report directory of a run, with its events stream open.
pub(crate) struct ReportDir {
    dir: PathBuf,
    events: EventsWriter,
    failed: bool,
}

impl ReportDir {
    /// Creates `dir` (and parents) and opens `events.jsonl` in it.
    pub fn create(dir: &Path) -> anyhow::Result<Self> {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create the report directory {}", dir.display()))?;
        let events = EventsWriter::create(dir)
            .with_context(|| format!("cannot write events.jsonl in {}", dir.display()))?;
        Ok(Self {
            dir: dir.to_path_buf(),
            events,
            failed: false,
        })
    }

    /// Appends an event; a failing disk is reported once and does not stop the run.
    pub fn event(&mut self, event: &Event) {
        if let Err(error) = self.events.write(event) {
            if !self.failed {
                eprintln!(
                    "warning: cannot append to {}: {error}",
                    self.events.path().display()
                );
                self.failed = true;
            }
        }
    }

    /// Writes report.json, report.html and junit.xml; returns report.json's path.
    /// report.json, the contract, goes first: nothing written after it can cost it.
    pub fn write_report(&self, report: &Report) -> anyhow::Result<PathBuf> {
        let json = unruly_report::write_report_json(report, &self.dir)
            .with_context(|| format!("cannot write report.json in {}", self.dir.display()))?;
        unruly_report::write_junit_xml(report, &self.dir)
            .with_context(|| format!("cannot write junit.xml in {}", self.dir.display()))?;
        unruly_report::write_report_html(report, &self.dir)
            .with_context(|| format!("cannot write report.html in {}", self.dir.display()))?;
        Ok(json)
    }
}

/// Prints the report on stdout: JSON, or the terminal summary and where the
/// report file is. A closed stdout (a pipe whose reader left) is not an error.
pub(crate) fn print_report(report: &Report, json: bool, written: Option<&Path>) {
    let stdout = std::io::stdout();
    let text = if json {
        format!("{}\n", unruly_report::render_load_json(report))
    } else {
        let color = stdout.is_terminal() && std::env::var_os("NO_COLOR").is_none();
        let style = TerminalStyle { color, width: 100 };
        let mut text = unruly_report::render_terminal(report, style);
        if let Some(path) = written {
            text.push_str(&format!("report: {}\n", path.display()));
            let html = path.with_file_name(unruly_report::HTML_FILE);
            text.push_str(&format!(
                "open in a browser: file://{}\n",
                absolute(&html).display()
            ));
        }
        text
    };
    let mut out = stdout.lock();
    let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
}

/// `path` made absolute (against the working directory), for a `file://` link.
fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}
