//! `APKINDEX` entries: stanzas of `<letter>:<value>` lines separated by blank lines. The same
//! syntax holds the package part of `/lib/apk/db/installed`, whose per-file lines (`F:`, `R:`,
//! `Z:`, …) are skipped here.

use serde::{Deserialize, Serialize};

use super::checksum::{Checksum, ChecksumError};
use super::dependency::{Dependency, DependencyError, Provide, parse_dependencies, parse_provides};
use super::version::{Version, VersionError};
use crate::deb::excerpt;

/// One package of an `APKINDEX`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Package {
    /// `C:`: the SHA-1 of the package's control segment, its identity.
    pub checksum: Checksum,
    /// `P:`
    pub name: String,
    /// `V:`
    pub version: Version,
    /// `A:` (`x86_64`, `aarch64`, `noarch`, …).
    pub arch: Option<String>,
    /// `S:`: size of the `.apk` in bytes.
    pub size: Option<u64>,
    /// `I:`: installed size in bytes.
    pub installed_size: Option<u64>,
    /// `T:`: one-line description.
    pub description: String,
    /// `U:`
    pub url: Option<String>,
    /// `L:`
    pub license: Option<String>,
    /// `o:`: the origin (source) package.
    pub origin: Option<String>,
    /// `m:`
    pub maintainer: Option<String>,
    /// `t:`: build time, seconds since the Unix epoch.
    pub build_time: Option<u64>,
    /// `c:`: the aports commit.
    pub commit: Option<String>,
    /// `k:`: provider priority (which provider of a name wins).
    pub provider_priority: Option<u64>,
    /// `D:`
    pub depends: Vec<Dependency>,
    /// `p:`
    pub provides: Vec<Provide>,
    /// `i:`: install automatically when all these are installed.
    pub install_if: Vec<Dependency>,
}

impl Package {
    /// The package's file name in its repository: `<name>-<version>.apk`.
    pub fn file_name(&self) -> String {
        format!("{}-{}.apk", self.name, self.version)
    }
}

