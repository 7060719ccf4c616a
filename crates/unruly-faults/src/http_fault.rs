//! HTTP-aware faults, for HTTP/1.1 upstreams (what Toxiproxy lacks): a chosen status, a
//! delay before the response, a body aborted midway, truncated or garbled, each on the
//! requests matching a method and a path pattern, for a percentage of them.

use crate::body::{integer_field, object_field, parse_object, string_field};
use crate::error::ApiError;
use serde_json::{json, Map, Value};

/// What an HTTP fault does to a matching exchange.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HttpAction {
    /// Answer `status` at once, without asking the upstream, with `Retry-After` when given.
    Status {
        /// The status code, 100 to 599.
        status: u16,
        /// Seconds for a `Retry-After` header.
        retry_after: Option<u64>,
        /// The body; a small JSON error by default.
        body: Option<String>,
    },
    /// Hold the upstream's response `delay` ms before passing it on.
    Delay {
        /// Milliseconds.
        delay: u64,
    },
    /// Pass on the head and the first `after_bytes` bytes of the body, then reset the
    /// connection (TCP RST).
    Abort {
        /// Bytes of the body that get through.
        after_bytes: u64,
    },
    /// Pass on the head (its `Content-Length` unchanged) and the first `bytes` bytes of
    /// the body, then close the connection.
    Truncate {
        /// Bytes of the body that get through.
        bytes: u64,
    },
    /// Pass on a body of the same length with its bytes garbled, so that it no longer
    /// parses.
    Garble,
}

/// The HTTP fault types.
pub const HTTP_FAULT_TYPES: [&str; 5] = ["status", "delay", "abort", "truncate", "garble"];

/// One HTTP fault on a proxy.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpFault {
    /// Its name, unique among the proxy's HTTP faults (default: its type).
    pub name: String,
    /// The method it matches (`*` or absent: any).
    pub method: Option<String>,
    /// The path pattern it matches, `*` matching any run of characters (absent: any).
    pub path: Option<String>,
    /// The share of matching requests it applies to, 0 to 100, decided per request with
    /// the proxy's seeded generator.
    pub percent: f64,
    /// What it does.
    pub action: HttpAction,
}

impl HttpFault {
    /// Whether the fault is for a request with this method and path (without the query).
    pub fn matches(&self, method: &str, path: &str) -> bool {
        let method_ok = match self.method.as_deref() {
            None | Some("*") => true,
            Some(wanted) => wanted.eq_ignore_ascii_case(method),
        };
        method_ok
            && self
                .path
                .as_deref()
                .is_none_or(|pattern| glob_match(pattern, path))
    }

