//! Values at the limits of a schema: min, max, one past each, empty, lengths at
//! and past the limits, well-known edge numbers and format edges.

use serde_json::{json, Value};

use super::valid::{int_value, Gen, MAX_GENERATED_CHARS};
use super::{dedupe, format, Variant};
use crate::schema;

/// Edge numbers every numeric field is tried with.
fn edge_numbers() -> Vec<Variant> {
    vec![
        Variant::new("zero", json!(0)),
        Variant::new("minus one", json!(-1)),
        Variant::new("2^31", json!(2_147_483_648u64)),
        Variant::new("-2^31 - 1", json!(-2_147_483_649i64)),
        Variant::new("2^53", json!(9_007_199_254_740_992u64)),
        Variant::new("2^53 + 1", json!(9_007_199_254_740_993u64)),
        Variant::new("2^63", json!(9_223_372_036_854_775_808u64)),
        Variant::new("very large float", json!(1e308)),
        Variant::new("very large negative float", json!(-1e308)),
        Variant::new("smallest positive float", json!(5e-324)),
    ]
}

/// Boundary variants for a slot whose (chosen, flattened) schema is `s` and
/// whose current value is `base`.
pub(crate) fn boundaries(s: &Value, base: &Value, gen: &mut Gen<'_, '_>) -> Vec<Variant> {
    let types = schema::types_of(s);
    let mut out = Vec::new();
    if let Some(Value::Array(options)) = s.get("enum") {
        for (i, v) in options.iter().take(16).enumerate() {
            out.push(Variant::new(format!("enum value #{}", i + 1), v.clone()));
        }
    }
    let numeric = schema::allows(&types, "integer") && !types.is_empty()
        || (types.is_empty() && base.is_number());
    if numeric {
        out.extend(numbers(s, &types));
    }
    let stringy = (!types.is_empty() && schema::allows(&types, "string"))
        || (types.is_empty() && base.is_string());
    if stringy {
        out.extend(strings(s, base, gen));
    }
    let arrays = (!types.is_empty() && schema::allows(&types, "array"))
        || (types.is_empty() && base.is_array());
    if arrays {
        out.extend(arrays_of(s, base, gen));
    }
    dedupe(out)
}

fn numbers(s: &Value, types: &[String]) -> Vec<Variant> {
    let integer_only = types.iter().any(|t| t == "integer") && !types.iter().any(|t| t == "number");
    let as_value = |f: f64| {
        if integer_only && f.fract() == 0.0 && f.abs() < 1.0e30 {
            int_value(f as i128)
        } else {
            schema::num(f)
        }
    };
    let mut out = Vec::new();
    if let Some(m) = schema::number(s, "minimum") {
        out.push(Variant::new("minimum", as_value(m)));
        out.push(Variant::new("minimum - 1", as_value(m - 1.0)));
    }
    if let Some(x) = schema::number(s, "exclusiveMinimum") {
        out.push(Variant::new("exclusiveMinimum", as_value(x)));
        if integer_only {
            out.push(Variant::new(
                "exclusiveMinimum + 1",
                as_value(x.floor() + 1.0),
            ));
        }
    }
    if let Some(m) = schema::number(s, "maximum") {
        out.push(Variant::new("maximum", as_value(m)));
        out.push(Variant::new("maximum + 1", as_value(m + 1.0)));
    }
    if let Some(x) = schema::number(s, "exclusiveMaximum") {
        out.push(Variant::new("exclusiveMaximum", as_value(x)));
        if integer_only {
            out.push(Variant::new(
                "exclusiveMaximum - 1",
                as_value(x.ceil() - 1.0),
            ));
        }
    }
    if let Some(m) = schema::number(s, "multipleOf").filter(|m| *m > 0.0) {
        out.push(Variant::new("multipleOf", as_value(m)));
        if m > 1.0 {
            out.push(Variant::new(
                "not a multiple (multipleOf + 1)",
                as_value(m + 1.0),
            ));
        } else {
            out.push(Variant::new(
                "not a multiple (multipleOf / 2)",
                schema::num(m / 2.0),
            ));
        }
    }
    match schema::string(s, "format") {
        Some("int32") => {
            out.push(Variant::new("int32 max", json!(i32::MAX)));
            out.push(Variant::new(
                "int32 max + 1",
                json!(i64::from(i32::MAX) + 1),
            ));
            out.push(Variant::new(
                "int32 min - 1",
                json!(i64::from(i32::MIN) - 1),
            ));
        }
        Some("int64") => {
            out.push(Variant::new("int64 max", json!(i64::MAX)));
            out.push(Variant::new("int64 max + 1", json!(i64::MAX as u64 + 1)));
        }
        _ => {}
    }
    out.extend(edge_numbers());
    if integer_only {
        out.push(Variant::new("fraction", json!(1.5)));
    }
    out
}

