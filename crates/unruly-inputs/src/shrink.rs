//! Shrinking: simpler variants of a failing case, simplest first.
//!
//! Candidates keep the case's slot and category; they shorten the slot's value
//! (strings by removing chunks, delta-debugging style; numbers toward zero or
//! the nearest limit; arrays and objects by dropping members), shrink large bodies,
//! and drop optional parameters and optional body fields off the slot. Every
//! candidate is strictly smaller than the case by a fixed measure, so repeated
//! shrinking ends; each has its `expect` recomputed.

use serde_json::{Map, Value};
use unruly_core::{ApiSpec, ParameterLocation};

use crate::case::{parse_slot, Case, CaseBody, SlotRef};
use crate::pointer;
use crate::schema;
use crate::CaseGenerator;

/// At most this many candidates are returned by one call.
pub const MAX_SHRINK_CANDIDATES: usize = 64;
/// Large bodies shrink through these sizes (below their own).
const SMALLER_SIZES: [u64; 5] = [4 << 10, 64 << 10, 1 << 20, 10 << 20, 50 << 20];
/// How many candidates the slot's own value may contribute.
const MAX_VALUE_CANDIDATES: usize = 40;
const SHRUNK: &str = " (shrunk)";

/// Simpler variants of `case`, simplest first, at most [`MAX_SHRINK_CANDIDATES`].
///
/// This compiles the spec's validators on each call; an explorer that shrinks
/// often should build one [`CaseGenerator`] and call [`CaseGenerator::shrink`].
/// If the spec cannot be compiled the candidates keep the case's `expect`.
pub fn shrink(case: &Case, spec: &ApiSpec) -> Vec<Case> {
    match CaseGenerator::new(spec) {
        Ok(generator) => generator.shrink(case),
        Err(_) => candidates(case, spec, None),
    }
}

impl CaseGenerator<'_> {
    /// Simpler variants of `case`, simplest first, each judged; see [`shrink`].
    pub fn shrink(&self, case: &Case) -> Vec<Case> {
        candidates(case, self.spec, Some(self))
    }
}

