//! Excerpts: the few lines around a match, capped, with secrets masked.

use regex::Regex;
use std::sync::LazyLock;

/// Most bytes an excerpt keeps.
pub(crate) const EXCERPT_BYTES: usize = 1024;
/// Lines of context kept before the matched line.
const LINES_BEFORE: usize = 2;
/// Lines of context kept after the matched line (a trace goes on below its head).
const LINES_AFTER: usize = 6;
/// Bytes kept before the match when the lines are too long to keep whole.
const BYTES_BEFORE_IN_LONG_LINES: usize = 160;

/// The lines around `text[start..end]`: a few before, a few after, at most
/// [`EXCERPT_BYTES`] bytes; `…` marks a cut.
pub(super) fn around(text: &str, start: usize, end: usize) -> String {
    let line_start = nth_line_start_before(text, start, LINES_BEFORE);
    let line_end = nth_line_end_after(text, end, LINES_AFTER);
    let mut from = line_start;
    if line_end - from > EXCERPT_BYTES && start - from > BYTES_BEFORE_IN_LONG_LINES {
        from = floor_boundary(text, start - BYTES_BEFORE_IN_LONG_LINES);
    }
    let mut out = String::new();
    if from > line_start {
        out.push('…');
    }
    out.push_str(&cap_text(&text[from..line_end], EXCERPT_BYTES));
    out.trim_end().to_string()
}

/// `text` cut to at most `max` bytes on a character boundary, `…` marking the cut.
pub(crate) fn cap_text(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_string();
    }
    let cut = floor_boundary(text, max);
    format!("{}…", &text[..cut])
}

/// The start of the line `n` lines above the one holding `pos`.
fn nth_line_start_before(text: &str, pos: usize, n: usize) -> usize {
    let mut start = text[..pos].rfind('\n').map_or(0, |i| i + 1);
    for _ in 0..n {
        if start == 0 {
            break;
        }
        start = text[..start - 1].rfind('\n').map_or(0, |i| i + 1);
    }
    start
}

/// The end (before the newline) of the line `n` lines below the one holding `pos`.
fn nth_line_end_after(text: &str, pos: usize, n: usize) -> usize {
    let mut end = text[pos..].find('\n').map_or(text.len(), |i| pos + i);
    for _ in 0..n {
        if end >= text.len() {
            break;
        }
        end = text[end + 1..]
            .find('\n')
            .map_or(text.len(), |i| end + 1 + i);
    }
    end
}

/// The largest character boundary of `text` at or below `i`.
fn floor_boundary(text: &str, i: usize) -> usize {
    let mut i = i.min(text.len());
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// Secret patterns and their replacements: the recognisable prefix is kept.
static SECRET_MASKS: LazyLock<Vec<(Regex, &'static str)>> = LazyLock::new(|| {
    [
        (r"\b(AKIA|ASIA)[0-9A-Z]{16}\b", "${1}<redacted>"),
        (
            r"(-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----)(?s:.*?)(-----END (?:[A-Z0-9]+ )*PRIVATE KEY-----|\z)",
            "${1}<redacted>${2}",
        ),
        (r"\b((?:sk|rk)_live_)[0-9A-Za-z]{20,}\b", "${1}<redacted>"),
        (r"\b(gh[pousr]_)[A-Za-z0-9]{36}\b", "${1}<redacted>"),
    ]
    .into_iter()
    .map(|(pattern, replacement)| {
        // Constant patterns, compiled by the tests.
        let regex = Regex::new(pattern).expect("secret masks are valid regular expressions");
        (regex, replacement)
    })
    .collect()
});

/// `text` with every secret masked (`AKIA<redacted>`), so a report does not spread
/// the credential it warns about.
pub(crate) fn mask_secrets(text: &str) -> String {
    let mut out = text.to_string();
    for (regex, replacement) in SECRET_MASKS.iter() {
        if regex.is_match(&out) {
            out = regex.replace_all(&out, *replacement).into_owned();
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_lines_around_the_match() {
        let text = "l0\nl1\nl2\nl3 MATCH\nl4\nl5\nl6\nl7\nl8\nl9\nl10\nl11";
        let start = text.find("MATCH").unwrap_or(0);
        let e = around(text, start, start + 5);
        assert_eq!(e, "l1\nl2\nl3 MATCH\nl4\nl5\nl6\nl7\nl8\nl9");
    }

    #[test]
    fn long_lines_are_cut_near_the_match() {
        let text = format!("{}MATCH{}", "a".repeat(5000), "b".repeat(5000));
        let e = around(&text, 5000, 5005);
        assert!(e.len() <= EXCERPT_BYTES + 8, "{}", e.len());
        assert!(e.starts_with('…'));
        assert!(e.contains("MATCH"));
        assert!(e.ends_with('…'));
    }

    #[test]
    fn cap_respects_char_boundaries() {
        let text = "é".repeat(1000);
        let capped = cap_text(&text, 11);
        assert_eq!(capped, format!("{}…", "é".repeat(5)));
    }

    #[test]
    fn secrets_are_masked() {
        let text = "key=AKIAIOSFODNN7EXAMPLE\n-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----";
        let masked = mask_secrets(text);
        assert_eq!(
            masked,
            "key=AKIA<redacted>\n-----BEGIN RSA PRIVATE KEY-----<redacted>-----END RSA PRIVATE KEY-----"
        );
    }
}
