//! Responses and their links.

use super::bodies::read_contents;
use super::context::{child, Context};
use super::locate::Seg;
use super::normalize::{scalar_text, to_json};
use super::pointer::{follow, ref_tokens, RefError};
use super::schemas::METHODS;
use serde_yaml::{Mapping, Value};
use unruly_core::{ApiLink, ApiResponse};

/// The responses under `responses` of the operation `op`, in document order.
pub(crate) fn read_responses<'a>(
    ctx: &mut Context<'a>,
    op: &'a Mapping,
    op_path: &[Seg],
    links: &mut Vec<LinkTarget>,
) -> Vec<ApiResponse> {
    let path = child(op_path, "responses");
    let map = match op.get("responses") {
        None | Some(Value::Null) => return Vec::new(),
        Some(Value::Mapping(map)) => map,
        Some(_) => {
            ctx.error(&path, "`responses` must map status codes to responses");
            return Vec::new();
        }
    };
    let mut out = Vec::with_capacity(map.len());
    for (status, node) in map {
        let status = status.as_str().unwrap_or_default();
        if status.starts_with("x-") {
            continue;
        }
        let status_path = child(&path, status);
        if !is_status_key(status) {
            ctx.error(
                &status_path,
                format!("response key `{status}` must be a status code (200), a range (2XX) or `default`"),
            );
            continue;
        }
        let Some((node, response_path)) = ctx.resolve(node, status_path) else {
            continue;
        };
        let Some(response) = ctx.mapping(node, &response_path, "a response") else {
            continue;
        };
        let contents = read_contents(ctx, response, &response_path);
        let response_links = read_links(ctx, response, &response_path, links);
        out.push(ApiResponse {
            status: status.to_string(),
            contents,
            links: response_links,
        });
    }
    out
}

/// `200`, `2XX` (any case) or `default`.
fn is_status_key(status: &str) -> bool {
    let bytes = status.as_bytes();
    status == "default"
        || (bytes.len() == 3
            && (b'1'..=b'5').contains(&bytes[0])
            && (bytes[1..].iter().all(u8::is_ascii_digit)
                || bytes[1..].iter().all(|b| b.eq_ignore_ascii_case(&b'x'))))
}

/// A link naming its target by `operationId`, to check once every
/// operation is known.
#[derive(Debug, Clone)]
pub(crate) struct LinkTarget {
    /// The path of the `operationId` key.
    pub path: Vec<Seg>,
    /// The `operationId`.
    pub operation_id: String,
}

fn read_links<'a>(
    ctx: &mut Context<'a>,
    response: &'a Mapping,
    response_path: &[Seg],
    targets: &mut Vec<LinkTarget>,
) -> Vec<ApiLink> {
    let path = child(response_path, "links");
    let map = match response.get("links") {
        None | Some(Value::Null) => return Vec::new(),
        Some(Value::Mapping(map)) => map,
        Some(_) => {
            ctx.error(&path, "`links` must map link names to links");
            return Vec::new();
        }
    };
    let mut out = Vec::new();
    for (name, node) in map {
        let name = name.as_str().unwrap_or_default();
        let Some((node, link_path)) = ctx.resolve(node, child(&path, name)) else {
            continue;
        };
        let Some(link) = ctx.mapping(node, &link_path, "a link") else {
            continue;
        };
        let operation = match (
            link.get("operationId").and_then(Value::as_str),
            link.get("operationRef").and_then(Value::as_str),
        ) {
            (Some(id), _) => {
                targets.push(LinkTarget {
                    path: child(&link_path, "operationId"),
                    operation_id: id.to_string(),
                });
                id.to_string()
            }
            (None, Some(reference)) => match operation_ref_name(ctx.doc, reference) {
                Ok(name) => name,
                Err(message) => {
                    ctx.error(&child(&link_path, "operationRef"), message);
                    continue;
                }
            },
            (None, None) => {
                ctx.error(
                    &link_path,
                    format!("link `{name}` needs an `operationId` or an `operationRef` (text)"),
                );
                continue;
            }
        };
        let parameters = link
            .get("parameters")
            .and_then(Value::as_mapping)
            .map(|params| {
                params
                    .iter()
                    .map(|(k, v)| {
                        let value = match v {
                            Value::String(s) => s.clone(),
                            other => {
                                scalar_text(other).unwrap_or_else(|| to_json(other).to_string())
                            }
                        };
                        (k.as_str().unwrap_or_default().to_string(), value)
                    })
                    .collect()
            })
            .unwrap_or_default();
        out.push(ApiLink {
            name: name.to_string(),
            operation,
            parameters,
        });
    }
    out
}

/// `#/paths/~1users~1{id}/get` as `GET /users/{id}`, checked against the
/// document; otherwise what is wrong.
pub(crate) fn operation_ref_name(doc: &Value, reference: &str) -> Result<String, String> {
    let expected = "expected a local pointer to an operation, like \"#/paths/~1users~1{id}/get\"";
    let tokens = match ref_tokens(reference) {
        Ok(tokens) => tokens,
        Err(RefError::NotLocal) => {
            return Err(format!(
                "operationRef \"{reference}\" is not supported: only local refs (starting with \"#/\") are; {expected}, or use `operationId`"
            ))
        }
        Err(error) => return Err(error.message(reference)),
    };
    let [root, path, method] = tokens.as_slice() else {
        return Err(format!(
            "operationRef \"{reference}\" does not name an operation: {expected}"
        ));
    };
    if root != "paths" || !METHODS.contains(&method.as_str()) {
        return Err(format!(
            "operationRef \"{reference}\" does not name an operation: {expected}"
        ));
    }
    follow(doc, reference).map_err(|error| error.message(reference))?;
    Ok(format!("{} {path}", method.to_ascii_uppercase()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_keys() {
        for ok in ["200", "404", "2XX", "5xx", "default"] {
            assert!(is_status_key(ok), "{ok}");
        }
        for bad in ["20", "600", "2X0", "Default", "200 OK", ""] {
            assert!(!is_status_key(bad), "{bad}");
        }
    }

    #[test]
    fn operation_refs() {
        let doc: Value = serde_yaml::from_str("paths:\n  /users/{id}:\n    get: {}\n").unwrap();
        assert_eq!(
            operation_ref_name(&doc, "#/paths/~1users~1{id}/get"),
            Ok("GET /users/{id}".to_string())
        );
        assert_eq!(
            operation_ref_name(&doc, "#/paths/~1users~1%7Bid%7D/get"),
            Ok("GET /users/{id}".to_string())
        );
        let err = operation_ref_name(&doc, "#/paths/~1users~1{id}/post").unwrap_err();
        assert!(err.contains("points nowhere"), "{err}");
        let err = operation_ref_name(&doc, "#/paths/~1users~1{id}").unwrap_err();
        assert!(err.contains("does not name an operation"), "{err}");
        let err = operation_ref_name(&doc, "https://x/api.yaml#/paths/~1a/get").unwrap_err();
        assert!(err.contains("only local refs"), "{err}");
    }
}