/// What is wrong with one value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValueProblem {
    #[error(transparent)]
    Version(#[from] VersionError),
    #[error(transparent)]
    Dependency(#[from] DependencyError),
    #[error(transparent)]
    Checksum(#[from] ChecksumError),
    #[error("{0:?} is not a number")]
    Number(String),
    #[error("value is empty")]
    Empty,
}

/// An `APKINDEX` that cannot be read, naming the line, the package and the key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IndexError {
    #[error("line {line}: expected \"<letter>:<value>\", found {text:?}")]
    BadLine { line: usize, text: String },
    #[error("line {line}: key {key}: appears twice in one entry")]
    DuplicateKey { line: usize, key: char },
    #[error("entry at line {line}: missing P: (package name)")]
    MissingName { line: usize },
    #[error("entry at line {line} (package {package}): missing {key}: ({what})")]
    MissingKey { line: usize, package: String, key: char, what: &'static str },
    #[error("line {line} (package {package}): {key}: {source}")]
    InvalidValue { line: usize, package: String, key: char, source: ValueProblem },
}

/// Keys of the installed database that describe files, repeated per file; skipped.
const FILE_KEYS: &[char] = &['F', 'M', 'R', 'Z', 'a', 'r', 'q', 's', 'f', 'g'];

/// One entry's lines: (line, key, value).
struct Entry<'a> {
    line: usize,
    values: Vec<(usize, char, &'a str)>,
}

impl<'a> Entry<'a> {
    fn get(&self, key: char) -> Option<(usize, &'a str)> {
        self.values.iter().find(|(_, k, _)| *k == key).map(|(line, _, value)| (*line, *value))
    }

    fn package(&self) -> Result<Package, IndexError> {
        let name = match self.get('P') {
            Some((_, name)) if !name.trim().is_empty() => name.trim(),
            _ => return Err(IndexError::MissingName { line: self.line }),
        };
        let invalid = |line: usize, key: char, source: ValueProblem| IndexError::InvalidValue {
            line,
            package: name.to_owned(),
            key,
            source,
        };
        let optional = |key: char| -> Result<Option<(usize, &'a str)>, IndexError> {
            match self.get(key) {
                None => Ok(None),
                Some((line, value)) if value.trim().is_empty() => Err(invalid(line, key, ValueProblem::Empty)),
                Some((line, value)) => Ok(Some((line, value.trim()))),
            }
        };
        let required = |key: char, what: &'static str| {
            optional(key)?.ok_or_else(|| IndexError::MissingKey {
                line: self.line,
                package: name.to_owned(),
                key,
                what,
            })
        };
        let text = |key: char| Ok::<_, IndexError>(optional(key)?.map(|(_, value)| value.to_owned()));
        let number = |key: char| -> Result<Option<u64>, IndexError> {
            optional(key)?
                .map(|(line, value)| {
                    value.parse().map_err(|_| invalid(line, key, ValueProblem::Number(value.to_owned())))
                })
                .transpose()
        };
        let list = |key: char| -> Result<Vec<Dependency>, IndexError> {
            let Some((line, value)) = self.get(key) else { return Ok(Vec::new()) };
            parse_dependencies(value).map_err(|err| invalid(line, key, err.into()))
        };

        let (line, checksum) = required('C', "checksum")?;
        let checksum = Checksum::parse(checksum).map_err(|err| invalid(line, 'C', err.into()))?;
        let (line, version) = required('V', "version")?;
        let version = Version::parse(version).map_err(|err| invalid(line, 'V', err.into()))?;
        let provides = match self.get('p') {
            None => Vec::new(),
            Some((line, value)) => parse_provides(value).map_err(|err| invalid(line, 'p', err.into()))?,
        };
        Ok(Package {
            checksum,
            name: name.to_owned(),
            version,
            arch: text('A')?,
            size: number('S')?,
            installed_size: number('I')?,
            description: self.get('T').map(|(_, value)| value.trim().to_owned()).unwrap_or_default(),
            url: text('U')?,
            license: text('L')?,
            origin: text('o')?,
            maintainer: text('m')?,
            build_time: number('t')?,
            commit: text('c')?,
            provider_priority: number('k')?,
            depends: list('D')?,
            provides,
            install_if: list('i')?,
        })
    }
}

/// Splits the text into entries, checking the line syntax and duplicate keys.
fn entries(text: &str) -> Result<Vec<Entry<'_>>, IndexError> {
    let mut entries = Vec::new();
    let mut current: Option<Entry<'_>> = None;
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        let content = raw.trim_end();
        if content.is_empty() {
            entries.extend(current.take());
            continue;
        }
        let mut chars = content.chars();
        let (Some(key), Some(':')) = (chars.next(), chars.next()) else {
            return Err(IndexError::BadLine { line, text: excerpt(content) });
        };
        if !key.is_ascii_alphabetic() {
            return Err(IndexError::BadLine { line, text: excerpt(content) });
        }
        let value = chars.as_str();
        let entry = current.get_or_insert_with(|| Entry { line, values: Vec::new() });
        if FILE_KEYS.contains(&key) {
            continue;
        }
        if entry.get(key).is_some() {
            return Err(IndexError::DuplicateKey { line, key });
        }
        entry.values.push((line, key, value));
    }
    entries.extend(current);
    Ok(entries)
}

