//! Just enough OpenAPI 3.0/3.1 reading for a starter scenario: operations,
//! example values for their parameters, example JSON bodies.

use crate::error::PlanError;
use crate::position::line_col;
use crate::starter::OpenApiSource;
use serde_yaml::Value;

/// One operation found in a spec.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SpecOperation {
    /// `GET`, `POST` or `PUT`.
    pub method: &'static str,
    /// The path as written in the spec, e.g. `/users/{id}`.
    pub spec_path: String,
    /// The spec's summary, on one line.
    pub summary: Option<String>,
    /// The path with parameters filled in (and required query parameters).
    pub path: String,
    /// A compact JSON body, for POST and PUT.
    pub body: Option<String>,
    /// Why the operation cannot run as is (it is written commented out).
    pub todo: Option<String>,
}

/// What a starter needs from a spec.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Spec {
    pub title: Option<String>,
    pub server_url: Option<String>,
    pub operations: Vec<SpecOperation>,
}

/// Reads `source` (JSON or YAML).
pub(crate) fn read_spec(source: &OpenApiSource) -> Result<Spec, PlanError> {
    let (root, _version) = read_document(source)?;
    let at_key = |key: &str, message: String| {
        let (line, column) = find_key(&source.text, key).unwrap_or((0, 0));
        PlanError {
            file: source.name.clone(),
            line,
            column,
            message,
        }
    };
    let mut operations = Vec::new();
    match root.get("paths") {
        None | Some(Value::Null) => {}
        Some(Value::Mapping(paths)) => {
            for (path, item) in paths {
                let Some(path) = path.as_str() else { continue };
                let item = resolve(&root, item);
                for (key, method) in [("get", "GET"), ("post", "POST"), ("put", "PUT")] {
                    if let Some(op) = item.get(key) {
                        operations.push(read_operation(
                            &root,
                            item,
                            resolve(&root, op),
                            method,
                            path,
                        ));
                    }
                }
            }
        }
        Some(_) => return Err(at_key(
            "paths",
            "`paths` is not a mapping: expected path names such as `/users` with their operations"
                .into(),
        )),
    }
    Ok(Spec {
        title: root
            .get("info")
            .and_then(|i| i.get("title"))
            .and_then(scalar),
        server_url: root
            .get("servers")
            .and_then(|s| s.get(0))
            .and_then(|s| s.get("url"))
            .and_then(scalar),
        operations,
    })
}

/// Parses `source` (JSON or YAML) and checks that it is an OpenAPI 3.x
/// document: a mapping, not Swagger 2.0, with an `openapi: 3.x` version.
///
/// Returns the document as parsed and the version as written. Errors are
/// located: parse errors where the parser stopped, version problems at
/// their key.
pub(crate) fn read_document(source: &OpenApiSource) -> Result<(Value, String), PlanError> {
    let root: Value = serde_yaml::from_str(&source.text).map_err(|e| {
        let text = e.to_string();
        let text = text
            .find(" at line ")
            .map_or(text.as_str(), |i| &text[..i])
            .to_string();
        let (line, column) = e.location().map_or((0, 0), |l| (l.line(), l.column()));
        PlanError {
            file: source.name.clone(),
            line,
            column,
            message: format!("not a valid YAML or JSON document: {text}"),
        }
    })?;
    let at_key = |key: &str, message: String| {
        let (line, column) = find_key(&source.text, key).unwrap_or((0, 0));
        PlanError {
            file: source.name.clone(),
            line,
            column,
            message,
        }
    };
    if !root.is_mapping() {
        return Err(PlanError::whole_file(
            &source.name,
            "expected an OpenAPI 3.0 or 3.1 document: a mapping with `openapi: 3.x` at the top",
        ));
    }
    if root.get("swagger").is_some() {
        return Err(at_key(
            "swagger",
            "Swagger 2.0 is not supported: expected an OpenAPI 3.0 or 3.1 document (convert it first, e.g. with swagger2openapi)".into(),
        ));
    }
    let version = match root.get("openapi") {
        None => {
            return Err(PlanError::whole_file(
                &source.name,
                "no `openapi` version: expected `openapi: 3.0.x` or `3.1.x` at the top",
            ))
        }
        Some(v) => {
            let version = scalar(v).unwrap_or_default();
            if !version.starts_with("3.") && version != "3" {
                return Err(at_key(
                    "openapi",
                    format!(
                        "openapi version \"{version}\" is not supported: expected 3.0.x or 3.1.x"
                    ),
                ));
            }
            version
        }
    };
    Ok((root, version))
}

