//! The header and the overall numbers: requests, errors, latency, status codes.

use super::layout::{flow, width};
use super::paint::Tone;
use super::sanitize::sanitize;
use super::{units, Out};
use unruly_core::{OperationStats, Report};

/// Width of the labels of the overview lines.
pub(super) const LABEL_WIDTH: usize = 11;

/// Writes the header and the overall numbers.
pub(super) fn render(out: &mut Out, report: &Report) {
    header(out, report);
    let all = &report.stats.overall;
    out.field("requests", requests(all));
    if report.stats.missed_arrivals > 0 {
        let missed = format!(
            "{} scheduled arrivals never sent: every connection was busy (add connections)",
            units::count(report.stats.missed_arrivals)
        );
        out.field("missed", out.tone(Tone::Red, &missed));
    }
    let errors = errors(out, all);
    out.field("errors", errors);
    out.field("latency", latency(all));
    if !all.status.is_empty() {
        let status = status(out, all);
        out.field("status", status);
    }
}

/// `unruly load  http://…  ·  10.0s  ·  closed, 50 users, 2 threads  ·  seed 42`,
/// flowed onto more lines when narrow.
fn header(out: &mut Out, report: &Report) {
    let title = format!("unruly {}", sanitize(&report.command));
    let mut parts = vec![sanitize(&report.target)];
    let mut took = units::duration(report.duration_s);
    if let Some(planned) = report.settings.planned_duration_s {
        if report.interrupted {
            took = format!("{took} of {}", units::duration(planned));
        }
    }
    parts.push(took);
    let s = &report.settings;
    if !s.model.is_empty() {
        let who = if s.model == "open" {
            "connections"
        } else {
            "users"
        };
        parts.push(format!(
            "{}, {} {who}, {} threads",
            sanitize(&s.model),
            units::count(s.connections),
            s.threads
        ));
    }
    parts.push(format!("seed {}", report.seed));
    let mut lines = flow(
        &parts,
        "  ·  ",
        out.width.saturating_sub(width(&title) + 2),
        "",
    );
    let first = lines.remove(0);
    let title = out.tone(Tone::Bold, &title);
    out.line(format!("{title}  {first}"));
    for line in lines {
        out.line(format!("  {line}"));
    }
    out.blank();
}

/// `123,456 · 12,345.6/s · 1.2 MiB received`
fn requests(all: &OperationStats) -> String {
    let mut parts = vec![units::count(all.requests), units::rate(all.rps)];
    if all.bytes_received > 0 {
        parts.push(format!("{} received", units::bytes(all.bytes_received)));
    }
    parts.join(" · ")
}

/// `1,234 (1.00%) · status_5xx 1,000 · timeout 234`: classes that occurred only.
fn errors(out: &Out, all: &OperationStats) -> String {
    let mut parts = if all.errors == 0 {
        vec![out.tone(Tone::Green, "0")]
    } else {
        let head = format!(
            "{} ({})",
            units::count(all.errors),
            units::percent(all.errors, all.requests)
        );
        vec![out.tone(Tone::Red, &head)]
    };
    // 4xx answers are not errors of the target, but a run full of them is worth seeing.
    for (class, n) in all.errors_by_class.iter().filter(|(_, n)| **n > 0) {
        parts.push(format!("{} {}", class.as_str(), units::count(*n)));
    }
    parts.join(" · ")
}

/// `p50 1.23ms  p90 2.50ms  p99 8.10ms  p99.9 15.2ms  max 120ms`
fn latency(all: &OperationStats) -> String {
    if all.requests == 0 {
        return "-".into();
    }
    let l = &all.latency_ms;
    [
        ("p50", l.p50),
        ("p90", l.p90),
        ("p99", l.p99),
        ("p99.9", l.p99_9),
        ("max", l.max),
    ]
    .iter()
    .map(|(name, ms)| format!("{name} {}", units::latency(*ms)))
    .collect::<Vec<_>>()
    .join("  ")
}

/// `200: 12,345 · 404: 3 · 500: 12`, 4xx in yellow and 5xx in red.
fn status(out: &Out, all: &OperationStats) -> String {
    all.status
        .iter()
        .map(|(code, n)| {
            let tone = match code {
                500.. => Some(Tone::Red),
                400..=499 => Some(Tone::Yellow),
                _ => None,
            };
            let code = code.to_string();
            let code = tone.map_or(code.clone(), |t| out.tone(t, &code));
            format!("{code}: {}", units::count(*n))
        })
        .collect::<Vec<_>>()
        .join(" · ")
}
