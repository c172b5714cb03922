//! apk dependency atoms, as in `D:` (depends), `i:` (install_if), `p:` (provides) lines and
//! `/etc/apk/world`: `[!]name[@tag][op version]`, where `name` may be a package, `so:<soname>`,
//! `cmd:<command>`, `pc:<pkg-config name>` or a path like `/bin/sh`.

use std::cmp::Ordering;
use std::fmt;

use serde::{Deserialize, Serialize};

use super::checksum::{Checksum, ChecksumError};
use super::index::Package;
use super::version::{Version, VersionError};

const EQUAL: u8 = 1;
const LESS: u8 = 2;
const GREATER: u8 = 4;
const FUZZY: u8 = 8;

/// A version operator of a dependency atom.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum VersionOp {
    #[serde(rename = "<")]
    Less,
    #[serde(rename = "<=")]
    LessOrEqual,
    /// `<~`: earlier, or fuzzy-equal.
    #[serde(rename = "<~")]
    LessOrFuzzy,
    #[serde(rename = "=")]
    Equal,
    /// `~`: fuzzy-equal, the version starts with the given one token-wise (`~3.6` takes 3.6.9).
    #[serde(rename = "~")]
    Fuzzy,
    #[serde(rename = ">=")]
    GreaterOrEqual,
    /// `>~`: later, or fuzzy-equal.
    #[serde(rename = ">~")]
    GreaterOrFuzzy,
    #[serde(rename = ">")]
    Greater,
}

impl VersionOp {
    /// apk-tools' result mask.
    fn mask(self) -> u8 {
        match self {
            VersionOp::Less => LESS,
            VersionOp::LessOrEqual => LESS | EQUAL,
            VersionOp::LessOrFuzzy => LESS | EQUAL | FUZZY,
            VersionOp::Equal => EQUAL,
            VersionOp::Fuzzy => EQUAL | FUZZY,
            VersionOp::GreaterOrEqual => GREATER | EQUAL,
            VersionOp::GreaterOrFuzzy => GREATER | EQUAL | FUZZY,
            VersionOp::Greater => GREATER,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            VersionOp::Less => "<",
            VersionOp::LessOrEqual => "<=",
            VersionOp::LessOrFuzzy => "<~",
            VersionOp::Equal => "=",
            VersionOp::Fuzzy => "~",
            VersionOp::GreaterOrEqual => ">=",
            VersionOp::GreaterOrFuzzy => ">~",
            VersionOp::Greater => ">",
        }
    }

    /// Whether `candidate` relates to `reference` as the operator asks (apk's `apk_version_match`).
    pub fn matches(self, candidate: &Version, reference: &Version) -> bool {
        let mask = self.mask();
        let bit = match candidate.compare_fuzzy(reference, mask & FUZZY != 0) {
            Ordering::Less => LESS,
            Ordering::Equal => EQUAL,
            Ordering::Greater => GREATER,
        };
        mask & bit != 0
    }
}

impl fmt::Display for VersionOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What an atom asks of the version.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Constraint {
    /// No version given.
    Any,
    Version {
        op: VersionOp,
        version: Version,
    },
    /// `><Q1…`: exactly the package with this checksum.
    Checksum(Checksum),
}

/// One dependency atom.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dependency {
    /// Package or virtual name (`so:libc.musl-x86_64.so.1`, `cmd:curl`, `/bin/sh`, …).
    pub name: String,
    /// `@tag`: the repository tag the package must come from (world file only).
    pub tag: Option<String>,
    /// `!name`: the named package must not be installed (in the versions given).
    pub conflict: bool,
    pub constraint: Constraint,
}

/// A `p:` entry: `name` or `name=version`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Provide {
    pub name: String,
    pub version: Option<Version>,
}

/// An atom apk-tools refuses, with the atom and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DependencyError {
    #[error("{atom:?}: missing name")]
    MissingName { atom: String },
    #[error("{atom:?}: unknown operator {op:?} (one of <, <=, <~, =, ~, >=, >~, >, ><)")]
    BadOperator { atom: String, op: String },
    #[error("{atom:?}: missing version after {op:?}")]
    MissingVersion { atom: String, op: String },
    #[error("{atom:?}: {source}")]
    Version { atom: String, source: VersionError },
    #[error("{atom:?}: {source}")]
    Checksum { atom: String, source: ChecksumError },
    #[error("{atom:?}: empty repository tag after '@'")]
    EmptyTag { atom: String },
    #[error("{atom:?}: a provide is \"name\" or \"name=version\"")]
    ProvideForm { atom: String },
}

fn is_comparer(c: char) -> bool {
    matches!(c, '<' | '>' | '=' | '~')
}

/// Splits `name[op version]`: (name, op, version).
fn split_atom(atom: &str) -> (&str, &str, &str) {
    let name_end = atom.find(is_comparer).unwrap_or(atom.len());
    let (name, rest) = atom.split_at(name_end);
    let op_end = rest.find(|c: char| !is_comparer(c)).unwrap_or(rest.len());
    let (op, version) = rest.split_at(op_end);
    (name, op, version)
}

