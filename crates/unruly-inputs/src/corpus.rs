//! The curated corpus of strange strings: what real users, copy-paste and
//! attackers put into text fields.
//!
//! Each entry has a short label (used in case labels, e.g. `query q: right-to-left
//! text`) and a family. Strange cases put each entry, one at a time, into each
//! string slot of an operation, keeping the other slots valid.

use std::sync::LazyLock;

/// The kind of trouble a strange string tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Family {
    /// Characters outside the Basic Multilingual Plane, emoji sequences.
    Astral,
    /// Right-to-left scripts and bidirectional overrides.
    Bidi,
    /// Zero-width, combining and other invisible characters.
    Invisible,
    /// Unicode normalisation traps: the same text spelled two ways.
    Normalisation,
    /// Identifiers and text that look made up by a user or a test.
    Identifier,
    /// Very long strings.
    Long,
    /// SQL injection.
    Sql,
    /// Script injection (HTML/JavaScript).
    Script,
    /// Template injection.
    Template,
    /// Path traversal.
    Path,
    /// Format strings.
    FormatString,
    /// Control characters.
    Control,
    /// Words that mean "nothing" in some language.
    NullLike,
    /// Numbers written as strings.
    Numeric,
    /// Inputs that make backtracking regexes take exponential time.
    Redos,
    /// Whitespace-only and padded text.
    Whitespace,
}

/// One strange string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StrangeString {
    /// Short description, e.g. `right-to-left override`.
    pub label: &'static str,
    /// What kind of trouble it tests.
    pub family: Family,
    /// The string itself.
    pub value: String,
}

fn entry(label: &'static str, family: Family, value: impl Into<String>) -> StrangeString {
    StrangeString {
        label,
        family,
        value: value.into(),
    }
}

static CORPUS: LazyLock<Vec<StrangeString>> = LazyLock::new(build);

/// Every strange string, in a fixed order.
pub fn strings() -> &'static [StrangeString] {
    &CORPUS
}

