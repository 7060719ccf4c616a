//! Random valid values for a schema.
//!
//! Generation follows the schema's keywords (type, format, pattern, enum/const,
//! lengths, bounds, multipleOf, items, properties, required, oneOf/anyOf/allOf);
//! where it cannot be sure (an odd pattern, overlapping `oneOf`s) the validator
//! judges the result and the caller may retry with fresh random choices.

use serde_json::{Map, Number, Value};
use unruly_core::SeededRng;

use super::{format, pattern};
use crate::pointer;
use crate::schema::{self, Schemas};

/// Past this nesting depth only required properties and minimum item counts are generated.
pub(crate) const SOFT_DEPTH: usize = 5;
/// Past this nesting depth generation stops with the smallest value of the type.
pub(crate) const HARD_DEPTH: usize = 12;
/// Strings longer than this are never generated from `minLength`.
pub(crate) const MAX_GENERATED_CHARS: u64 = 20_000;
/// Arrays longer than this are never generated from `minItems`.
const MAX_GENERATED_ITEMS: u64 = 500;

/// Which optional properties and how many items a generated value has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fill {
    /// Every property, at least one item: the richest value.
    All,
    /// Only required properties, minimum item counts: the leanest value.
    Required,
    /// A random choice of each.
    Random,
}

/// A place in a generated value, with the schema that produced it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SlotInfo {
    /// JSON pointer into the value.
    pub pointer: String,
    /// The flattened schema (composition resolved to the branch used).
    pub schema: Value,
    /// Whether its parent object requires it (array items and the root count as required).
    pub required: bool,
}

/// Generates values; optionally records every place it filled.
pub(crate) struct Gen<'g, 'd> {
    pub schemas: Schemas<'d>,
    pub rng: &'g mut SeededRng,
    pub fill: Fill,
    pub slots: Option<Vec<SlotInfo>>,
    /// The `$ref`s being expanded, outermost first: optional properties that
    /// lead back into one already expanded twice are left out.
    refs: Vec<String>,
}

/// How many times one `$ref` may be expanded within itself for optional properties.
const MAX_OPTIONAL_RECURSION: usize = 2;

impl<'g, 'd> Gen<'g, 'd> {
    pub(crate) fn new(schemas: Schemas<'d>, rng: &'g mut SeededRng, fill: Fill) -> Self {
        Self {
            schemas,
            rng,
            fill,
            slots: None,
            refs: Vec::new(),
        }
    }

    /// The `$ref` a property's schema (or its array items) points to, if any.
    fn ref_of(schema: &Value) -> Option<&str> {
        schema
            .get("$ref")
            .or_else(|| schema.get("items").and_then(|i| i.get("$ref")))
            .and_then(Value::as_str)
    }

    /// Whether following `schema` would expand a `$ref` too often.
    fn recursive(&self, schema: &Value) -> bool {
        Self::ref_of(schema).is_some_and(|r| {
            self.refs.iter().filter(|x| x.as_str() == r).count() >= MAX_OPTIONAL_RECURSION
        })
    }

    /// A value for `schema`.
    pub(crate) fn value(&mut self, schema: &Value) -> Value {
        self.at(schema, "", 0, true, true)
    }

    /// The schema with `$ref`/`allOf` resolved and one `oneOf`/`anyOf` branch chosen
    /// and merged in (repeatedly, for nested compositions).
    pub(crate) fn choose(&mut self, schema: &Value) -> Value {
        let schemas = self.schemas;
        let mut current: Value = schemas.flatten(schema).into_owned();
        for _ in 0..4 {
            let key = ["oneOf", "anyOf"]
                .into_iter()
                .find(|k| matches!(current.get(*k), Some(Value::Array(a)) if !a.is_empty()));
            let Some(key) = key else { break };
            let Some(Value::Array(branches)) = current.as_object_mut().and_then(|m| m.remove(key))
            else {
                break;
            };
            let i = self.pick(branches.len());
            let branch = schemas.flatten(&branches[i]).into_owned();
            schema::merge_into(&mut current, &branch);
        }
        current
    }

    fn pick(&mut self, len: usize) -> usize {
        if len <= 1 {
            0
        } else {
            self.rng.range_inclusive(0, len as i64 - 1) as usize
        }
    }

    fn coin(&mut self) -> bool {
        self.rng.next_u64() & 1 == 1
    }

    fn at(
        &mut self,
        schema: &Value,
        at: &str,
        depth: usize,
        record: bool,
        required: bool,
    ) -> Value {
        let reference = schema
            .get("$ref")
            .and_then(Value::as_str)
            .map(str::to_string);
        let pushed = reference.is_some();
        if let Some(r) = reference {
            self.refs.push(r);
        }
        let value = self.at_inner(schema, at, depth, record, required);
        if pushed {
            self.refs.pop();
        }
        value
    }

