//! The per-operation table.

use super::layout::{pad_left, pad_right, truncate, width};
use super::paint::Tone;
use super::sanitize::sanitize;
use super::{units, Out};
use unruly_core::OperationStats;

/// The numeric columns: title and width.
const COLUMNS: [(&str, usize); 6] = [
    ("requests", 9),
    ("rps", 9),
    ("errors", 7),
    ("p50", 6),
    ("p99", 6),
    ("max", 6),
];
/// Index of the errors column in [`COLUMNS`] (red when not zero).
const ERRORS_COLUMN: usize = 2;
/// Spaces between columns, and in narrow terminals.
const GAP: usize = 2;
const NARROW_GAP: usize = 1;
/// Indentation of the table.
const INDENT: usize = 2;
/// The narrowest name column with wide gaps, and at all.
const MIN_NAME: usize = 12;
const MIN_NAME_NARROW: usize = 8;

/// Writes one row per operation: name, requests, rps, errors %, p50, p99, max.
/// Names are truncated so that a row fits the width.
pub(super) fn render(out: &mut Out, operations: &[OperationStats]) {
    let names: Vec<String> = operations
        .iter()
        .map(|op| sanitize(&op.operation))
        .collect();
    let numbers = |gap: usize| -> usize { COLUMNS.iter().map(|(_, w)| w + gap).sum() };
    let room = |gap: usize| out.width.saturating_sub(INDENT + numbers(gap));
    let gap = if room(GAP) >= MIN_NAME {
        GAP
    } else {
        NARROW_GAP
    };
    let longest = names
        .iter()
        .map(|n| width(n))
        .max()
        .unwrap_or(0)
        .max("operation".len());
    let name_width = longest.min(room(gap).max(MIN_NAME_NARROW));

    let mut head = pad_right("operation", name_width);
    for (title, w) in COLUMNS {
        head.push_str(&" ".repeat(gap));
        head.push_str(&pad_left(title, w));
    }
    let head = out.tone(Tone::Dim, &head);
    out.line(format!("{}{head}", " ".repeat(INDENT)));

    for (op, name) in operations.iter().zip(&names) {
        let answered = op.requests > 0;
        let lat = |ms: f64| {
            if answered {
                units::latency(ms)
            } else {
                "-".into()
            }
        };
        let cells = [
            units::count(op.requests),
            units::decimal(op.rps),
            units::percent(op.errors, op.requests),
            lat(op.latency_ms.p50),
            lat(op.latency_ms.p99),
            lat(op.latency_ms.max),
        ];
        let mut row = format!(
            "{}{}",
            " ".repeat(INDENT),
            pad_right(&truncate(name, name_width), name_width)
        );
        for (i, (cell, (_, w))) in cells.iter().zip(COLUMNS).enumerate() {
            row.push_str(&" ".repeat(gap));
            row.push_str(&" ".repeat(w.saturating_sub(width(cell))));
            if i == ERRORS_COLUMN && op.errors > 0 {
                row.push_str(&out.tone(Tone::Red, cell));
            } else {
                row.push_str(cell);
            }
        }
        out.line(row);
    }
}
