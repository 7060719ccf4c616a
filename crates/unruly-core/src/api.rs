//! An HTTP API as its OpenAPI document describes it: operations, their
//! parameters, request bodies and responses, with schemas kept as JSON.
//!
//! `unruly-plan` builds an [`ApiSpec`] from OpenAPI 3.0 or 3.1 (JSON or YAML);
//! `unruly-inputs` turns its schemas into values; the explorer checks answers
//! against its response schemas.
//!
//! Schemas are JSON Schema 2020-12 values. OpenAPI 3.0 dialect (`nullable`,
//! boolean `exclusiveMinimum`, ...) is already translated by the importer, so
//! consumers see one dialect. `$ref`s are kept as written (`#/components/...`)
//! and resolve against [`ApiSpec::document`], which holds the whole translated
//! document; cycles are therefore possible and consumers must guard against them.

use serde_json::Value;

/// An imported API description.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiSpec {
    /// `info.title`.
    pub title: Option<String>,
    /// The `openapi` version as written, e.g. `3.0.3` or `3.1.0`.
    pub openapi_version: String,
    /// `servers[].url`, as written.
    pub servers: Vec<String>,
    /// Every operation, in document order (paths in order, then methods in
    /// the order get, put, post, delete, options, head, patch, trace).
    pub operations: Vec<ApiOperation>,
    /// The whole document, schemas translated to JSON Schema 2020-12; `$ref`s in
    /// the schemas above resolve against it (`#/components/schemas/User`).
    pub document: Value,
}

/// One operation: a method on a path.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiOperation {
    /// Upper case: `GET`, `POST`, ...
    pub method: String,
    /// The path as written in the spec, e.g. `/users/{id}`.
    pub path: String,
    /// `operationId`, when the spec gives one.
    pub operation_id: Option<String>,
    /// Path-level and operation-level parameters merged (the operation's win).
    pub parameters: Vec<ApiParameter>,
    /// The request body, when the operation takes one.
    pub body: Option<ApiBody>,
    /// Documented responses, in document order.
    pub responses: Vec<ApiResponse>,
    /// Names of the security schemes the operation accepts (from `security`).
    pub security: Vec<String>,
}

impl ApiOperation {
    /// `METHOD /path`, the name findings and reports use.
    pub fn name(&self) -> String {
        format!("{} {}", self.method, self.path)
    }

    /// The documented response for `status`: an exact code first, then a
    /// range (`4XX`), then `default`.
    pub fn response_for(&self, status: u16) -> Option<&ApiResponse> {
        let exact = status.to_string();
        let range = format!("{}XX", status / 100);
        self.responses
            .iter()
            .find(|r| r.status == exact)
            .or_else(|| {
                self.responses
                    .iter()
                    .find(|r| r.status.eq_ignore_ascii_case(&range))
            })
            .or_else(|| self.responses.iter().find(|r| r.status == "default"))
    }
}

/// Where a parameter goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ParameterLocation {
    /// A `{name}` segment of the path.
    Path,
    /// The query string.
    Query,
    /// A request header.
    Header,
    /// A cookie.
    Cookie,
}

impl ParameterLocation {
    /// The name OpenAPI uses (`path`, `query`, `header`, `cookie`).
    pub fn as_str(self) -> &'static str {
        match self {
            ParameterLocation::Path => "path",
            ParameterLocation::Query => "query",
            ParameterLocation::Header => "header",
            ParameterLocation::Cookie => "cookie",
        }
    }
}

/// How a parameter value is serialised (OpenAPI `style`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParameterStyle {
    /// `simple` (path and header default): `1,2,3`.
    Simple,
    /// `label`: `.1.2.3`.
    Label,
    /// `matrix`: `;id=1,2,3`.
    Matrix,
    /// `form` (query and cookie default): `id=1&id=2` or `id=1,2`.
    Form,
    /// `spaceDelimited`: `1%202%203`.
    SpaceDelimited,
    /// `pipeDelimited`: `1|2|3`.
    PipeDelimited,
    /// `deepObject`: `id[role]=admin`.
    DeepObject,
}

