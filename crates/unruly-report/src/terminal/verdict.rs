//! Assumptions (held or broken) and findings (with their reproductions).

use super::layout::{pad_right, truncate, width, wrap};
use super::paint::Tone;
use super::sanitize::{sanitize, sanitize_lines};
use super::{units, Out};
use unruly_core::{AssumptionResult, Finding, Severity};

/// Findings shown in full; the rest are counted (report.json has them all).
pub(super) const MAX_FINDINGS_SHOWN: usize = 20;
/// Lines of a finding's excerpt shown.
const EXCERPT_LINES: usize = 3;
/// Indentation of a finding's details.
const DETAIL_INDENT: &str = "      ";

/// `assumptions  1 held · 1 broken`, then one line each:
/// `✓ name   observed 8.10ms · expected < 300ms`.
pub(super) fn assumptions(out: &mut Out, results: &[AssumptionResult]) {
    let held = results.iter().filter(|r| r.held).count();
    let broken = results.len() - held;
    let mut counts = vec![out.tone(Tone::Green, &format!("{held} held"))];
    if broken > 0 {
        counts.push(out.tone(Tone::Red, &format!("{broken} broken")));
    }
    let title = out.tone(Tone::Bold, "assumptions");
    out.line(format!("{title}  {}", counts.join(" · ")));

    let names: Vec<String> = results.iter().map(|r| sanitize(&r.name)).collect();
    let name_width = names
        .iter()
        .map(|n| width(n))
        .max()
        .unwrap_or(0)
        .min(out.width / 2);
    for (result, name) in results.iter().zip(&names) {
        let mark = if result.held {
            out.tone(Tone::Green, "✓")
        } else {
            out.tone(Tone::Red, "✗")
        };
        let observed = format!(
            "observed {} · expected {}",
            sanitize(&result.observed),
            sanitize(&result.expected)
        );
        let plain_observed = observed.clone();
        let observed = if result.held {
            observed
        } else {
            out.tone(Tone::Red, &observed)
        };
        let name = pad_right(&truncate(name, name_width), name_width);
        if 4 + name_width + 2 + width(&plain_observed) <= out.width {
            out.line(format!("  {mark} {name}  {observed}"));
        } else {
            out.line(format!("  {mark} {name}"));
            out.line(format!("      {observed}"));
        }
    }
}

/// `findings  3 · 1 critical · 2 high`, then each finding: its id, severity, kind
/// and operation; its summary; a few lines of its excerpt; its reproduction.
pub(super) fn findings(out: &mut Out, findings: &[Finding]) {
    let title = out.tone(Tone::Bold, "findings");
    if findings.is_empty() {
        let none = out.tone(Tone::Green, "none");
        out.line(format!("{title}  {none}"));
        return;
    }
    out.line(format!("{title}  {}", severity_counts(out, findings)));

    let shown = pick_shown(findings);
    let widths = Widths {
        id: shown
            .iter()
            .map(|f| width(&sanitize(&f.id)))
            .max()
            .unwrap_or(0),
        severity: shown
            .iter()
            .map(|f| f.severity.as_str().len())
            .max()
            .unwrap_or(0),
        kind: shown
            .iter()
            .map(|f| f.kind.as_str().len())
            .max()
            .unwrap_or(0),
    };
    for finding in &shown {
        one_finding(out, finding, widths);
    }
    if findings.len() > shown.len() {
        let more = findings.len() - shown.len();
        let mut hidden: Vec<(&str, usize)> = Vec::new();
        for finding in findings
            .iter()
            .filter(|f| !shown.iter().any(|s| std::ptr::eq(*s, *f)))
        {
            match hidden
                .iter_mut()
                .find(|(kind, _)| *kind == finding.kind.as_str())
            {
                Some((_, count)) => *count += 1,
                None => hidden.push((finding.kind.as_str(), 1)),
            }
        }
        let kinds: Vec<String> = hidden
            .iter()
            .map(|(kind, count)| format!("{count} {kind}"))
            .collect();
        let note = format!(
            "… {more} more finding{} in report.json: {}",
            plural(more),
            kinds.join(", ")
        );
        let note = out.tone(Tone::Dim, &note);
        out.line(format!("  {note}"));
    }
}

