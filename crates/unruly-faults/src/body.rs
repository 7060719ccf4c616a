//! Reading the control API's JSON bodies: an object, then typed fields, each mistake a
//! Toxiproxy-style 400 (`bad request body: ...`) that names the field.

use crate::error::ApiError;
use serde_json::{Map, Value};

/// The body as a JSON object.
pub(crate) fn parse_object(body: &[u8]) -> Result<Map<String, Value>, ApiError> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(object)) => Ok(object),
        Ok(other) => Err(ApiError::bad_body(format!(
            "expected a JSON object, found {}",
            json_kind(&other)
        ))),
        Err(error) => Err(ApiError::bad_body(error)),
    }
}

/// How a JSON value is named in messages.
pub(crate) fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A string field, if present.
pub(crate) fn string_field(
    object: &Map<String, Value>,
    field: &str,
) -> Result<Option<String>, ApiError> {
    match object.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => Ok(Some(text.clone())),
        Some(other) => Err(ApiError::bad_body(format!(
            "{field} must be a string, not {}",
            json_kind(other)
        ))),
    }
}

/// A boolean field, if present.
pub(crate) fn bool_field(
    object: &Map<String, Value>,
    field: &str,
) -> Result<Option<bool>, ApiError> {
    match object.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(flag)) => Ok(Some(*flag)),
        Some(other) => Err(ApiError::bad_body(format!(
            "{field} must be true or false, not {}",
            json_kind(other)
        ))),
    }
}

/// A non-negative integer field, if present.
pub(crate) fn integer_field(
    object: &Map<String, Value>,
    field: &str,
) -> Result<Option<u64>, ApiError> {
    match object.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(value) => value.as_u64().map(Some).ok_or_else(|| {
            ApiError::bad_body(format!(
                "{field} must be a non-negative integer, not {value}"
            ))
        }),
    }
}

/// An object field, if present.
pub(crate) fn object_field<'a>(
    object: &'a Map<String, Value>,
    field: &str,
) -> Result<Option<&'a Map<String, Value>>, ApiError> {
    match object.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(inner)) => Ok(Some(inner)),
        Some(other) => Err(ApiError::bad_body(format!(
            "{field} must be an object, not {}",
            json_kind(other)
        ))),
    }
}
