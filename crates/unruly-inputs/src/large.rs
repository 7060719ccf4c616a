//! Large request bodies, generated chunk by chunk and never held whole.
//!
//! A large body is a short prefix, a long deterministic filler and a short
//! suffix: the prefix and suffix make it a valid JSON document, form or multipart
//! body around one stretched field (or nothing, for raw binary).

use std::sync::LazyLock;

use bytes::Bytes;
use serde_json::Value;

use crate::case::LargeShape;
use crate::pointer;
use crate::serialize::{form_encode, multipart_close, multipart_file_head, multipart_parts};

/// The size of each chunk a [`LargeBody`] yields (the last ones may be shorter).
pub const CHUNK_SIZE: usize = 64 * 1024;
/// How many characters of a stretched string are validated as a sample.
pub(crate) const SAMPLE_CHARS: usize = 4096;

const LETTERS: &[u8] = b"abcdefghijklmnopqrstuvwxyz";
/// Marks the stretched string while the document around it is serialised.
const PLACEHOLDER: &str = "unrulyLargeFillerPlaceholder7f3a";

/// A repeating buffer one chunk plus one period long, so any chunk of the
/// filler is a zero-copy slice of it.
static LETTER_BUFFER: LazyLock<Bytes> = LazyLock::new(|| {
    Bytes::from(
        (0..CHUNK_SIZE + LETTERS.len())
            .map(|i| LETTERS[i % LETTERS.len()])
            .collect::<Vec<u8>>(),
    )
});
static BINARY_BUFFER: LazyLock<Bytes> = LazyLock::new(|| {
    Bytes::from(
        (0..CHUNK_SIZE + 256)
            .map(|i| (i % 256) as u8)
            .collect::<Vec<u8>>(),
    )
});

/// What the long middle of a large body is made of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Filler {
    /// `abc...xyzabc...`: safe inside JSON strings and form values.
    Letters,
    /// Every byte value in turn, `00 01 ... ff 00 ...`.
    Binary,
}

impl Filler {
    fn buffer(self) -> (&'static Bytes, usize) {
        match self {
            Filler::Letters => (&LETTER_BUFFER, LETTERS.len()),
            Filler::Binary => (&BINARY_BUFFER, 256),
        }
    }
}

/// The parts of a large body.
#[derive(Debug, Clone)]
pub(crate) struct Layout {
    pub prefix: Bytes,
    pub filler: Filler,
    pub filler_len: u64,
    pub suffix: Bytes,
}

impl Layout {
    /// The layout of a body of `size` bytes with this shape (the size is exact
    /// unless the prefix and suffix alone are longer).
    pub(crate) fn of(shape: &LargeShape, size: u64) -> Self {
        let (prefix, suffix, filler) = match shape {
            LargeShape::Binary => (Vec::new(), Vec::new(), Filler::Binary),
            LargeShape::JsonString { document, pointer } => {
                let (p, s) = json_around(document, pointer);
                (p, s, Filler::Letters)
            }
            LargeShape::FormField { fields, name } => {
                let others = without(fields, name);
                let mut prefix = form_encode(&others);
                if !prefix.is_empty() {
                    prefix.push('&');
                }
                prefix.push_str(&form_encode(&serde_json::json!({ name.clone(): "" })));
                (prefix.into_bytes(), Vec::new(), Filler::Letters)
            }
            LargeShape::MultipartFile { fields, name } => {
                let others = without(fields, name);
                let mut prefix = Vec::new();
                multipart_parts(&others, &|_| false, &mut prefix);
                prefix.extend_from_slice(&multipart_file_head(name));
                (prefix, multipart_close(), Filler::Binary)
            }
        };
        let fixed = (prefix.len() + suffix.len()) as u64;
        Self {
            prefix: Bytes::from(prefix),
            filler,
            filler_len: size.saturating_sub(fixed),
            suffix: Bytes::from(suffix),
        }
    }

    /// The exact body length.
    pub(crate) fn total(&self) -> u64 {
        self.prefix.len() as u64 + self.filler_len + self.suffix.len() as u64
    }
}

/// `fields` without the property `name`.
fn without(fields: &Value, name: &str) -> Value {
    let mut others = fields.clone();
    if let Value::Object(map) = &mut others {
        map.remove(name);
    }
    others
}

/// The serialised document before and after the string at `at` (quotes included
/// in the prefix and suffix).
fn json_around(document: &Value, at: &str) -> (Vec<u8>, Vec<u8>) {
    let mut doc = document.clone();
    let placed = pointer::replace(&mut doc, at, Value::String(PLACEHOLDER.to_string()))
        || match pointer::split_last(at) {
            Some((parent, name)) => match doc.pointer_mut(parent) {
                Some(Value::Object(map)) => {
                    map.insert(name, Value::String(PLACEHOLDER.to_string()));
                    true
                }
                _ => false,
            },
            None => false,
        };
    if !placed {
        doc = Value::String(PLACEHOLDER.to_string());
    }
    let text = serde_json::to_string(&doc).unwrap_or_default();
    match text.find(PLACEHOLDER) {
        Some(i) => (
            text.as_bytes()[..i].to_vec(),
            text.as_bytes()[i + PLACEHOLDER.len()..].to_vec(),
        ),
        None => (b"\"".to_vec(), b"\"".to_vec()),
    }
}