fn build() -> Vec<StrangeString> {
    use Family::*;
    let zalgo = format!(
        "Z{}a{}l{}g{}o",
        "\u{0336}\u{0335}\u{0321}\u{0322}\u{0327}\u{0328}\u{0334}\u{0337}\u{0338}",
        "\u{0300}\u{0301}\u{0302}\u{0303}\u{0304}\u{0305}\u{0306}\u{0307}\u{0308}\u{0309}",
        "\u{030a}\u{030b}\u{030c}\u{030d}\u{030e}\u{030f}\u{0310}\u{0311}\u{0312}",
        "\u{0313}\u{0314}\u{0315}\u{031a}\u{031b}\u{033d}\u{033e}\u{033f}\u{0340}"
    );
    vec![
        // Astral plane
        entry("emoji", Astral, "😀"),
        entry("emoji in text", Astral, "hello 👋 world 🌍"),
        entry(
            "family emoji (ZWJ sequence)",
            Astral,
            "👨\u{200d}👩\u{200d}👧\u{200d}👦",
        ),
        entry("flag emoji", Astral, "🇺🇦🇯🇵"),
        entry("skin-tone modifier", Astral, "👍🏽"),
        entry("mathematical letters", Astral, "𝕳𝖊𝖑𝖑𝖔"),
        entry("CJK extension B", Astral, "𠜎𠜱𠝹𠱓"),
        entry("only astral characters, 4-byte UTF-8", Astral, "𝄞𝄞𝄞𝄞"),
        // Bidi
        entry("right-to-left text (Arabic)", Bidi, "مرحبا بالعالم"),
        entry("right-to-left text (Hebrew)", Bidi, "שלום עולם"),
        entry("right-to-left override", Bidi, "user\u{202e}gnp.exe"),
        entry("mixed direction", Bidi, "abc שלום 123 مرحبا"),
        // Invisible
        entry("zero-width space", Invisible, "ab\u{200b}cd"),
        entry("byte order mark", Invisible, "\u{feff}abc"),
        entry("zero-width joiner only", Invisible, "\u{200d}"),
        entry("combining characters (Zalgo)", Invisible, zalgo),
        entry("lone combining mark", Invisible, "\u{0301}"),
        entry("soft hyphen", Invisible, "pass\u{00ad}word"),
        // Normalisation
        entry("precomposed é", Normalisation, "caf\u{00e9}"),
        entry("decomposed é", Normalisation, "cafe\u{0301}"),
        entry("fi ligature", Normalisation, "\u{fb01}le"),
        entry("fullwidth letters", Normalisation, "ＡＤＭＩＮ"),
        entry("Turkish dotless i", Normalisation, "\u{0131}stanbul"),
        entry("German sharp s", Normalisation, "stra\u{00df}e"),
        entry("Kelvin sign", Normalisation, "\u{212a}elvin"),
        // Identifiers
        entry(
            "test-looking identifier",
            Identifier,
            "John_123__test_999999999",
        ),
        entry("name with apostrophe", Identifier, "O'Brien"),
        entry("hyphenated name", Identifier, "Jean-Luc Picard-Smith"),
        entry("single character", Identifier, "a"),
        // Long
        entry("10,000 characters", Long, "a".repeat(10_000)),
        entry("10,000 emoji", Long, "😀".repeat(10_000)),
        // SQL
        entry("SQL tautology", Sql, "' OR '1'='1"),
        entry("SQL drop table", Sql, "'; DROP TABLE users;--"),
        entry("SQL comment", Sql, "admin'--"),
        entry("SQL union", Sql, "1 UNION SELECT NULL,NULL--"),
        entry("double quote", Sql, "\"quoted\""),
        // Script
        entry("script tag", Script, "<script>alert(1)</script>"),
        entry("img onerror", Script, "<img src=x onerror=alert(1)>"),
        entry("javascript url", Script, "javascript:alert(1)"),
        entry(
            "closing tags",
            Script,
            "</textarea></title>\"><svg onload=alert(1)>",
        ),
        // Template
        entry("template {{7*7}}", Template, "{{7*7}}"),
        entry("template ${7*7}", Template, "${7*7}"),
        entry("template #{7*7}", Template, "#{7*7}"),
        entry("template <%= 7*7 %>", Template, "<%= 7*7 %>"),
        // Path
        entry("path traversal", Path, "../../etc/passwd"),
        entry("encoded path traversal", Path, "..%2f..%2fetc%2fpasswd"),
        entry("windows path traversal", Path, "..\\..\\windows\\win.ini"),
        entry("null byte in file name", Path, "file.txt\u{0}.png"),
        // Format strings
        entry("printf format string", FormatString, "%s%s%s%n"),
        entry("positional format", FormatString, "{0}"),
        entry("percent-encoded looking", FormatString, "100%"),
        // Control
        entry("NUL character", Control, "a\u{0}b"),
        entry("CRLF", Control, "line1\r\nline2"),
        entry(
            "CRLF header injection",
            Control,
            "x\r\nSet-Cookie: injected=1",
        ),
        entry("escape sequence", Control, "\u{1b}[31mred\u{1b}[0m"),
        entry("tab", Control, "a\tb"),
        entry("backspace and bell", Control, "a\u{8}\u{7}b"),
        entry("DEL character", Control, "a\u{7f}b"),
        // Null-like
        entry("word null", NullLike, "null"),
        entry("word undefined", NullLike, "undefined"),
        entry("word NaN", NullLike, "NaN"),
        entry("word None", NullLike, "None"),
        entry("word nil", NullLike, "nil"),
        entry("word true", NullLike, "true"),
        // Numeric
        entry("number as string", Numeric, "123"),
        entry("negative number as string", Numeric, "-1"),
        entry("float beyond f64", Numeric, "1e309"),
        entry("hex number", Numeric, "0x1F"),
        entry("Infinity", Numeric, "Infinity"),
        entry("leading zeros", Numeric, "000123"),
        // Whitespace
        entry("single space", Whitespace, " "),
        entry("whitespace padded", Whitespace, "  padded  "),
        entry("non-breaking spaces", Whitespace, "\u{00a0}\u{00a0}"),
        entry("ideographic space", Whitespace, "\u{3000}"),
        // ReDoS
        entry(
            "ReDoS: word run then !",
            Redos,
            format!("{}!", "a".repeat(44)),
        ),
        entry(
            "ReDoS: digit run then x",
            Redos,
            format!("{}x", "0".repeat(44)),
        ),
        entry(
            "ReDoS: email-like",
            Redos,
            format!("{}@{}!", "a".repeat(40), "a".repeat(40)),
        ),
        entry(
            "ReDoS: spaces then x",
            Redos,
            format!("a{}x", " ".repeat(44)),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn corpus_is_curated() {
        let all = strings();
        assert!(all.len() >= 60);
        let labels: std::collections::BTreeSet<_> = all.iter().map(|s| s.label).collect();
        assert_eq!(labels.len(), all.len(), "labels are unique");
        for needle in [
            "John_123__test_999999999",
            "' OR '1'='1",
            "'; DROP TABLE users;--",
            "<script>alert(1)</script>",
            "{{7*7}}",
            "../../etc/passwd",
            "%s%s%s%n",
            "null",
        ] {
            assert!(all.iter().any(|s| s.value == needle), "{needle}");
        }
        assert!(all.iter().any(|s| s.value.chars().count() == 10_000));
        assert!(all
            .iter()
            .any(|s| s.value.chars().any(|c| c as u32 > 0xffff)));
        assert!(all.iter().any(|s| s.value.contains('\u{202e}')));
    }
}
