//! `report.html`: the report as one self-contained page, rendered from the same
//! [`Report`] as report.json.
//!
//! Nothing is loaded from anywhere: the style and the one small script are inline,
//! the charts are inline SVG drawn here (they show without the script). Everything
//! that came from the target is escaped by the template engine (maud escapes every
//! interpolated value), and a Content-Security-Policy allows no network at all and
//! no script but ours, named by its SHA-256: even an escaping bug could not run a
//! script the target sent.

mod charts;
mod format;
mod sections;

use base64::Engine as _;
use maud::{html, PreEscaped, DOCTYPE};
use sha2::{Digest, Sha256};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use unruly_core::Report;

/// The name of the HTML report in a run's output directory.
pub const HTML_FILE: &str = "report.html";

/// The page's one script: copy buttons (progressive enhancement only).
const SCRIPT: &str = include_str!("script.js");

/// The page's style sheet.
const STYLE: &str = include_str!("style.css");

/// The report as one self-contained HTML document.
pub fn render_html(report: &Report) -> String {
    let title = format!("unruly {} · {}", report.command, report.target);
    let page = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta http-equiv="Content-Security-Policy" content=(content_security_policy());
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="color-scheme" content="light";
                meta name="generator" content=(format!("unruly {}", report.tool_version));
                title { (title) }
                style { (PreEscaped(STYLE)) }
            }
            body {
                (sections::page(report))
                script { (PreEscaped(SCRIPT)) }
            }
        }
    };
    page.into_string()
}

/// The policy of the page: no network, no plugin, no form, no script but ours.
fn content_security_policy() -> String {
    format!(
        "default-src 'none'; style-src 'unsafe-inline'; script-src '{}'; img-src data:; \
         base-uri 'none'; form-action 'none'",
        script_hash()
    )
}

/// `sha256-<base64>` of the inline script, as CSP names it.
fn script_hash() -> String {
    let digest = Sha256::digest(SCRIPT.as_bytes());
    format!(
        "sha256-{}",
        base64::engine::general_purpose::STANDARD.encode(digest)
    )
}

/// Writes `dir/report.html` (creating `dir` if needed) and returns its path.
///
/// Like report.json, it is written to a temporary file first, synced, then renamed:
/// a reader never sees half a page.
pub fn write_report_html(report: &Report, dir: &Path) -> io::Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    let page = render_html(report);
    let path = dir.join(HTML_FILE);
    let tmp = dir.join(format!(".{HTML_FILE}.{}.tmp", std::process::id()));
    let written = (|| {
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(page.as_bytes())?;
        file.sync_all()?;
        std::fs::rename(&tmp, &path)
    })();
    if let Err(e) = written {
        // Best effort: the error that matters is the one returned.
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_names_the_script_by_its_hash() {
        let policy = content_security_policy();
        assert!(policy.contains(&script_hash()));
        assert!(policy.starts_with("default-src 'none';"));
        // The script's text must not be able to close its own element.
        assert!(!SCRIPT.contains("</"));
    }
}