fn read_operation(
    root: &Value,
    item: &Value,
    op: &Value,
    method: &'static str,
    spec_path: &str,
) -> SpecOperation {
    let summary = op
        .get("summary")
        .or_else(|| op.get("operationId"))
        .and_then(scalar)
        .map(|s| s.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|s| !s.is_empty());
    let params = parameters(root, item, op);
    let mut todo = None;
    let mut path = String::new();
    let mut rest = spec_path;
    while let Some(open) = rest.find('{') {
        path.push_str(&rest[..open]);
        let Some(close) = rest[open..].find('}') else {
            path.push_str(&rest[open..]);
            rest = "";
            break;
        };
        let name = &rest[open + 1..open + close];
        match params
            .iter()
            .find(|p| {
                p.get("in").and_then(Value::as_str) == Some("path")
                    && p.get("name").and_then(Value::as_str) == Some(name)
            })
            .and_then(|p| parameter_example(root, p))
        {
            Some(value) => path.push_str(&percent_encode(&value)),
            None => {
                path.push_str(&rest[open..open + close + 1]);
                todo.get_or_insert_with(|| {
                    format!("path parameter `{{{name}}}` has no example in the spec: fill it in")
                });
            }
        }
        rest = &rest[open + close + 1..];
    }
    path.push_str(rest);
    let mut query = Vec::new();
    for p in &params {
        if p.get("in").and_then(Value::as_str) != Some("query")
            || p.get("required").and_then(Value::as_bool) != Some(true)
        {
            continue;
        }
        let name = p.get("name").and_then(Value::as_str).unwrap_or_default();
        match parameter_example(root, p) {
            Some(value) => query.push(format!(
                "{}={}",
                percent_encode(name),
                percent_encode(&value)
            )),
            None => {
                todo.get_or_insert_with(|| {
                    format!("required query parameter `{name}` has no example in the spec: add it to the path")
                });
            }
        }
    }
    if !query.is_empty() {
        path.push(if path.contains('?') { '&' } else { '?' });
        path.push_str(&query.join("&"));
    }
    if path.contains("{{") || !path.starts_with('/') {
        todo.get_or_insert_with(|| "the path cannot be used as is: fix it".to_string());
    }

    let mut body = None;
    if method != "GET" {
        match json_example(root, op) {
            Ok(json) if json.contains("{{") => {
                todo.get_or_insert_with(|| {
                    "the example body contains `{{`, which templates read as a variable: rewrite it"
                        .into()
                });
                body = Some(json);
            }
            Ok(json) => body = Some(json),
            Err(why) => {
                todo.get_or_insert(why);
            }
        }
    }
    SpecOperation {
        method,
        spec_path: spec_path.to_string(),
        summary,
        path,
        body,
        todo,
    }
}

/// Path-item parameters overridden by the operation's own (same name and `in`).
fn parameters<'a>(root: &'a Value, item: &'a Value, op: &'a Value) -> Vec<&'a Value> {
    let list = |v: &'a Value| -> Vec<&'a Value> {
        v.get("parameters")
            .and_then(Value::as_sequence)
            .map(|s| s.iter().map(|p| resolve(root, p)).collect())
            .unwrap_or_default()
    };
    let own = list(op);
    let key = |p: &Value| (p.get("name").and_then(scalar), p.get("in").and_then(scalar));
    let mut out: Vec<&Value> = list(item)
        .into_iter()
        .filter(|p| !own.iter().any(|o| key(o) == key(p)))
        .collect();
    out.extend(own);
    out
}

