//! Whether a request is valid per the spec, decided by the `jsonschema` validator.
//!
//! Each parameter and body schema is compiled once, against a registry that holds
//! the whole API document, so `#/components/...` references (cyclic ones too)
//! resolve. Parameter, form and multipart values travel as text, so they are
//! judged as the server would read them: the text `5` for an integer parameter
//! is the integer 5, the string `"abc"` is not an integer.

use std::collections::HashMap;
use std::sync::Arc;

use jsonschema::{Draft, Registry, Validator};
use serde_json::{Map, Value};
use unruly_core::{directional_view, ApiSpec, Direction, ParameterLocation};

use crate::case::{parameter_slot, Case, CaseBody, Expect, LargeShape};
use crate::media::{self, MediaKind};
use crate::schema::{self, Schemas};
use crate::{large, InputsError};

/// The URI the API document is registered under; local `$ref`s are rewritten to it.
const DOCUMENT_URI: &str = "https://unruly.invalid/api-document.json";
/// Reasons are cut to this many characters (instances in messages can be huge).
const MAX_REASON_CHARS: usize = 300;
/// Parameter values are judged as they would be read from text, to this depth.
const MAX_COERCE_DEPTH: usize = 16;

/// Compiled validators for every parameter and body media type of a spec.
pub(crate) struct Validators {
    ops: Vec<OpValidators>,
}

struct OpValidators {
    params: Vec<Option<Arc<Validator>>>,
    media: Vec<Option<Arc<Validator>>>,
}

struct Compiler<'d> {
    registry: Registry,
    schemas: Schemas<'d>,
    cache: HashMap<String, Option<Arc<Validator>>>,
}

impl Compiler<'_> {
    fn compile(&mut self, schema: &Value) -> Option<Arc<Validator>> {
        let key = schema.to_string();
        if let Some(found) = self.cache.get(&key) {
            return found.clone();
        }
        // A schema that reaches itself without consuming any of the instance
        // (`A: {allOf: [{$ref: A}]}`) has no meaning and would recurse forever.
        if unconditional_cycle(schema, self.schemas) {
            self.cache.insert(key, None);
            return None;
        }
        let mut rewritten = rewrite_refs(&directional_view(schema, Direction::Request));
        add_format_bounds(&mut rewritten, 0);
        let built = jsonschema::options()
            .with_draft(Draft::Draft202012)
            .should_validate_formats(true)
            .with_registry(self.registry.clone())
            .build(&rewritten)
            .ok()
            .map(Arc::new);
        self.cache.insert(key, built.clone());
        built
    }
}

impl Validators {
    /// Compiles every schema of `spec` once. A schema the validator cannot compile
    /// gets no validator: its values are judged valid (never a false alarm).
    pub(crate) fn compile(spec: &ApiSpec) -> Result<Self, InputsError> {
        let mut document = directional_view(&spec.document, Direction::Request);
        add_format_bounds(&mut document, 0);
        let resource = Draft::Draft202012.create_resource(document);
        let registry = Registry::try_new(DOCUMENT_URI, resource)
            .map_err(|e| InputsError::Document(e.to_string()))?;
        let mut compiler = Compiler {
            registry,
            schemas: Schemas::new(&spec.document),
            cache: HashMap::new(),
        };
        let ops = spec
            .operations
            .iter()
            .map(|op| OpValidators {
                params: op
                    .parameters
                    .iter()
                    .map(|p| compiler.compile(&p.schema))
                    .collect(),
                media: op
                    .body
                    .iter()
                    .flat_map(|b| b.contents.iter())
                    .map(|m| m.schema.as_ref().and_then(|s| compiler.compile(s)))
                    .collect(),
            })
            .collect();
        Ok(Self { ops })
    }

    fn param(&self, op: usize, i: usize) -> Option<&Validator> {
        self.ops.get(op)?.params.get(i)?.as_deref()
    }