    /// The type name: `status`, `delay`, `abort`, `truncate` or `garble`.
    pub fn type_name(&self) -> &'static str {
        match self.action {
            HttpAction::Status { .. } => "status",
            HttpAction::Delay { .. } => "delay",
            HttpAction::Abort { .. } => "abort",
            HttpAction::Truncate { .. } => "truncate",
            HttpAction::Garble => "garble",
        }
    }

    /// The fault as the API shows it:
    /// `{"name","type","method","path","percent","attributes":{...}}`.
    pub fn to_json(&self) -> Value {
        let attributes = match &self.action {
            HttpAction::Status {
                status,
                retry_after,
                body,
            } => json!({"status": status, "retry_after": retry_after, "body": body}),
            HttpAction::Delay { delay } => json!({ "delay": delay }),
            HttpAction::Abort { after_bytes } => json!({ "after_bytes": after_bytes }),
            HttpAction::Truncate { bytes } => json!({ "bytes": bytes }),
            HttpAction::Garble => json!({}),
        };
        json!({
            "name": self.name,
            "type": self.type_name(),
            "method": self.method,
            "path": self.path,
            "percent": self.percent,
            "attributes": attributes,
        })
    }

    /// An HTTP fault from the body of `POST /proxies/{proxy}/http_faults`.
    pub fn from_json(body: &[u8]) -> Result<HttpFault, ApiError> {
        let object = parse_object(body)?;
        let type_name = object.get("type").and_then(Value::as_str).unwrap_or("");
        let empty = Map::new();
        let attributes = object_field(&object, "attributes")?.unwrap_or(&empty);
        let action = match type_name {
            "status" => {
                let status = integer_field(attributes, "status")?.unwrap_or(503);
                if !(100..=599).contains(&status) {
                    return Err(ApiError::bad_body(format!(
                        "attribute status must be from 100 to 599, not {status}"
                    )));
                }
                HttpAction::Status {
                    status: status as u16,
                    retry_after: integer_field(attributes, "retry_after")?,
                    body: string_field(attributes, "body")?,
                }
            }
            "delay" => HttpAction::Delay {
                delay: integer_field(attributes, "delay")?.unwrap_or(0),
            },
            "abort" => HttpAction::Abort {
                after_bytes: integer_field(attributes, "after_bytes")?.unwrap_or(0),
            },
            "truncate" => HttpAction::Truncate {
                bytes: integer_field(attributes, "bytes")?.unwrap_or(0),
            },
            "garble" => HttpAction::Garble,
            _ => {
                return Err(ApiError::new(
                    format!(
                        "invalid http fault type: expected one of {}",
                        HTTP_FAULT_TYPES.join(", ")
                    ),
                    400,
                ))
            }
        };
        let percent = match object.get("percent") {
            None | Some(Value::Null) => 100.0,
            Some(value) => match value.as_f64() {
                Some(percent) if (0.0..=100.0).contains(&percent) => percent,
                _ => {
                    return Err(ApiError::bad_body(format!(
                        "percent must be a number from 0 to 100, not {value}"
                    )))
                }
            },
        };
        let method = string_field(&object, "method")?.filter(|method| !method.is_empty());
        let path = string_field(&object, "path")?.filter(|path| !path.is_empty());
        let name = string_field(&object, "name")?
            .filter(|name| !name.is_empty())
            .unwrap_or_else(|| type_name.to_owned());
        Ok(HttpFault {
            name,
            method,
            path,
            percent,
            action,
        })
    }
}

/// `*` matches any run of characters (including `/`); everything else matches itself.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let mut parts = pattern.split('*');
    let first = parts.next().unwrap_or("");
    let Some(mut rest) = text.strip_prefix(first) else {
        return false;
    };
    let parts: Vec<&str> = parts.collect();
    let Some((last, middle)) = parts.split_last() else {
        return rest.is_empty();
    };
    for part in middle {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    rest.len() >= last.len() && rest.ends_with(last)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_paths() {
        assert!(glob_match("/quote", "/quote"));
        assert!(!glob_match("/quote", "/quotes"));
        assert!(glob_match("/quote*", "/quotes/1"));
        assert!(glob_match("*/shipping", "/products/7/shipping"));
        assert!(glob_match("/products/*/shipping", "/products/7/shipping"));
        assert!(!glob_match("/products/*/shipping", "/products/7/price"));
        assert!(glob_match("*", ""));
        assert!(!glob_match("/a*a", "/a"));
    }

    #[test]
    fn faults_parse_with_defaults_and_reject_bad_input() {
        let fault = HttpFault::from_json(
            br#"{"type":"status","path":"/quote*","attributes":{"status":429,"retry_after":3}}"#,
        )
        .expect("a valid fault");
        assert_eq!(fault.name, "status");
        assert_eq!(fault.percent, 100.0);
        assert!(fault.matches("GET", "/quote/9"));
        assert!(!fault.matches("GET", "/health"));
        for bad in [
            &br#"{"type":"teapot"}"#[..],
            br#"{"type":"status","attributes":{"status":700}}"#,
            br#"{"type":"delay","percent":101}"#,
            br#"[1]"#,
        ] {
            let error = HttpFault::from_json(bad).expect_err("bad input");
            assert_eq!(error.status, 400, "{}", error.error);
        }
    }
}