    fn at_inner(
        &mut self,
        schema: &Value,
        at: &str,
        depth: usize,
        record: bool,
        required: bool,
    ) -> Value {
        let chosen = self.choose(schema);
        if record {
            if let Some(slots) = self.slots.as_mut() {
                slots.push(SlotInfo {
                    pointer: at.to_string(),
                    schema: chosen.clone(),
                    required,
                });
            }
        }
        self.generate(&chosen, at, depth, record)
    }

    fn generate(&mut self, s: &Value, at: &str, depth: usize, record: bool) -> Value {
        if s == &Value::Bool(false) {
            return Value::Null;
        }
        if let Some(c) = s.get("const") {
            return c.clone();
        }
        if self.fill == Fill::All {
            // The spec's own example first: the value its authors know works
            // (an id that exists, a code that is accepted).
            if let Some(example) = scalar_example(s) {
                return example.clone();
            }
        }
        if let Some(Value::Array(options)) = s.get("enum") {
            if !options.is_empty() {
                let i = self.pick(options.len());
                return options[i].clone();
            }
        }
        let types = schema::types_of(s);
        let non_null: Vec<&String> = types.iter().filter(|t| *t != "null").collect();
        let ty = if non_null.is_empty() {
            if types.is_empty() {
                "string"
            } else {
                "null"
            }
        } else if self.fill == Fill::Random {
            let i = self.pick(non_null.len());
            non_null[i].as_str()
        } else {
            non_null[0].as_str()
        };
        if depth >= HARD_DEPTH {
            return smallest(ty);
        }
        match ty {
            "string" => Value::String(self.string(s)),
            "integer" => self.integer(s),
            "number" => self.number(s),
            "boolean" => Value::Bool(self.coin()),
            "array" => self.array(s, at, depth, record),
            "object" => self.object(s, at, depth, record),
            _ => Value::Null,
        }
    }

    /// A string honouring format, pattern and lengths (in characters).
    pub(crate) fn string(&mut self, s: &Value) -> String {
        let min = schema::count(s, "minLength").unwrap_or(0);
        let max = schema::count(s, "maxLength");
        let fits = |text: &str| {
            let n = text.chars().count() as u64;
            n >= min && max.is_none_or(|m| n <= m)
        };
        if let Some(f) = schema::string(s, "format") {
            if let Some(text) = format::generate(f, self.rng) {
                if fits(&text) || schema::string(s, "pattern").is_none() {
                    return text;
                }
            }
        }
        if let Some(p) = schema::string(s, "pattern") {
            let mut last = None;
            for _ in 0..6 {
                match pattern::generate(p, self.rng) {
                    Some(text) if fits(&text) => return text,
                    Some(text) => last = Some(text),
                    None => break,
                }
            }
            if let Some(text) = last {
                return text;
            }
        }
        // A minimum past the cap cannot be met sensibly: a short word, judged invalid.
        let low = if min > MAX_GENERATED_CHARS { 0 } else { min };
        let high = max.unwrap_or(u64::MAX).min(MAX_GENERATED_CHARS).max(low);
        let wanted = self.rng.range_inclusive(4, 12) as u64;
        self.word(wanted.clamp(low, high) as usize)
    }

    /// Lower-case letters and digits, starting with a letter (long words repeat
    /// their first 64 characters).
    pub(crate) fn word(&mut self, len: usize) -> String {
        const FIRST: &[u8] = b"abcdefghijklmnopqrstuvwxyz";
        const REST: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
        let head: Vec<u8> = (0..len.min(64))
            .map(|i| {
                let set = if i == 0 { FIRST } else { REST };
                set[self.pick(set.len())]
            })
            .collect();
        head.iter().cycle().take(len).map(|b| *b as char).collect()
    }

    fn integer(&mut self, s: &Value) -> Value {
        let (lo, hi) = integer_range(s);
        let step = schema::number(s, "multipleOf")
            .filter(|m| *m >= 1.0 && m.fract() == 0.0 && *m < 9.0e15)
            .map(|m| m as i128)
            .unwrap_or(1);
        let (lo, hi) = match (lo, hi) {
            (Some(l), Some(h)) => (l, h),
            (Some(l), None) => (l, l.saturating_add(1000)),
            (None, Some(h)) if h >= 1 => (1, h.min(1000)),
            (None, Some(h)) => (h.saturating_sub(100), h),
            (None, None) => (1, 1000),
        };
        let k_lo = div_ceil(lo, step);
        let k_hi = div_floor(hi, step);
        if k_lo > k_hi {
            return int_value(lo);
        }
        let k_lo64 = k_lo.clamp(i64::MIN as i128, i64::MAX as i128) as i64;
        let k_hi64 = k_hi.clamp(i64::MIN as i128, i64::MAX as i128) as i64;
        let k = self.rng.range_inclusive(k_lo64, k_hi64) as i128;
        int_value(k * step)
    }

