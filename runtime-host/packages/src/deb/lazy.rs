//! Relation fields of index entries, kept as written and parsed on first use. A build reads
//! all of an archive's entries (some 60,000 in Debian's `main`) and follows the relations of a
//! few dozen; parsing every `Depends` up front was most of a warm build with packages from the
//! official archive (BENCHMARKS.md). A malformed field is an error when it is read, naming its
//! line, package and field as before.

use std::fmt;
use std::sync::OnceLock;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::fields::{FieldProblem, PackageError};
use super::relation::{Dependency, Relation, RelationError, parse_dependencies, parse_relations};

/// What a relation field parses into.
pub trait Parsed: Sized + Default {
    fn parse(raw: &str) -> Result<Self, RelationError>;
}

impl Parsed for Vec<Dependency> {
    fn parse(raw: &str) -> Result<Self, RelationError> {
        parse_dependencies(raw)
    }
}

impl Parsed for Vec<Relation> {
    fn parse(raw: &str) -> Result<Self, RelationError> {
        parse_relations(raw)
    }
}

/// One relation field of an entry: as written (absent: empty), parsed when first read.
pub struct Lazy<T> {
    raw: Option<Box<str>>,
    /// The field's line in its index, for errors.
    line: usize,
    parsed: OnceLock<Result<T, RelationError>>,
}

impl<T: Parsed> Lazy<T> {
    pub(crate) fn new(raw: Option<&str>, line: usize) -> Lazy<T> {
        Lazy { raw: raw.map(Into::into), line, parsed: OnceLock::new() }
    }

    /// The parsed field; `package` and `field` name it in the error.
    pub(crate) fn get(&self, package: &str, field: &'static str) -> Result<&T, PackageError> {
        let parsed = self.parsed.get_or_init(|| self.raw.as_deref().map_or_else(|| Ok(T::default()), T::parse));
        parsed.as_ref().map_err(|e| PackageError::InvalidField {
            line: self.line,
            package: package.to_owned(),
            field,
            source: Box::new(FieldProblem::Relation(e.clone())),
        })
    }
}

impl<T> Clone for Lazy<T> {
    fn clone(&self) -> Self {
        Lazy { raw: self.raw.clone(), line: self.line, parsed: OnceLock::new() }
    }
}

impl<T> PartialEq for Lazy<T> {
    fn eq(&self, other: &Self) -> bool {
        self.raw == other.raw
    }
}

impl<T> Eq for Lazy<T> {}

impl<T> fmt::Debug for Lazy<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.raw, f)
    }
}

/// As written: what the index said, not tailor's reading of it.
impl<T> Serialize for Lazy<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.raw.serialize(s)
    }
}

impl<'de, T: Parsed> Deserialize<'de> for Lazy<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = Option::<String>::deserialize(d)?;
        Ok(Lazy::new(raw.as_deref(), 0))
    }
}