    fn media(&self, op: usize, i: usize) -> Option<&Validator> {
        self.ops.get(op)?.media.get(i)?.as_deref()
    }
}

/// OpenAPI's numeric formats as the bounds they imply (`int32` values fit in 32
/// bits, ...), added to every schema that names one, so the validator knows them.
fn add_format_bounds(value: &mut Value, depth: usize) {
    if depth > 256 {
        return;
    }
    match value {
        Value::Object(map) => {
            let bounds: Option<(Value, Value)> = match map.get("format").and_then(Value::as_str) {
                Some("int32") => Some((Value::from(i32::MIN), Value::from(i32::MAX))),
                Some("int64") => Some((Value::from(i64::MIN), Value::from(i64::MAX))),
                Some("float") => Some((
                    Value::from(-(f32::MAX as f64)),
                    Value::from(f32::MAX as f64),
                )),
                _ => None,
            };
            let numeric = match map.get("type") {
                None => true,
                Some(t) => schema::type_list(t)
                    .iter()
                    .any(|t| t == "integer" || t == "number"),
            };
            if let (Some((low, high)), true) = (bounds, numeric) {
                // Extra keywords tighten: the spec's own bounds still apply beside them.
                let tighter =
                    |key: &str, bound: Value, map: &Map<String, Value>| -> Option<Value> {
                        match map.get(key).and_then(Value::as_f64) {
                            Some(existing)
                                if (key == "minimum"
                                    && existing >= bound.as_f64().unwrap_or(f64::MIN))
                                    || (key == "maximum"
                                        && existing <= bound.as_f64().unwrap_or(f64::MAX)) =>
                            {
                                None
                            }
                            _ => Some(bound),
                        }
                    };
                if let Some(low) = tighter("minimum", low, map) {
                    map.insert("minimum".to_string(), low);
                }
                if let Some(high) = tighter("maximum", high, map) {
                    map.insert("maximum".to_string(), high);
                }
            }
            for (k, v) in map.iter_mut() {
                if !DATA.contains(&k.as_str()) {
                    add_format_bounds(v, depth + 1);
                }
            }
        }
        Value::Array(items) => {
            for item in items {
                add_format_bounds(item, depth + 1);
            }
        }
        _ => {}
    }
}

/// Keywords whose subschemas apply to the same instance (not to a part of it).
const IN_PLACE: &[&str] = &["allOf", "anyOf", "oneOf", "not", "if", "then", "else"];
/// Keywords whose values are data, not schemas.
const DATA: &[&str] = &["enum", "const", "default", "examples", "example"];

/// Whether `schema` reaches a `$ref` cycle made only of in-place applicators.
fn unconditional_cycle(schema: &Value, schemas: Schemas<'_>) -> bool {
    const ROOT: &str = "";
    // Every schema reachable through `$ref`s, with its outgoing refs and whether
    // each is reached in place.
    let mut edges: Vec<(String, Vec<(String, bool)>)> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut queue: Vec<(String, &Value)> = vec![(ROOT.to_string(), schema)];
    index.insert(ROOT.to_string(), 0);
    while let Some((name, node)) = queue.pop() {
        let mut out = Vec::new();
        collect_refs(node, true, &mut out, 0);
        for (r, _) in &out {
            if !index.contains_key(r) && index.len() < 10_000 {
                index.insert(r.clone(), index.len());
                if let Some(target) = schemas.lookup(r) {
                    queue.push((r.clone(), target));
                }
            }
        }
        edges.push((name, out));
    }
    let graph: HashMap<&str, Vec<&str>> = edges
        .iter()
        .map(|(name, out)| {
            let in_place: Vec<&str> = out
                .iter()
                .filter(|(_, p)| *p)
                .map(|(r, _)| r.as_str())
                .collect();
            (name.as_str(), in_place)
        })
        .collect();
    // Depth-first search for a cycle (0 = new, 1 = on the stack, 2 = done).
    let mut state: HashMap<&str, u8> = HashMap::new();
    fn cyclic<'a>(
        node: &'a str,
        graph: &HashMap<&'a str, Vec<&'a str>>,
        state: &mut HashMap<&'a str, u8>,
    ) -> bool {
        match state.get(node) {
            Some(1) => return true,
            Some(_) => return false,
            None => {}
        }
        state.insert(node, 1);
        for next in graph.get(node).into_iter().flatten() {
            if cyclic(next, graph, state) {
                return true;
            }
        }
        state.insert(node, 2);
        false
    }
    let names: Vec<&str> = graph.keys().copied().collect();
    names.into_iter().any(|n| cyclic(n, &graph, &mut state))
}

