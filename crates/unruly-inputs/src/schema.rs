//! Schema resolution: `$ref`s against the API document (cycles cut by a depth
//! limit), `allOf` merged into one schema, and the keyword accessors generation needs.

use std::borrow::Cow;

use serde_json::{Map, Number, Value};

/// How many `$ref`/`allOf` levels are followed before a schema counts as `{}`.
pub(crate) const MAX_RESOLVE_DEPTH: usize = 24;

static ANY: Value = Value::Bool(true);

/// Resolves schemas against one API document.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Schemas<'d> {
    document: &'d Value,
}

impl<'d> Schemas<'d> {
    pub(crate) fn new(document: &'d Value) -> Self {
        Self { document }
    }

    /// The target of a local `$ref` (`#/components/schemas/X`), if it resolves.
    pub(crate) fn lookup(&self, reference: &str) -> Option<&'d Value> {
        let pointer = reference.strip_prefix('#')?;
        let pointer = percent_decode(pointer);
        self.document.pointer(&pointer)
    }

    /// `schema` with `$ref`s followed and `allOf` merged (recursively, depth-limited).
    /// An unresolvable reference or a cycle past the limit counts as `{}` (anything).
    pub(crate) fn flatten<'a>(&'a self, schema: &'a Value) -> Cow<'a, Value> {
        self.flatten_at(schema, 0)
    }

    fn flatten_at<'a>(&'a self, schema: &'a Value, depth: usize) -> Cow<'a, Value> {
        let Value::Object(map) = schema else {
            return Cow::Borrowed(schema);
        };
        let reference = map.get("$ref").and_then(Value::as_str);
        let all_of = map.get("allOf").and_then(Value::as_array);
        if reference.is_none() && all_of.is_none() {
            return Cow::Borrowed(schema);
        }
        if depth >= MAX_RESOLVE_DEPTH {
            return Cow::Borrowed(&ANY);
        }
        let rest: Map<String, Value> = map
            .iter()
            .filter(|(k, _)| !matches!(k.as_str(), "$ref" | "allOf"))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let mut parts: Vec<Cow<'a, Value>> = Vec::new();
        if let Some(reference) = reference {
            let target = self.lookup(reference).unwrap_or(&ANY);
            parts.push(self.flatten_at(target, depth + 1));
        }
        for part in all_of.into_iter().flatten() {
            parts.push(self.flatten_at(part, depth + 1));
        }
        // A bare `$ref` with nothing beside it needs no copy of its own.
        if rest.is_empty() && parts.len() == 1 {
            return parts.pop().unwrap_or(Cow::Borrowed(&ANY));
        }
        let mut merged = Value::Object(rest);
        for part in parts {
            merge_into(&mut merged, &part);
        }
        Cow::Owned(merged)
    }
}

impl Schemas<'_> {
    /// The schema that applies at `pointer` inside values of `schema`, following
    /// properties, additionalProperties, prefixItems and items; `None` where a
    /// composition (`oneOf`/`anyOf`) makes it ambiguous or the path leaves the schema.
    pub(crate) fn schema_at(&self, schema: &Value, pointer: &str) -> Option<Value> {
        let mut current = self.flatten(schema).into_owned();
        if pointer.is_empty() {
            return Some(current);
        }
        for raw in pointer.split('/').skip(1) {
            let token = raw.replace("~1", "/").replace("~0", "~");
            if current.get("oneOf").is_some() || current.get("anyOf").is_some() {
                return None;
            }
            let next = if let Some(p) = current.get("properties").and_then(|p| p.get(&token)) {
                p.clone()
            } else if let Ok(i) = token.parse::<usize>() {
                match current.get("prefixItems").and_then(|p| p.get(i)) {
                    Some(p) => p.clone(),
                    None => current.get("items")?.clone(),
                }
            } else {
                match current.get("additionalProperties") {
                    Some(a @ Value::Object(_)) => a.clone(),
                    _ => return None,
                }
            };
            current = self.flatten(&next).into_owned();
        }
        Some(current)
    }
}