impl Dependency {
    /// Parses one atom (no whitespace inside).
    pub fn parse(atom: &str) -> Result<Dependency, DependencyError> {
        let owned = || atom.to_owned();
        let (conflict, spec) = match atom.strip_prefix('!') {
            Some(spec) => (true, spec),
            None => (false, atom),
        };
        let (name, op, version) = split_atom(spec);
        let (name, tag) = match name.split_once('@') {
            Some((_, "")) => return Err(DependencyError::EmptyTag { atom: owned() }),
            Some((name, tag)) => (name, Some(tag.to_owned())),
            None => (name, None),
        };
        if name.is_empty() {
            return Err(DependencyError::MissingName { atom: owned() });
        }
        let constraint = if op.is_empty() {
            Constraint::Any
        } else {
            if version.is_empty() {
                return Err(DependencyError::MissingVersion { atom: owned(), op: op.to_owned() });
            }
            if op == "><" {
                Constraint::Checksum(
                    Checksum::parse(version).map_err(|source| DependencyError::Checksum { atom: owned(), source })?,
                )
            } else {
                let op =
                    parse_op(op).ok_or_else(|| DependencyError::BadOperator { atom: owned(), op: op.to_owned() })?;
                let version =
                    Version::parse(version).map_err(|source| DependencyError::Version { atom: owned(), source })?;
                Constraint::Version { op, version }
            }
        };
        Ok(Dependency { name: name.to_owned(), tag, conflict, constraint })
    }

    /// Whether `version` meets the version constraint, ignoring `conflict` (a checksum
    /// constraint is never met by a version alone).
    pub fn matches_version(&self, version: &Version) -> bool {
        match &self.constraint {
            Constraint::Any => true,
            Constraint::Version { op, version: reference } => op.matches(version, reference),
            Constraint::Checksum(_) => false,
        }
    }

    /// apk's `apk_version_match`: whether a package of this atom's name at `version` is
    /// acceptable — it meets the constraint, or, for a conflict (`!name`), it does not.
    pub fn satisfied_by(&self, version: &Version) -> bool {
        self.matches_version(version) != self.conflict
    }

    /// Whether `package` is what the atom names, ignoring `conflict`: by its own name and
    /// version (or checksum), or by a provide — a versioned constraint needs a versioned
    /// provide (`p:name=version`).
    pub fn provided_by(&self, package: &Package) -> bool {
        if package.name == self.name {
            return match &self.constraint {
                Constraint::Checksum(checksum) => *checksum == package.checksum,
                _ => self.matches_version(&package.version),
            };
        }
        package.provides.iter().any(|provide| {
            provide.name == self.name
                && match (&self.constraint, &provide.version) {
                    (Constraint::Any, _) => true,
                    (_, Some(version)) => self.matches_version(version),
                    (_, None) => false,
                }
        })
    }

    /// Whether `package` is acceptable to the atom: it provides what the atom names, or, for a
    /// conflict, it does not.
    pub fn satisfied_by_package(&self, package: &Package) -> bool {
        self.provided_by(package) != self.conflict
    }
}

/// The operators apk-tools writes (and `=~`, an alias of `~`).
fn parse_op(op: &str) -> Option<VersionOp> {
    Some(match op {
        "<" => VersionOp::Less,
        "<=" => VersionOp::LessOrEqual,
        "<~" => VersionOp::LessOrFuzzy,
        "=" => VersionOp::Equal,
        "~" | "=~" => VersionOp::Fuzzy,
        ">=" => VersionOp::GreaterOrEqual,
        ">~" => VersionOp::GreaterOrFuzzy,
        ">" => VersionOp::Greater,
        _ => return None,
    })
}

impl fmt::Display for Dependency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.conflict {
            f.write_str("!")?;
        }
        f.write_str(&self.name)?;
        if let Some(tag) = &self.tag {
            write!(f, "@{tag}")?;
        }
        match &self.constraint {
            Constraint::Any => Ok(()),
            Constraint::Version { op, version } => write!(f, "{op}{version}"),
            Constraint::Checksum(checksum) => write!(f, "><{checksum}"),
        }
    }
}

impl Provide {
    /// Parses `name` or `name=version`.
    pub fn parse(atom: &str) -> Result<Provide, DependencyError> {
        let owned = || atom.to_owned();
        let (name, op, version) = split_atom(atom);
        if name.is_empty() {
            return Err(DependencyError::MissingName { atom: owned() });
        }
        let version = match op {
            "" => None,
            "=" if version.is_empty() => {
                return Err(DependencyError::MissingVersion { atom: owned(), op: op.to_owned() });
            }
            "=" => Some(Version::parse(version).map_err(|source| DependencyError::Version { atom: owned(), source })?),
            _ => return Err(DependencyError::ProvideForm { atom: owned() }),
        };
        if name.starts_with('!') || name.contains('@') {
            return Err(DependencyError::ProvideForm { atom: owned() });
        }
        Ok(Provide { name: name.to_owned(), version })
    }
}

impl fmt::Display for Provide {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)?;
        if let Some(version) = &self.version {
            write!(f, "={version}")?;
        }
        Ok(())
    }
}