    fn number(&mut self, s: &Value) -> Value {
        let min = schema::number(s, "minimum");
        let xmin = schema::number(s, "exclusiveMinimum");
        let max = schema::number(s, "maximum");
        let xmax = schema::number(s, "exclusiveMaximum");
        let lo = match (min, xmin) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        let hi = match (max, xmax) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let (lo, hi) = match (lo, hi) {
            (Some(l), Some(h)) => (l, h),
            (Some(l), None) => (l, l + 1000.0),
            (None, Some(h)) if h >= 1.0 => (0.0, h.min(1000.0)),
            (None, Some(h)) => (h - 100.0, h),
            (None, None) => (0.0, 1000.0),
        };
        let inside = |v: f64| {
            v.is_finite()
                && min.is_none_or(|m| v >= m)
                && max.is_none_or(|m| v <= m)
                && xmin.is_none_or(|m| v > m)
                && xmax.is_none_or(|m| v < m)
        };
        if let Some(m) = schema::number(s, "multipleOf").filter(|m| *m > 0.0) {
            let k_lo = (lo / m).ceil();
            let k_hi = (hi / m).floor();
            if k_lo <= k_hi && (k_hi - k_lo) < 9.0e15 {
                for _ in 0..4 {
                    let k = k_lo + (self.rng.unit_f64() * (k_hi - k_lo + 1.0)).floor();
                    let v = round_like(k * m, m);
                    if inside(v) {
                        return schema::num(v);
                    }
                }
            }
            return schema::num(round_like(k_lo * m, m));
        }
        let v = ((lo + self.rng.unit_f64() * (hi - lo)) * 100.0).round() / 100.0;
        if inside(v) {
            schema::num(v)
        } else {
            schema::num(lo + (hi - lo) / 2.0)
        }
    }

    fn array(&mut self, s: &Value, at: &str, depth: usize, record: bool) -> Value {
        let prefix: &[Value] = s
            .get("prefixItems")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        let any = Value::Bool(true);
        let items = s.get("items").unwrap_or(&any);
        let min = schema::count(s, "minItems")
            .filter(|m| *m <= MAX_GENERATED_ITEMS)
            .unwrap_or(0);
        let mut max = schema::count(s, "maxItems").unwrap_or(u64::MAX);
        if items == &Value::Bool(false) {
            max = max.min(prefix.len() as u64);
        }
        let wanted = if depth >= SOFT_DEPTH {
            min
        } else {
            match self.fill {
                Fill::All => min.max(if prefix.is_empty() {
                    2
                } else {
                    prefix.len() as u64
                }),
                Fill::Required => min,
                Fill::Random => self.rng.range_inclusive(1, 3) as u64,
            }
        };
        let n = wanted.clamp(min, max.max(min));
        let unique = s.get("uniqueItems") == Some(&Value::Bool(true));
        let mut out: Vec<Value> = Vec::with_capacity(n as usize);
        for i in 0..n as usize {
            let sub = prefix.get(i).unwrap_or(items);
            let here = pointer::push(at, &i.to_string());
            let mut v = self.at(sub, &here, depth + 1, record && i == 0, true);
            if unique {
                for _ in 0..8 {
                    if !out.contains(&v) {
                        break;
                    }
                    v = self.at(sub, &here, depth + 1, false, true);
                }
            }
            out.push(v);
        }
        Value::Array(out)
    }

    fn object(&mut self, s: &Value, at: &str, depth: usize, record: bool) -> Value {
        let empty = Map::new();
        let properties = s
            .get("properties")
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        let required: Vec<&str> = s
            .get("required")
            .and_then(Value::as_array)
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let additional = s.get("additionalProperties");
        let extra_schema = match additional {
            Some(Value::Object(_)) => additional.cloned().unwrap_or(Value::Bool(true)),
            _ => Value::Bool(true),
        };
        let mut out = Map::new();
        for (name, sub) in properties {
            let is_required = required.contains(&name.as_str());
            let include = is_required
                || (depth < SOFT_DEPTH
                    && !self.recursive(sub)
                    && match self.fill {
                        Fill::All => true,
                        Fill::Required => false,
                        Fill::Random => self.coin(),
                    });
            if include {
                let here = pointer::push(at, name);
                let v = self.at(sub, &here, depth + 1, record, is_required);
                let example = match self.fill {
                    Fill::All => object_example(s)
                        .and_then(|e| e.get(name))
                        .filter(|e| is_scalar(e)),
                    _ => None,
                };
                out.insert(name.clone(), example.cloned().unwrap_or(v));
            }
        }
        for name in required {
            if !out.contains_key(name) {
                let here = pointer::push(at, name);
                let v = self.at(&extra_schema, &here, depth + 1, record, true);
                out.insert(name.to_string(), v);
            }
        }
        let min_properties = schema::count(s, "minProperties").unwrap_or(0).min(100) as usize;
        if additional != Some(&Value::Bool(false)) {
            let mut i = 0;
            while out.len() < min_properties {
                i += 1;
                let name = format!("extra{i}");
                if !out.contains_key(&name) {
                    let here = pointer::push(at, &name);
                    let v = self.at(&extra_schema, &here, depth + 1, false, false);
                    out.insert(name, v);
                }
            }
        }
        Value::Object(out)
    }
}