/// Decodes `%XX` escapes in a `$ref` fragment.
fn percent_decode(s: &str) -> String {
    if !s.contains('%') {
        return s.to_string();
    }
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

/// Merges the keywords of `other` into `acc` (both schemas), as `allOf` would:
/// types intersected, bounds tightened, properties and `required` united.
pub(crate) fn merge_into(acc: &mut Value, other: &Value) {
    match other {
        Value::Bool(true) => return,
        Value::Bool(false) => {
            *acc = Value::Bool(false);
            return;
        }
        _ => {}
    }
    if acc == &Value::Bool(true) {
        *acc = Value::Object(Map::new());
    }
    let (Value::Object(a), Value::Object(b)) = (acc, other) else {
        return;
    };
    for (key, value) in b {
        let Some(existing) = a.get_mut(key) else {
            a.insert(key.clone(), value.clone());
            continue;
        };
        match key.as_str() {
            "type" => {
                let left = type_list(existing);
                let right = type_list(value);
                let mut both: Vec<Value> = Vec::new();
                for t in &left {
                    let kept = if right.contains(t) {
                        Some(t.as_str())
                    } else if (t == "integer" && right.iter().any(|r| r == "number"))
                        || (t == "number" && right.iter().any(|r| r == "integer"))
                    {
                        Some("integer")
                    } else {
                        None
                    };
                    if let Some(kept) = kept {
                        let kept = Value::String(kept.to_string());
                        if !both.contains(&kept) {
                            both.push(kept);
                        }
                    }
                }
                *existing = Value::Array(both);
            }
            "properties" | "patternProperties" | "$defs" | "dependentSchemas" => {
                if let (Value::Object(left), Value::Object(right)) = (&mut *existing, value) {
                    for (name, schema) in right {
                        match left.get_mut(name) {
                            Some(prev) => {
                                let combined =
                                    serde_json::json!({ "allOf": [prev.clone(), schema.clone()] });
                                *prev = combined;
                            }
                            None => {
                                left.insert(name.clone(), schema.clone());
                            }
                        }
                    }
                }
            }
            "required" => {
                if let (Value::Array(left), Value::Array(right)) = (&mut *existing, value) {
                    for name in right {
                        if !left.contains(name) {
                            left.push(name.clone());
                        }
                    }
                }
            }
            "minimum" | "exclusiveMinimum" | "minLength" | "minItems" | "minProperties" => {
                if let (Some(x), Some(y)) = (existing.as_f64(), value.as_f64()) {
                    if y > x {
                        *existing = value.clone();
                    }
                }
            }
            "maximum" | "exclusiveMaximum" | "maxLength" | "maxItems" | "maxProperties" => {
                if let (Some(x), Some(y)) = (existing.as_f64(), value.as_f64()) {
                    if y < x {
                        *existing = value.clone();
                    }
                }
            }
            "enum" => {
                if let (Value::Array(left), Value::Array(right)) = (&mut *existing, value) {
                    left.retain(|v| right.contains(v));
                }
            }
            "uniqueItems" if value == &Value::Bool(true) => {
                *existing = Value::Bool(true);
            }
            "additionalProperties" | "items" | "unevaluatedProperties" => {
                if value == &Value::Bool(false) || existing == &Value::Bool(true) {
                    *existing = value.clone();
                } else if existing != &Value::Bool(false) && value != &Value::Bool(true) {
                    *existing = serde_json::json!({ "allOf": [existing.clone(), value.clone()] });
                }
            }
            // Anything else (oneOf, anyOf, pattern, format, const, ...): the first wins;
            // generation may then miss, and the validator says so.
            _ => {}
        }
    }
}

/// The names in a `type` keyword (a string or an array of strings).
pub(crate) fn type_list(value: &Value) -> Vec<String> {
    match value {
        Value::String(s) => vec![s.clone()],
        Value::Array(items) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        _ => Vec::new(),
    }
}

/// The JSON types a (flattened) schema allows: its `type`, or inferred from its
/// keywords; empty when anything goes.
pub(crate) fn types_of(schema: &Value) -> Vec<String> {
    let Value::Object(map) = schema else {
        return Vec::new();
    };
    if let Some(t) = map.get("type") {
        return type_list(t);
    }
    let has = |keys: &[&str]| keys.iter().any(|k| map.contains_key(*k));
    if has(&[
        "properties",
        "required",
        "additionalProperties",
        "minProperties",
        "maxProperties",
        "patternProperties",
    ]) {
        vec!["object".to_string()]
    } else if has(&[
        "items",
        "prefixItems",
        "minItems",
        "maxItems",
        "uniqueItems",
    ]) {
        vec!["array".to_string()]
    } else if has(&["minLength", "maxLength", "pattern", "format"]) {
        vec!["string".to_string()]
    } else if has(&[
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "multipleOf",
    ]) {
        vec!["number".to_string()]
    } else {
        Vec::new()
    }
}

/// Whether a value of JSON type `ty` is allowed by `types` (`integer` counts as `number`).
pub(crate) fn allows(types: &[String], ty: &str) -> bool {
    types.is_empty()
        || types.iter().any(|t| t == ty)
        || (ty == "integer" && types.iter().any(|t| t == "number"))
}

/// A keyword as an unsigned count (`minLength`, `maxItems`, ...).
pub(crate) fn count(schema: &Value, key: &str) -> Option<u64> {
    let v = schema.get(key)?;
    v.as_u64()
        .or_else(|| v.as_f64().filter(|f| *f >= 0.0).map(|f| f as u64))
}

/// A keyword as a number (`minimum`, ...), when it is one.
pub(crate) fn number(schema: &Value, key: &str) -> Option<f64> {
    schema.get(key).and_then(Value::as_f64)
}

/// A keyword as a string (`format`, `pattern`).
pub(crate) fn string<'a>(schema: &'a Value, key: &str) -> Option<&'a str> {
    schema.get(key).and_then(Value::as_str)
}

/// A JSON number for an `f64`, as an integer when it is one that fits.
pub(crate) fn num(f: f64) -> Value {
    if f.fract() == 0.0 && f.abs() < 9.007_199_254_740_992e15 {
        Value::Number(Number::from(f as i64))
    } else {
        Number::from_f64(f)
            .map(Value::Number)
            .unwrap_or(Value::Null)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn follows_refs_and_merges_all_of() {
        let doc = json!({"components": {"schemas": {
            "Base": {"type": "object", "properties": {"id": {"type": "integer"}}, "required": ["id"]},
            "Named": {"allOf": [{"$ref": "#/components/schemas/Base"},
                                {"properties": {"name": {"type": "string", "maxLength": 5}}, "required": ["name"]}]},
            "Loop": {"$ref": "#/components/schemas/Loop"}
        }}});
        let schemas = Schemas::new(&doc);
        let flat = schemas
            .flatten(&json!({"$ref": "#/components/schemas/Named"}))
            .into_owned();
        assert_eq!(flat["type"], json!("object"));
        assert_eq!(flat["required"], json!(["id", "name"]));
        assert!(flat["properties"]["name"].is_object());
        // A reference cycle ends as "anything" instead of recursing forever.
        let loop_ref = json!({"$ref": "#/components/schemas/Loop"});
        let looped = schemas.flatten(&loop_ref);
        assert_eq!(looped.as_ref(), &json!(true));
        assert_eq!(types_of(&json!({"maxLength": 3})), vec!["string"]);
    }
}
