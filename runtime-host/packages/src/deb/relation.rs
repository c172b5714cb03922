//! Relationship fields (Debian Policy §7.1): `Depends`, `Pre-Depends`, `Recommends`,
//! `Suggests` (comma-separated groups of `|` alternatives) and `Conflicts`, `Breaks`,
//! `Replaces`, `Provides` (no alternatives).
//!
//! Each relation is `name[:archqual] [(op version)] [[arch list]] [<profiles>...]`; whitespace,
//! including the newlines of folded fields, may surround every part.

use std::cmp::Ordering;
use std::fmt;

use serde::{Deserialize, Serialize};

use super::version::{Version, VersionError};

/// A version relation operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Op {
    /// `<<`: strictly earlier.
    #[serde(rename = "<<")]
    Earlier,
    /// `<=` (also the obsolete `<`): earlier or equal.
    #[serde(rename = "<=")]
    EarlierOrEqual,
    /// `=`: exactly equal.
    #[serde(rename = "=")]
    Equal,
    /// `>=` (also the obsolete `>`): later or equal.
    #[serde(rename = ">=")]
    LaterOrEqual,
    /// `>>`: strictly later.
    #[serde(rename = ">>")]
    Later,
}

impl Op {
    /// The operator as written in control files (`<<`, `<=`, `=`, `>=`, `>>`).
    pub fn as_str(self) -> &'static str {
        match self {
            Op::Earlier => "<<",
            Op::EarlierOrEqual => "<=",
            Op::Equal => "=",
            Op::LaterOrEqual => ">=",
            Op::Later => ">>",
        }
    }

    /// Whether `candidate.cmp(reference)` = `ordering` satisfies the operator.
    pub fn accepts(self, ordering: Ordering) -> bool {
        match self {
            Op::Earlier => ordering == Ordering::Less,
            Op::EarlierOrEqual => ordering != Ordering::Greater,
            Op::Equal => ordering == Ordering::Equal,
            Op::LaterOrEqual => ordering != Ordering::Less,
            Op::Later => ordering == Ordering::Greater,
        }
    }

    /// Parses an operator at the start of `text`, returning it and the rest.
    fn parse_prefix(text: &str) -> Option<(Op, &str)> {
        const OPS: [(&str, Op); 7] = [
            ("<<", Op::Earlier),
            ("<=", Op::EarlierOrEqual),
            (">>", Op::Later),
            (">=", Op::LaterOrEqual),
            ("=", Op::Equal),
            ("<", Op::EarlierOrEqual),
            (">", Op::LaterOrEqual),
        ];
        OPS.iter().find_map(|(spelling, op)| text.strip_prefix(spelling).map(|rest| (*op, rest)))
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `(op version)`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionConstraint {
    pub op: Op,
    pub version: Version,
}

impl VersionConstraint {
    /// Whether `candidate` satisfies the constraint (`candidate op version`).
    pub fn satisfied_by(&self, candidate: &Version) -> bool {
        self.op.accepts(candidate.cmp(&self.version))
    }
}

impl fmt::Display for VersionConstraint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "({} {})", self.op, self.version)
    }
}

/// The architecture qualifier after a package name: `:any`, `:native` or `:<arch>`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ArchQualifier {
    Any,
    Native,
    Arch(String),
}

impl fmt::Display for ArchQualifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ArchQualifier::Any => f.write_str("any"),
            ArchQualifier::Native => f.write_str("native"),
            ArchQualifier::Arch(arch) => f.write_str(arch),
        }
    }
}

/// One term of an architecture list (`[amd64 !i386]`) or a build-profile formula
/// (`<!nocheck stage1>`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Restriction {
    /// Written with a leading `!`.
    pub negated: bool,
    pub name: String,
}

impl fmt::Display for Restriction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", if self.negated { "!" } else { "" }, self.name)
    }
}

/// One relation: `name[:archqual] [(op version)] [[arch list]] [<profiles>...]`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Relation {
    /// The package (or virtual package) name.
    pub name: String,
    pub arch_qualifier: Option<ArchQualifier>,
    pub constraint: Option<VersionConstraint>,
    /// `[...]`: all negated or none (source packages only).
    pub architectures: Vec<Restriction>,
    /// Each `<...>` formula; the relation applies when any formula holds (source packages only).
    pub profiles: Vec<Vec<Restriction>>,
}

