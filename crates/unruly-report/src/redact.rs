//! Credentials never reach a report: Authorization headers, cookies, API keys and tokens
//! are replaced by `[redacted]` wherever they appear in what a report carries (requests,
//! excerpts, reproductions, summaries), whether unruly sent them (`-H 'Authorization: ...'`)
//! or the target echoed them back.
//!
//! The patterns cover header lines (in a request dump or a curl `-H` argument), query
//! parameters, JSON fields, `Bearer` credentials and JWTs. A reproduction that needs a
//! credential then shows where it goes; the user puts their own back.

use regex::Regex;
use std::borrow::Cow;
use std::sync::LazyLock;
use unruly_core::{Finding, Report};

/// What a credential is replaced with.
pub const REDACTED: &str = "[redacted]";

/// Names (of headers, query parameters and JSON fields) whose values are credentials.
const SECRET_NAMES: &str = r"authorization|proxy-authorization|cookie|set-cookie|x-api-key|api[-_]?key|x-auth-token|auth[-_]?token|access[-_]?token|refresh[-_]?token|id[-_]?token|token|password|passwd|secret|client[-_]?secret|session[-_]?id|sessionid|x-csrf-token|csrf[-_]?token";

/// A header line or curl `-H` value: `Name: value` up to the end of the line or a quote.
static HEADER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r#"(?im)\b((?:{SECRET_NAMES})\s*:[ \t]*)[^\r\n'"]+"#
    ))
    .expect("the header pattern is valid")
});

/// A query parameter or form field: `name=value` up to `&`, whitespace, a quote or `#`.
static PARAMETER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r##"(?i)((?:^|[?&;\s])(?:{SECRET_NAMES})=)[^&\s'"#]+"##
    ))
    .expect("the parameter pattern is valid")
});

/// A JSON string field: `"name": "value"` (escaped quotes inside the value included).
static JSON_FIELD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r#"(?i)("(?:{SECRET_NAMES})"\s*:\s*")(?:[^"\\]|\\.)*""#
    ))
    .expect("the JSON field pattern is valid")
});

/// `Bearer <credential>` or `Basic <credential>` anywhere.
static SCHEME: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b((?:bearer|basic)\s+)[A-Za-z0-9._~+/=-]{8,}")
        .expect("the scheme pattern is valid")
});

/// A JSON Web Token anywhere (three base64url parts, the first a JSON header).
static JWT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*")
        .expect("the JWT pattern is valid")
});

/// `text` with every credential replaced by [`REDACTED`]; borrowed when there was none.
pub fn redact_text(text: &str) -> Cow<'_, str> {
    let mut text = Cow::Borrowed(text);
    for (pattern, keep_prefix) in [
        (&*HEADER, true),
        (&*PARAMETER, true),
        (&*JSON_FIELD, true),
        (&*SCHEME, true),
        (&*JWT, false),
    ] {
        if !pattern.is_match(&text) {
            continue;
        }
        let replaced = if keep_prefix {
            pattern.replace_all(&text, |caps: &regex::Captures<'_>| {
                let quote = if caps[0].ends_with('"') && caps[1].ends_with('"') {
                    "\""
                } else {
                    ""
                };
                format!("{}{REDACTED}{quote}", &caps[1])
            })
        } else {
            pattern.replace_all(&text, REDACTED)
        };
        text = Cow::Owned(replaced.into_owned());
    }
    text
}

fn redact_in_place(text: &mut String) {
    if let Cow::Owned(redacted) = redact_text(text) {
        *text = redacted;
    }
}

/// Redacts a finding: its summary, request, excerpt and reproduction.
pub fn redact_finding(finding: &mut Finding) {
    redact_in_place(&mut finding.summary);
    redact_in_place(&mut finding.evidence.request);
    if let Some(excerpt) = finding.evidence.excerpt.as_mut() {
        redact_in_place(excerpt);
    }
    redact_in_place(&mut finding.reproduce);
}

/// Redacts every finding of a report and its target URL (which may carry a token).
pub fn redact_report(report: &mut Report) {
    redact_in_place(&mut report.target);
    for finding in &mut report.findings {
        redact_finding(finding);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_lines_and_curl_arguments_lose_their_values() {
        let request = "GET http://127.0.0.1:8080/me\nAuthorization: Bearer abc.def.ghi\nCookie: sid=42; theme=dark\nAccept: */*";
        let redacted = redact_text(request);
        assert_eq!(
            redacted,
            "GET http://127.0.0.1:8080/me\nAuthorization: [redacted]\nCookie: [redacted]\nAccept: */*"
        );
        let curl = "curl -sS -H 'Authorization: Bearer s3cr3t-t0ken' -H 'X-Api-Key: k-123' 'http://127.0.0.1/x'";
        assert_eq!(
            redact_text(curl),
            "curl -sS -H 'Authorization: [redacted]' -H 'X-Api-Key: [redacted]' 'http://127.0.0.1/x'"
        );
    }

    #[test]
    fn query_parameters_json_fields_bearer_and_jwts() {
        assert_eq!(
            redact_text("http://127.0.0.1/cb?code=1&access_token=abc123&x=2"),
            "http://127.0.0.1/cb?code=1&access_token=[redacted]&x=2"
        );
        assert_eq!(
            redact_text(r#"{"user":"ann","password":"hun\"ter2","refresh_token": "r-1"}"#),
            r#"{"user":"ann","password":"[redacted]","refresh_token": "[redacted]"}"#
        );
        assert_eq!(
            redact_text("sent bearer 0123456789abcdef upstream"),
            "sent bearer [redacted] upstream"
        );
        let jwt = "token was eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl ok";
        assert_eq!(redact_text(jwt), "token was [redacted] ok");
    }

    #[test]
    fn text_without_credentials_is_borrowed_unchanged() {
        let text = "POST /orders {\"quantity\": 3, \"customer\": \"John_123__test\"}";
        assert!(matches!(redact_text(text), Cow::Borrowed(_)));
        assert!(matches!(
            redact_text("the tokenizer failed: error_count=0"),
            Cow::Borrowed(_)
        ));
    }
}
