//! Text helpers for log lines: colour codes stripped, secrets redacted, and the parts of a
//! message that vary between occurrences (numbers, ids, addresses, quoted values) replaced
//! by placeholders so that two occurrences of one error share a signature.

use regex::{Captures, Regex};
use std::sync::LazyLock;

pub use unruly_core::REDACTED;

/// Compiles one of this module's constant patterns.
pub(crate) fn pattern(re: &str) -> Regex {
    Regex::new(re).expect("the logs module's patterns are valid")
}

static ANSI: LazyLock<Regex> = LazyLock::new(|| pattern(r"\x1b\[[0-9;?]*[A-Za-z]"));

static UUID: LazyLock<Regex> = LazyLock::new(|| {
    pattern(r"(?i)\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b")
});
static TIMESTAMP: LazyLock<Regex> = LazyLock::new(|| {
    pattern(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?")
});
static EMAIL: LazyLock<Regex> = LazyLock::new(|| pattern(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b"));
static IPV4: LazyLock<Regex> =
    LazyLock::new(|| pattern(r"\b\d{1,3}(?:\.\d{1,3}){3}(?::\d{1,5})?\b"));
static IPV6: LazyLock<Regex> = LazyLock::new(|| {
    pattern(
        r"\b(?:[0-9a-fA-F]{1,4}:){5,7}[0-9a-fA-F]{1,4}\b|\[[0-9a-fA-F:]*::[0-9a-fA-F:]*\](?::\d{1,5})?",
    )
});
static QUOTED: LazyLock<Regex> = LazyLock::new(|| pattern(r#""[^"]{0,200}"|'[^'\s][^']{0,200}'"#));
static HEX: LazyLock<Regex> = LazyLock::new(|| pattern(r"\b0x[0-9a-fA-F]+\b"));
/// A word of 8 or more characters: an id when it holds a digit (`req_8f3a2c1d`, `0HMV5NK3S2A`).
static LONG_WORD: LazyLock<Regex> = LazyLock::new(|| pattern(r"\b[A-Za-z0-9_-]{8,}\b"));
static NUMBER: LazyLock<Regex> = LazyLock::new(|| pattern(r"\d+(?:\.\d+)?"));
static SPACES: LazyLock<Regex> = LazyLock::new(|| pattern(r"\s+"));

/// The line without terminal colour codes and without a trailing `\r`.
pub fn strip_ansi(line: &str) -> String {
    let line = line.strip_suffix('\r').unwrap_or(line);
    if line.contains('\x1b') {
        ANSI.replace_all(line, "").into_owned()
    } else {
        line.to_owned()
    }
}

/// The line with credentials replaced by `<redacted>` (see `unruly_core::redact`).
pub fn redact(line: &str) -> String {
    unruly_core::redact_text(line).into_owned()
}

/// How quoted values are treated by [`normalize`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Quotes {
    /// Quoted values vary (a key, a user's name): replaced by `"<str>"`.
    Replace,
    /// Quoted text is part of the message's shape (Rust's and Go's panic messages quote
    /// type names): kept, though numbers in it are still replaced.
    Keep,
}

/// The message with what varies between occurrences replaced by placeholders: UUIDs,
/// timestamps, e-mail and IP addresses, quoted values, hex numbers, ids (long words with
/// digits), then numbers (`#`); whitespace collapsed and the result capped at 160 bytes.
pub(crate) fn normalize(message: &str, quotes: Quotes) -> String {
    let s = UUID.replace_all(message, "<uuid>");
    let s = TIMESTAMP.replace_all(&s, "<time>");
    let s = EMAIL.replace_all(&s, "<email>");
    let s = IPV4.replace_all(&s, "<ip>");
    let s = IPV6.replace_all(&s, "<ip>");
    let s = match quotes {
        Quotes::Replace => QUOTED.replace_all(&s, |c: &Captures| {
            let quote = c[0].chars().next().unwrap_or('"');
            format!("{quote}<str>{quote}")
        }),
        Quotes::Keep => s,
    };
    let s = HEX.replace_all(&s, "<hex>");
    let s = LONG_WORD.replace_all(&s, |c: &Captures| {
        let word = &c[0];
        if word.bytes().any(|b| b.is_ascii_digit()) && word.bytes().any(|b| b.is_ascii_alphabetic())
        {
            "<id>".to_owned()
        } else {
            word.to_owned()
        }
    });
    let s = NUMBER.replace_all(&s, "#");
    let s = SPACES.replace_all(s.trim(), " ");
    cap(&s, 160).to_owned()
}

/// The longest prefix of `s` of at most `max` bytes that ends on a character boundary.
pub(crate) use unruly_core::clip_bytes as cap;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varying_parts_become_placeholders() {
        let cases = [
            ("user 42 not found", "user # not found"),
            (
                "order 3f2b8c1e-9d4a-4e5b-8c7d-1a2b3c4d5e6f failed",
                "order <uuid> failed",
            ),
            (
                "connect to 10.0.0.7:5432 refused",
                "connect to <ip> refused",
            ),
            ("key 'abc' missing", "key '<str>' missing"),
            (r#"no such user "bob""#, r#"no such user "<str>""#),
            ("bad pointer 0xdeadbeef", "bad pointer <hex>"),
            ("request req_8f3a2c1d timed out", "request <id> timed out"),
            ("at 2024-05-01T12:00:00.123Z db down", "at <time> db down"),
            ("mail to a.b@example.com bounced", "mail to <email> bounced"),
            ("  spaced\t\tout  ", "spaced out"),
        ];
        for (input, want) in cases {
            assert_eq!(normalize(input, Quotes::Replace), want, "{input}");
        }
        assert_eq!(
            normalize("called `Option::unwrap()` on a `None` value", Quotes::Keep),
            "called `Option::unwrap()` on a `None` value"
        );
    }

    #[test]
    fn secrets_are_redacted() {
        let cases = [
            ("Authorization: Bearer abc.def", "Authorization: <redacted>"),
            ("cookie: session=1; theme=dark", "cookie: <redacted>"),
            ("Set-Cookie: sid=xyz; HttpOnly", "Set-Cookie: <redacted>"),
            (
                "{'Authorization': 'Basic dXNlcg==', 'Accept': '*/*'}",
                "{'Authorization': <redacted>, 'Accept': '*/*'}",
            ),
            (
                "GET /login?user=bob&password=hunter2&x=1",
                "GET /login?user=bob&password=<redacted>&x=1",
            ),
            ("token=abc123 next", "token=<redacted> next"),
            (
                r#"{"api_key": "k-123", "n": 1}"#,
                r#"{"api_key": <redacted>, "n": 1}"#,
            ),
            ("db_password=s3cret", "db_password=<redacted>"),
            ("nothing to hide here", "nothing to hide here"),
        ];
        for (input, want) in cases {
            assert_eq!(redact(input), want, "{input}");
        }
    }

    #[test]
    fn ansi_codes_and_carriage_returns_are_stripped() {
        assert_eq!(
            strip_ansi("\x1b[31mERROR\x1b[0m boom\r"),
            "ERROR boom".to_owned()
        );
    }

    #[test]
    fn cap_respects_character_boundaries() {
        assert_eq!(cap("héllo", 2), "h");
        assert_eq!(cap("abc", 10), "abc");
    }
}
