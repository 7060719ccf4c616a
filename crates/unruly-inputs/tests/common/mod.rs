//! A hand-built API spec exercising every feature the generator handles.
#![allow(dead_code)]

use serde_json::{json, Value};
use unruly_core::{
    ApiBody, ApiOperation, ApiParameter, ApiSpec, MediaType, ParameterLocation, ParameterStyle,
};

pub const CREATE_ORDER: usize = 0;
pub const GET_USER: usize = 1;
pub const SEARCH: usize = 2;
pub const UPLOAD: usize = 3;
pub const PUT_BLOB: usize = 4;
pub const FORM: usize = 5;
pub const TREE: usize = 6;

pub fn param(
    name: &str,
    location: ParameterLocation,
    required: bool,
    style: ParameterStyle,
    explode: bool,
    schema: Value,
) -> ApiParameter {
    ApiParameter {
        name: name.into(),
        location,
        required,
        style,
        explode,
        schema,
    }
}

pub fn op(
    method: &str,
    path: &str,
    parameters: Vec<ApiParameter>,
    body: Option<ApiBody>,
) -> ApiOperation {
    ApiOperation {
        method: method.into(),
        path: path.into(),
        operation_id: None,
        parameters,
        body,
        responses: vec![],
        security: vec![],
    }
}

pub fn body(content_type: &str, schema: Value) -> Option<ApiBody> {
    Some(ApiBody {
        required: true,
        contents: vec![MediaType {
            content_type: content_type.into(),
            schema: Some(schema),
        }],
    })
}

pub fn document() -> Value {
    json!({
        "openapi": "3.1.0",
        "components": {"schemas": {
            "Order": {
                "type": "object",
                "required": ["item", "quantity"],
                "additionalProperties": false,
                "properties": {
                    "item": {"type": "string", "minLength": 1, "maxLength": 20},
                    "quantity": {"type": "integer", "minimum": 1, "maximum": 10},
                    "note": {"type": ["string", "null"]},
                    "email": {"type": "string", "format": "email"},
                    "id": {"type": "string", "format": "uuid"},
                    "code": {"type": "string", "pattern": "^[A-Z]{3}-\\d{3}$"},
                    "price": {"type": "number", "exclusiveMinimum": 0, "maximum": 1000, "multipleOf": 0.01},
                    "kind": {"enum": ["retail", "wholesale"]},
                    "tags": {"type": "array", "items": {"type": "string", "maxLength": 8}, "maxItems": 3, "uniqueItems": true},
                    "address": {"$ref": "#/components/schemas/Address"},
                    "created": {"type": "string", "format": "date-time"},
                    "serial": {"type": "integer", "format": "int64", "minimum": 0},
                    "small": {"type": "integer", "format": "int32"},
                    "ratio": {"type": "number", "format": "float"}
                }
            },
            "Address": {
                "allOf": [
                    {"type": "object", "properties": {"street": {"type": "string"}}, "required": ["street"]},
                    {"properties": {"zip": {"type": "string", "pattern": "^\\d{5}$"}}, "required": ["zip"]}
                ]
            },
            "Node": {
                "type": "object",
                "required": ["name"],
                "properties": {
                    "name": {"type": "string", "maxLength": 10},
                    "children": {"type": "array", "items": {"$ref": "#/components/schemas/Node"}},
                    "parent": {"$ref": "#/components/schemas/Node"}
                }
            },
            "Chain": {"allOf": [{"$ref": "#/components/schemas/Chain"}, {"type": "object"}]},
            "Pet": {
                "oneOf": [
                    {"type": "object", "required": ["bark"], "properties": {"bark": {"type": "boolean"}}, "additionalProperties": false},
                    {"type": "object", "required": ["meow"], "properties": {"meow": {"type": "integer", "minimum": 0}}, "additionalProperties": false}
                ]
            }
        }}
    })
}

