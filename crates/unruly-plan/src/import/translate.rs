//! One OpenAPI 3.0 schema object rewritten as JSON Schema 2020-12, in place.
//!
//! Only the object itself changes; its sub-schemas are translated by the
//! walk in [`super::schemas`], before their parent.
//!
//! * `nullable: true` lets `null` through: `"null"` joins `type` (and `enum`);
//!   a schema without `type`, or one that composes others (`$ref`, `allOf`,
//!   `anyOf`, `oneOf`, `not`), whose constraints would still refuse `null`,
//!   becomes `anyOf: [schema, {type: null}]`. `nullable` itself is dropped.
//! * boolean `exclusiveMinimum: true` with `minimum: m` becomes
//!   `exclusiveMinimum: m` (same for maximum); a boolean without its bound,
//!   or `false`, is dropped, as 2020-12 wants numbers there.
//! * everything else (`example`, `x-` keys, ...) is left as written.

use serde_yaml::{Mapping, Value};

/// Keywords under which a 3.0 schema composes others.
const COMPOSITION: [&str; 5] = ["$ref", "allOf", "anyOf", "oneOf", "not"];

/// Translates `schema` (a 3.0 schema object; anything else is left alone).
/// Returns whether it was wrapped in `anyOf`, which moves its keywords one
/// level down (to `anyOf/0`).
pub(crate) fn translate(schema: &mut Value) -> bool {
    let Value::Mapping(map) = schema else {
        return false;
    };
    exclusive_bound(map, "exclusiveMinimum", "minimum");
    exclusive_bound(map, "exclusiveMaximum", "maximum");
    let Some(nullable) = map.remove("nullable") else {
        return false;
    };
    if nullable.as_bool() != Some(true) {
        return false;
    }
    let composes = COMPOSITION.iter().any(|k| map.contains_key(*k));
    let typed = !composes && map.get_mut("type").is_some_and(add_null_type);
    if typed {
        if let Some(Value::Sequence(values)) = map.get_mut("enum") {
            if !values.contains(&Value::Null) {
                values.push(Value::Null);
            }
        }
        false
    } else {
        let inner = std::mem::take(map);
        let mut null = Mapping::new();
        null.insert("type".into(), "null".into());
        map.insert(
            "anyOf".into(),
            Value::Sequence(vec![Value::Mapping(inner), Value::Mapping(null)]),
        );
        true
    }
}

/// Adds `"null"` to a `type` string or list; false if `type` is neither.
fn add_null_type(kind: &mut Value) -> bool {
    match kind {
        Value::String(name) => {
            if name != "null" {
                let name = std::mem::take(name);
                *kind = Value::Sequence(vec![Value::String(name), "null".into()]);
            }
            true
        }
        Value::Sequence(names) => {
            if !names.iter().any(|n| n.as_str() == Some("null")) {
                names.push("null".into());
            }
            true
        }
        _ => false,
    }
}

/// A boolean `exclusive` keyword made numeric from its `bound`.
fn exclusive_bound(map: &mut Mapping, exclusive: &str, bound: &str) {
    let Some(flag) = map.get(exclusive).and_then(Value::as_bool) else {
        return;
    };
    map.remove(exclusive);
    let numeric = map.get(bound).is_some_and(Value::is_number);
    if flag && numeric {
        if let Some(value) = map.remove(bound) {
            map.insert(exclusive.into(), value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::normalize::to_json;
    use serde_json::json;

    fn run(yaml: &str) -> serde_json::Value {
        let mut value: Value = serde_yaml::from_str(yaml).unwrap();
        translate(&mut value);
        to_json(&value)
    }

    #[test]
    fn nullable_joins_the_type_and_the_enum() {
        assert_eq!(
            run("{type: string, nullable: true, maxLength: 3}"),
            json!({"type": ["string", "null"], "maxLength": 3})
        );
        assert_eq!(
            run("{type: string, enum: [a, b], nullable: true}"),
            json!({"type": ["string", "null"], "enum": ["a", "b", null]})
        );
        assert_eq!(
            run("{type: integer, nullable: false}"),
            json!({"type": "integer"})
        );
        assert_eq!(
            run("{type: [string, 'null'], enum: [a, null], nullable: true}"),
            json!({"type": ["string", "null"], "enum": ["a", null]})
        );
    }

    #[test]
    fn nullable_without_a_type_or_with_composition_wraps() {
        assert_eq!(
            run("{nullable: true, description: any}"),
            json!({"anyOf": [{"description": "any"}, {"type": "null"}]})
        );
        assert_eq!(
            run("{$ref: '#/components/schemas/A', nullable: true}"),
            json!({"anyOf": [{"$ref": "#/components/schemas/A"}, {"type": "null"}]})
        );
        assert_eq!(
            run("{type: object, allOf: [{$ref: '#/A'}], nullable: true}"),
            json!({"anyOf": [{"type": "object", "allOf": [{"$ref": "#/A"}]}, {"type": "null"}]})
        );
    }

    #[test]
    fn boolean_exclusive_bounds_become_numbers() {
        assert_eq!(
            run("{type: number, minimum: 0, exclusiveMinimum: true, maximum: 10, exclusiveMaximum: false}"),
            json!({"type": "number", "exclusiveMinimum": 0, "maximum": 10})
        );
        assert_eq!(
            run("{exclusiveMaximum: true, maximum: 1.5}"),
            json!({"exclusiveMaximum": 1.5})
        );
        assert_eq!(run("{exclusiveMinimum: true}"), json!({}));
        // Already numeric (or anything else): left alone.
        assert_eq!(run("{exclusiveMinimum: 3}"), json!({"exclusiveMinimum": 3}));
        assert_eq!(
            run("{example: {nullable: true}, x-nullable: true}"),
            json!({"example": {"nullable": true}, "x-nullable": true})
        );
    }
}