/// One comma-separated group of a `Depends`-like field: satisfied by any one alternative.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dependency {
    pub alternatives: Vec<Relation>,
}

/// A relation field that dpkg refuses, with the entry and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RelationError {
    #[error("{entry:?}: empty alternative (nothing around '|')")]
    EmptyAlternative { entry: String },
    #[error("{entry:?}: alternatives ('|') are not allowed in this field")]
    AlternativesNotAllowed { entry: String },
    #[error("{entry:?}: missing package name")]
    MissingName { entry: String },
    #[error("{entry:?}: invalid package name {name:?} (letters, digits and + - . _, starting with a letter or digit)")]
    InvalidName { entry: String, name: String },
    #[error("{entry:?}: invalid architecture qualifier {qualifier:?}")]
    InvalidArchQualifier { entry: String, qualifier: String },
    #[error("{entry:?}: '{open}' without a matching '{close}'")]
    Unclosed { entry: String, open: char, close: char },
    #[error("{entry:?}: missing or unknown version operator in {constraint:?} (one of <<, <=, =, >=, >>)")]
    BadOperator { entry: String, constraint: String },
    #[error("{entry:?}: missing version after '{op}'")]
    MissingVersion { entry: String, op: Op },
    #[error("{entry:?}: {source}")]
    Version { entry: String, source: VersionError },
    #[error("{entry:?}: invalid {kind} {term:?}")]
    InvalidRestriction { entry: String, kind: &'static str, term: String },
    #[error("{entry:?}: the architecture list mixes negated and plain architectures")]
    MixedArchitectures { entry: String },
    #[error("{entry:?}: unexpected {rest:?} after the relation")]
    Trailing { entry: String, rest: String },
    #[error("{entry:?}: Provides allows only an exact version \"(= version)\", not '{op}'")]
    ProvidesOperator { entry: String, op: Op },
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.' | '_')
}

fn is_arch_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-'
}

fn is_profile_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '+' | '_')
}

/// Parses the terms of `[...]` or `<...>`: whitespace-separated, each optionally negated.
fn parse_terms(
    entry: &str,
    inner: &str,
    kind: &'static str,
    valid: fn(char) -> bool,
) -> Result<Vec<Restriction>, RelationError> {
    let invalid =
        |term: &str| RelationError::InvalidRestriction { entry: entry.to_owned(), kind, term: term.to_owned() };
    let mut terms = Vec::new();
    for term in inner.split_whitespace() {
        let (negated, name) = match term.strip_prefix('!') {
            Some(name) => (true, name),
            None => (false, term),
        };
        if name.is_empty() || !name.chars().all(valid) {
            return Err(invalid(term));
        }
        terms.push(Restriction { negated, name: name.to_owned() });
    }
    if terms.is_empty() {
        return Err(invalid(inner));
    }
    Ok(terms)
}

/// Splits `text` (which starts with `open`) at the matching `close`: (inside, after).
fn enclosed<'t>(entry: &str, text: &'t str, open: char, close: char) -> Result<(&'t str, &'t str), RelationError> {
    let inner = text.get(open.len_utf8()..).unwrap_or("");
    inner.split_once(close).ok_or_else(|| RelationError::Unclosed { entry: entry.to_owned(), open, close })
}