/// A schema's scalar example: `example` (OpenAPI) or the first of `examples`.
fn scalar_example(s: &Value) -> Option<&Value> {
    s.get("example")
        .or_else(|| s.get("examples").and_then(|e| e.as_array()?.first()))
        .filter(|e| is_scalar(e))
}

/// An object schema's example object.
fn object_example(s: &Value) -> Option<&Map<String, Value>> {
    s.get("example")
        .or_else(|| s.get("examples").and_then(|e| e.as_array()?.first()))
        .and_then(Value::as_object)
}

fn is_scalar(value: &Value) -> bool {
    matches!(value, Value::String(_) | Value::Number(_) | Value::Bool(_))
}

/// The smallest value of a JSON type, used where generation stops.
fn smallest(ty: &str) -> Value {
    match ty {
        "string" => Value::String(String::new()),
        "integer" | "number" => Value::Number(Number::from(0)),
        "boolean" => Value::Bool(false),
        "array" => Value::Array(Vec::new()),
        "object" => Value::Object(Map::new()),
        _ => Value::Null,
    }
}

/// The integer bounds of a schema (inclusive), from minimum/maximum, their
/// exclusive forms and `int32`/`int64` formats.
pub(crate) fn integer_range(s: &Value) -> (Option<i128>, Option<i128>) {
    let clamp = |f: f64| f.clamp(-1.0e30, 1.0e30) as i128;
    let mut lo = schema::number(s, "minimum").map(|m| clamp(m.ceil()));
    if let Some(x) = schema::number(s, "exclusiveMinimum") {
        let x = clamp(x.floor()) + 1;
        lo = Some(lo.map_or(x, |l| l.max(x)));
    }
    let mut hi = schema::number(s, "maximum").map(|m| clamp(m.floor()));
    if let Some(x) = schema::number(s, "exclusiveMaximum") {
        let x = clamp(x.ceil()) - 1;
        hi = Some(hi.map_or(x, |h| h.min(x)));
    }
    let (fmt_lo, fmt_hi) = match schema::string(s, "format") {
        Some("int32") => (i32::MIN as i128, i32::MAX as i128),
        Some("int64") => (i64::MIN as i128, i64::MAX as i128),
        _ => (i128::MIN, i128::MAX),
    };
    if fmt_lo != i128::MIN {
        lo = Some(lo.map_or(fmt_lo, |l| l.max(fmt_lo)));
        hi = Some(hi.map_or(fmt_hi, |h| h.min(fmt_hi)));
        // Realistic values, not the extremes of the format, when nothing else bounds them.
        if lo == Some(fmt_lo) && hi == Some(fmt_hi) {
            return (None, None);
        }
    }
    (lo, hi)
}

fn div_floor(a: i128, b: i128) -> i128 {
    let q = a / b;
    if (a % b != 0) && ((a < 0) != (b < 0)) {
        q - 1
    } else {
        q
    }
}

fn div_ceil(a: i128, b: i128) -> i128 {
    -div_floor(-a, b)
}

/// A JSON integer, as `i64`, `u64` or (beyond both) a float.
pub(crate) fn int_value(v: i128) -> Value {
    if let Ok(i) = i64::try_from(v) {
        Value::Number(Number::from(i))
    } else if let Ok(u) = u64::try_from(v) {
        Value::Number(Number::from(u))
    } else {
        Number::from_f64(v as f64)
            .map(Value::Number)
            .unwrap_or(Value::Null)
    }
}

/// `v` rounded to as many decimals as `step` has (so `3 * 0.1` is `0.3`).
fn round_like(v: f64, step: f64) -> f64 {
    let text = format!("{step}");
    let decimals = text
        .split_once('.')
        .map(|(_, d)| d.len())
        .unwrap_or(0)
        .min(12);
    let scale = 10f64.powi(decimals as i32);
    (v * scale).round() / scale
}
