//! The wire form of a case: path and query (percent-encoded per RFC 3986,
//! parameters serialised per their style and explode), headers, cookies and body.

use bytes::Bytes;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde_json::{Map, Value};
use unruly_core::{ApiOperation, ApiSpec, ParameterLocation, ParameterStyle};

use crate::case::{Case, CaseBody, CaseParameter};
use crate::judge::wire_text;
use crate::large::{LargeBody, Layout};
use crate::media::{self, MediaKind};
use crate::schema::Schemas;

/// The fixed boundary of multipart bodies (deterministic output).
pub const MULTIPART_BOUNDARY: &str = "unruly-boundary-5f3c9a1e7d2b4c8f";

/// Everything but RFC 3986 unreserved characters (`A-Z a-z 0-9 - . _ ~`) is encoded.
const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Literal path text from the spec: only what may not appear in a path is encoded.
const PATH_LITERAL: &AsciiSet = &percent_encoding::CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'`')
    .add(b'{')
    .add(b'}')
    .add(b'\\')
    .add(b'^')
    .add(b'|');

/// Bytes a cookie value may not hold as they are (RFC 6265 cookie-octet), plus `%`.
const COOKIE_UNSAFE: &AsciiSet = &percent_encoding::CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b',')
    .add(b';')
    .add(b'\\')
    .add(b'%');

/// Bytes a header value may not hold (anything outside visible ASCII and space), plus `%`.
const HEADER_UNSAFE: &AsciiSet = &percent_encoding::CONTROLS.add(b'%');

/// A request ready to send.
#[derive(Debug)]
pub struct RequestParts {
    /// Upper-case method.
    pub method: String,
    /// Path and query, percent-encoded, starting with `/`.
    pub path_and_query: String,
    /// Header and cookie parameters (cookies in one `Cookie` header) and
    /// `Content-Type`; every name a token, every value visible ASCII.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: BodyParts,
}

/// A request body on the wire (its type is in `RequestParts::headers`).
#[derive(Debug)]
pub enum BodyParts {
    /// No body.
    Empty,
    /// A body held in memory.
    Bytes(Bytes),
    /// A large body, generated chunk by chunk.
    Stream(LargeBody),
}

impl BodyParts {
    /// The body length in bytes.
    pub fn len(&self) -> u64 {
        match self {
            BodyParts::Empty => 0,
            BodyParts::Bytes(b) => b.len() as u64,
            BodyParts::Stream(s) => s.len(),
        }
    }

    /// Whether the body is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Case {
    /// The request this case sends, for the operation it names in `spec`.
    pub fn to_request(&self, spec: &ApiSpec) -> RequestParts {
        let op = spec.operations.get(self.operation);
        let method = op.map_or_else(|| "GET".to_string(), |o| o.method.to_ascii_uppercase());
        let template = op.map_or("/", |o| o.path.as_str());
        let style_of = |p: &CaseParameter| -> (ParameterStyle, bool) {
            op.and_then(|o| {
                o.parameters
                    .iter()
                    .find(|sp| sp.name == p.name && sp.location == p.location)
            })
            .map_or_else(|| default_style(p.location), |sp| (sp.style, sp.explode))
        };

        let path = substitute_path(template, &self.parameters, &style_of);
        let mut query: Vec<String> = Vec::new();
        let mut headers: Vec<(String, String)> = Vec::new();
        let mut cookies: Vec<String> = Vec::new();
        for p in &self.parameters {
            let Some(value) = &p.value else { continue };
            let (style, explode) = style_of(p);
            match p.location {
                ParameterLocation::Path => {}
                ParameterLocation::Query => {
                    query.extend(query_pairs(&p.name, value, style, explode))
                }
                ParameterLocation::Header => {
                    if is_token(&p.name) && !p.name.eq_ignore_ascii_case("content-type") {
                        headers.push((p.name.clone(), header_value(value, explode)));
                    }
                }
                ParameterLocation::Cookie => {
                    if is_token(&p.name) {
                        let text = simple_text(value, explode);
                        let text = utf8_percent_encode(&text, COOKIE_UNSAFE).to_string();
                        cookies.push(format!("{}={}", p.name, text));
                    }
                }
            }
        }
        if !cookies.is_empty() {
            headers.push(("Cookie".to_string(), cookies.join("; ")));
        }
        let mut path_and_query = path;
        if !query.is_empty() {
            path_and_query.push('?');
            path_and_query.push_str(&query.join("&"));
        }
        let (content_type, body) = match &self.body {
            None => (None, BodyParts::Empty),
            Some(body) => body_parts(body, op, Schemas::new(&spec.document)),
        };
        if let Some(ct) = content_type {
            headers.push(("Content-Type".to_string(), sanitize_header(&ct)));
        }
        RequestParts {
            method,
            path_and_query,
            headers,
            body,
        }
    }
}

