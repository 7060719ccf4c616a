//! Errors that name their place: `file:line:col: message`.

use std::fmt;

/// One problem in a scenario, a spec or a generated starter, with its place.
///
/// `line` and `column` are 1-based; the column counts characters, not bytes.
/// A `line` of 0 means the problem concerns the whole file (e.g. it cannot be
/// read, or a required table is missing); then Display prints `file: message`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.render())]
pub struct PlanError {
    /// The file (or source) name, as given by the caller.
    pub file: String,
    /// 1-based line, or 0 for the whole file.
    pub line: usize,
    /// 1-based column in characters, or 0 for the whole file.
    pub column: usize,
    /// What was found and what is expected.
    pub message: String,
}

impl PlanError {
    /// An error about the whole file rather than a place in it.
    pub fn whole_file(file: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            file: file.into(),
            line: 0,
            column: 0,
            message: message.into(),
        }
    }

    fn render(&self) -> String {
        if self.line == 0 {
            format!("{}: {}", self.file, self.message)
        } else {
            format!(
                "{}:{}:{}: {}",
                self.file, self.line, self.column, self.message
            )
        }
    }
}

/// Every problem found, in the order they appear in the file; never empty when
/// returned as an error. Display prints one error per line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanErrors {
    /// The errors, sorted by place.
    pub errors: Vec<PlanError>,
}

impl PlanErrors {
    /// Wraps a single error.
    pub fn one(error: PlanError) -> Self {
        Self {
            errors: vec![error],
        }
    }

    /// How many errors there are.
    pub fn len(&self) -> usize {
        self.errors.len()
    }

    /// Whether there are none (never the case for a returned error).
    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }

    /// Iterates over the errors.
    pub fn iter(&self) -> std::slice::Iter<'_, PlanError> {
        self.errors.iter()
    }
}

impl fmt::Display for PlanErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, error) in self.errors.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{error}")?;
        }
        Ok(())
    }
}

impl std::error::Error for PlanErrors {}

impl From<PlanError> for PlanErrors {
    fn from(error: PlanError) -> Self {
        Self::one(error)
    }
}

impl IntoIterator for PlanErrors {
    type Item = PlanError;
    type IntoIter = std::vec::IntoIter<PlanError>;

    fn into_iter(self) -> Self::IntoIter {
        self.errors.into_iter()
    }
}

impl<'a> IntoIterator for &'a PlanErrors {
    type Item = &'a PlanError;
    type IntoIter = std::slice::Iter<'a, PlanError>;

    fn into_iter(self) -> Self::IntoIter {
        self.errors.iter()
    }
}