/// Parses a whitespace-separated list of atoms (`D:`, `i:`, world file).
pub fn parse_dependencies(field: &str) -> Result<Vec<Dependency>, DependencyError> {
    field.split_whitespace().map(Dependency::parse).collect()
}

/// Parses a whitespace-separated list of provides (`p:`).
pub fn parse_provides(field: &str) -> Result<Vec<Provide>, DependencyError> {
    field.split_whitespace().map(Provide::parse).collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn v(text: &str) -> Version {
        Version::parse(text).unwrap()
    }

    #[test]
    fn apk_atoms_parse() {
        let deps = parse_dependencies(
            "ca-certificates-bundle libcurl=8.9.1-r2 so:libc.musl-x86_64.so.1 so:libcurl.so.4 !busybox-suid \
             cmd:sh /bin/sh musl>=1.2.5 python3~3.12 pc:zlib>1.2 busybox<1.37 openssl@edge><Q1Zq6Rb0aKqPuA8BePxEqlbzyfCOc=",
        )
        .unwrap();
        assert_eq!(deps.len(), 12);
        assert_eq!(deps[0].constraint, Constraint::Any);
        assert_eq!(deps[1].constraint, Constraint::Version { op: VersionOp::Equal, version: v("8.9.1-r2") });
        assert_eq!(deps[2].name, "so:libc.musl-x86_64.so.1");
        assert!(deps[4].conflict);
        assert_eq!(deps[4].name, "busybox-suid");
        assert_eq!(deps[6].name, "/bin/sh");
        assert!(matches!(deps[8].constraint, Constraint::Version { op: VersionOp::Fuzzy, .. }));
        assert_eq!(deps[11].tag.as_deref(), Some("edge"));
        assert!(matches!(deps[11].constraint, Constraint::Checksum(Checksum::Sha1(_))));
        let rendered: Vec<String> = deps.iter().map(ToString::to_string).collect();
        assert_eq!(rendered[4], "!busybox-suid");
        assert_eq!(rendered[7], "musl>=1.2.5");
        assert_eq!(rendered[11], "openssl@edge><Q1Zq6Rb0aKqPuA8BePxEqlbzyfCOc=");
        for dep in &deps {
            assert_eq!(&Dependency::parse(&dep.to_string()).unwrap(), dep);
        }
    }

    #[test]
    fn apk_operators_match_like_apk_version_match() {
        let table = [
            ("musl>=1.2.5", "1.2.5-r0", true),
            ("musl>=1.2.5", "1.2.4_git20230717-r4", false),
            ("musl>1.2.5", "1.2.5", false),
            ("musl>1.2.5", "1.2.5-r0", true),
            ("musl<1.2.5", "1.2.5_rc1", true),
            ("musl<=1.2.5-r0", "1.2.5-r0", true),
            ("musl=1.2.5-r0", "1.2.5-r1", false),
            ("python3~3.12", "3.12.8-r1", true),
            ("python3~3.12", "3.13.0-r0", false),
            ("python3=~3.12", "3.12.1", true),
            ("a<~3.6", "3.5", true),
            ("a<~3.6", "3.6.2", true),
            ("a<~3.6", "3.7", false),
            ("a>~3.6", "3.7", true),
            ("a>~3.6", "3.6_pre1", true),
            ("a>~3.6", "3.5", false),
            ("!busybox-suid", "1.36.1-r29", false),
            ("!a<2", "1.0", false),
            ("!a<2", "2.0", true),
            ("a", "0", true),
        ];
        for (atom, version, expected) in table {
            assert_eq!(Dependency::parse(atom).unwrap().satisfied_by(&v(version)), expected, "{atom} by {version}");
        }
    }

    #[test]
    fn apk_provides_parse() {
        let provides = parse_provides("so:libcurl.so.4=4.8.0 cmd:curl=8.9.1-r2 pc:libcurl=8.9.1 curl-any").unwrap();
        assert_eq!(provides.len(), 4);
        assert_eq!(provides[0].version.as_ref().unwrap().as_str(), "4.8.0");
        assert_eq!(provides[3].version, None);
        assert_eq!(provides[1].to_string(), "cmd:curl=8.9.1-r2");
        for bad in ["so:x>=1", "!x", "x@edge", "=1"] {
            assert!(Provide::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn apk_atom_errors_name_the_atom() {
        let cases = [
            ("!", "\"!\": missing name"),
            (">=1.0", "\">=1.0\": missing name"),
            ("musl>=", "\"musl>=\": missing version after \">=\""),
            ("musl=>1", "unknown operator \"=>\""),
            ("musl<>1", "unknown operator \"<>\""),
            ("musl>==1", "unknown operator"),
            ("musl>=1.2.5-rc1", "invalid apk version \"1.2.5-rc1\""),
            ("musl><Q1short", "is not an apk checksum"),
            ("musl@>=1", "empty repository tag"),
        ];
        for (atom, message) in cases {
            let err = parse_dependencies(atom).unwrap_err().to_string();
            assert!(err.contains(message), "{atom}: {err}");
        }
    }
}