fn default_style(location: ParameterLocation) -> (ParameterStyle, bool) {
    match location {
        ParameterLocation::Query | ParameterLocation::Cookie => (ParameterStyle::Form, true),
        ParameterLocation::Path | ParameterLocation::Header => (ParameterStyle::Simple, false),
    }
}

fn enc(text: &str) -> String {
    utf8_percent_encode(text, UNRESERVED).to_string()
}

/// `{name}` segments replaced by their encoded values; the rest kept (encoded where
/// it could not stand in a path).
fn substitute_path(
    template: &str,
    parameters: &[CaseParameter],
    style_of: &dyn Fn(&CaseParameter) -> (ParameterStyle, bool),
) -> String {
    let mut out = String::with_capacity(template.len() + 16);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let Some(close_rel) = rest[open..].find('}') else {
            break;
        };
        let close = open + close_rel;
        out.push_str(&utf8_percent_encode(&rest[..open], PATH_LITERAL).to_string());
        let name = &rest[open + 1..close];
        match parameters
            .iter()
            .find(|p| p.location == ParameterLocation::Path && p.name == name)
        {
            Some(p) => {
                let (style, explode) = style_of(p);
                if let Some(value) = &p.value {
                    out.push_str(&path_value(name, value, style, explode));
                }
            }
            None => {
                out.push_str(&utf8_percent_encode(&rest[open..=close], PATH_LITERAL).to_string())
            }
        }
        rest = &rest[close + 1..];
    }
    out.push_str(&utf8_percent_encode(rest, PATH_LITERAL).to_string());
    if !out.starts_with('/') {
        out.insert(0, '/');
    }
    out
}

/// Scalars of an array, or `(key, value)` pairs of an object, as encoded text.
fn items(value: &Value) -> Vec<String> {
    match value {
        Value::Array(a) => a.iter().map(|v| enc(&scalar_text(v))).collect(),
        other => vec![enc(&scalar_text(other))],
    }
}

/// Scalars as their text, containers as compact JSON.
fn scalar_text(value: &Value) -> String {
    match value {
        Value::Array(_) | Value::Object(_) => value.to_string(),
        other => wire_text(other),
    }
}

fn object_pairs(map: &Map<String, Value>) -> Vec<(String, String)> {
    map.iter()
        .map(|(k, v)| (enc(k), enc(&scalar_text(v))))
        .collect()
}

fn path_value(name: &str, value: &Value, style: ParameterStyle, explode: bool) -> String {
    let name = enc(name);
    match style {
        ParameterStyle::Label => {
            let body = match value {
                Value::Object(map) if explode => object_pairs(map)
                    .into_iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join("."),
                Value::Object(map) => flat_pairs(map).join(","),
                _ => items(value).join(if explode { "." } else { "," }),
            };
            format!(".{body}")
        }
        ParameterStyle::Matrix => match value {
            Value::Object(map) if explode => object_pairs(map)
                .into_iter()
                .map(|(k, v)| format!(";{k}={v}"))
                .collect(),
            Value::Object(map) => format!(";{name}={}", flat_pairs(map).join(",")),
            Value::Array(_) if explode => items(value)
                .into_iter()
                .map(|v| format!(";{name}={v}"))
                .collect(),
            _ => format!(";{name}={}", items(value).join(",")),
        },
        _ => match value {
            Value::Object(map) if explode => object_pairs(map)
                .into_iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(","),
            Value::Object(map) => flat_pairs(map).join(","),
            _ => items(value).join(","),
        },
    }
}

/// `k1, v1, k2, v2` encoded, for non-exploded objects.
fn flat_pairs(map: &Map<String, Value>) -> Vec<String> {
    object_pairs(map)
        .into_iter()
        .flat_map(|(k, v)| [k, v])
        .collect()
}

fn query_pairs(name: &str, value: &Value, style: ParameterStyle, explode: bool) -> Vec<String> {
    let n = enc(name);
    match (style, value) {
        (ParameterStyle::DeepObject, Value::Object(map)) => {
            let mut out = Vec::new();
            deep_pairs(&n, map, &mut out, 0);
            out
        }
        (_, Value::Object(map)) if explode => object_pairs(map)
            .into_iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect(),
        (_, Value::Object(map)) => vec![format!("{n}={}", flat_pairs(map).join(","))],
        (_, Value::Array(a)) if explode => a
            .iter()
            .map(|v| format!("{n}={}", enc(&scalar_text(v))))
            .collect(),
        (ParameterStyle::SpaceDelimited, Value::Array(_)) => {
            vec![format!("{n}={}", items(value).join("%20"))]
        }
        (ParameterStyle::PipeDelimited, Value::Array(_)) => {
            vec![format!("{n}={}", items(value).join("|"))]
        }
        (_, Value::Array(_)) => vec![format!("{n}={}", items(value).join(","))],
        (_, scalar) => vec![format!("{n}={}", enc(&wire_text(scalar)))],
    }
}

