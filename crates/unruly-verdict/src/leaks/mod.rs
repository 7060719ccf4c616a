//! Information leaks: what a response should never show a user.
//!
//! A response body is scanned for stack traces, framework debug pages, SQL errors,
//! internal file paths and secrets. Each category is reported once per body, under
//! the label of the first detector (in [`patterns::PATTERNS`] order) that fired,
//! with the matched lines as excerpt. Categories that another one already explains
//! are dropped: a debug page holds a stack trace, and a stack trace holds paths.

mod excerpt;
mod patterns;

use regex::Regex;
use std::sync::LazyLock;
use unruly_core::Severity;

pub(crate) use excerpt::{cap_text, mask_secrets};

/// What kind of information leaked; findings are deduplicated per category and
/// operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LeakCategory {
    /// A framework's debug or error page (Django, Werkzeug, Rails, ASP.NET, Laravel).
    DebugPage,
    /// A stack trace or panic message of any language.
    StackTrace,
    /// An error message of a database.
    SqlError,
    /// A credential: a cloud access key, a private key, an API token.
    Secret,
    /// A path of the server's own files, without a trace around it.
    FilePath,
}

impl LeakCategory {
    /// A stable snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            LeakCategory::DebugPage => "debug_page",
            LeakCategory::StackTrace => "stack_trace",
            LeakCategory::SqlError => "sql_error",
            LeakCategory::Secret => "secret",
            LeakCategory::FilePath => "file_path",
        }
    }

    /// How much a leak of this category matters: a secret is a security hole
    /// (critical), a bare path is a hint (medium), the rest give an attacker the
    /// inside of the service (high).
    pub fn severity(self) -> Severity {
        match self {
            LeakCategory::Secret => Severity::Critical,
            LeakCategory::FilePath => Severity::Medium,
            LeakCategory::DebugPage | LeakCategory::StackTrace | LeakCategory::SqlError => {
                Severity::High
            }
        }
    }
}

/// One leak found in a text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leak {
    /// The category.
    pub category: LeakCategory,
    /// What leaked, e.g. `Python stack trace`.
    pub label: &'static str,
    /// The matched lines with a little context, at most about 1 KiB, secrets masked.
    pub excerpt: String,
}

/// A compiled detector.
struct Detector {
    label: &'static str,
    category: LeakCategory,
    regex: Regex,
}

/// The detectors, compiled once.
static DETECTORS: LazyLock<Vec<Detector>> = LazyLock::new(|| {
    patterns::PATTERNS
        .iter()
        .map(|p| Detector {
            label: p.label,
            category: p.category,
            // The patterns are constants, compiled by a test of every one of them.
            regex: Regex::new(p.regex).expect("leak patterns are valid regular expressions"),
        })
        .collect()
});

/// Scans `text` (a response body, a log excerpt) for leaks, at most one per
/// category, in category order.
pub fn scan_for_leaks(text: &str) -> Vec<Leak> {
    scan(text, None)
}

/// Scans a response body; what the request itself contained (an echoed URL,
/// `Cannot GET /app/x.py`, a strange value echoed in an error message) is not a
/// leak. `request` is every text the request carried: its URL, decoded values,
/// its body.
pub fn scan_response(body: &str, request: &str) -> Vec<Leak> {
    scan(body, Some(request))
}

fn scan(text: &str, request_url: Option<&str>) -> Vec<Leak> {
    // JSON encoders that escape slashes (PHP's does) write `\/var\/www\/x.php`.
    let unescaped;
    let text = if text.contains("\\/") {
        unescaped = text.replace("\\/", "/");
        unescaped.as_str()
    } else {
        text
    };
    let mut found: Vec<Leak> = Vec::new();
    for detector in DETECTORS.iter() {
        if found.iter().any(|l| l.category == detector.category) {
            continue;
        }
        let hit = detector.regex.find_iter(text).find(|m| {
            let echoed = request_url.is_some_and(|sent| sent.contains(m.as_str().trim()));
            !echoed
                && (detector.category != LeakCategory::FilePath
                    || is_internal_path(text, m.start(), m.as_str(), request_url))
        });
        if let Some(m) = hit {
            found.push(Leak {
                category: detector.category,
                label: detector.label,
                excerpt: mask_secrets(&excerpt::around(text, m.start(), m.end())),
            });
        }
    }
    let has = |c: LeakCategory| found.iter().any(|l| l.category == c);
    let debug_page = has(LeakCategory::DebugPage);
    let explained_paths =
        debug_page || has(LeakCategory::StackTrace) || has(LeakCategory::SqlError);
    found.retain(|l| match l.category {
        LeakCategory::StackTrace => !debug_page,
        LeakCategory::FilePath => !explained_paths,
        _ => true,
    });
    found.sort_by_key(|l| l.category);
    found
}

/// A matched path is the server's own unless it is part of a URL or a longer path,
/// an HTML attribute (`src="/app/main.js"`), or something the request itself sent.
fn is_internal_path(text: &str, start: usize, path: &str, request_url: Option<&str>) -> bool {
    let before = &text[..start];
    if let Some(c) = before.chars().next_back() {
        if c.is_alphanumeric() || matches!(c, '.' | '-' | '_' | '/' | ':' | '~' | '%' | '@') {
            return false;
        }
    }
    let lead = before.trim_end_matches(['"', '\'']);
    if lead.ends_with('=') || lead.ends_with("url(") {
        return false;
    }
    if let Some(url) = request_url {
        if url.contains(path) {
            return false;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_pattern_compiles() {
        for p in patterns::PATTERNS {
            assert!(Regex::new(p.regex).is_ok(), "{}: {}", p.label, p.regex);
        }
        assert_eq!(DETECTORS.len(), patterns::PATTERNS.len());
    }
}
