//! Byte offsets to `line:column`, and offsets inside TOML strings to offsets in
//! the source.

use std::ops::Range;

/// The 1-based line and character column of byte `offset` in `source`.
pub(crate) fn line_col(source: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(source.len());
    while offset > 0 && !source.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &source[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = source[line_start..offset].chars().count() + 1;
    (line, column)
}

/// The source byte offset of byte `offset` in the *decoded* value of the TOML
/// string literal spanning `span` in `source`.
///
/// Handles the four TOML string kinds: escapes in basic strings are walked so
/// that the result points at the character as written; literal strings map one
/// to one. Offsets past the end point at the closing quote.
pub(crate) fn string_offset(source: &str, span: &Range<usize>, offset: usize) -> usize {
    let Some(raw) = source.get(span.clone()) else {
        return span.start;
    };
    let (quote, basic) = if raw.starts_with("\"\"\"") {
        ("\"\"\"", true)
    } else if raw.starts_with("'''") {
        ("'''", false)
    } else if raw.starts_with('"') {
        ("\"", true)
    } else if raw.starts_with('\'') {
        ("'", false)
    } else {
        // Not a string literal (e.g. a bare key): map one to one.
        return span.start + offset.min(raw.len());
    };
    let mut start = quote.len();
    if quote.len() == 3 {
        // A newline right after the opening delimiter is trimmed.
        if raw[start..].starts_with("\r\n") {
            start += 2;
        } else if raw[start..].starts_with('\n') {
            start += 1;
        }
    }
    let end = raw.len().saturating_sub(quote.len()).max(start);
    let Some(body) = raw.get(start..end) else {
        return span.start + start.min(raw.len());
    };
    let inner = if basic {
        basic_offset(body, offset)
    } else {
        offset.min(body.len())
    };
    span.start + start + inner
}

/// Walks a basic string body; returns the raw offset of decoded offset `target`.
fn basic_offset(body: &str, target: usize) -> usize {
    let bytes = body.as_bytes();
    let mut raw = 0;
    let mut decoded = 0;
    while raw < bytes.len() && decoded < target {
        if bytes[raw] == b'\\' && raw + 1 < bytes.len() {
            match bytes[raw + 1] {
                b'u' => {
                    decoded += escaped_char_len(body.get(raw + 2..raw + 6));
                    raw += 6;
                }
                b'U' => {
                    decoded += escaped_char_len(body.get(raw + 2..raw + 10));
                    raw += 10;
                }
                b' ' | b'\t' | b'\r' | b'\n' => {
                    // Line-ending backslash: the newline and following whitespace vanish.
                    raw += 1;
                    while raw < bytes.len() && matches!(bytes[raw], b' ' | b'\t' | b'\r' | b'\n') {
                        raw += 1;
                    }
                }
                _ => {
                    decoded += 1;
                    raw += 2;
                }
            }
        } else {
            let len = body
                .get(raw..)
                .and_then(|rest| rest.chars().next())
                .map_or(1, char::len_utf8);
            decoded += len;
            raw += len;
        }
    }
    raw.min(bytes.len())
}

fn escaped_char_len(hex: Option<&str>) -> usize {
    hex.and_then(|h| u32::from_str_radix(h, 16).ok())
        .and_then(char::from_u32)
        .map_or(1, char::len_utf8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_character_columns() {
        let src = "ab\nçd\n";
        assert_eq!(line_col(src, 0), (1, 1));
        assert_eq!(line_col(src, 3), (2, 1));
        assert_eq!(line_col(src, 5), (2, 2)); // after the two-byte ç
        assert_eq!(line_col(src, 99), (3, 1));
    }

    #[test]
    fn offsets_inside_strings() {
        let src = r#"x = "a\tb{{""#;
        let span = 4..src.len();
        // decoded "a\tb{{": offset 3 is `{`
        assert_eq!(&src[string_offset(src, &span, 3)..][..1], "{");
        let src = "x = 'a\\tb'";
        assert_eq!(string_offset(src, &(4..src.len()), 2), 7);
        let src = "x = \"\"\"\nab\"\"\"";
        assert_eq!(&src[string_offset(src, &(4..src.len()), 1)..][..1], "b");
        let src = r#"x = "\u00e9z""#;
        assert_eq!(&src[string_offset(src, &(4..src.len()), 2)..][..1], "z");
    }
}
