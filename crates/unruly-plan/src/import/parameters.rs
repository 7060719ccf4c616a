//! Parameter objects: where they go, how they are written, their schema.

use super::context::{child, item, Context};
use super::locate::Seg;
use super::normalize::to_json;
use serde_yaml::{Mapping, Value};
use unruly_core::{ApiParameter, ParameterLocation, ParameterStyle};

/// Header parameters OpenAPI says to ignore: other fields describe them.
const IGNORED_HEADERS: [&str; 3] = ["accept", "content-type", "authorization"];

/// The parameters listed under `parameters` of `owner` (a path item or an
/// operation at `owner_path`), refs followed. Broken ones are reported and
/// skipped.
pub(crate) fn read_list<'a>(
    ctx: &mut Context<'a>,
    owner: &'a Mapping,
    owner_path: &[Seg],
) -> Vec<ApiParameter> {
    let path = child(owner_path, "parameters");
    let items = match owner.get("parameters") {
        None | Some(Value::Null) => return Vec::new(),
        Some(Value::Sequence(items)) => items,
        Some(_) => {
            ctx.error(&path, "`parameters` must be a list of parameter objects");
            return Vec::new();
        }
    };
    items
        .iter()
        .enumerate()
        .filter_map(|(i, node)| {
            let (node, path) = ctx.resolve(node, item(&path, i))?;
            read_parameter(ctx, node, &path)
        })
        .collect()
}

/// Path-level parameters, overridden by the operation's own of the same
/// name and location; the operation's come last.
pub(crate) fn merge(base: &[ApiParameter], own: Vec<ApiParameter>) -> Vec<ApiParameter> {
    let overridden = |p: &ApiParameter| {
        own.iter()
            .any(|o| o.name == p.name && o.location == p.location)
    };
    let mut out: Vec<ApiParameter> = base.iter().filter(|p| !overridden(p)).cloned().collect();
    out.extend(own);
    out
}

/// One parameter object; `None` when broken (reported) or ignored.
fn read_parameter<'a>(
    ctx: &mut Context<'a>,
    node: &'a Value,
    path: &[Seg],
) -> Option<ApiParameter> {
    let map = ctx.mapping(node, path, "a parameter")?;
    let Some(name) = map.get("name").and_then(Value::as_str) else {
        ctx.error(path, "a parameter needs a `name` (text)");
        return None;
    };
    let location = match map.get("in").and_then(Value::as_str) {
        Some("path") => ParameterLocation::Path,
        Some("query") => ParameterLocation::Query,
        Some("header") => ParameterLocation::Header,
        Some("cookie") => ParameterLocation::Cookie,
        other => {
            let found = other.map_or_else(|| "nothing".to_string(), |o| format!("\"{o}\""));
            let at = if map.contains_key("in") {
                child(path, "in")
            } else {
                path.to_vec()
            };
            ctx.error(
                &at,
                format!(
                    "parameter `{name}`: `in` must be path, query, header or cookie, not {found}"
                ),
            );
            return None;
        }
    };
    if location == ParameterLocation::Header
        && IGNORED_HEADERS.contains(&name.to_ascii_lowercase().as_str())
    {
        return None;
    }
    let required =
        flag(ctx, map, path, "required")?.unwrap_or(false) || location == ParameterLocation::Path;
    let style = match map.get("style") {
        None => default_style(location),
        Some(value) => match value.as_str().and_then(parse_style) {
            Some(style) => style,
            None => {
                ctx.error(
                    &child(path, "style"),
                    format!("parameter `{name}`: unknown `style`: expected simple, label, matrix, form, spaceDelimited, pipeDelimited or deepObject"),
                );
                return None;
            }
        },
    };
    let explode = flag(ctx, map, path, "explode")?.unwrap_or(style == ParameterStyle::Form);
    Some(ApiParameter {
        name: name.to_string(),
        location,
        required,
        style,
        explode,
        schema: schema(map),
    })
}

/// `schema`, else the first `content` media type's schema, else `{}`.
fn schema(map: &Mapping) -> serde_json::Value {
    let from_content = || {
        map.get("content")
            .and_then(Value::as_mapping)
            .and_then(|c| c.values().next())
            .and_then(|media| media.get("schema"))
    };
    map.get("schema")
        .or_else(from_content)
        .map_or_else(|| serde_json::json!({}), to_json)
}

/// A boolean field: `Some(None)` when absent, `None` (reported) when not a boolean.
pub(crate) fn flag(
    ctx: &mut Context<'_>,
    map: &Mapping,
    path: &[Seg],
    key: &str,
) -> Option<Option<bool>> {
    match map.get(key) {
        None | Some(Value::Null) => Some(None),
        Some(Value::Bool(b)) => Some(Some(*b)),
        Some(_) => {
            ctx.error(&child(path, key), format!("`{key}` must be true or false"));
            None
        }
    }
}

fn default_style(location: ParameterLocation) -> ParameterStyle {
    match location {
        ParameterLocation::Path | ParameterLocation::Header => ParameterStyle::Simple,
        ParameterLocation::Query | ParameterLocation::Cookie => ParameterStyle::Form,
    }
}

fn parse_style(text: &str) -> Option<ParameterStyle> {
    Some(match text {
        "simple" => ParameterStyle::Simple,
        "label" => ParameterStyle::Label,
        "matrix" => ParameterStyle::Matrix,
        "form" => ParameterStyle::Form,
        "spaceDelimited" => ParameterStyle::SpaceDelimited,
        "pipeDelimited" => ParameterStyle::PipeDelimited,
        "deepObject" => ParameterStyle::DeepObject,
        _ => return None,
    })
}
