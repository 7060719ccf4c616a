//! Text layout: padding, truncation, wrapping, measured in characters.
//!
//! Widths count `char`s: exact for the Latin, Greek and Cyrillic text of operation
//! names; a wide (CJK) character takes two cells and may push a column by one.

/// The width of `text` in characters.
pub(crate) fn width(text: &str) -> usize {
    text.chars().count()
}

/// `text` cut to `max` characters, `…` marking a cut.
pub(crate) fn truncate(text: &str, max: usize) -> String {
    if width(text) <= max {
        return text.to_string();
    }
    if max == 0 {
        return String::new();
    }
    let mut out: String = text.chars().take(max - 1).collect();
    out.push('…');
    out
}

/// `text` padded with spaces on the right to `w` characters.
pub(crate) fn pad_right(text: &str, w: usize) -> String {
    let n = width(text);
    format!("{text}{}", " ".repeat(w.saturating_sub(n)))
}

/// `text` padded with spaces on the left to `w` characters.
pub(crate) fn pad_left(text: &str, w: usize) -> String {
    let n = width(text);
    format!("{}{text}", " ".repeat(w.saturating_sub(n)))
}

/// `text` wrapped at spaces into lines of at most `w` characters (a word longer
/// than `w` gets a line of its own).
pub(crate) fn wrap(text: &str, w: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split(' ').filter(|s| !s.is_empty()) {
        if !line.is_empty() && width(&line) + 1 + width(word) > w {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

/// `parts` joined by `sep` into lines of at most `w` characters; lines after the
/// first start with `indent`.
pub(crate) fn flow(parts: &[String], sep: &str, w: usize, indent: &str) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for part in parts {
        if line.is_empty() {
            line.push_str(part);
        } else if width(&line) + width(sep) + width(part) <= w {
            line.push_str(sep);
            line.push_str(part);
        } else {
            lines.push(std::mem::take(&mut line));
            line.push_str(indent);
            line.push_str(part);
        }
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncation_and_padding() {
        assert_eq!(truncate("GET /products/{id}", 10), "GET /prod…");
        assert_eq!(truncate("short", 10), "short");
        assert_eq!(pad_right("ab", 4), "ab  ");
        assert_eq!(pad_left("ab", 4), "  ab");
        assert_eq!(pad_left("abcdef", 4), "abcdef");
    }

    #[test]
    fn wrapping() {
        assert_eq!(
            wrap("one two three four", 9),
            vec!["one two", "three", "four"]
        );
        assert_eq!(wrap("", 9), vec![""]);
        assert_eq!(
            wrap("averyveryverylongword x", 5),
            vec!["averyveryverylongword", "x"]
        );
    }

    #[test]
    fn flowing() {
        let parts: Vec<String> = ["aaaa", "bbbb", "cccc"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(flow(&parts, " · ", 11, "  "), vec!["aaaa · bbbb", "  cccc"]);
    }
}
