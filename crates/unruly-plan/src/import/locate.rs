//! Finding a node of the document in its source text, for error places.
//!
//! The YAML parser gives values without positions, so the importer tracks
//! the path of every node it reads (`paths` → `/users` → `get` → ...) and this
//! module follows that path through the text: block mappings by indentation,
//! block sequences by their `-` items, flow collections and JSON by brackets.
//! It is a best-effort scanner, not a parser: when it cannot follow the path
//! any further (an alias, a merge key, an odd layout) it reports the deepest
//! node it found.

/// One step of a path through the document.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Seg {
    /// A mapping key.
    Key(String),
    /// A sequence index.
    Index(usize),
}

impl Seg {
    /// A key step.
    pub(crate) fn key(key: &str) -> Self {
        Seg::Key(key.to_string())
    }
}

/// Where a path was found in the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Found {
    /// Byte offset of the deepest step found (a key, or a sequence item).
    pub offset: usize,
    /// Whether every step of the path was found.
    pub complete: bool,
}

/// Follows `path` through `text`; `None` when not even the first step is found.
pub(crate) fn locate(text: &str, path: &[Seg]) -> Option<Found> {
    let mut node = Node {
        pos: root(text)?,
        flow: false,
    };
    if text
        .as_bytes()
        .get(node.pos)
        .is_some_and(|b| matches!(b, b'{' | b'['))
    {
        node.flow = true;
    }
    let mut found = None;
    for (i, seg) in path.iter().enumerate() {
        let Some((offset, value)) = child(text, node, seg) else {
            break;
        };
        found = Some(Found {
            offset,
            complete: i + 1 == path.len(),
        });
        match value {
            Some(value) => node = value,
            None => break,
        }
    }
    found
}

/// The start of a node's content.
#[derive(Debug, Clone, Copy)]
struct Node {
    pos: usize,
    /// Inside a flow collection (or JSON), where layout means nothing.
    flow: bool,
}

/// The first content of the document: after a BOM, blank and comment lines,
/// directives and a `---` marker.
fn root(text: &str) -> Option<usize> {
    let mut offset = if text.starts_with('\u{feff}') { 3 } else { 0 };
    for line in text[offset..].split_inclusive('\n') {
        let trimmed = line.trim_start();
        let indent = line.len() - trimmed.len();
        let content = trimmed.trim_end();
        if content.is_empty() || content.starts_with('#') || content.starts_with('%') {
            offset += line.len();
            continue;
        }
        if let Some(rest) = content.strip_prefix("---") {
            let rest_trimmed = rest.trim_start();
            if rest.is_empty() || rest_trimmed.starts_with('#') {
                offset += line.len();
                continue;
            }
            if rest.starts_with([' ', '\t']) {
                return Some(offset + indent + 3 + (rest.len() - rest_trimmed.len()));
            }
        }
        return Some(offset + indent);
    }
    None
}

/// Finds `seg` under `node`: the offset to report and the value's node.
fn child(text: &str, node: Node, seg: &Seg) -> Option<(usize, Option<Node>)> {
    let bytes = text.as_bytes();
    let first = *bytes.get(node.pos)?;
    match seg {
        Seg::Key(key) => match first {
            b'{' => flow_key(text, node.pos, key),
            _ if node.flow => None,
            b'[' | b'|' | b'>' | b'*' => None,
            b'-' if is_dash(bytes, node.pos) => None,
            _ => block_key(text, node.pos, key),
        },
        Seg::Index(index) => match first {
            b'[' => flow_index(text, node.pos, *index),
            b'-' if !node.flow && is_dash(bytes, node.pos) => block_index(text, node.pos, *index),
            _ => None,
        },
    }
}

