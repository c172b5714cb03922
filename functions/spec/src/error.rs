//! Errors and problems reported for a customization spec.

use std::fmt;

use serde::{Deserialize, Serialize};

/// One thing wrong with a spec, located by its field path
/// (e.g. `contents.artifacts[1].excludes[0]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    /// Path of the offending field, `a.b[2].c` style; empty for the document itself.
    pub field: String,
    /// Human-readable description of what is wrong.
    pub problem: String,
}

impl Problem {
    /// Builds a problem from anything string-like.
    pub fn new(field: impl Into<String>, problem: impl Into<String>) -> Self {
        Self { field: field.into(), problem: problem.into() }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.field.is_empty() { f.write_str(&self.problem) } else { write!(f, "{}: {}", self.field, self.problem) }
    }
}

/// Why a spec was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpecError {
    /// Syntax, type or unknown-field error, located by its field path.
    #[error("{0}")]
    Parse(Problem),
    /// Every validation problem found; displayed one per line.
    #[error("{}", one_per_line(.0))]
    Invalid(Vec<Problem>),
}

impl SpecError {
    /// All problems carried by this error (one for a parse error).
    pub fn problems(&self) -> Vec<Problem> {
        match self {
            Self::Parse(problem) => vec![problem.clone()],
            Self::Invalid(problems) => problems.clone(),
        }
    }
}

fn one_per_line(problems: &[Problem]) -> String {
    problems.iter().map(Problem::to_string).collect::<Vec<_>>().join("\n")
}

/// Result type of this crate.
pub type Result<T, E = SpecError> = std::result::Result<T, E>;

/// Quotes user input for a message: control characters escaped, long values shortened.
pub(crate) fn shown(value: &str) -> String {
    const MAX: usize = 80;
    let escaped: String = value.escape_debug().collect();
    match escaped.char_indices().nth(MAX) {
        Some((cut, _)) => format!("`{}…`", &escaped[..cut]),
        None => format!("`{escaped}`"),
    }
}
