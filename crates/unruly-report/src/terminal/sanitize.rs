//! Untrusted text made safe to print: no escape sequence from a hostile response
//! reaches the terminal.

/// `text` without terminal escape sequences, control characters or invisible
/// formatting characters, on one line.
///
/// Escape sequences (CSI `ESC [ … final`, OSC `ESC ] … BEL/ST`, DCS and the other
/// string sequences, two-byte `ESC x`, and their 8-bit C1 forms) are removed whole;
/// other control characters are removed, except tabs and line breaks, which become
/// spaces. Bidirectional overrides and zero-width characters, which can make
/// printed text differ from what it is, are removed too.
pub fn sanitize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\u{1b}' => match chars.next() {
                Some('[') => skip_csi(&mut chars),
                Some(']' | 'P' | 'X' | '^' | '_') => skip_string(&mut chars),
                // Two-character sequences (and a lone ESC at the end).
                _ => {}
            },
            '\u{9b}' => skip_csi(&mut chars),
            '\u{9d}' | '\u{90}' | '\u{98}' | '\u{9e}' | '\u{9f}' => skip_string(&mut chars),
            '\t' | '\n' | '\r' | '\u{0b}' | '\u{0c}' | '\u{85}' | '\u{2028}' | '\u{2029}' => {
                out.push(' ')
            }
            c if c.is_control() || is_invisible_format(c) => {}
            c => out.push(c),
        }
    }
    out
}

/// Each line of `text`, sanitized (see [`sanitize`]).
pub(crate) fn sanitize_lines(text: &str) -> impl Iterator<Item = String> + '_ {
    text.lines().map(sanitize)
}

/// Skips a control sequence's parameters up to and including its final byte.
fn skip_csi(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    for c in chars.by_ref() {
        if ('\u{40}'..='\u{7e}').contains(&c) {
            break;
        }
    }
}

/// Skips a string sequence (OSC, DCS, …) up to its terminator: BEL, `ESC \` or ST.
fn skip_string(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    while let Some(c) = chars.next() {
        match c {
            '\u{07}' | '\u{9c}' => break,
            '\u{1b}' => {
                if chars.peek() == Some(&'\\') {
                    chars.next();
                }
                break;
            }
            _ => {}
        }
    }
}

/// Zero-width and bidirectional formatting characters.
fn is_invisible_format(c: char) -> bool {
    matches!(c,
        '\u{00ad}'
        | '\u{061c}'
        | '\u{180e}'
        | '\u{200b}'..='\u{200f}'
        | '\u{202a}'..='\u{202e}'
        | '\u{2060}'..='\u{206f}'
        | '\u{feff}'
        | '\u{fff9}'..='\u{fffb}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_is_kept() {
        assert_eq!(
            sanitize("GET /products — café ✓ 日本"),
            "GET /products — café ✓ 日本"
        );
    }

    #[test]
    fn escape_sequences_are_removed_whole() {
        assert_eq!(sanitize("a\u{1b}[31;1mred\u{1b}[0m b"), "ared b");
        assert_eq!(sanitize("\u{1b}]0;pwned title\u{07}x"), "x");
        assert_eq!(
            sanitize("\u{1b}]8;;http://evil\u{1b}\\link\u{1b}]8;;\u{1b}\\"),
            "link"
        );
        assert_eq!(sanitize("\u{1b}Pq#0;2;0;0;0\u{1b}\\ok"), "ok");
        assert_eq!(sanitize("\u{9b}2Jclear"), "clear");
        assert_eq!(sanitize("\u{1b}c reset"), " reset");
        assert_eq!(sanitize("end\u{1b}"), "end");
    }

    #[test]
    fn control_and_invisible_characters_are_removed() {
        assert_eq!(sanitize("a\u{7}b\u{8}c\u{7f}d\u{0}e"), "abcde");
        assert_eq!(sanitize("line1\nline2\r\tx"), "line1 line2  x");
        assert_eq!(sanitize("evil\u{202e}txt.exe\u{200b}"), "eviltxt.exe");
    }
}