/// Parses an `APKINDEX` (the text file inside `APKINDEX.tar.gz`), entries in file order.
/// `C:`, `P:` and `V:` are required; unknown keys are ignored, as apk-tools does.
pub fn parse_index(text: &str) -> Result<Vec<Package>, IndexError> {
    entries(text)?.iter().map(Entry::package).collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::apk::{Constraint, VersionOp};

    /// Excerpt of Alpine v3.20 `main/x86_64/APKINDEX`.
    const APKINDEX: &str = "\
C:Q1UwDReh1pW9QR5M35b5VIwjztYXU=
P:curl
V:8.9.1-r2
A:x86_64
S:260427
I:528384
T:URL retrival utility and library
U:https://curl.se/
L:curl
o:curl
m:Natanael Copa <ncopa@alpinelinux.org>
t:1726059516
c:806ec02bb057105e711048eb2e2135df8a0f905e
D:ca-certificates-bundle libcurl=8.9.1-r2 so:libc.musl-x86_64.so.1 so:libcurl.so.4 so:libz.so.1
p:cmd:curl=8.9.1-r2

C:Q16Xhuz53/XV/misn2cYRzbE2Lb9Q=
P:libcurl
V:8.9.1-r2
A:x86_64
S:366215
I:716800
T:The multiprotocol file transfer library
U:https://curl.se/
L:curl
o:curl
m:Natanael Copa <ncopa@alpinelinux.org>
t:1726059516
c:806ec02bb057105e711048eb2e2135df8a0f905e
D:ca-certificates-bundle so:libbrotlidec.so.1 so:libc.musl-x86_64.so.1 so:libcares.so.2 so:libcrypto.so.3 so:libidn2.so.0 so:libnghttp2.so.14 so:libpsl.so.5 so:libssl.so.3 so:libz.so.1 so:libzstd.so.1
p:so:libcurl.so.4=4.8.0

C:Q1pnXmBGfnIwxlVu3MG+SMeJRp9aM=
P:musl
V:1.2.5-r0
A:x86_64
S:411323
I:643072
T:the musl c library (libc) implementation
U:https://musl.libc.org/
L:MIT
o:musl
m:Natanael Copa <ncopa@alpinelinux.org>
t:1711483958
c:cc76f564f4925328eede5c5dc77a913bbdcb179d
p:so:libc.musl-x86_64.so.1=1

C:Q1LxBvJ/ofKKik4CrrENc7ePnJsko=
P:busybox
V:1.36.1-r29
A:x86_64
S:510012
I:955392
T:Size optimized toolbox of many common UNIX utilities
U:https://busybox.net/
L:GPL-2.0-only
o:busybox
m:Sören Tempel <soeren+alpine@soeren-tempel.net>
t:1717770519
c:12c8b886522067235bc7aa4c3fd016d73d7e21e9
D:so:libc.musl-x86_64.so.1
p:cmd:busybox=1.36.1-r29

C:Q1lwbT7Lm6vhrUIIGOxpGJ7g/9mlk=
P:busybox-binsh
V:1.36.1-r29
A:x86_64
S:1512
I:1
T:busybox ash /bin/sh
U:https://busybox.net/
L:GPL-2.0-only
o:busybox
m:Sören Tempel <soeren+alpine@soeren-tempel.net>
t:1717770519
c:12c8b886522067235bc7aa4c3fd016d73d7e21e9
k:100
D:busybox=1.36.1-r29
p:/bin/sh cmd:sh=1.36.1-r29

C:Q1X0QkK+Eo7OsccdVU1yWOm6Kc7Dk=
P:curl-doc
V:8.9.1-r2
A:x86_64
S:294041
I:311296
T:URL retrival utility and library (documentation)
U:https://curl.se/
L:curl
o:curl
m:Natanael Copa <ncopa@alpinelinux.org>
t:1726059516
c:806ec02bb057105e711048eb2e2135df8a0f905e
i:docs curl=8.9.1-r2
";

    #[test]
    fn apkindex_entries() {
        let packages = parse_index(APKINDEX).unwrap();
        let names: Vec<&str> = packages.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["curl", "libcurl", "musl", "busybox", "busybox-binsh", "curl-doc"]);
        let curl = &packages[0];
        assert_eq!(curl.checksum.to_string(), "Q1UwDReh1pW9QR5M35b5VIwjztYXU=");
        assert_eq!(curl.version.as_str(), "8.9.1-r2");
        assert_eq!(curl.arch.as_deref(), Some("x86_64"));
        assert_eq!((curl.size, curl.installed_size), (Some(260427), Some(528384)));
        assert_eq!(curl.description, "URL retrival utility and library");
        assert_eq!(curl.origin.as_deref(), Some("curl"));
        assert_eq!(curl.build_time, Some(1726059516));
        assert_eq!(curl.file_name(), "curl-8.9.1-r2.apk");
        assert_eq!(curl.depends.len(), 5);
        assert_eq!(
            curl.depends[1].constraint,
            Constraint::Version { op: VersionOp::Equal, version: Version::parse("8.9.1-r2").unwrap() }
        );

        let (libcurl, musl, busybox, binsh) = (&packages[1], &packages[2], &packages[3], &packages[4]);
        // curl's dependencies are met by name (libcurl=) and by versioned and plain provides.
        assert!(curl.depends[1].provided_by(libcurl));
        assert!(curl.depends[3].provided_by(libcurl));
        assert!(curl.depends[2].provided_by(musl));
        assert!(!curl.depends[2].provided_by(libcurl));
        assert!(Dependency::parse("so:libc.musl-x86_64.so.1>=1").unwrap().provided_by(musl));
        assert!(Dependency::parse("/bin/sh").unwrap().provided_by(binsh));
        assert!(!Dependency::parse("/bin/sh>=1").unwrap().provided_by(binsh), "unversioned provide");
        assert!(Dependency::parse("cmd:sh>=1.36").unwrap().provided_by(binsh));
        assert!(binsh.depends[0].provided_by(busybox));
        assert_eq!(binsh.provider_priority, Some(100));
        let pin = Dependency::parse(&format!("musl><{}", musl.checksum)).unwrap();
        assert!(pin.provided_by(musl));
        assert!(!Dependency::parse("!musl").unwrap().satisfied_by_package(musl));
        assert!(Dependency::parse("!musl").unwrap().satisfied_by_package(busybox));

        let doc = &packages[5];
        assert_eq!(doc.install_if.len(), 2);
        assert!(doc.depends.is_empty() && doc.provides.is_empty());
        let json = serde_json::to_value(curl).unwrap();
        assert_eq!(json["checksum"], "Q1UwDReh1pW9QR5M35b5VIwjztYXU=");
        assert_eq!(serde_json::from_value::<Package>(json).unwrap(), *curl);
    }

    #[test]
    fn installed_database_file_lines_are_skipped() {
        let installed = "C:Q1pnXmBGfnIwxlVu3MG+SMeJRp9aM=\nP:musl\nV:1.2.5-r0\nA:x86_64\nS:411323\nI:643072\n\
            T:the musl c library (libc) implementation\nr:libc6\nF:lib\nR:ld-musl-x86_64.so.1\na:0:0:755\n\
            Z:Q1rNg9l5iBcgj4H3l5l4Bz1zK3Yqk=\nR:libc.musl-x86_64.so.1\nx:some future key\n\n";
        let packages = parse_index(installed).unwrap();
        assert_eq!(packages.len(), 1);
        assert_eq!(packages[0].name, "musl");
    }

    #[test]
    fn apkindex_errors_name_line_package_and_key() {
        let cases = [
            ("P:a\nV:1\nbroken line\n", "line 3: expected \"<letter>:<value>\", found \"broken line\""),
            ("P:a\n1:x\n", "line 2: expected"),
            ("P:a\nV:1\nV:2\n", "line 3: key V: appears twice in one entry"),
            ("C:Q1UwDReh1pW9QR5M35b5VIwjztYXU=\nV:1\n", "entry at line 1: missing P: (package name)"),
            ("P:a\nV:1\n", "entry at line 1 (package a): missing C: (checksum)"),
            ("C:Q1UwDReh1pW9QR5M35b5VIwjztYXU=\nP:a\n", "entry at line 1 (package a): missing V: (version)"),
            ("C:Q1abc\nP:a\nV:1\n", "line 1 (package a): C: \"Q1abc\" is not an apk checksum"),
            (
                "C:Q1UwDReh1pW9QR5M35b5VIwjztYXU=\nP:a\nV:1.0-r\n",
                "line 3 (package a): V: invalid apk version \"1.0-r\"",
            ),
            ("C:Q1UwDReh1pW9QR5M35b5VIwjztYXU=\nP:a\nV:1\nS:big\n", "line 4 (package a): S: \"big\" is not a number"),
            (
                "C:Q1UwDReh1pW9QR5M35b5VIwjztYXU=\nP:a\nV:1\nD:musl>=\n",
                "line 4 (package a): D: \"musl>=\": missing version",
            ),
            ("C:Q1UwDReh1pW9QR5M35b5VIwjztYXU=\nP:a\nV:1\np:x>1\n", "line 4 (package a): p: \"x>1\": a provide is"),
            ("C:Q1UwDReh1pW9QR5M35b5VIwjztYXU=\nP:a\nV:1\nA:\n", "line 4 (package a): A: value is empty"),
            (
                "\n\nP:ok\nC:Q1UwDReh1pW9QR5M35b5VIwjztYXU=\nV:1\n\nP:b\nV:1\n",
                "entry at line 7 (package b): missing C:",
            ),
        ];
        for (text, message) in cases {
            let err = parse_index(text).unwrap_err().to_string();
            assert!(err.contains(message), "{text:?}: {err}");
        }
    }
}