pub fn spec() -> ApiSpec {
    use ParameterLocation::*;
    use ParameterStyle::*;
    let operations = vec![
        op(
            "POST",
            "/orders",
            vec![
                param(
                    "dry_run",
                    Query,
                    false,
                    Form,
                    true,
                    json!({"type": "boolean"}),
                ),
                param(
                    "X-Request-Id",
                    Header,
                    true,
                    Simple,
                    false,
                    json!({"type": "string", "maxLength": 36}),
                ),
            ],
            body(
                "application/json",
                json!({"$ref": "#/components/schemas/Order"}),
            ),
        ),
        op(
            "GET",
            "/users/{id}",
            vec![
                param(
                    "id",
                    Path,
                    true,
                    Simple,
                    false,
                    json!({"type": "string", "minLength": 1}),
                ),
                param(
                    "limit",
                    Query,
                    true,
                    Form,
                    true,
                    json!({"type": "integer", "minimum": 1, "maximum": 100}),
                ),
                param(
                    "tags",
                    Query,
                    false,
                    Form,
                    true,
                    json!({"type": "array", "items": {"type": "string"}}),
                ),
                param(
                    "session",
                    Cookie,
                    false,
                    Form,
                    true,
                    json!({"type": "string"}),
                ),
                param(
                    "theme",
                    Cookie,
                    false,
                    Form,
                    true,
                    json!({"type": "string", "enum": ["dark", "light"]}),
                ),
            ],
            None,
        ),
        op(
            "GET",
            "/search",
            vec![
                param(
                    "filter",
                    Query,
                    false,
                    DeepObject,
                    true,
                    json!({"type": "object", "properties": {"role": {"type": "string"}, "age": {"type": "integer"}}}),
                ),
                param(
                    "ids",
                    Query,
                    false,
                    Form,
                    false,
                    json!({"type": "array", "items": {"type": "integer"}}),
                ),
                param(
                    "pipes",
                    Query,
                    false,
                    PipeDelimited,
                    false,
                    json!({"type": "array", "items": {"type": "string"}}),
                ),
                param(
                    "spaced",
                    Query,
                    false,
                    SpaceDelimited,
                    false,
                    json!({"type": "array", "items": {"type": "string"}}),
                ),
            ],
            None,
        ),
        op(
            "POST",
            "/upload",
            vec![],
            body(
                "multipart/form-data",
                json!({
                    "type": "object",
                    "required": ["file"],
                    "properties": {"file": {"type": "string", "format": "binary"}, "title": {"type": "string"}}
                }),
            ),
        ),
        op(
            "PUT",
            "/blobs/{name}",
            vec![param(
                "name",
                Path,
                true,
                Simple,
                false,
                json!({"type": "string"}),
            )],
            body(
                "application/octet-stream",
                json!({"type": "string", "format": "binary"}),
            ),
        ),
        op(
            "POST",
            "/login",
            vec![],
            body(
                "application/x-www-form-urlencoded",
                json!({
                    "type": "object",
                    "required": ["user", "age"],
                    "properties": {"user": {"type": "string", "maxLength": 12}, "age": {"type": "integer", "minimum": 18}}
                }),
            ),
        ),
        op(
            "POST",
            "/trees",
            vec![],
            Some(ApiBody {
                required: false,
                contents: vec![MediaType {
                    content_type: "application/json".into(),
                    schema: Some(json!({"$ref": "#/components/schemas/Node"})),
                }],
            }),
        ),
        op(
            "POST",
            "/chains",
            vec![],
            body(
                "application/json",
                json!({"$ref": "#/components/schemas/Chain"}),
            ),
        ),
        op(
            "POST",
            "/pets",
            vec![],
            body(
                "application/json",
                json!({"$ref": "#/components/schemas/Pet"}),
            ),
        ),
    ];
    ApiSpec {
        title: Some("fixture".into()),
        openapi_version: "3.1.0".into(),
        servers: vec![],
        operations,
        document: document(),
    }
}

/// An independent validator for a component schema: the document itself, with a
/// root `$ref` to the schema.
pub fn component_validator(name: &str) -> jsonschema::Validator {
    let mut doc = document();
    doc["$ref"] = json!(format!("#/components/schemas/{name}"));
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .should_validate_formats(true)
        .build(&doc)
        .expect("fixture schema compiles")
}
