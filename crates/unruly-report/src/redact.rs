//! Credentials never reach a report: every finding's summary, request, excerpt and
//! reproduction, and the target URL, go through [`redact_text`] (see
//! `unruly_core::redact` for what it catches) before any report is written.

use std::borrow::Cow;
pub use unruly_core::redact_text;
use unruly_core::{Finding, Report};

fn redact_in_place(text: &mut String) {
    if let Cow::Owned(redacted) = redact_text(text) {
        *text = redacted;
    }
}

/// Redacts a finding: its summary, request, excerpt and reproduction.
pub fn redact_finding(finding: &mut Finding) {
    redact_in_place(&mut finding.summary);
    redact_in_place(&mut finding.evidence.request);
    if let Some(excerpt) = finding.evidence.excerpt.as_mut() {
        redact_in_place(excerpt);
    }
    redact_in_place(&mut finding.reproduce);
}

/// Redacts every finding of a report, its target URL (which may carry a token), how the
/// target was watched (a spawn command may hold one) and the names of scraped series
/// (their label values came from the target).
pub fn redact_report(report: &mut Report) {
    redact_in_place(&mut report.target);
    for finding in &mut report.findings {
        redact_finding(finding);
    }
    if let Some(watch) = report.watch.as_mut() {
        redact_in_place(&mut watch.source);
        for series in &mut watch.scraped {
            redact_in_place(&mut series.name);
        }
    }
}
