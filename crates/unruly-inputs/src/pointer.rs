//! JSON pointers (RFC 6901) into body values: building, replacing, removing.

use serde_json::Value;

/// `parent` extended by one property name or index, escaped.
pub(crate) fn push(parent: &str, token: &str) -> String {
    let mut out = String::with_capacity(parent.len() + token.len() + 1);
    out.push_str(parent);
    out.push('/');
    for c in token.chars() {
        match c {
            '~' => out.push_str("~0"),
            '/' => out.push_str("~1"),
            c => out.push(c),
        }
    }
    out
}

/// The parent pointer and the last (unescaped) token; `None` for the root.
pub(crate) fn split_last(pointer: &str) -> Option<(&str, String)> {
    let at = pointer.rfind('/')?;
    let token = pointer[at + 1..].replace("~1", "/").replace("~0", "~");
    Some((&pointer[..at], token))
}

/// Replaces the value at `pointer` (which must exist); returns whether it did.
pub(crate) fn replace(root: &mut Value, pointer: &str, value: Value) -> bool {
    match root.pointer_mut(pointer) {
        Some(slot) => {
            *slot = value;
            true
        }
        None => false,
    }
}

/// Removes the property or element at `pointer`; returns whether it did.
pub(crate) fn remove(root: &mut Value, pointer: &str) -> bool {
    let Some((parent, token)) = split_last(pointer) else {
        return false;
    };
    match root.pointer_mut(parent) {
        Some(Value::Object(map)) => map.remove(&token).is_some(),
        Some(Value::Array(items)) => match token.parse::<usize>() {
            Ok(i) if i < items.len() => {
                items.remove(i);
                true
            }
            _ => false,
        },
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn escapes_and_round_trips() {
        let p = push(&push("", "a/b"), "c~d");
        assert_eq!(p, "/a~1b/c~0d");
        let mut v = json!({"a/b": {"c~d": 1, "e": 2}});
        assert_eq!(v.pointer(&p), Some(&json!(1)));
        assert!(replace(&mut v, &p, json!(3)));
        assert_eq!(v.pointer(&p), Some(&json!(3)));
        assert!(remove(&mut v, &p));
        assert_eq!(v, json!({"a/b": {"e": 2}}));
        assert_eq!(split_last(""), None);
    }
}
