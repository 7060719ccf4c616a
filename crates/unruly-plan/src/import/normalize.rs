//! The parsed YAML made JSON-shaped: merge keys applied, tags dropped, every
//! mapping key a string (`200:` in YAML is the status `"200"`), and no number
//! JSON cannot hold. Mappings keep their document order, which the importer
//! relies on; [`to_json`] gives the `serde_json` value at the end.

use super::locate::Seg;
use serde_yaml::{Mapping, Value};

/// A problem found while normalizing, at a path in the document.
pub(crate) type Issue = (Vec<Seg>, String);

/// Normalizes `value` (see the module doc); problems are added to `issues`.
pub(crate) fn normalize(mut value: Value, issues: &mut Vec<Issue>) -> Value {
    if let Err(e) = value.apply_merge() {
        issues.push((
            Vec::new(),
            format!("a YAML merge key `<<` cannot be applied ({e}): merge only mappings"),
        ));
    }
    let mut path = Vec::new();
    walk(value, &mut path, issues)
}

fn walk(value: Value, path: &mut Vec<Seg>, issues: &mut Vec<Issue>) -> Value {
    match value {
        Value::Tagged(tagged) => walk(tagged.value, path, issues),
        Value::Number(n) if n.is_nan() || n.is_infinite() => {
            issues.push((
                path.clone(),
                format!("the number {n} has no JSON equivalent: write a finite number"),
            ));
            Value::Null
        }
        Value::Sequence(items) => Value::Sequence(
            items
                .into_iter()
                .enumerate()
                .map(|(i, item)| {
                    path.push(Seg::Index(i));
                    let item = walk(item, path, issues);
                    path.pop();
                    item
                })
                .collect(),
        ),
        Value::Mapping(map) => {
            let mut out = Mapping::with_capacity(map.len());
            for (key, item) in map {
                let Some(key) = key_text(&key) else {
                    issues.push((
                        path.clone(),
                        "a mapping key is itself a mapping or a list: keys must be plain text"
                            .into(),
                    ));
                    continue;
                };
                path.push(Seg::Key(key.clone()));
                let item = walk(item, path, issues);
                if out.contains_key(key.as_str()) {
                    issues.push((
                        path.clone(),
                        format!("duplicate key `{key}` (once as text, once as a number or boolean): keep one"),
                    ));
                } else {
                    out.insert(Value::String(key), item);
                }
                path.pop();
            }
            Value::Mapping(out)
        }
        other => other,
    }
}

/// A scalar key as text.
fn key_text(key: &Value) -> Option<String> {
    match key {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Null => Some("null".to_string()),
        Value::Tagged(tagged) => key_text(&tagged.value),
        Value::Sequence(_) | Value::Mapping(_) => None,
    }
}

/// The `serde_json` value of a normalized YAML value.
pub(crate) fn to_json(value: &Value) -> serde_json::Value {
    match value {
        Value::Null => serde_json::Value::Null,
        Value::Bool(b) => serde_json::Value::Bool(*b),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                i.into()
            } else if let Some(u) = n.as_u64() {
                u.into()
            } else {
                n.as_f64()
                    .and_then(serde_json::Number::from_f64)
                    .map_or(serde_json::Value::Null, serde_json::Value::Number)
            }
        }
        Value::String(s) => serde_json::Value::String(s.clone()),
        Value::Sequence(items) => serde_json::Value::Array(items.iter().map(to_json).collect()),
        Value::Mapping(map) => serde_json::Value::Object(
            map.iter()
                .map(|(k, v)| (key_text(k).unwrap_or_default(), to_json(v)))
                .collect(),
        ),
        Value::Tagged(tagged) => to_json(&tagged.value),
    }
}

/// A scalar as text (`3.0` for the number 3.0).
pub(crate) fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn run(text: &str) -> (serde_json::Value, Vec<Issue>) {
        let mut issues = Vec::new();
        let value = normalize(serde_yaml::from_str(text).unwrap(), &mut issues);
        (to_json(&value), issues)
    }

    #[test]
    fn keys_become_text_and_merges_apply() {
        let (value, issues) = run(
            "responses:\n  200: {a: !custom 1}\n  default: x\n  true: y\nbase: &b {k: 1}\nderived:\n  <<: *b\n  j: 2\n",
        );
        assert!(issues.is_empty(), "{issues:?}");
        assert_eq!(
            value,
            json!({
                "responses": {"200": {"a": 1}, "default": "x", "true": "y"},
                "base": {"k": 1},
                "derived": {"k": 1, "j": 2}
            })
        );
    }

    #[test]
    fn problems_are_reported_with_their_path() {
        let (value, issues) = run("a:\n  200: x\n  '200': y\n  n: .inf\n  ? [1]\n  : z\n");
        assert_eq!(value, json!({"a": {"200": "x", "n": null}}));
        let paths: Vec<_> = issues.iter().map(|(p, _)| p.clone()).collect();
        assert_eq!(
            paths,
            [
                vec![Seg::key("a"), Seg::key("200")],
                vec![Seg::key("a"), Seg::key("n")],
                vec![Seg::key("a")],
            ]
        );
    }
}