fn deep_pairs(prefix: &str, map: &Map<String, Value>, out: &mut Vec<String>, depth: usize) {
    for (k, v) in map {
        let key = format!("{prefix}[{}]", enc(k));
        match v {
            Value::Object(inner) if depth < 8 => deep_pairs(&key, inner, out, depth + 1),
            Value::Array(items) => {
                for item in items {
                    out.push(format!("{key}={}", enc(&scalar_text(item))));
                }
            }
            other => out.push(format!("{key}={}", enc(&scalar_text(other)))),
        }
    }
}

/// The unencoded `simple`-style text of a header or cookie value.
pub(crate) fn simple_text(value: &Value, explode: bool) -> String {
    match value {
        Value::Array(a) => a.iter().map(scalar_text).collect::<Vec<_>>().join(","),
        Value::Object(map) => {
            let parts: Vec<String> = map
                .iter()
                .map(|(k, v)| {
                    if explode {
                        format!("{k}={}", scalar_text(v))
                    } else {
                        format!("{k},{}", scalar_text(v))
                    }
                })
                .collect();
            parts.join(",")
        }
        other => wire_text(other),
    }
}

fn header_value(value: &Value, explode: bool) -> String {
    sanitize_header(&simple_text(value, explode))
}

/// Visible ASCII and inner spaces kept; anything else percent-encoded, and
/// surrounding whitespace (which would be trimmed) encoded too.
fn sanitize_header(text: &str) -> String {
    if header_safe(text) {
        return text.to_string();
    }
    let encoded = utf8_percent_encode(text, HEADER_UNSAFE).to_string();
    let leading = encoded.len() - encoded.trim_start().len();
    let trailing = encoded.len() - encoded.trim_end().len();
    format!(
        "{}{}{}",
        "%20".repeat(leading),
        encoded.trim(),
        "%20".repeat(trailing)
    )
}

/// Whether `text` can be a header value as it is (and reads back the same).
pub(crate) fn header_safe(text: &str) -> bool {
    text.bytes().all(|b| (0x20..0x7f).contains(&b)) && text.trim() == text
}

/// Whether `text` can be a cookie value as it is.
pub(crate) fn cookie_safe(text: &str) -> bool {
    text.bytes()
        .all(|b| b > 0x20 && b < 0x7f && !matches!(b, b'"' | b',' | b';' | b'\\' | b'%'))
}

/// Whether `name` is an HTTP token (a valid header or cookie name).
pub(crate) fn is_token(name: &str) -> bool {
    !name.is_empty()
        && name.bytes().all(|b| {
            b.is_ascii_alphanumeric()
                || matches!(
                    b,
                    b'!' | b'#'
                        | b'$'
                        | b'%'
                        | b'&'
                        | b'\''
                        | b'*'
                        | b'+'
                        | b'-'
                        | b'.'
                        | b'^'
                        | b'_'
                        | b'`'
                        | b'|'
                        | b'~'
                )
        })
}

/// `application/x-www-form-urlencoded` text of an object's fields: scalars as
/// text, arrays as repeated keys, objects as JSON.
pub(crate) fn form_encode(value: &Value) -> String {
    let Value::Object(map) = value else {
        return enc(&scalar_text(value));
    };
    let mut pairs = Vec::new();
    for (k, v) in map {
        match v {
            Value::Array(items) => {
                for item in items {
                    pairs.push(format!("{}={}", enc(k), enc(&scalar_text(item))));
                }
            }
            other => pairs.push(format!("{}={}", enc(k), enc(&scalar_text(other)))),
        }
    }
    pairs.join("&")
}