impl Relation {
    /// Parses one relation (no `,` or `|`).
    pub fn parse(text: &str) -> Result<Relation, RelationError> {
        let entry = text.trim();
        let owned = || entry.to_owned();
        let name_end =
            entry.find(|c: char| c.is_whitespace() || matches!(c, ':' | '(' | '[' | '<')).unwrap_or(entry.len());
        let (name, mut rest) = entry.split_at(name_end);
        if name.is_empty() {
            return Err(RelationError::MissingName { entry: owned() });
        }
        if !name.starts_with(|c: char| c.is_ascii_alphanumeric()) || !name.chars().all(is_name_char) {
            return Err(RelationError::InvalidName { entry: owned(), name: name.to_owned() });
        }
        let mut arch_qualifier = None;
        if let Some(after_colon) = rest.strip_prefix(':') {
            let end = after_colon.find(|c: char| !is_arch_char(c)).unwrap_or(after_colon.len());
            let (qualifier, after) = after_colon.split_at(end);
            arch_qualifier = Some(match qualifier {
                "" => {
                    return Err(RelationError::InvalidArchQualifier {
                        entry: owned(),
                        qualifier: after_colon.to_owned(),
                    });
                }
                "any" => ArchQualifier::Any,
                "native" => ArchQualifier::Native,
                arch => ArchQualifier::Arch(arch.to_owned()),
            });
            rest = after;
        }
        rest = rest.trim_start();
        let mut constraint = None;
        if rest.starts_with('(') {
            let (inner, after) = enclosed(entry, rest, '(', ')')?;
            let inner = inner.trim();
            let (op, version) = Op::parse_prefix(inner)
                .ok_or_else(|| RelationError::BadOperator { entry: owned(), constraint: inner.to_owned() })?;
            let version = version.trim();
            if version.is_empty() {
                return Err(RelationError::MissingVersion { entry: owned(), op });
            }
            let version =
                Version::parse(version).map_err(|source| RelationError::Version { entry: owned(), source })?;
            constraint = Some(VersionConstraint { op, version });
            rest = after.trim_start();
        }
        let mut architectures = Vec::new();
        if rest.starts_with('[') {
            let (inner, after) = enclosed(entry, rest, '[', ']')?;
            architectures = parse_terms(entry, inner, "architecture", is_arch_char)?;
            if architectures.iter().any(|a| a.negated) && architectures.iter().any(|a| !a.negated) {
                return Err(RelationError::MixedArchitectures { entry: owned() });
            }
            rest = after.trim_start();
        }
        let mut profiles = Vec::new();
        while rest.starts_with('<') {
            let (inner, after) = enclosed(entry, rest, '<', '>')?;
            profiles.push(parse_terms(entry, inner, "build profile", is_profile_char)?);
            rest = after.trim_start();
        }
        if !rest.is_empty() {
            return Err(RelationError::Trailing { entry: owned(), rest: rest.to_owned() });
        }
        Ok(Relation { name: name.to_owned(), arch_qualifier, constraint, architectures, profiles })
    }

    /// Whether a package of this relation's name at `version` satisfies its version constraint
    /// (always, when it has none). Names and architectures are the caller's to match.
    pub fn satisfied_by(&self, version: &Version) -> bool {
        self.constraint.as_ref().is_none_or(|constraint| constraint.satisfied_by(version))
    }

    /// Whether a `Provides` entry satisfies this relation: same name, and when this relation is
    /// versioned, the provide must carry `(= v)` with `v` satisfying it (Policy §7.5).
    pub fn satisfied_by_provide(&self, provide: &Relation) -> bool {
        if provide.name != self.name {
            return false;
        }
        match (&self.constraint, &provide.constraint) {
            (None, _) => true,
            (Some(_), None) => false,
            (Some(wanted), Some(provided)) => provided.op == Op::Equal && wanted.satisfied_by(&provided.version),
        }
    }
}

impl fmt::Display for Relation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)?;
        if let Some(qualifier) = &self.arch_qualifier {
            write!(f, ":{qualifier}")?;
        }
        if let Some(constraint) = &self.constraint {
            write!(f, " {constraint}")?;
        }
        if !self.architectures.is_empty() {
            let terms: Vec<String> = self.architectures.iter().map(ToString::to_string).collect();
            write!(f, " [{}]", terms.join(" "))?;
        }
        for formula in &self.profiles {
            let terms: Vec<String> = formula.iter().map(ToString::to_string).collect();
            write!(f, " <{}>", terms.join(" "))?;
        }
        Ok(())
    }
}

impl fmt::Display for Dependency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, relation) in self.alternatives.iter().enumerate() {
            if i > 0 {
                f.write_str(" | ")?;
            }
            write!(f, "{relation}")?;
        }
        Ok(())
    }
}

