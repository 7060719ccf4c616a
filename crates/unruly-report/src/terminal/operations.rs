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
    ("p50", 7),
    ("p99", 7),
    ("max", 7),
];
/// Spaces between columns.
const GAP: usize = 2;
/// Indentation of the table.
const INDENT: usize = 2;
/// The narrowest name column.
const MIN_NAME: usize = 12;

/// Writes one row per operation: name, requests, rps, errors %, p50, p99, max.
/// Names are truncated so that a row fits the width.
pub(super) fn render(out: &mut Out, operations: &[OperationStats]) {
    let names: Vec<String> = operations.iter().map(|op| sanitize(&op.operation)).collect();
    let numbers: usize = COLUMNS.iter().map(|(_, w)| w + GAP).sum();
    let room = out.width.saturating_sub(INDENT + numbers).max(MIN_NAME);
    let longest = names.iter().map(|n| width(n)).max().unwrap_or(0).max("operation".len());
    let name_width = longest.min(room);

    let mut head = pad_right("operation", name_width);
    for (title, w) in COLUMNS {
        head.push_str(&" ".repeat(GAP));
        head.push_str(&pad_left(title, w));
    }
    let head = out.tone(Tone::Dim, &head);
    out.line(format!("{}{head}", " ".repeat(INDENT)));

    for (op, name) in operations.iter().zip(&names) {
        let answered = op.requests > 0;
        let lat = |ms: f64| if answered { units::latency(ms) } else { "-".into() };
        let cells = [
            units::count(op.requests),
            units::decimal(op.rps),
            units::percent(op.errors, op.requests),
            lat(op.latency_ms.p50),
            lat(op.latency_ms.p99),
            lat(op.latency_ms.max),
        ];
        let mut row = format!("{}{}", " ".repeat(INDENT), pad_right(&truncate(name, name_width), name_width));
        for (i, (cell, (_, w))) in cells.iter().zip(COLUMNS).enumerate() {
            row.push_str(&" ".repeat(GAP));
            let padded = pad_left(cell, w);
            if i == 2 && op.errors > 0 {
                row.push_str(&out.tone(Tone::Red, &padded));
            } else {
                row.push_str(&padded);
            }
        }
        out.line(row);
    }
}