/// The `$ref`s in `node`, each with whether it applies in place.
fn collect_refs(node: &Value, in_place: bool, out: &mut Vec<(String, bool)>, depth: usize) {
    if depth > 128 {
        return;
    }
    match node {
        Value::Object(map) => {
            for (k, v) in map {
                match (k.as_str(), v) {
                    ("$ref", Value::String(r)) => out.push((r.clone(), in_place)),
                    (k, _) if DATA.contains(&k) => {}
                    (k, _) if IN_PLACE.contains(&k) => collect_refs(v, in_place, out, depth + 1),
                    _ => collect_refs(v, false, out, depth + 1),
                }
            }
        }
        Value::Array(items) => {
            for item in items {
                collect_refs(item, in_place, out, depth + 1);
            }
        }
        _ => {}
    }
}

/// Rewrites local `$ref`s (`#/...`) to point into the registered API document.
fn rewrite_refs(schema: &Value) -> Value {
    match schema {
        Value::Object(map) => {
            let mut out = Map::with_capacity(map.len());
            for (k, v) in map {
                let v = match (k.as_str(), v) {
                    ("$ref", Value::String(r)) if r.starts_with('#') => {
                        Value::String(format!("{DOCUMENT_URI}{r}"))
                    }
                    ("enum" | "const" | "default" | "examples" | "example", _) => v.clone(),
                    _ => rewrite_refs(v),
                };
                out.insert(k.clone(), v);
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(items.iter().map(rewrite_refs).collect()),
        other => other.clone(),
    }
}

/// `Ok` when `value` is valid; otherwise the first error as `{prefix}{path}: {message}`.
fn check(validator: Option<&Validator>, value: &Value, prefix: &str) -> Result<(), String> {
    let Some(validator) = validator else {
        return Ok(());
    };
    if validator.is_valid(value) {
        return Ok(());
    }
    match validator.iter_errors(value).next() {
        None => Ok(()),
        Some(error) => {
            let path = error.instance_path.to_string();
            let place = if path.is_empty() {
                prefix.to_string()
            } else {
                format!("{prefix} {path}")
            };
            Err(truncate(&format!("{place}: {error}")))
        }
    }
}

fn truncate(s: &str) -> String {
    if s.chars().count() <= MAX_REASON_CHARS {
        s.to_string()
    } else {
        let cut: String = s.chars().take(MAX_REASON_CHARS).collect();
        format!("{cut}...")
    }
}

/// The text a scalar travels as in a path, query, header, cookie or form field.
pub(crate) fn wire_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// `value` as a server reads it from text, given the schema it expects: text that
/// parses as the expected number or boolean becomes one; a number sent where a
/// string is expected becomes its text.
pub(crate) fn coerce(value: &Value, s: &Value, schemas: Schemas<'_>, depth: usize) -> Value {
    if depth > MAX_COERCE_DEPTH {
        return value.clone();
    }
    let flat = schemas.flatten(s);
    let types = schema::types_of(&flat);
    let allows = |t: &str| types.iter().any(|x| x == t);
    match value {
        Value::Array(items) => {
            let any = Value::Bool(true);
            let prefix = flat.get("prefixItems").and_then(Value::as_array);
            let item_schema = flat.get("items").unwrap_or(&any);
            Value::Array(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, v)| {
                        let sub = prefix.and_then(|p| p.get(i)).unwrap_or(item_schema);
                        coerce(v, sub, schemas, depth + 1)
                    })
                    .collect(),
            )
        }
        Value::Object(map) => {
            let any = Value::Bool(true);
            let properties = flat.get("properties").and_then(Value::as_object);
            let additional = match flat.get("additionalProperties") {
                Some(v @ Value::Object(_)) => v,
                _ => &any,
            };
            Value::Object(
                map.iter()
                    .map(|(k, v)| {
                        let sub = properties.and_then(|p| p.get(k)).unwrap_or(additional);
                        (k.clone(), coerce(v, sub, schemas, depth + 1))
                    })
                    .collect(),
            )
        }
        _ if types.is_empty() => value.clone(),
        Value::String(text) => {
            if allows("string") {
                return value.clone();
            }
            if allows("integer") || allows("number") {
                if let Ok(i) = text.parse::<i64>() {
                    return Value::from(i);
                }
                if let Ok(u) = text.parse::<u64>() {
                    return Value::from(u);
                }
                if let Ok(f) = text.parse::<f64>() {
                    if f.is_finite() && !text.trim().is_empty() && text.trim() == text {
                        return schema::num(f);
                    }
                }
            }
            if allows("boolean") && (text == "true" || text == "false") {
                return Value::Bool(text == "true");
            }
            if allows("null") && text.is_empty() {
                return Value::Null;
            }
            value.clone()
        }
        Value::Number(_) | Value::Bool(_) => {
            let own = if value.is_boolean() {
                allows("boolean")
            } else if value.is_i64() || value.is_u64() {
                allows("integer") || allows("number")
            } else {
                allows("number")
                    || (allows("integer") && value.as_f64().is_some_and(|f| f.fract() == 0.0))
            };
            if own {
                value.clone()
            } else if allows("string") {
                Value::String(wire_text(value))
            } else {
                value.clone()
            }
        }
        Value::Null => {
            if allows("null") {
                Value::Null
            } else if allows("string") {
                Value::String(String::new())
            } else {
                Value::Null
            }
        }
    }
}