/// The findings shown in full, at most [`MAX_FINDINGS_SHOWN`], in report order: the first
/// of each kind (the most severe kinds first), then the others in order, so that no kind
/// hides behind many findings of another.
fn pick_shown(findings: &[Finding]) -> Vec<&Finding> {
    if findings.len() <= MAX_FINDINGS_SHOWN {
        return findings.iter().collect();
    }
    let mut firsts: Vec<usize> = Vec::new();
    for (index, finding) in findings.iter().enumerate() {
        if !firsts.iter().any(|&i| findings[i].kind == finding.kind) {
            firsts.push(index);
        }
    }
    firsts.sort_by_key(|&i| (findings[i].severity, i));
    let mut chosen: Vec<usize> = firsts.into_iter().take(MAX_FINDINGS_SHOWN).collect();
    for index in 0..findings.len() {
        if chosen.len() == MAX_FINDINGS_SHOWN {
            break;
        }
        if !chosen.contains(&index) {
            chosen.push(index);
        }
    }
    chosen.sort_unstable();
    chosen.into_iter().map(|i| &findings[i]).collect()
}

/// Widths of the columns of the findings' first lines.
#[derive(Clone, Copy)]
struct Widths {
    id: usize,
    severity: usize,
    kind: usize,
}

/// One finding, in four parts.
fn one_finding(out: &mut Out, finding: &Finding, widths: Widths) {
    let id = out.tone(Tone::Bold, &pad_right(&sanitize(&finding.id), widths.id));
    let severity = pad_right(finding.severity.as_str(), widths.severity);
    let severity = out.tone(severity_tone(finding.severity), &severity);
    let kind = pad_right(finding.kind.as_str(), widths.kind);
    let seen = format!(
        "seen {}×, first at {}",
        units::count(finding.count),
        units::duration(finding.first_seen_s)
    );
    let lead = 2 + widths.id + 2 + widths.severity + 2 + widths.kind + 2;
    let operation = truncate(
        &sanitize(&finding.operation),
        out.width.saturating_sub(lead).max(12),
    );
    let seen_fits = lead + width(&operation) + 2 + width(&seen) <= out.width;
    let seen = out.tone(Tone::Dim, &seen);
    out.line(String::new());
    if seen_fits {
        out.line(format!("  {id}  {severity}  {kind}  {operation}  {seen}"));
    } else {
        out.line(format!("  {id}  {severity}  {kind}  {operation}"));
        out.line(format!("{DETAIL_INDENT}{seen}"));
    }

    let text_width = out.width.saturating_sub(DETAIL_INDENT.len());
    for line in wrap(&sanitize(&finding.summary), text_width) {
        out.line(format!("{DETAIL_INDENT}{line}"));
    }
    if let Some(excerpt) = &finding.evidence.excerpt {
        let lines: Vec<String> = sanitize_lines(excerpt)
            .filter(|l| !l.trim().is_empty())
            .collect();
        for line in lines.iter().take(EXCERPT_LINES) {
            let line = out.tone(Tone::Dim, &format!("│ {}", truncate(line, text_width - 2)));
            out.line(format!("{DETAIL_INDENT}{line}"));
        }
        if lines.len() > EXCERPT_LINES {
            let more = out.tone(Tone::Dim, "│ …");
            out.line(format!("{DETAIL_INDENT}{more}"));
        }
    }
    // Never cut: the command must stay runnable when copied.
    for line in sanitize_lines(&finding.reproduce) {
        let line = out.tone(Tone::Cyan, &line);
        out.line(format!("{DETAIL_INDENT}{line}"));
    }
}

/// `3 · 1 critical · 2 high`
fn severity_counts(out: &Out, findings: &[Finding]) -> String {
    let mut parts = vec![findings.len().to_string()];
    for severity in [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
    ] {
        let n = findings.iter().filter(|f| f.severity == severity).count();
        if n > 0 {
            let text = format!("{n} {}", severity.as_str());
            parts.push(out.tone(severity_tone(severity), &text));
        }
    }
    parts.join(" · ")
}

fn severity_tone(severity: Severity) -> Tone {
    match severity {
        Severity::Critical => Tone::Magenta,
        Severity::High => Tone::BoldRed,
        Severity::Medium => Tone::Yellow,
        Severity::Low => Tone::Dim,
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}
