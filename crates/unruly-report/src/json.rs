//! `report.json`: the report as one pretty JSON document.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use unruly_core::Report;

/// The name of the report file in a run's output directory.
pub const REPORT_FILE: &str = "report.json";

/// The report as `unruly load --json` prints it: the [`Report`] itself, as one
/// pretty-printed JSON document (the format of `report.json`, without a final newline).
pub fn render_load_json(report: &Report) -> String {
    match serde_json::to_string_pretty(report) {
        Ok(json) => json,
        // A report is plain data; should serialization ever fail, still print JSON.
        Err(e) => {
            serde_json::json!({ "error": format!("the report could not be serialized: {e}") })
                .to_string()
        }
    }
}

/// Writes `report` to `dir/report.json` (creating `dir` if needed) and returns the
/// file's path.
///
/// The JSON goes to a temporary file in `dir` first, which is synced and then
/// renamed over `report.json`: a reader, or a run killed midway, never sees half a
/// report.
pub fn write_report_json(report: &Report, dir: &Path) -> io::Result<PathBuf> {
    fs::create_dir_all(dir)?;
    let mut json = serde_json::to_vec_pretty(report)?;
    json.push(b'\n');
    let path = dir.join(REPORT_FILE);
    let tmp = dir.join(format!(".{REPORT_FILE}.{}.tmp", std::process::id()));
    let written = write_synced(&tmp, &json).and_then(|()| fs::rename(&tmp, &path));
    if let Err(e) = written {
        // Best effort: the error that matters is the one returned.
        let _ = fs::remove_file(&tmp);
        return Err(e);
    }
    Ok(path)
}

/// Writes `bytes` to a new file at `path` and syncs it to disk.
fn write_synced(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut file = fs::File::create(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}
