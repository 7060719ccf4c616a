//! Values of the wrong kind for a schema: other JSON types, a fraction for an
//! integer, `null` where it is not allowed.

use serde_json::{json, Value};

use super::Variant;
use crate::schema;

/// Wrong-type and null variants for a slot with (flattened) schema `s`.
/// A schema that allows anything gets none.
pub(crate) fn wrong_values(s: &Value) -> Vec<Variant> {
    let types = schema::types_of(s);
    if types.is_empty() {
        return Vec::new();
    }
    let candidates = [
        ("string", "wrong type: string \"abc\"", json!("abc")),
        ("integer", "wrong type: number 123", json!(123)),
        ("boolean", "wrong type: boolean true", json!(true)),
        ("object", "wrong type: object {}", json!({})),
        ("array", "wrong type: array []", json!([])),
    ];
    let mut out: Vec<Variant> = candidates
        .into_iter()
        .filter(|(ty, _, _)| !schema::allows(&types, ty))
        .take(2)
        .map(|(_, what, value)| Variant::new(what, value))
        .collect();
    if types.iter().any(|t| t == "integer") && !types.iter().any(|t| t == "number") {
        out.push(Variant::new("fraction for an integer", json!(0.5)));
    }
    if !types.iter().any(|t| t == "null") {
        out.push(Variant::new("null", Value::Null));
    }
    out
}
