//! Query strings: `application/x-www-form-urlencoded` decoding, first occurrence wins.

/// Why a query parameter could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum QueryError {
    /// After percent-decoding, the value is not UTF-8.
    #[error("query parameter {name} is not valid UTF-8 once decoded")]
    NotUtf8 {
        /// The parameter.
        name: String,
    },
}

/// The value of the first parameter called `name` in `query` (without the `?`), decoded:
/// `None` when it is absent, `Some("")` when present without a value.
pub(crate) fn param(query: Option<&str>, name: &str) -> Result<Option<String>, QueryError> {
    let Some(query) = query else {
        return Ok(None);
    };
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        if decode(key).as_deref() == Ok(name) {
            return decode(value).map(Some).map_err(|()| QueryError::NotUtf8 {
                name: name.to_owned(),
            });
        }
    }
    Ok(None)
}

/// Decodes `+` as a space and `%XX` as a byte; a `%` not followed by two hex digits stays as
/// it is. Fails when the bytes are not UTF-8.
fn decode(raw: &str) -> Result<String, ()> {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => match (
                bytes.get(i + 1).and_then(hex),
                bytes.get(i + 2).and_then(hex),
            ) {
                (Some(hi), Some(lo)) => {
                    out.push((hi << 4) | lo);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            other => out.push(other),
        }
        i += 1;
    }
    String::from_utf8(out).map_err(|_| ())
}

fn hex(digit: &u8) -> Option<u8> {
    match digit {
        b'0'..=b'9' => Some(digit - b'0'),
        b'a'..=b'f' => Some(digit - b'a' + 10),
        b'A'..=b'F' => Some(digit - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_and_decodes() {
        assert_eq!(
            param(Some("q=tea+cup&x=1"), "q"),
            Ok(Some("tea cup".into()))
        );
        assert_eq!(param(Some("a=1&q=%27%C3%A9"), "q"), Ok(Some("'é".into())));
        assert_eq!(param(Some("q=1&q=2"), "q"), Ok(Some("1".into())));
        assert_eq!(param(Some("q"), "q"), Ok(Some(String::new())));
        assert_eq!(param(Some("q="), "q"), Ok(Some(String::new())));
        assert_eq!(param(Some("qq=1"), "q"), Ok(None));
        assert_eq!(param(None, "q"), Ok(None));
        assert_eq!(param(Some("&&"), "q"), Ok(None));
    }

    #[test]
    fn odd_escapes_stay_and_bad_utf8_fails() {
        assert_eq!(param(Some("q=100%"), "q"), Ok(Some("100%".into())));
        assert_eq!(param(Some("q=%zz%4"), "q"), Ok(Some("%zz%4".into())));
        assert!(param(Some("q=%ff"), "q").is_err());
    }
}