/// One parameter of an operation.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiParameter {
    /// The name as written.
    pub name: String,
    /// Where it goes.
    pub location: ParameterLocation,
    /// Whether the spec requires it (path parameters always are).
    pub required: bool,
    /// Its serialisation style (the location's default when not written).
    pub style: ParameterStyle,
    /// `explode` (true for `form`, false otherwise, when not written).
    pub explode: bool,
    /// Its schema (`{}` when the spec gives none).
    pub schema: Value,
}

/// A request body.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiBody {
    /// Whether the spec requires a body.
    pub required: bool,
    /// The accepted media types, in document order.
    pub contents: Vec<MediaType>,
}

/// One media type of a body or a response.
#[derive(Debug, Clone, PartialEq)]
pub struct MediaType {
    /// As written, e.g. `application/json`, `multipart/form-data`, `*/*`.
    pub content_type: String,
    /// Its schema, when the spec gives one.
    pub schema: Option<Value>,
}

impl MediaType {
    /// Whether this is a JSON media type (`application/json`, `application/*+json`).
    pub fn is_json(&self) -> bool {
        let essence = essence(&self.content_type);
        essence == "application/json" || essence.ends_with("+json")
    }
}

/// The media type without parameters, lower case: `application/json; charset=utf-8`
/// gives `application/json`.
pub fn essence(content_type: &str) -> String {
    content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

/// A documented response.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiResponse {
    /// `200`, `2XX` or `default`, as written.
    pub status: String,
    /// The media types it may have; empty means no body is documented.
    pub contents: Vec<MediaType>,
    /// OpenAPI links: where values of this response feed other operations.
    pub links: Vec<ApiLink>,
}

/// An OpenAPI link: a value of one response used as a parameter of another
/// operation.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiLink {
    /// The link's name.
    pub name: String,
    /// The target operation, by `operationId` (an `operationRef` is turned into
    /// the `METHOD /path` name).
    pub operation: String,
    /// Parameter name → runtime expression, e.g. `id` → `$response.body#/id`.
    pub parameters: Vec<(String, String)>,
}

/// Which way data flows, for `readOnly` and `writeOnly` properties.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// In a request: `readOnly` properties are not required (a client does
    /// not send the `id` the server assigns).
    Request,
    /// In a response: `writeOnly` properties are not required (a server does
    /// not send back the password it was given).
    Response,
}

/// `schema` (or a whole document) as seen in `direction`: every property
/// marked `readOnly: true` (requests) or `writeOnly: true` (responses) is
/// dropped from the `required` list of its object schema, as OpenAPI says.
pub fn directional_view(schema: &Value, direction: Direction) -> Value {
    let flag = match direction {
        Direction::Request => "readOnly",
        Direction::Response => "writeOnly",
    };
    let mut view = schema.clone();
    relax(&mut view, flag, 0);
    view
}

/// Nesting walked by [`directional_view`]; deeper is left as is.
const MAX_VIEW_DEPTH: usize = 256;

fn relax(value: &mut Value, flag: &str, depth: usize) {
    if depth > MAX_VIEW_DEPTH {
        return;
    }
    match value {
        Value::Object(map) => {
            let marked: Vec<String> = map
                .get("properties")
                .and_then(Value::as_object)
                .map(|properties| {
                    properties
                        .iter()
                        .filter(|(_, p)| p.get(flag) == Some(&Value::Bool(true)))
                        .map(|(name, _)| name.clone())
                        .collect()
                })
                .unwrap_or_default();
            if !marked.is_empty() {
                if let Some(Value::Array(required)) = map.get_mut("required") {
                    required.retain(|r| r.as_str().is_none_or(|r| !marked.iter().any(|m| m == r)));
                }
            }
            for (key, child) in map.iter_mut() {
                if !matches!(
                    key.as_str(),
                    "enum" | "const" | "default" | "example" | "examples"
                ) {
                    relax(child, flag, depth + 1);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| relax(v, flag, depth + 1)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn read_and_write_only_properties_are_not_required_their_wrong_way() {
        let user = json!({"type": "object", "required": ["id", "password", "name"], "properties": {
            "id": {"type": "integer", "readOnly": true},
            "password": {"type": "string", "writeOnly": true},
            "name": {"type": "string"}}});
        let request = directional_view(&user, Direction::Request);
        assert_eq!(request["required"], json!(["password", "name"]));
        let response = directional_view(&json!({"a": [user]}), Direction::Response);
        assert_eq!(response["a"][0]["required"], json!(["id", "name"]));
    }
}
