//! Reading typed fields out of a stanza, shared by `Packages` and `status` entries.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::control::{ControlError, Field, Stanza};
use super::lazy::{Lazy, Parsed};
use super::relation::{Dependency, Relation, RelationError, parse_dependencies, parse_provides, parse_relations};
use super::version::{Version, VersionError};
use crate::digest::DigestError;

/// The `Multi-Arch` field (absent means `no`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MultiArch {
    #[default]
    No,
    Same,
    Foreign,
    Allowed,
}

impl MultiArch {
    pub fn as_str(self) -> &'static str {
        match self {
            MultiArch::No => "no",
            MultiArch::Same => "same",
            MultiArch::Foreign => "foreign",
            MultiArch::Allowed => "allowed",
        }
    }
}

impl FromStr for MultiArch {
    type Err = FieldProblem;
    fn from_str(text: &str) -> Result<Self, FieldProblem> {
        match text {
            "no" => Ok(MultiArch::No),
            "same" => Ok(MultiArch::Same),
            "foreign" => Ok(MultiArch::Foreign),
            "allowed" => Ok(MultiArch::Allowed),
            other => Err(FieldProblem::MultiArch(other.to_owned())),
        }
    }
}

impl fmt::Display for MultiArch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What is wrong with one field's value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FieldProblem {
    #[error(transparent)]
    Version(#[from] VersionError),
    #[error(transparent)]
    Relation(#[from] RelationError),
    #[error(transparent)]
    Digest(#[from] DigestError),
    #[error("value is empty")]
    Empty,
    #[error("{0:?} is not a valid package name")]
    PackageName(String),
    #[error("{0:?} is not a number")]
    Number(String),
    #[error("{0:?} is not one of no, same, foreign, allowed")]
    MultiArch(String),
    #[error("{0:?} is not yes or no")]
    YesNo(String),
    #[error("{0:?} is not \"want flag state\" (like \"install ok installed\")")]
    Status(String),
}

/// A stanza that is not a valid package entry: the stanza's or field's line, the package, the
/// field and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PackageError {
    #[error(transparent)]
    Control(#[from] ControlError),
    #[error("stanza at line {line}: missing field Package")]
    MissingPackage { line: usize },
    #[error("stanza at line {line} (package {package}): missing field {field}")]
    MissingField { line: usize, package: String, field: &'static str },
    #[error("line {line} (package {package}): field {field}: {source}")]
    InvalidField { line: usize, package: String, field: &'static str, source: Box<FieldProblem> },
}

/// Whether `name` is a package name dpkg accepts: letters, digits and `+-._`, starting with a
/// letter or digit.
pub(crate) fn valid_package_name(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.' | '_'))
}

/// Typed access to one stanza's fields, with errors naming the stanza's package.
pub(crate) struct Reader<'s, 'a> {
    stanza: &'s Stanza<'a>,
    package: &'s str,
}

impl<'s, 'a> Reader<'s, 'a> {
    /// Requires a valid `Package` field.
    pub(crate) fn new(stanza: &'s Stanza<'a>) -> Result<Self, PackageError> {
        let field = stanza.field("Package").ok_or(PackageError::MissingPackage { line: stanza.line })?;
        let package = field.value.trim();
        if !valid_package_name(package) {
            return Err(PackageError::InvalidField {
                line: field.line,
                package: package.to_owned(),
                field: "Package",
                source: Box::new(FieldProblem::PackageName(package.to_owned())),
            });
        }
        Ok(Reader { stanza, package })
    }

    pub(crate) fn package(&self) -> &'s str {
        self.package
    }

    fn missing(&self, name: &'static str) -> PackageError {
        PackageError::MissingField { line: self.stanza.line, package: self.package.to_owned(), field: name }
    }

    /// Parses the field `name` with `parse` if present (an empty value counts as present).
    pub(crate) fn optional<T>(
        &self,
        name: &'static str,
        parse: impl FnOnce(&str) -> Result<T, FieldProblem>,
    ) -> Result<Option<T>, PackageError> {
        let Some(field) = self.stanza.field(name) else { return Ok(None) };
        self.parse_field(field, name, parse).map(Some)
    }

    /// Parses the field `name` with `parse`; its absence is an error.
    pub(crate) fn required<T>(
        &self,
        name: &'static str,
        parse: impl FnOnce(&str) -> Result<T, FieldProblem>,
    ) -> Result<T, PackageError> {
        self.optional(name, parse)?.ok_or_else(|| self.missing(name))
    }

    fn parse_field<T>(
        &self,
        field: &Field<'a>,
        name: &'static str,
        parse: impl FnOnce(&str) -> Result<T, FieldProblem>,
    ) -> Result<T, PackageError> {
        parse(&field.value).map_err(|source| PackageError::InvalidField {
            line: field.line,
            package: self.package.to_owned(),
            field: name,
            source: Box::new(source),
        })
    }

    /// A single-line text field, trimmed; must not be empty.
    pub(crate) fn text(&self, name: &'static str) -> Result<Option<String>, PackageError> {
        self.optional(name, non_empty)
    }

    pub(crate) fn dependencies(&self, name: &'static str) -> Result<Vec<Dependency>, PackageError> {
        Ok(self.optional(name, |value| Ok(parse_dependencies(value)?))?.unwrap_or_default())
    }

    /// The relation field `name` as written, parsed when first read.
    pub(crate) fn lazy<T: Parsed>(&self, name: &'static str) -> Lazy<T> {
        match self.stanza.field(name) {
            Some(field) => Lazy::new(Some(&field.value), field.line),
            None => Lazy::new(None, self.stanza.line),
        }
    }

    pub(crate) fn relations(&self, name: &'static str) -> Result<Vec<Relation>, PackageError> {
        Ok(self.optional(name, |value| Ok(parse_relations(value)?))?.unwrap_or_default())
    }

    pub(crate) fn provides(&self) -> Result<Vec<Relation>, PackageError> {
        Ok(self.optional("Provides", |value| Ok(parse_provides(value)?))?.unwrap_or_default())
    }

    pub(crate) fn multi_arch(&self) -> Result<MultiArch, PackageError> {
        Ok(self.optional("Multi-Arch", |value| value.trim().parse())?.unwrap_or_default())
    }

    pub(crate) fn yes_no(&self, name: &'static str) -> Result<bool, PackageError> {
        Ok(self.optional(name, yes_no)?.unwrap_or(false))
    }

    pub(crate) fn version(&self) -> Result<Option<Version>, PackageError> {
        self.optional("Version", |value| Ok(Version::parse(value)?))
    }

    /// The first line of `Description`, or empty.
    pub(crate) fn synopsis(&self) -> String {
        self.stanza.field("Description").map(|field| field.first_line().to_owned()).unwrap_or_default()
    }
}

pub(crate) fn non_empty(value: &str) -> Result<String, FieldProblem> {
    let value = value.trim();
    if value.is_empty() {
        return Err(FieldProblem::Empty);
    }
    Ok(value.to_owned())
}

pub(crate) fn number(value: &str) -> Result<u64, FieldProblem> {
    let value = value.trim();
    value.parse().map_err(|_| FieldProblem::Number(value.to_owned()))
}

fn yes_no(value: &str) -> Result<bool, FieldProblem> {
    match value.trim() {
        "yes" => Ok(true),
        "no" => Ok(false),
        other => Err(FieldProblem::YesNo(other.to_owned())),
    }
}
