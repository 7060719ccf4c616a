//! `events.jsonl`: the events of a run, one JSON object a line, as they happen.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use unruly_core::Event;

/// The name of the events file in a run's output directory.
pub const EVENTS_FILE: &str = "events.jsonl";

/// Writes events to `events.jsonl`, one line each.
///
/// Each line goes to the operating system in one write as soon as it is given (no
/// user-space buffer), so a crash or Ctrl-C keeps every line written before it.
#[derive(Debug)]
pub struct EventsWriter {
    file: File,
    path: PathBuf,
    line: Vec<u8>,
}

impl EventsWriter {
    /// Creates (or truncates) `dir/events.jsonl`, creating `dir` if needed.
    pub fn create(dir: &Path) -> io::Result<Self> {
        fs::create_dir_all(dir)?;
        let path = dir.join(EVENTS_FILE);
        let file = File::create(&path)?;
        Ok(Self {
            file,
            path,
            line: Vec::with_capacity(1024),
        })
    }

    /// Appends `event` as one JSON line.
    pub fn write(&mut self, event: &Event) -> io::Result<()> {
        self.line.clear();
        serde_json::to_writer(&mut self.line, event)?;
        self.line.push(b'\n');
        self.file.write_all(&self.line)?;
        self.file.flush()
    }

    /// Asks the operating system to put what was written on disk (for the end of a
    /// run; lines already survive a crash of the process without it).
    pub fn sync(&mut self) -> io::Result<()> {
        self.file.sync_data()
    }

    /// Where the events go.
    pub fn path(&self) -> &Path {
        &self.path
    }
}