/// The comma-separated entries of a field; empty entries (as left by a trailing comma) are
/// skipped, as dpkg-dev does.
fn entries(field: &str) -> impl Iterator<Item = &str> {
    field.split(',').map(str::trim).filter(|entry| !entry.is_empty())
}

/// Parses a `Depends`-like field (`Depends`, `Pre-Depends`, `Recommends`, `Suggests`,
/// `Enhances`): comma-separated groups of `|`-separated alternatives.
pub fn parse_dependencies(field: &str) -> Result<Vec<Dependency>, RelationError> {
    entries(field)
        .map(|entry| {
            let alternatives = entry
                .split('|')
                .map(|alternative| {
                    if alternative.trim().is_empty() {
                        return Err(RelationError::EmptyAlternative { entry: entry.to_owned() });
                    }
                    Relation::parse(alternative)
                })
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Dependency { alternatives })
        })
        .collect()
}

/// Parses a field without alternatives (`Conflicts`, `Breaks`, `Replaces`).
pub fn parse_relations(field: &str) -> Result<Vec<Relation>, RelationError> {
    entries(field)
        .map(|entry| {
            if entry.contains('|') {
                return Err(RelationError::AlternativesNotAllowed { entry: entry.to_owned() });
            }
            Relation::parse(entry)
        })
        .collect()
}