/// Judges requests for one spec.
pub(crate) struct Judge<'s> {
    pub spec: &'s ApiSpec,
    pub schemas: Schemas<'s>,
    validators: Validators,
}

impl<'s> Judge<'s> {
    pub(crate) fn new(spec: &'s ApiSpec) -> Result<Self, InputsError> {
        Ok(Self {
            spec,
            schemas: Schemas::new(&spec.document),
            validators: Validators::compile(spec)?,
        })
    }

    /// The whole case: parameters in spec order, then the body.
    pub(crate) fn judge(&self, case: &Case) -> Expect {
        let Some(op) = self.spec.operations.get(case.operation) else {
            return Expect::Valid;
        };
        for (i, p) in op.parameters.iter().enumerate() {
            let value = case
                .parameters
                .iter()
                .find(|c| c.name == p.name && c.location == p.location)
                .and_then(|c| c.value.as_ref());
            if let Err(why) = self.parameter(case.operation, i, value) {
                return Expect::Invalid(why);
            }
        }
        match self.body(case.operation, case.body.as_ref()) {
            Ok(()) => Expect::Valid,
            Err(why) => Expect::Invalid(why),
        }
    }

    /// One parameter's value (`None`: omitted).
    pub(crate) fn parameter(
        &self,
        op: usize,
        i: usize,
        value: Option<&Value>,
    ) -> Result<(), String> {
        let Some(p) = self
            .spec
            .operations
            .get(op)
            .and_then(|o| o.parameters.get(i))
        else {
            return Ok(());
        };
        let slot = parameter_slot(p.location, &p.name);
        let Some(value) = value else {
            return if p.required || p.location == ParameterLocation::Path {
                Err(format!("{slot}: required parameter is missing"))
            } else {
                Ok(())
            };
        };
        let read = coerce(value, &p.schema, self.schemas, 0);
        check(self.validators.param(op, i), &read, &slot)
    }

