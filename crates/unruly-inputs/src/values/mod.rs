//! Values for schemas: valid ones ([`valid`]), at the limits ([`boundary`]) and
//! forbidden ones ([`invalid`]), with helpers for formats and patterns.

pub(crate) mod boundary;
pub(crate) mod format;
pub(crate) mod invalid;
pub(crate) mod pattern;
pub(crate) mod valid;

use serde_json::Value;

/// One alternative value for a slot, with what it is (`maximum + 1`).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Variant {
    pub what: String,
    pub value: Value,
}

impl Variant {
    pub(crate) fn new(what: impl Into<String>, value: Value) -> Self {
        Self {
            what: what.into(),
            value,
        }
    }
}

/// Drops later variants whose value repeats an earlier one.
pub(crate) fn dedupe(variants: Vec<Variant>) -> Vec<Variant> {
    let mut out: Vec<Variant> = Vec::with_capacity(variants.len());
    for v in variants {
        if !out.iter().any(|o| o.value == v.value) {
            out.push(v);
        }
    }
    out
}

/// A short, one-line rendering of a value for labels: strings longer than 24
/// characters are described by their length.
pub(crate) fn short(value: &Value) -> String {
    match value {
        Value::String(s) => {
            let n = s.chars().count();
            if n > 24 {
                format!("{n} chars")
            } else {
                Value::String(s.clone()).to_string()
            }
        }
        Value::Array(items) if items.len() > 3 => format!("{} items", items.len()),
        other => {
            let text = other.to_string();
            if text.chars().count() > 40 {
                let cut: String = text.chars().take(37).collect();
                format!("{cut}...")
            } else {
                text
            }
        }
    }
}