/// An example for a parameter: `example`, `examples`, the schema's example,
/// default or first enum value, else `1` for numbers and `example` for strings.
fn parameter_example(root: &Value, param: &Value) -> Option<String> {
    if let Some(v) = param.get("example").and_then(scalar) {
        return Some(v);
    }
    if let Some(v) = first_example(root, param.get("examples")).and_then(scalar) {
        return Some(v);
    }
    let schema = resolve(root, param.get("schema")?);
    if let Some(v) = schema.get("example").and_then(scalar) {
        return Some(v);
    }
    if let Some(v) = schema
        .get("examples")
        .and_then(|e| e.get(0))
        .and_then(scalar)
    {
        return Some(v);
    }
    if let Some(v) = schema.get("default").and_then(scalar) {
        return Some(v);
    }
    if let Some(v) = schema.get("enum").and_then(|e| e.get(0)).and_then(scalar) {
        return Some(v);
    }
    let kind = match schema.get("type") {
        Some(Value::String(t)) => t.as_str(),
        Some(Value::Sequence(types)) => types
            .iter()
            .filter_map(Value::as_str)
            .find(|t| *t != "null")?,
        _ => return None,
    };
    let format = schema.get("format").and_then(Value::as_str);
    Some(
        match (kind, format) {
            ("integer" | "number", _) => "1",
            ("boolean", _) => "true",
            ("string", Some("uuid")) => "00000000-0000-4000-8000-000000000001",
            ("string", Some("date")) => "2024-01-01",
            ("string", Some("date-time")) => "2024-01-01T00:00:00Z",
            ("string", _) => "example",
            _ => return None,
        }
        .to_string(),
    )
}

/// The `value` of the first entry of an OpenAPI `examples` mapping.
fn first_example<'a>(root: &'a Value, examples: Option<&'a Value>) -> Option<&'a Value> {
    let (_, first) = examples?.as_mapping()?.iter().next()?;
    resolve(root, first).get("value")
}

/// The compact JSON example of a POST/PUT body, or why there is none.
fn json_example(root: &Value, op: &Value) -> Result<String, String> {
    let Some(body) = op.get("requestBody").map(|b| resolve(root, b)) else {
        return Err("the spec declares no JSON request body: check this request is safe to repeat under load".into());
    };
    let content = body.get("content").and_then(Value::as_mapping);
    let media = content.and_then(|c| {
        c.get("application/json").or_else(|| {
            c.iter()
                .find(|(k, _)| k.as_str().is_some_and(|k| k.contains("json")))
                .map(|(_, v)| v)
        })
    });
    let Some(media) = media else {
        return Err(
            "the request body is not JSON: write it as `body = '...'` with its Content-Type".into(),
        );
    };
    let example = media
        .get("example")
        .or_else(|| first_example(root, media.get("examples")))
        .or_else(|| {
            media
                .get("schema")
                .map(|s| resolve(root, s))
                .and_then(|s| s.get("example"))
        });
    let Some(example) = example else {
        return Err(
            "the spec gives no example of the JSON body: write one in `body` or `json`".into(),
        );
    };
    serde_json::to_string(example).map_err(|e| {
        format!("the example body cannot be written as JSON ({e}): write one in `body`")
    })
}

/// Follows local `$ref`s (`#/components/...`), at most a few levels deep.
fn resolve<'a>(root: &'a Value, value: &'a Value) -> &'a Value {
    let mut current = value;
    for _ in 0..16 {
        let Some(reference) = current.get("$ref").and_then(Value::as_str) else {
            return current;
        };
        let Some(pointer) = reference.strip_prefix("#/") else {
            return current;
        };
        let mut target = root;
        for part in pointer.split('/') {
            let part = part.replace("~1", "/").replace("~0", "~");
            match target.get(part.as_str()) {
                Some(next) => target = next,
                None => return current,
            }
        }
        current = target;
    }
    current
}

/// A scalar as text.
fn scalar(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// The 1-based line and column of a top-level `key` (YAML `key:` at the
/// start of a line, or JSON `"key"`).
pub(crate) fn find_key(text: &str, key: &str) -> Option<(usize, usize)> {
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        if line.starts_with(key) && line[key.len()..].trim_start().starts_with(':') {
            return Some(line_col(text, offset));
        }
        offset += line.len();
    }
    text.find(&format!("\"{key}\"")).map(|i| line_col(text, i))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_and_finds() {
        assert_eq!(percent_encode("a b/ç"), "a%20b%2F%C3%A7");
        assert_eq!(
            find_key("a: 1\nswagger: \"2.0\"\n", "swagger"),
            Some((2, 1))
        );
        assert_eq!(find_key("{\"x\": 1, \"paths\": 2}", "paths"), Some((1, 10)));
    }
}
