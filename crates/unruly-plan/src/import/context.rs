//! What the import reads from and reports to: the normalized document, and
//! the errors found so far, each placed in the source text.

use super::locate::{locate, Seg};
use super::pointer::{follow, RefError};
use crate::error::PlanError;
use crate::position::line_col;
use crate::starter::OpenApiSource;
use serde_yaml::{Mapping, Value};
use std::collections::HashSet;

/// The document being imported and the errors found in it.
pub(crate) struct Context<'a> {
    source: &'a OpenApiSource,
    /// The normalized (and, for 3.0, translated) document.
    pub doc: &'a Value,
    errors: Vec<PlanError>,
}

impl<'a> Context<'a> {
    /// Starts reading `doc`, parsed from `source`.
    pub(crate) fn new(source: &'a OpenApiSource, doc: &'a Value) -> Self {
        Self {
            source,
            doc,
            errors: Vec::new(),
        }
    }

    /// Records an error about the node at `path`.
    pub(crate) fn error(&mut self, path: &[Seg], message: impl Into<String>) {
        let (line, column) = locate(&self.source.text, path)
            .map_or((0, 0), |found| line_col(&self.source.text, found.offset));
        self.push(line, column, message.into());
    }

    /// Records that the `$ref` at `path` (the path of the `$ref` key) cannot
    /// be followed.
    pub(crate) fn ref_error(&mut self, path: &[Seg], reference: &str, error: &RefError) {
        let text = &self.source.text;
        let found = locate(text, path);
        // When the path cannot be followed to the `$ref` itself (an alias, a
        // merge), the ref as written, after the deepest place found, is the
        // next best place.
        let offset = match found {
            Some(found) if found.complete => Some(found.offset),
            _ => {
                let from = found.map_or(0, |f| f.offset);
                text[from..]
                    .find(reference)
                    .map(|i| from + i)
                    .or_else(|| text.find(reference))
                    .or(found.map(|f| f.offset))
            }
        };
        let (line, column) = offset.map_or((0, 0), |o| line_col(text, o));
        self.push(line, column, error.message(reference));
    }

    fn push(&mut self, line: usize, column: usize, message: String) {
        self.errors.push(PlanError {
            file: self.source.name.clone(),
            line,
            column,
            message,
        });
    }

    /// Follows `node` through its `$ref`s (if any) to the object it stands
    /// for, with that object's path. A ref that cannot be followed, or refs
    /// in a cycle, are recorded as errors and give `None`.
    pub(crate) fn resolve(
        &mut self,
        node: &'a Value,
        path: Vec<Seg>,
    ) -> Option<(&'a Value, Vec<Seg>)> {
        let mut node = node;
        let mut path = path;
        let mut seen = HashSet::new();
        while let Some(reference) = node.get("$ref").and_then(Value::as_str) {
            let mut ref_path = path.clone();
            ref_path.push(Seg::key("$ref"));
            if !seen.insert(reference) {
                self.error(
                    &ref_path,
                    format!("$ref \"{reference}\" leads back to itself through other refs: point it at an object"),
                );
                return None;
            }
            match follow(self.doc, reference) {
                Ok((target, target_path)) => {
                    node = target;
                    path = target_path;
                }
                Err(error) => {
                    self.ref_error(&ref_path, reference, &error);
                    return None;
                }
            }
        }
        Some((node, path))
    }

    /// `node` as a mapping, or an error saying `what` must be one.
    pub(crate) fn mapping(
        &mut self,
        node: &'a Value,
        path: &[Seg],
        what: &str,
    ) -> Option<&'a Mapping> {
        match node {
            Value::Mapping(map) => Some(map),
            _ => {
                self.error(path, format!("{what} must be a mapping (key: value pairs)"));
                None
            }
        }
    }

    /// The errors, in the order of their places, without repeats.
    pub(crate) fn finish(self) -> Vec<PlanError> {
        let mut errors = self.errors;
        errors.sort_by_key(|e| (e.line, e.column));
        let mut seen = HashSet::new();
        errors.retain(|e| seen.insert((e.line, e.column, e.message.clone())));
        errors
    }
}

/// `path` with one more key.
pub(crate) fn child(path: &[Seg], key: &str) -> Vec<Seg> {
    let mut out = path.to_vec();
    out.push(Seg::key(key));
    out
}

/// `path` with one more index.
pub(crate) fn item(path: &[Seg], index: usize) -> Vec<Seg> {
    let mut out = path.to_vec();
    out.push(Seg::Index(index));
    out
}