    /// The body (`None`: no body sent).
    pub(crate) fn body(&self, op_index: usize, body: Option<&CaseBody>) -> Result<(), String> {
        let Some(op) = self.spec.operations.get(op_index) else {
            return Ok(());
        };
        let Some(spec_body) = op.body.as_ref() else {
            return Ok(());
        };
        let Some(body) = body else {
            return if spec_body.required {
                Err("body: required request body is missing".to_string())
            } else {
                Ok(())
            };
        };
        if spec_body.contents.is_empty() {
            return Ok(());
        }
        let Some(content_type) = body.content_type() else {
            return if spec_body.contents.iter().any(|m| m.content_type == "*/*") {
                Ok(())
            } else {
                Err("content-type: no Content-Type header was sent".to_string())
            };
        };
        let Some(mi) = media::find(spec_body, content_type) else {
            let accepted: Vec<&str> = spec_body
                .contents
                .iter()
                .map(|m| m.content_type.as_str())
                .collect();
            return Err(format!(
                "content-type: {content_type} is not accepted (the spec accepts {})",
                accepted.join(", ")
            ));
        };
        let validator = self.validators.media(op_index, mi);
        let media_schema = spec_body.contents[mi].schema.as_ref();
        let textual = |value: &Value| match media_schema {
            Some(s) => coerce(value, s, self.schemas, 0),
            None => value.clone(),
        };
        match body {
            CaseBody::Json { value, .. } => check(validator, value, "body"),
            CaseBody::Form { value } | CaseBody::Multipart { value } => {
                check(validator, &textual(value), "body")
            }
            CaseBody::Raw { bytes, .. } => match media::kind(content_type) {
                MediaKind::Json => match serde_json::from_slice::<Value>(bytes) {
                    Ok(value) => check(validator, &value, "body"),
                    Err(_) => Err("body: malformed JSON".to_string()),
                },
                MediaKind::Form => {
                    let value = parse_form(bytes);
                    check(validator, &textual(&value), "body")
                }
                _ => self.raw_length(media_schema, bytes.len() as u64),
            },
            CaseBody::Large { size, shape, .. } => {
                self.large(media_schema, validator, *size, shape)
            }
        }
    }

    /// A non-structured body is judged by its length against `maxLength`/`minLength`.
    fn raw_length(&self, media_schema: Option<&Value>, len: u64) -> Result<(), String> {
        let Some(s) = media_schema else {
            return Ok(());
        };
        let flat = self.schemas.flatten(s);
        if let Some(max) = schema::count(&flat, "maxLength") {
            if len > max {
                return Err(format!(
                    "body: {len} bytes is longer than the maxLength of {max}"
                ));
            }
        }
        if let Some(min) = schema::count(&flat, "minLength") {
            if len < min {
                return Err(format!(
                    "body: {len} bytes is shorter than the minLength of {min}"
                ));
            }
        }
        Ok(())
    }

    /// A large body, judged without building it: the document with a sample of the
    /// stretched string, plus the string's real length against its `maxLength`.
    fn large(
        &self,
        media_schema: Option<&Value>,
        validator: Option<&Validator>,
        size: u64,
        shape: &LargeShape,
    ) -> Result<(), String> {
        let layout = large::Layout::of(shape, size);
        let stretched = layout.filler_len;
        let sample = large::sample(&layout, large::SAMPLE_CHARS);
        let (document, pointer, textual) = match shape {
            LargeShape::Binary => return self.raw_length(media_schema, layout.total()),
            LargeShape::JsonString { document, pointer } => (document, pointer.clone(), false),
            LargeShape::FormField { fields, name } | LargeShape::MultipartFile { fields, name } => {
                (fields, crate::pointer::push("", name), true)
            }
        };
        let mut doc = document.clone();
        if !crate::pointer::replace(&mut doc, &pointer, Value::String(sample))
            && !pointer.is_empty()
        {
            if let Some((_, name)) = crate::pointer::split_last(&pointer) {
                if let Value::Object(map) = &mut doc {
                    map.insert(
                        name,
                        Value::String(large::sample(&layout, large::SAMPLE_CHARS)),
                    );
                }
            }
        }
        let doc = match (textual, media_schema) {
            (true, Some(s)) => coerce(&doc, s, self.schemas, 0),
            _ => doc,
        };
        check(validator, &doc, "body")?;
        if stretched > large::SAMPLE_CHARS as u64 {
            if let Some(field) = media_schema.and_then(|s| self.schemas.schema_at(s, &pointer)) {
                if let Some(max) = schema::count(&field, "maxLength") {
                    if stretched > max {
                        return Err(format!(
                            "body {pointer}: a string of {stretched} characters is longer than the maxLength of {max}"
                        ));
                    }
                }
            }
        }
        Ok(())
    }
}