fn quote_name(name: &str) -> String {
    name.replace('"', "%22")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// The head of a multipart file part, up to its content.
pub(crate) fn multipart_file_head(name: &str) -> Vec<u8> {
    let name = quote_name(name);
    format!(
        "--{MULTIPART_BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{name}.bin\"\r\nContent-Type: application/octet-stream\r\n\r\n"
    )
    .into_bytes()
}

/// The end of the last part and the closing delimiter.
pub(crate) fn multipart_close() -> Vec<u8> {
    format!("\r\n--{MULTIPART_BOUNDARY}--\r\n").into_bytes()
}

/// Every field of `value` as parts (without the closing delimiter); `is_file`
/// says which fields are sent as file parts.
pub(crate) fn multipart_parts(value: &Value, is_file: &dyn Fn(&str) -> bool, out: &mut Vec<u8>) {
    let Value::Object(map) = value else {
        return;
    };
    let text_part = |out: &mut Vec<u8>, name: &str, content_type: Option<&str>, body: &[u8]| {
        out.extend_from_slice(
            format!(
                "--{MULTIPART_BOUNDARY}\r\nContent-Disposition: form-data; name=\"{}\"\r\n",
                quote_name(name)
            )
            .as_bytes(),
        );
        if let Some(ct) = content_type {
            out.extend_from_slice(format!("Content-Type: {ct}\r\n").as_bytes());
        }
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(body);
        out.extend_from_slice(b"\r\n");
    };
    for (name, v) in map {
        if is_file(name) {
            out.extend_from_slice(&multipart_file_head(name));
            out.extend_from_slice(scalar_text(v).as_bytes());
            out.extend_from_slice(b"\r\n");
            continue;
        }
        match v {
            Value::Array(items) if items.iter().all(|i| !i.is_object() && !i.is_array()) => {
                for item in items {
                    text_part(out, name, None, wire_text(item).as_bytes());
                }
            }
            Value::Array(_) | Value::Object(_) => text_part(
                out,
                name,
                Some("application/json"),
                v.to_string().as_bytes(),
            ),
            other => text_part(out, name, None, wire_text(other).as_bytes()),
        }
    }
}

/// Names of the multipart fields the spec declares as binary (file) fields.
pub(crate) fn binary_fields(op: Option<&ApiOperation>, schemas: Schemas<'_>) -> Vec<String> {
    let Some(schema) = op
        .and_then(|o| o.body.as_ref())
        .and_then(|b| {
            b.contents
                .iter()
                .find(|m| media::kind(&m.content_type) == MediaKind::Multipart)
        })
        .and_then(|m| m.schema.as_ref())
    else {
        return Vec::new();
    };
    let flat = schemas.flatten(schema);
    let Some(props) = flat.get("properties").and_then(Value::as_object) else {
        return Vec::new();
    };
    props
        .iter()
        .filter(|(_, s)| {
            let s = schemas.flatten(s);
            let item = s.get("items").map(|i| schemas.flatten(i).into_owned());
            s.get("format").and_then(Value::as_str) == Some("binary")
                || s.get("contentMediaType").is_some()
                || item
                    .as_ref()
                    .and_then(|i| i.get("format"))
                    .and_then(Value::as_str)
                    == Some("binary")
        })
        .map(|(k, _)| k.clone())
        .collect()
}

fn with_boundary(content_type: &str) -> String {
    if media::kind(content_type) == MediaKind::Multipart && !content_type.contains("boundary=") {
        format!("{content_type}; boundary={MULTIPART_BOUNDARY}")
    } else {
        content_type.to_string()
    }
}

fn body_parts(
    body: &CaseBody,
    op: Option<&ApiOperation>,
    schemas: Schemas<'_>,
) -> (Option<String>, BodyParts) {
    match body {
        CaseBody::Json {
            content_type,
            value,
        } => (
            Some(content_type.clone()),
            BodyParts::Bytes(Bytes::from(serde_json::to_vec(value).unwrap_or_default())),
        ),
        CaseBody::Form { value } => (
            Some("application/x-www-form-urlencoded".to_string()),
            BodyParts::Bytes(Bytes::from(form_encode(value))),
        ),
        CaseBody::Multipart { value } => {
            let files = binary_fields(op, schemas);
            let mut out = Vec::new();
            multipart_parts(value, &|name| files.iter().any(|f| f == name), &mut out);
            out.extend_from_slice(format!("--{MULTIPART_BOUNDARY}--\r\n").as_bytes());
            (
                Some(with_boundary("multipart/form-data")),
                BodyParts::Bytes(Bytes::from(out)),
            )
        }
        CaseBody::Raw {
            content_type,
            bytes,
        } => (
            content_type.clone(),
            BodyParts::Bytes(Bytes::from(bytes.clone())),
        ),
        CaseBody::Large {
            content_type,
            size,
            shape,
        } => {
            let layout = Layout::of(shape, *size);
            (
                Some(with_boundary(content_type)),
                BodyParts::Stream(LargeBody::new(layout)),
            )
        }
    }
}