fn candidates(case: &Case, spec: &ApiSpec, generator: Option<&CaseGenerator<'_>>) -> Vec<Case> {
    let slot = case.slot.as_deref().and_then(parse_slot);
    let document = &spec.document;
    let schemas = schema::Schemas::new(document);
    let op = spec.operations.get(case.operation);
    let mut out: Vec<Case> = Vec::new();

    // 1. The slot's own value.
    match &slot {
        Some(SlotRef::Parameter(location, name)) => {
            if let Some(value) = case.parameter(*location, name) {
                let limits = op
                    .and_then(|o| {
                        o.parameters
                            .iter()
                            .find(|p| p.location == *location && &p.name == name)
                    })
                    .map(|p| schemas.flatten(&p.schema).into_owned());
                for v in smaller_values(value, limits.as_ref()) {
                    let mut c = case.clone();
                    c.set_parameter(*location, name, Some(v));
                    out.push(c);
                }
            }
        }
        Some(SlotRef::Body(at)) => {
            if let Some(body) = &case.body {
                match body {
                    CaseBody::Large {
                        content_type,
                        size,
                        shape,
                    } => {
                        for smaller in SMALLER_SIZES.iter().filter(|s| **s < *size) {
                            let mut c = case.clone();
                            c.body = Some(CaseBody::Large {
                                content_type: content_type.clone(),
                                size: *smaller,
                                shape: shape.clone(),
                            });
                            out.push(c);
                        }
                    }
                    CaseBody::Raw {
                        content_type,
                        bytes,
                    } => {
                        for shorter in smaller_bytes(bytes) {
                            let mut c = case.clone();
                            c.body = Some(CaseBody::Raw {
                                content_type: content_type.clone(),
                                bytes: shorter,
                            });
                            out.push(c);
                        }
                    }
                    _ => {
                        let limits =
                            body_schema(spec, case).and_then(|s| schemas.schema_at(&s, at));
                        if let Some(value) = body.value().and_then(|v| v.pointer(at)) {
                            for v in smaller_values(value, limits.as_ref()) {
                                let mut c = case.clone();
                                if let Some(root) = c.body.as_mut().and_then(CaseBody::value_mut) {
                                    if pointer::replace(root, at, v) {
                                        out.push(c);
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        Some(SlotRef::ContentType) | None => {}
    }
    out.truncate(MAX_VALUE_CANDIDATES);

    // 2. Optional parameters off the slot, all at once, then one by one.
    if let Some(op) = op {
        let optional: Vec<(ParameterLocation, String)> = case
            .parameters
            .iter()
            .filter(|p| p.value.is_some())
            .filter(|p| !matches!(&slot, Some(SlotRef::Parameter(l, n)) if *l == p.location && *n == p.name))
            .filter(|p| {
                op.parameters
                    .iter()
                    .find(|sp| sp.name == p.name && sp.location == p.location)
                    .is_some_and(|sp| !sp.required && sp.location != ParameterLocation::Path)
            })
            .map(|p| (p.location, p.name.clone()))
            .collect();
        if optional.len() > 1 {
            let mut c = case.clone();
            for (l, n) in &optional {
                c.set_parameter(*l, n, None);
            }
            out.push(c);
        }
        for (l, n) in &optional {
            let mut c = case.clone();
            c.set_parameter(*l, n, None);
            out.push(c);
        }
    }

    // 3. Optional body fields and extra array items off the slot.
    let slot_pointer = match &slot {
        Some(SlotRef::Body(at)) => Some(at.as_str()),
        _ => None,
    };
    if let (Some(root), Some(body_schema)) = (
        case.body.as_ref().and_then(CaseBody::value),
        body_schema(spec, case),
    ) {
        let mut removable = Vec::new();
        droppable(
            root,
            "",
            &body_schema,
            schemas,
            slot_pointer,
            &mut removable,
            0,
        );
        removable.truncate(MAX_SHRINK_CANDIDATES);
        if removable.len() > 1 {
            let mut c = case.clone();
            if let Some(v) = c.body.as_mut().and_then(CaseBody::value_mut) {
                // Deepest and last first, so earlier pointers stay valid.
                for at in removable.iter().rev() {
                    pointer::remove(v, at);
                }
            }
            out.push(c);
        }
        for at in &removable {
            let mut c = case.clone();
            if let Some(v) = c.body.as_mut().and_then(CaseBody::value_mut) {
                if pointer::remove(v, at) {
                    out.push(c);
                }
            }
        }
    }

    // Strictly smaller only, no repeats, bounded; judged and labelled.
    let size = weight(case);
    let mut kept: Vec<Case> = Vec::new();
    for mut c in out {
        if weight(&c) >= size
            || kept
                .iter()
                .any(|k| k.parameters == c.parameters && k.body == c.body)
        {
            continue;
        }
        if let Some(g) = generator {
            c.expect = g.judge(&c);
        }
        let base = case.label.strip_suffix(SHRUNK).unwrap_or(&case.label);
        c.label = format!("{base}{SHRUNK}");
        kept.push(c);
        if kept.len() >= MAX_SHRINK_CANDIDATES {
            break;
        }
    }
    kept
}

/// The schema of the spec media type the case's body is sent as.
fn body_schema(spec: &ApiSpec, case: &Case) -> Option<Value> {
    let body = spec.operations.get(case.operation)?.body.as_ref()?;
    let ct = case.body.as_ref()?.content_type()?;
    let i = crate::media::find(body, ct)?;
    body.contents[i].schema.clone()
}

/// Pointers of optional object properties and surplus array items in `value`
/// that are neither on the slot's path nor inside it.
fn droppable(
    value: &Value,
    at: &str,
    s: &Value,
    schemas: schema::Schemas<'_>,
    slot: Option<&str>,
    out: &mut Vec<String>,
    depth: usize,
) {
    if depth > 6 || out.len() >= MAX_SHRINK_CANDIDATES {
        return;
    }
    let flat = schemas.flatten(s).into_owned();
    if flat.get("oneOf").is_some() || flat.get("anyOf").is_some() {
        return;
    }
    let related = |p: &str| match slot {
        Some(sl) => sl == p || sl.starts_with(&format!("{p}/")) || p.starts_with(&format!("{sl}/")),
        None => false,
    };
    match value {
        Value::Object(map) => {
            let required: Vec<&str> = flat
                .get("required")
                .and_then(Value::as_array)
                .map(|r| r.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            let empty = Map::new();
            let props = flat
                .get("properties")
                .and_then(Value::as_object)
                .unwrap_or(&empty);
            for (k, v) in map {
                let here = pointer::push(at, k);
                if !required.contains(&k.as_str()) && !related(&here) {
                    out.push(here);
                } else if let Some(sub) = props.get(k) {
                    droppable(v, &here, sub, schemas, slot, out, depth + 1);
                }
            }
        }
        Value::Array(items) => {
            let min = schema::count(&flat, "minItems").unwrap_or(0) as usize;
            let item_schema = flat.get("items").cloned().unwrap_or(Value::Bool(true));
            let mut removable = items.len().saturating_sub(min);
            for (i, v) in items.iter().enumerate() {
                let here = pointer::push(at, &i.to_string());
                if removable > 0 && i > 0 && !related(&here) {
                    out.push(here);
                    removable -= 1;
                } else {
                    droppable(v, &here, &item_schema, schemas, slot, out, depth + 1);
                }
            }
        }
        _ => {}
    }
}

/// Simpler values than `value`, simplest first.
fn smaller_values(value: &Value, limits: Option<&Value>) -> Vec<Value> {
    match value {
        Value::String(s) => {
            let chars: Vec<char> = s.chars().collect();
            chunks_removed(&chars)
                .into_iter()
                .map(|c| Value::String(c.into_iter().collect()))
                .collect()
        }
        Value::Number(_) => smaller_numbers(value, limits),
        Value::Array(items) => chunks_removed(items)
            .into_iter()
            .map(Value::Array)
            .collect(),
        Value::Object(map) => {
            let mut out = vec![Value::Object(Map::new())];
            for k in map.keys() {
                let mut m = map.clone();
                m.remove(k);
                out.push(Value::Object(m));
            }
            out
        }
        Value::Bool(_) | Value::Null => Vec::new(),
    }
}

/// Delta debugging: the empty sequence, then the sequence with each half, each
/// quarter, ... removed, down to single elements.
fn chunks_removed<T: Clone>(items: &[T]) -> Vec<Vec<T>> {
    let n = items.len();
    let mut out: Vec<Vec<T>> = Vec::new();
    if n == 0 {
        return out;
    }
    out.push(Vec::new());
    let mut parts = 2usize;
    while parts <= n.max(2) && out.len() < MAX_VALUE_CANDIDATES {
        let chunk = n.div_ceil(parts);
        let mut start = 0;
        while start < n && out.len() < MAX_VALUE_CANDIDATES {
            let end = (start + chunk).min(n);
            let mut v = Vec::with_capacity(n - (end - start));
            v.extend_from_slice(&items[..start]);
            v.extend_from_slice(&items[end..]);
            if !v.is_empty() {
                out.push(v);
            }
            start = end;
        }
        if chunk == 1 {
            break;
        }
        parts *= 2;
    }
    out
}

fn smaller_bytes(bytes: &[u8]) -> Vec<Vec<u8>> {
    chunks_removed(bytes)
}

/// Numbers nearer zero: 0, the limit nearest the value (and one past it), halves.
fn smaller_numbers(value: &Value, limits: Option<&Value>) -> Vec<Value> {
    let Some(x) = value.as_f64() else {
        return Vec::new();
    };
    let integer = value.is_i64() || value.is_u64() || x.fract() == 0.0;
    let mut out = vec![0.0, 1.0];
    if let Some(s) = limits {
        for key in ["minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"] {
            if let Some(b) = schema::number(s, key) {
                out.extend([b, b - 1.0, b + 1.0]);
            }
        }
    }
    let half = if integer { (x / 2.0).trunc() } else { x / 2.0 };
    out.extend([half, x - x.signum(), x.trunc()]);
    let mut values: Vec<Value> = Vec::new();
    for c in out {
        if !c.is_finite() || c == x || number_weight(c) >= number_weight(x) {
            continue;
        }
        let v = if c.fract() == 0.0 && c.abs() < 9.2e18 {
            Value::from(c as i64)
        } else {
            schema::num(c)
        };
        if !values.contains(&v) {
            values.push(v);
        }
    }
    values
}

fn number_weight(x: f64) -> f64 {
    let mut w = 1.0 + (x.abs() + 1.0).log2();
    if x.fract() != 0.0 {
        w += 0.5;
    }
    if x < 0.0 {
        w += 0.25;
    }
    w
}

fn value_weight(v: &Value) -> f64 {
    match v {
        Value::Null | Value::Bool(_) => 1.0,
        Value::Number(n) => n.as_f64().map_or(1.0, number_weight),
        Value::String(s) => 1.0 + s.chars().count() as f64,
        Value::Array(items) => 1.0 + items.iter().map(value_weight).sum::<f64>(),
        Value::Object(map) => {
            1.0 + map
                .iter()
                .map(|(k, v)| k.chars().count() as f64 + value_weight(v))
                .sum::<f64>()
        }
    }
}

/// A measure every candidate must be strictly below, so shrinking ends.
fn weight(case: &Case) -> f64 {
    let params: f64 = case
        .parameters
        .iter()
        .filter_map(|p| p.value.as_ref())
        .map(|v| 1.0 + value_weight(v))
        .sum();
    let body = match &case.body {
        None => 0.0,
        Some(CaseBody::Raw { bytes, .. }) => 1.0 + bytes.len() as f64,
        Some(CaseBody::Large { size, .. }) => 1.0 + *size as f64,
        Some(other) => other.value().map_or(1.0, value_weight),
    };
    params + body
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_are_removed_halves_first() {
        let v: Vec<u8> = (0..8).collect();
        let out = chunks_removed(&v);
        assert_eq!(out[0], Vec::<u8>::new());
        assert_eq!(out[1], vec![4, 5, 6, 7]);
        assert_eq!(out[2], vec![0, 1, 2, 3]);
        assert!(out.iter().all(|c| c.len() < v.len()));
    }

    #[test]
    fn numbers_move_toward_zero_or_the_limit() {
        let limits = serde_json::json!({"maximum": 10});
        let out = smaller_numbers(&serde_json::json!(1e308), Some(&limits));
        assert_eq!(out[0], serde_json::json!(0));
        assert!(out.contains(&serde_json::json!(11)));
        assert!(smaller_numbers(&serde_json::json!(0), None).is_empty());
    }
}