/// `base`'s characters repeated or cut to exactly `n` characters (`a`s when empty).
pub(crate) fn resize_string(base: &str, n: usize) -> String {
    let chars: Vec<char> = if base.is_empty() {
        vec!['a']
    } else {
        base.chars().collect()
    };
    chars.iter().cycle().take(n).collect()
}

fn strings(s: &Value, base: &Value, gen: &mut Gen<'_, '_>) -> Vec<Variant> {
    let base_text = match base {
        Value::String(t) => t.clone(),
        _ => gen.string(s),
    };
    let mut out = Vec::new();
    let cap = MAX_GENERATED_CHARS;
    if let Some(n) = schema::count(s, "minLength").filter(|n| *n <= cap) {
        if n > 0 {
            out.push(Variant::new(
                "minLength - 1",
                Value::String(resize_string(&base_text, n as usize - 1)),
            ));
        }
        out.push(Variant::new(
            "minLength",
            Value::String(resize_string(&base_text, n as usize)),
        ));
    }
    if let Some(n) = schema::count(s, "maxLength").filter(|n| *n < cap) {
        out.push(Variant::new(
            "maxLength",
            Value::String(resize_string(&base_text, n as usize)),
        ));
        out.push(Variant::new(
            "maxLength + 1",
            Value::String(resize_string(&base_text, n as usize + 1)),
        ));
    }
    out.push(Variant::new("empty string", Value::String(String::new())));
    if let Some(f) = schema::string(s, "format") {
        for (what, text) in format::edges(f) {
            out.push(Variant::new(
                format!("{f}: {what}"),
                Value::String((*text).to_string()),
            ));
        }
    }
    out
}

fn arrays_of(s: &Value, base: &Value, gen: &mut Gen<'_, '_>) -> Vec<Variant> {
    let base_items: Vec<Value> = base.as_array().cloned().unwrap_or_default();
    let any = Value::Bool(true);
    let items_schema = s.get("items").unwrap_or(&any).clone();
    let unique = s.get("uniqueItems") == Some(&Value::Bool(true));
    let mut make = |n: usize| -> Value {
        let mut items: Vec<Value> = base_items.iter().take(n).cloned().collect();
        while items.len() < n {
            // Repeating the items we have is cheap; only unique items need new ones.
            let next = match base_items.get(items.len() % base_items.len().max(1)) {
                Some(existing) if !unique => existing.clone(),
                _ => gen.value(&items_schema),
            };
            items.push(next);
        }
        Value::Array(items)
    };
    let cap = 1_000;
    let mut out = Vec::new();
    if let Some(n) = schema::count(s, "minItems").filter(|n| *n <= cap) {
        if n > 0 {
            out.push(Variant::new("minItems - 1", make(n as usize - 1)));
        }
        out.push(Variant::new("minItems", make(n as usize)));
    }
    if let Some(n) = schema::count(s, "maxItems").filter(|n| *n < cap) {
        out.push(Variant::new("maxItems", make(n as usize)));
        out.push(Variant::new("maxItems + 1", make(n as usize + 1)));
    }
    out.push(Variant::new("empty array", json!([])));
    if unique {
        if let Some(first) = base_items.first() {
            out.push(Variant::new(
                "duplicate items",
                json!([first.clone(), first.clone()]),
            ));
        }
    }
    out
}
