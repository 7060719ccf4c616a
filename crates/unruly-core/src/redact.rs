//! Credentials never reach a report or a log excerpt: Authorization headers, cookies, API
//! keys, passwords and tokens are replaced by [`REDACTED`] wherever they appear, whether
//! unruly sent them (`-H 'Authorization: ...'`) or the target echoed or logged them.
//!
//! The patterns cover header lines (in a request dump, a curl `-H` argument, or a quoted
//! key of a dict or JSON object), parameters (`token=…`, `"password": "…"`,
//! `db_password=…`), `Bearer`/`Basic` credentials and JWTs. A reproduction that needs a
//! credential then shows where it goes; the user puts their own back.

use regex::{Captures, Regex};
use std::borrow::Cow;
use std::sync::LazyLock;

/// What a credential is replaced with.
pub const REDACTED: &str = "<redacted>";

fn pattern(re: &str) -> Regex {
    Regex::new(re).expect("the redaction patterns are valid")
}

/// Headers whose whole value is secret: `Cookie: a=b; c=d`, `'Authorization': 'Bearer x'`.
/// An unquoted value ends at the end of the line or at a quote (a curl `-H '…'` argument).
static SECRET_HEADER: LazyLock<Regex> = LazyLock::new(|| {
    pattern(
        r#"(?i)(["']?\b(?:proxy-authorization|authorization|set-cookie|cookie|x-api-key|x-auth-token)["']?\s*[:=][ \t]*)("[^"]*"|'[^']*'|[^\r\n'"]+)"#,
    )
});

/// Secret parameters: `token=…`, `password: …`, `"api_key": "…"`, `db_password=…`,
/// `access_token=…&`.
static SECRET_PARAM: LazyLock<Regex> = LazyLock::new(|| {
    pattern(
        r#"(?i)(\b[\w-]*(?:token|password|passwd|secret|api[_-]?key|session[_-]?id)["']?\s*[=:]\s*)("(?:[^"\\]|\\.)*"|'[^']*'|[^\s&,;"'}\]]+)"#,
    )
});

/// A password in a URL's user information: `postgres://app:hunter2@db/shop`.
static URL_PASSWORD: LazyLock<Regex> =
    LazyLock::new(|| pattern(r"(?i)(\b[a-z][a-z0-9+.-]*://[^/\s:@]+:)[^@\s/]+@"));

/// `Bearer <credential>` or `Basic <credential>` anywhere.
static SCHEME: LazyLock<Regex> =
    LazyLock::new(|| pattern(r"(?i)\b((?:bearer|basic)\s+)[A-Za-z0-9._~+/=-]{8,}"));

/// A JSON Web Token anywhere (three base64url parts, the first a JSON header).
static JWT: LazyLock<Regex> =
    LazyLock::new(|| pattern(r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*"));

/// Words without which no pattern can match: most text is returned untouched, fast.
const HINTS: [&str; 9] = [
    "auth", "cookie", "token", "passw", "secret", "key", "session", "eyj", "://",
];

/// `text` with every credential replaced by [`REDACTED`]; borrowed when there was none.
pub fn redact_text(text: &str) -> Cow<'_, str> {
    let lower = text.to_ascii_lowercase();
    if !HINTS.iter().any(|hint| lower.contains(hint)) && !lower.contains("bearer") {
        return Cow::Borrowed(text);
    }
    let mut text = Cow::Borrowed(text);
    for prefixed in [&*SECRET_HEADER, &*SECRET_PARAM, &*SCHEME] {
        if prefixed.is_match(&text) {
            let replaced = prefixed
                .replace_all(&text, |caps: &Captures<'_>| {
                    format!("{}{REDACTED}", &caps[1])
                })
                .into_owned();
            text = Cow::Owned(replaced);
        }
    }
    if URL_PASSWORD.is_match(&text) {
        let replaced = URL_PASSWORD
            .replace_all(&text, |caps: &Captures<'_>| {
                format!("{}{REDACTED}@", &caps[1])
            })
            .into_owned();
        text = Cow::Owned(replaced);
    }
    if JWT.is_match(&text) {
        text = Cow::Owned(JWT.replace_all(&text, REDACTED).into_owned());
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_lines_and_curl_arguments_lose_their_values() {
        let request = "GET http://127.0.0.1:8080/me\nAuthorization: Bearer abc.def.ghi\nCookie: sid=42; theme=dark\nAccept: */*";
        assert_eq!(
            redact_text(request),
            "GET http://127.0.0.1:8080/me\nAuthorization: <redacted>\nCookie: <redacted>\nAccept: */*"
        );
        let curl = "curl -sS -H 'Authorization: Bearer s3cr3t-t0ken' -H 'X-Api-Key: k-123' 'http://127.0.0.1/x'";
        assert_eq!(
            redact_text(curl),
            "curl -sS -H 'Authorization: <redacted>' -H 'X-Api-Key: <redacted>' 'http://127.0.0.1/x'"
        );
        assert_eq!(
            redact_text("{'Authorization': 'Bearer x', 'Accept': '*/*'}"),
            "{'Authorization': <redacted>, 'Accept': '*/*'}"
        );
        // Already redacted stays so.
        assert_eq!(
            redact_text("Authorization: <redacted>"),
            "Authorization: <redacted>"
        );
    }

    #[test]
    fn parameters_json_fields_bearer_and_jwts() {
        assert_eq!(
            redact_text("http://127.0.0.1/cb?code=1&access_token=abc123&x=2"),
            "http://127.0.0.1/cb?code=1&access_token=<redacted>&x=2"
        );
        assert_eq!(
            redact_text(r#"{"user":"ann","password":"hun\"ter2","refresh_token": "r-1"}"#),
            r#"{"user":"ann","password":<redacted>,"refresh_token": <redacted>}"#
        );
        assert_eq!(
            redact_text("connect db_password=hunter2 host=db"),
            "connect db_password=<redacted> host=db"
        );
        assert_eq!(
            redact_text("sent bearer 0123456789abcdef upstream"),
            "sent bearer <redacted> upstream"
        );
        assert_eq!(
            redact_text("could not connect to postgres://app:hunter2@db:5432/shop"),
            "could not connect to postgres://app:<redacted>@db:5432/shop"
        );
        let jwt = "got eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl ok";
        assert_eq!(redact_text(jwt), "got <redacted> ok");
    }

    #[test]
    fn text_without_credentials_is_borrowed_unchanged() {
        for text in [
            "POST /orders {\"quantity\": 3, \"customer\": \"John_123__test\"}",
            "the tokenizer failed: error_count=0",
            "Traceback (most recent call last):\nKeyError: 77",
        ] {
            assert!(matches!(redact_text(text), Cow::Borrowed(_)), "{text}");
        }
    }
}