/// The first `n` characters of the filler (at most its length), as a string.
pub(crate) fn sample(layout: &Layout, n: usize) -> String {
    let n = (n as u64).min(layout.filler_len) as usize;
    (0..n).map(|i| LETTERS[i % LETTERS.len()] as char).collect()
}

/// A large body: deterministic chunks of at most [`CHUNK_SIZE`] bytes whose total
/// length is known up front. Iterating it holds one chunk at a time.
#[derive(Debug, Clone)]
pub struct LargeBody {
    layout: Layout,
    position: u64,
    total: u64,
}

impl LargeBody {
    pub(crate) fn new(layout: Layout) -> Self {
        let total = layout.total();
        Self {
            layout,
            position: 0,
            total,
        }
    }

    /// The exact total length in bytes.
    pub fn len(&self) -> u64 {
        self.total
    }

    /// Whether the body has no bytes at all.
    pub fn is_empty(&self) -> bool {
        self.total == 0
    }

    /// Bytes not yet yielded.
    pub fn remaining(&self) -> u64 {
        self.total - self.position
    }

    /// The bytes before the filler (the start of the document around it).
    pub fn prefix(&self) -> &[u8] {
        &self.layout.prefix
    }

    /// The bytes after the filler.
    pub fn suffix(&self) -> &[u8] {
        &self.layout.suffix
    }

    /// A POSIX shell command (with `python3` for binary fillers) that writes
    /// the filler exactly: for reproductions that regenerate the body rather
    /// than carry it.
    pub fn filler_command(&self) -> String {
        let n = self.layout.filler_len;
        match self.layout.filler {
            Filler::Letters => format!("yes abcdefghijklmnopqrstuvwxyz | tr -d '\\n' | head -c {n}"),
            Filler::Binary => format!(
                "python3 -c 'import sys; b = bytes(range(256)) * {}; sys.stdout.buffer.write(b[:{n}])'",
                n / 256 + 1
            ),
        }
    }
}

impl Iterator for LargeBody {
    type Item = Bytes;

    fn next(&mut self) -> Option<Bytes> {
        if self.position >= self.total {
            return None;
        }
        let prefix_len = self.layout.prefix.len() as u64;
        let filler_end = prefix_len + self.layout.filler_len;
        let chunk = CHUNK_SIZE as u64;
        let out = if self.position < prefix_len {
            let start = self.position as usize;
            let end = (self.position + chunk).min(prefix_len) as usize;
            self.layout.prefix.slice(start..end)
        } else if self.position < filler_end {
            let offset = self.position - prefix_len;
            let n = chunk.min(self.layout.filler_len - offset) as usize;
            let (buffer, period) = self.layout.filler.buffer();
            let start = (offset % period as u64) as usize;
            buffer.slice(start..start + n)
        } else {
            let start = (self.position - filler_end) as usize;
            let end = (start + CHUNK_SIZE).min(self.layout.suffix.len());
            self.layout.suffix.slice(start..end)
        };
        self.position += out.len() as u64;
        Some(out)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let chunks = self.remaining().div_ceil(CHUNK_SIZE as u64) as usize;
        (chunks.min(1), Some(chunks + 2))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_string_body_is_exact_and_valid_json() {
        let shape = LargeShape::JsonString {
            document: json!({"name": "x", "n": 1}),
            pointer: "/name".into(),
        };
        let layout = Layout::of(&shape, 200_000);
        let body = LargeBody::new(layout);
        assert_eq!(body.len(), 200_000);
        let bytes: Vec<u8> = body.flat_map(|c| c.to_vec()).collect();
        assert_eq!(bytes.len(), 200_000);
        let v: Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(v["n"], json!(1));
        assert!(v["name"].as_str().unwrap().starts_with("abcdef"));
    }

    #[test]
    fn binary_and_multipart_lengths() {
        let body = LargeBody::new(Layout::of(&LargeShape::Binary, 70_000));
        let sizes: Vec<usize> = body.map(|c| c.len()).collect();
        assert_eq!(sizes, vec![CHUNK_SIZE, 70_000 - CHUNK_SIZE]);
        let shape = LargeShape::MultipartFile {
            fields: json!({"title": "t", "file": "x"}),
            name: "file".into(),
        };
        let body = LargeBody::new(Layout::of(&shape, 100_000));
        let bytes: Vec<u8> = body.flat_map(|c| c.to_vec()).collect();
        assert_eq!(bytes.len(), 100_000);
        assert!(bytes.ends_with(b"--\r\n"));
    }
}