/// Whether a `-` at `pos` starts a block sequence item.
fn is_dash(bytes: &[u8], pos: usize) -> bool {
    bytes.get(pos) == Some(&b'-')
        && bytes
            .get(pos + 1)
            .is_none_or(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
}

/// The start of the line holding `pos`.
fn line_start(text: &str, pos: usize) -> usize {
    text[..pos].rfind('\n').map_or(0, |i| i + 1)
}

/// Lines after the one holding `pos`: (start offset, indentation, content).
fn lines_after(text: &str, pos: usize) -> impl Iterator<Item = (usize, usize, &str)> {
    let start = text[pos..].find('\n').map_or(text.len(), |i| pos + i + 1);
    let mut offset = start;
    text[start..].split_inclusive('\n').map(move |line| {
        let line_offset = offset;
        offset += line.len();
        let indent = line.len() - line.trim_start_matches(' ').len();
        (line_offset, indent, line[indent..].trim_end())
    })
}

/// Whether a line's content is nothing to a block structure.
fn is_blank(content: &str) -> bool {
    content.is_empty() || content.starts_with('#')
}

/// A key in a block mapping whose first key starts at `first`.
fn block_key(text: &str, first: usize, wanted: &str) -> Option<(usize, Option<Node>)> {
    let column = first - line_start(text, first);
    let (key, after) = read_key(text, first, false)?;
    if key == wanted {
        return Some((first, value_after(text, after, column)));
    }
    for (offset, indent, content) in lines_after(text, first) {
        if is_blank(content) || indent > column {
            continue;
        }
        if indent < column || content.starts_with("---") || content.starts_with("...") {
            return None;
        }
        if is_dash(content.as_bytes(), 0) {
            // A sequence at the mapping's own indentation belongs to the key above.
            continue;
        }
        let start = offset + indent;
        if let Some((key, after)) = read_key(text, start, false) {
            if key == wanted {
                return Some((start, value_after(text, after, column)));
            }
        }
    }
    None
}

/// Item `index` of the block sequence whose first `-` is at `first`.
fn block_index(text: &str, first: usize, index: usize) -> Option<(usize, Option<Node>)> {
    let column = first - line_start(text, first);
    let mut dashes = std::iter::once(first).chain(
        lines_after(text, first)
            .filter(|(_, indent, content)| !is_blank(content) && *indent <= column)
            .map_while(|(offset, indent, content)| {
                (indent == column && is_dash(content.as_bytes(), 0)).then_some(offset + indent)
            }),
    );
    let dash = dashes.nth(index)?;
    let after = dash + 1;
    let rest = &text[after..];
    let spaces = rest.len() - rest.trim_start_matches([' ', '\t']).len();
    let content = after + spaces;
    let value = match text.as_bytes().get(content) {
        None | Some(b'\n' | b'\r' | b'#') => next_content(text, content, column, false),
        Some(b'{' | b'[') => Some(Node {
            pos: content,
            flow: true,
        }),
        Some(_) => Some(Node {
            pos: content,
            flow: false,
        }),
    };
    Some((value.map_or(dash, |v| v.pos), value))
}

/// The node after a block key's `:` at `after`, for a key at `column`.
fn value_after(text: &str, after: usize, column: usize) -> Option<Node> {
    let bytes = text.as_bytes();
    let mut pos = after;
    loop {
        while bytes.get(pos).is_some_and(|b| matches!(b, b' ' | b'\t')) {
            pos += 1;
        }
        // Anchors and tags come before the value.
        if bytes.get(pos).is_some_and(|b| matches!(b, b'&' | b'!')) {
            while bytes
                .get(pos)
                .is_some_and(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
            {
                pos += 1;
            }
            continue;
        }
        break;
    }
    match bytes.get(pos) {
        None | Some(b'\n' | b'\r' | b'#') => next_content(text, pos, column, true),
        Some(b'*') => None,
        Some(b'{' | b'[') => Some(Node { pos, flow: true }),
        Some(_) => Some(Node { pos, flow: false }),
    }
}

/// The node on the lines after `pos`, when it is nested under `column`
/// (deeper, or a `-` sequence at the same column when `same_column_dash`).
fn next_content(text: &str, pos: usize, column: usize, same_column_dash: bool) -> Option<Node> {
    let (offset, indent, content) = lines_after(text, pos).find(|(_, _, c)| !is_blank(c))?;
    let nested =
        indent > column || (same_column_dash && indent == column && is_dash(content.as_bytes(), 0));
    nested.then(|| Node {
        pos: offset + indent,
        flow: content.starts_with(['{', '[']),
    })
}

/// Skips whitespace, newlines and comments in a flow collection.
fn skip_flow_space(text: &str, mut pos: usize) -> usize {
    let bytes = text.as_bytes();
    while let Some(&b) = bytes.get(pos) {
        match b {
            b' ' | b'\t' | b'\n' | b'\r' => pos += 1,
            b'#' => pos = text[pos..].find('\n').map_or(text.len(), |i| pos + i),
            _ => break,
        }
    }
    pos
}

/// A key in the flow mapping (or JSON object) opening at `open`.
fn flow_key(text: &str, open: usize, wanted: &str) -> Option<(usize, Option<Node>)> {
    let bytes = text.as_bytes();
    let mut pos = open + 1;
    loop {
        pos = skip_flow_space(text, pos);
        if matches!(bytes.get(pos), None | Some(b'}')) {
            return None;
        }
        let start = pos;
        let (key, after) = read_key(text, pos, true)?;
        let value = skip_flow_space(text, after);
        if key == wanted {
            return Some((
                start,
                Some(Node {
                    pos: value,
                    flow: true,
                }),
            ));
        }
        pos = skip_flow_space(text, skip_flow_value(text, value));
        match bytes.get(pos) {
            Some(b',') => pos += 1,
            _ => return None,
        }
    }
}

/// Item `index` of the flow sequence (or JSON array) opening at `open`.
fn flow_index(text: &str, open: usize, index: usize) -> Option<(usize, Option<Node>)> {
    let bytes = text.as_bytes();
    let mut pos = open + 1;
    for _ in 0..index {
        pos = skip_flow_space(text, pos);
        if matches!(bytes.get(pos), None | Some(b']')) {
            return None;
        }
        pos = skip_flow_space(text, skip_flow_value(text, pos));
        match bytes.get(pos) {
            Some(b',') => pos += 1,
            _ => return None,
        }
    }
    pos = skip_flow_space(text, pos);
    if matches!(bytes.get(pos), None | Some(b']')) {
        return None;
    }
    Some((pos, Some(Node { pos, flow: true })))
}

/// The offset just after the flow value starting at `pos`.
fn skip_flow_value(text: &str, pos: usize) -> usize {
    let bytes = text.as_bytes();
    match bytes.get(pos) {
        Some(b'"' | b'\'') => skip_quoted(text, pos),
        Some(b'{' | b'[') => {
            let mut depth = 0usize;
            let mut i = pos;
            while let Some(&b) = bytes.get(i) {
                match b {
                    b'"' | b'\'' => {
                        i = skip_quoted(text, i);
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth = depth.saturating_sub(1);
                        if depth == 0 {
                            return i + 1;
                        }
                    }
                    _ => {}
                }
                i += 1;
            }
            text.len()
        }
        _ => {
            let mut i = pos;
            while bytes
                .get(i)
                .is_some_and(|b| !matches!(b, b',' | b'}' | b']'))
            {
                i += 1;
            }
            i
        }
    }
}

/// The offset just after the quoted scalar starting at `pos`.
fn skip_quoted(text: &str, pos: usize) -> usize {
    let bytes = text.as_bytes();
    let quote = bytes[pos];
    let mut i = pos + 1;
    while let Some(&b) = bytes.get(i) {
        if quote == b'"' && b == b'\\' {
            i += 2;
            continue;
        }
        if b == quote {
            if quote == b'\'' && bytes.get(i + 1) == Some(&b'\'') {
                i += 2;
                continue;
            }
            return i + 1;
        }
        i += 1;
    }
    text.len()
}

/// Reads a mapping key at `pos` followed by `:`: the key's text and the
/// offset just after the colon.
fn read_key(text: &str, pos: usize, flow: bool) -> Option<(String, usize)> {
    let bytes = text.as_bytes();
    let (key, end) = match bytes.get(pos)? {
        b'"' => {
            let end = skip_quoted(text, pos);
            (
                unescape_double(text.get(pos + 1..end.saturating_sub(1))?),
                end,
            )
        }
        b'\'' => {
            let end = skip_quoted(text, pos);
            (
                text.get(pos + 1..end.saturating_sub(1))?.replace("''", "'"),
                end,
            )
        }
        b'?' => return None,
        b'-' if is_dash(bytes, pos) => return None,
        _ => {
            let mut i = pos;
            loop {
                match bytes.get(i) {
                    None | Some(b'\n' | b'\r') => return None,
                    Some(b',' | b'{' | b'}' | b'[' | b']') if flow => return None,
                    Some(b'#') if i > pos && matches!(bytes[i - 1], b' ' | b'\t') => return None,
                    Some(b':')
                        if bytes.get(i + 1).is_none_or(|b| {
                            matches!(b, b' ' | b'\t' | b'\n' | b'\r')
                                || (flow && matches!(b, b',' | b'}' | b']'))
                        }) =>
                    {
                        break
                    }
                    Some(_) => i += 1,
                }
            }
            (text[pos..i].trim_end().to_string(), i)
        }
    };
    let mut colon = end;
    while bytes.get(colon).is_some_and(|b| matches!(b, b' ' | b'\t')) {
        colon += 1;
    }
    (bytes.get(colon) == Some(&b':')).then(|| (key, colon + 1))
}

/// Decodes the escapes of a double-quoted key (enough for keys).
fn unescape_double(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some('u') => {
                let hex: String = chars.by_ref().take(4).collect();
                match u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32) {
                    Some(c) => out.push(c),
                    None => out.push('\u{fffd}'),
                }
            }
            Some(other) => out.push(other),
            None => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::position::line_col;

    fn at(text: &str, path: &[Seg]) -> Option<(usize, usize, bool)> {
        locate(text, path).map(|f| {
            let (line, column) = line_col(text, f.offset);
            (line, column, f.complete)
        })
    }

    /// Steps; `#n` is index n.
    fn path(steps: &[&str]) -> Vec<Seg> {
        steps
            .iter()
            .map(|s| match s.strip_prefix('#').and_then(|i| i.parse().ok()) {
                Some(i) => Seg::Index(i),
                None => Seg::key(s),
            })
            .collect()
    }

    const YAML: &str = "\
# comment
openapi: 3.0.3
paths:
  /users/{id}:
    description: 'get: not a key'
    parameters:
    - $ref: '#/components/parameters/A'
    - name: b
      in: query
    get:
      responses:
        200:
          description: ok
        '404': { description: missing, content: {a: 1} }
components:
  schemas:
    User: &user
      type: object
    Copy: *user
";

    #[test]
    fn follows_block_yaml() {
        assert_eq!(
            at(YAML, &path(&["paths", "/users/{id}", "get"])),
            Some((10, 5, true))
        );
        assert_eq!(
            at(
                YAML,
                &path(&["paths", "/users/{id}", "parameters", "#1", "in"])
            ),
            Some((9, 7, true))
        );
        assert_eq!(
            at(
                YAML,
                &path(&["paths", "/users/{id}", "parameters", "#0", "$ref"])
            ),
            Some((7, 7, true))
        );
        assert_eq!(
            at(
                YAML,
                &path(&[
                    "paths",
                    "/users/{id}",
                    "get",
                    "responses",
                    "200",
                    "description"
                ])
            ),
            Some((13, 11, true))
        );
        assert_eq!(
            at(
                YAML,
                &path(&[
                    "paths",
                    "/users/{id}",
                    "get",
                    "responses",
                    "404",
                    "content",
                    "a"
                ])
            ),
            Some((14, 50, true))
        );
        // An alias: the key that holds it.
        assert_eq!(
            at(YAML, &path(&["components", "schemas", "Copy", "type"])),
            Some((19, 5, false))
        );
        // Not there: the deepest step found.
        assert_eq!(
            at(YAML, &path(&["paths", "/users/{id}", "post"])),
            Some((4, 3, false))
        );
        assert_eq!(at(YAML, &path(&["nope"])), None);
    }

    #[test]
    fn follows_json() {
        let json = "{\n  \"openapi\": \"3.1.0\",\n  \"paths\": {\n    \"/a\": {\"get\": {\"parameters\": [{\"name\": \"x,}\"}, {\"$ref\": \"#/x\"}]}}\n  }\n}";
        assert_eq!(
            at(
                json,
                &path(&["paths", "/a", "get", "parameters", "#1", "$ref"])
            ),
            Some((4, 53, true))
        );
        assert_eq!(at(json, &path(&["openapi"])), Some((2, 3, true)));
    }

    #[test]
    fn document_markers_and_quoted_keys() {
        let text = "%YAML 1.2\n---\n\"a b\":\n  'c''d':\n    - x\n    - {e: 1}\n";
        assert_eq!(
            at(text, &path(&["a b", "c'd", "#1", "e"])),
            Some((6, 8, true))
        );
        assert_eq!(at("", &path(&["a"])), None);
        assert_eq!(at("- a\n- b\n", &path(&["#1"])), Some((2, 3, true)));
    }

    #[test]
    fn odd_text_never_panics() {
        let text =
            "é: {\"ü\\é\": [1, 'a''b', {x: \"\\\"\"}], ✓: &a\n  - ß\n  - *a\n}\n- ǅ: |\n   ŋ: x\n";
        let paths = [
            path(&["é", "ü\\é", "#2", "x"]),
            path(&["✓", "#1"]),
            path(&["#0", "ǅ", "ŋ"]),
        ];
        for (cut, _) in text.char_indices() {
            for p in &paths {
                let _ = locate(&text[..cut], p);
            }
        }
    }
}