/// `a=1&b=x` as an object of strings (repeated keys become arrays).
fn parse_form(bytes: &[u8]) -> Value {
    let text = String::from_utf8_lossy(bytes);
    let mut map = Map::new();
    for pair in text.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let decode = |s: &str| {
            percent_encoding::percent_decode_str(&s.replace('+', " "))
                .decode_utf8_lossy()
                .into_owned()
        };
        let (k, v) = (decode(k), Value::String(decode(v)));
        match map.get_mut(&k) {
            Some(Value::Array(items)) => items.push(v),
            Some(existing) => {
                let first = existing.take();
                *existing = Value::Array(vec![first, v]);
            }
            None => {
                map.insert(k, v);
            }
        }
    }
    Value::Object(map)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn text_is_read_as_the_expected_type() {
        let doc = json!({});
        let schemas = Schemas::new(&doc);
        let int = json!({"type": "integer"});
        assert_eq!(coerce(&json!("5"), &int, schemas, 0), json!(5));
        assert_eq!(coerce(&json!("abc"), &int, schemas, 0), json!("abc"));
        assert_eq!(
            coerce(&json!(5), &json!({"type": "string"}), schemas, 0),
            json!("5")
        );
        let arr = json!({"type": "array", "items": {"type": "boolean"}});
        assert_eq!(
            coerce(&json!(["true", "x"]), &arr, schemas, 0),
            json!([true, "x"])
        );
    }

    #[test]
    fn cyclic_refs_validate() {
        let spec = ApiSpec {
            title: None,
            openapi_version: "3.1.0".into(),
            servers: vec![],
            operations: vec![],
            document: json!({"components": {"schemas": {"Node": {
                "type": "object",
                "properties": {"next": {"$ref": "#/components/schemas/Node"}, "v": {"type": "integer"}}
            }}}}),
        };
        let mut compiler = Compiler {
            registry: Registry::try_new(
                DOCUMENT_URI,
                Draft::Draft202012.create_resource(spec.document.clone()),
            )
            .unwrap(),
            schemas: Schemas::new(&spec.document),
            cache: HashMap::new(),
        };
        let v = compiler
            .compile(&json!({"$ref": "#/components/schemas/Node"}))
            .unwrap();
        assert!(v.is_valid(&json!({"next": {"next": {"v": 1}}})));
        assert!(!v.is_valid(&json!({"next": {"next": {"v": "x"}}})));
        let doc = json!({"components": {"schemas": {
            "A": {"allOf": [{"$ref": "#/components/schemas/B"}]},
            "B": {"anyOf": [{"type": "string"}, {"$ref": "#/components/schemas/A"}]},
            "C": {"properties": {"x": {"$ref": "#/components/schemas/A"}}}
        }}});
        let schemas = Schemas::new(&doc);
        assert!(unconditional_cycle(
            &json!({"$ref": "#/components/schemas/C"}),
            schemas
        ));
        assert!(!unconditional_cycle(
            &json!({"$ref": "#/components/schemas/Node"}),
            Schemas::new(&spec.document)
        ));
    }
}
