//! Local `$ref`s: `#/components/schemas/User` as a JSON pointer into the
//! document.

use super::locate::Seg;
use serde_yaml::Value;

/// Why a `$ref` cannot be followed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RefError {
    /// Not a local JSON pointer (`other.yaml#/X`, `https://...`, `#anchor`).
    NotLocal,
    /// A local pointer to nothing in the document.
    Dangling,
}

impl RefError {
    /// What is wrong with `reference` and what to do.
    pub(crate) fn message(&self, reference: &str) -> String {
        match self {
            RefError::NotLocal => format!(
                "$ref \"{reference}\" is not supported: only local refs (starting with \"#/\") are; \
                 copy the definition into this document (e.g. under `components`) and refer to it as \"#/components/...\""
            ),
            RefError::Dangling => format!(
                "$ref \"{reference}\" points nowhere: this document has nothing at that place; \
                 define it there or fix the ref"
            ),
        }
    }
}

/// The decoded tokens of a local ref: `#/paths/~1users/get` gives
/// `["paths", "/users", "get"]`. The fragment is percent-decoded first.
pub(crate) fn ref_tokens(reference: &str) -> Result<Vec<String>, RefError> {
    let pointer = reference.strip_prefix("#/").ok_or(RefError::NotLocal)?;
    let decoded = percent_decode(pointer);
    Ok(decoded
        .split('/')
        .map(|t| t.replace("~1", "/").replace("~0", "~"))
        .collect())
}

/// The node `reference` points at, and its path in the document.
pub(crate) fn follow<'a>(
    doc: &'a Value,
    reference: &str,
) -> Result<(&'a Value, Vec<Seg>), RefError> {
    follow_tokens(doc, &ref_tokens(reference)?)
}

/// The node at the decoded pointer `tokens`, and its path in the document.
pub(crate) fn follow_tokens<'a>(
    doc: &'a Value,
    tokens: &[String],
) -> Result<(&'a Value, Vec<Seg>), RefError> {
    let mut node = doc;
    let mut path = Vec::with_capacity(tokens.len());
    for token in tokens {
        match node {
            Value::Mapping(map) => {
                node = map.get(token.as_str()).ok_or(RefError::Dangling)?;
                path.push(Seg::Key(token.clone()));
            }
            Value::Sequence(items) => {
                let index: usize = token.parse().map_err(|_| RefError::Dangling)?;
                node = items.get(index).ok_or(RefError::Dangling)?;
                path.push(Seg::Index(index));
            }
            _ => return Err(RefError::Dangling),
        }
    }
    Ok((node, path))
}

/// The node at the decoded pointer `tokens`, for changing it.
pub(crate) fn node_mut<'a>(doc: &'a mut Value, tokens: &[String]) -> Option<&'a mut Value> {
    let mut node = doc;
    for token in tokens {
        node = match node {
            Value::Mapping(map) => map.get_mut(token.as_str())?,
            Value::Sequence(items) => items.get_mut(token.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(node)
}

/// The tokens of a path.
pub(crate) fn tokens(path: &[Seg]) -> Vec<String> {
    path.iter()
        .map(|seg| match seg {
            Seg::Key(key) => key.clone(),
            Seg::Index(index) => index.to_string(),
        })
        .collect()
}

/// A local ref to the decoded pointer `tokens`: `#/components/schemas/A`.
pub(crate) fn ref_text(tokens: &[String]) -> String {
    let mut out = String::from("#");
    for token in tokens {
        out.push('/');
        out.push_str(&token.replace('~', "~0").replace('/', "~1"));
    }
    out
}

/// Decodes `%XX` escapes; invalid ones are kept as written.
fn percent_decode(text: &str) -> String {
    if !text.contains('%') {
        return text.to_string();
    }
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = (bytes[i] == b'%')
            .then(|| text.get(i + 1..i + 3))
            .flatten()
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match hex {
            Some(byte) => {
                out.push(byte);
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8(out).unwrap_or_else(|_| text.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_unescaped_and_decoded() {
        assert_eq!(
            ref_tokens("#/paths/~1users~1%7Bid%7D/get").unwrap(),
            ["paths", "/users/{id}", "get"]
        );
        assert_eq!(ref_tokens("#/a~0b/%zz").unwrap(), ["a~b", "%zz"]);
        assert_eq!(ref_tokens("other.yaml#/X"), Err(RefError::NotLocal));
        assert_eq!(ref_tokens("#anchor"), Err(RefError::NotLocal));
    }

    #[test]
    fn follows_mappings_and_sequences() {
        let doc: Value = serde_yaml::from_str("a:\n  b: [x, {c: 1}]\n").unwrap();
        let (node, path) = follow(&doc, "#/a/b/1/c").unwrap();
        assert_eq!(node.as_i64(), Some(1));
        assert_eq!(
            path,
            [Seg::key("a"), Seg::key("b"), Seg::Index(1), Seg::key("c")]
        );
        assert_eq!(follow(&doc, "#/a/b/2").err(), Some(RefError::Dangling));
        assert_eq!(follow(&doc, "#/a/b/x").err(), Some(RefError::Dangling));
        assert_eq!(follow(&doc, "#/a/b/0/y").err(), Some(RefError::Dangling));
        assert_eq!(tokens(&path), ["a", "b", "1", "c"]);
        let mut doc = doc;
        assert!(node_mut(&mut doc, &tokens(&path)).is_some());
        assert!(node_mut(&mut doc, &["a".to_string(), "x".to_string()]).is_none());
        assert_eq!(
            ref_text(&["paths".into(), "/a/{b}".into(), "x~y".into()]),
            "#/paths/~1a~1{b}/x~0y"
        );
    }
}