/// Parses a `Provides` field: no alternatives, and only `(= version)` constraints.
pub fn parse_provides(field: &str) -> Result<Vec<Relation>, RelationError> {
    let relations = parse_relations(field)?;
    for relation in &relations {
        if let Some(constraint) = &relation.constraint
            && constraint.op != Op::Equal
        {
            return Err(RelationError::ProvidesOperator { entry: relation.to_string(), op: constraint.op });
        }
    }
    Ok(relations)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn v(text: &str) -> Version {
        Version::parse(text).unwrap()
    }

    #[test]
    fn relation_parses_name_qualifier_constraint_and_restrictions() {
        let relation = Relation::parse("libc6:amd64 (>= 2.34) [amd64 arm64] <!nocheck> <stage1 cross>").unwrap();
        assert_eq!(relation.name, "libc6");
        assert_eq!(relation.arch_qualifier, Some(ArchQualifier::Arch("amd64".into())));
        let constraint = relation.constraint.as_ref().unwrap();
        assert_eq!((constraint.op, constraint.version.as_str()), (Op::LaterOrEqual, "2.34"));
        assert_eq!(relation.architectures.len(), 2);
        assert_eq!(relation.profiles.len(), 2);
        assert!(relation.profiles[0][0].negated);
        assert_eq!(relation.to_string(), "libc6:amd64 (>= 2.34) [amd64 arm64] <!nocheck> <stage1 cross>");

        let relation = Relation::parse("python3:any").unwrap();
        assert_eq!(relation.arch_qualifier, Some(ArchQualifier::Any));
        assert_eq!(Relation::parse("perl:native").unwrap().arch_qualifier, Some(ArchQualifier::Native));
        let relation = Relation::parse("  libssl3 (>=3.0.0)  ").unwrap();
        assert_eq!(relation.to_string(), "libssl3 (>= 3.0.0)");
    }

    #[test]
    fn relation_operators_including_obsolete_ones() {
        let table = [
            ("a (<< 2)", "1", true),
            ("a (<< 2)", "2", false),
            ("a (<= 2)", "2", true),
            ("a (<= 2)", "2.1", false),
            ("a (< 2)", "2", true),
            ("a (< 2)", "2.1", false),
            ("a (= 2)", "2-0", true),
            ("a (= 2)", "2-1", false),
            ("a (>= 2)", "2", true),
            ("a (>= 2)", "2~rc1", false),
            ("a (> 2)", "2", true),
            ("a (> 2)", "1", false),
            ("a (>> 2)", "2", false),
            ("a (>> 2)", "2+b1", true),
            ("libc6 (>= 2.34)", "2.36-9+deb12u4", true),
            ("libcurl4 (= 7.88.1-10+deb12u12)", "7.88.1-10+deb12u12", true),
            ("libcurl4 (= 7.88.1-10+deb12u12)", "7.88.1-10+deb12u5", false),
            ("a", "0", true),
        ];
        for (text, candidate, expected) in table {
            assert_eq!(Relation::parse(text).unwrap().satisfied_by(&v(candidate)), expected, "{text} by {candidate}");
        }
        assert_eq!(Relation::parse("a (< 2)").unwrap().to_string(), "a (<= 2)");
    }

    #[test]
    fn depends_field_with_alternatives_and_folding() {
        let field = "libc6 (>= 2.34), libcurl4 (= 7.88.1-10+deb12u12),\n zlib1g (>= 1:1.1.4),\n default-mta | mail-transport-agent, ";
        let deps = parse_dependencies(field).unwrap();
        assert_eq!(deps.len(), 4);
        assert_eq!(deps[2].alternatives[0].constraint.as_ref().unwrap().version.epoch(), 1);
        let names: Vec<&str> = deps[3].alternatives.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["default-mta", "mail-transport-agent"]);
        assert_eq!(deps[3].to_string(), "default-mta | mail-transport-agent");
        assert!(parse_dependencies("").unwrap().is_empty());
    }

    #[test]
    fn provides_and_conflicts_fields() {
        let provides = parse_provides("libcurl-ssl (= 7.88.1), mail-transport-agent").unwrap();
        assert_eq!(provides.len(), 2);
        let wanted = Relation::parse("libcurl-ssl (>= 7.0)").unwrap();
        assert!(wanted.satisfied_by_provide(&provides[0]));
        assert!(!wanted.satisfied_by_provide(&provides[1]));
        assert!(!Relation::parse("libcurl-ssl (>= 8.0)").unwrap().satisfied_by_provide(&provides[0]));
        let unversioned = Relation::parse("mail-transport-agent").unwrap();
        assert!(unversioned.satisfied_by_provide(&provides[1]));
        assert!(!Relation::parse("mail-transport-agent (>= 1)").unwrap().satisfied_by_provide(&provides[1]));

        let err = parse_provides("foo (>= 1.0)").unwrap_err().to_string();
        assert!(err.contains("only an exact version"), "{err}");
        let conflicts = parse_relations("libcurl3 (<< 7.50), curl-ssl").unwrap();
        assert_eq!(conflicts.len(), 2);
        let err = parse_relations("a | b").unwrap_err().to_string();
        assert!(err.contains("\"a | b\": alternatives ('|') are not allowed"), "{err}");
    }

    #[test]
    fn relation_errors_name_the_entry_and_problem() {
        let cases = [
            ("libc6, | b", "\"| b\": empty alternative"),
            ("a |", "empty alternative"),
            ("(>= 1)", "\"(>= 1)\": missing package name"),
            ("-foo", "invalid package name \"-foo\""),
            ("foo/bar", "invalid package name \"foo/bar\""),
            ("foo:", "invalid architecture qualifier"),
            ("libc6 (>= 2.34", "'(' without a matching ')'"),
            ("libc6 (2.34)", "unknown version operator in \"2.34\""),
            ("libc6 (~ 2.34)", "unknown version operator"),
            ("libc6 (>=)", "missing version after '>='"),
            ("libc6 (>= 2.34-)", "revision is empty"),
            ("libc6 (>= 2 34)", "contains whitespace"),
            ("foo [amd64 !i386]", "mixes negated and plain"),
            ("foo [amd64", "'[' without a matching ']'"),
            ("foo []", "invalid architecture"),
            ("foo <!>", "invalid build profile \"!\""),
            ("foo (>= 1) bar", "unexpected \"bar\" after the relation"),
            ("foo:any:amd64", "unexpected \":amd64\""),
        ];
        for (field, message) in cases {
            let err = parse_dependencies(field).unwrap_err().to_string();
            assert!(err.contains(message), "{field:?}: {err}");
        }
    }

    #[test]
    fn relations_serialize_structurally() {
        let relation = Relation::parse("libc6 (>= 2.34)").unwrap();
        let json = serde_json::to_value(&relation).unwrap();
        assert_eq!(json["constraint"]["op"], ">=");
        assert_eq!(json["constraint"]["version"], "2.34");
        let back: Relation = serde_json::from_value(json).unwrap();
        assert_eq!(back, relation);
    }
}
