//! Debian versions (deb-version(7), Debian Policy §5.6.12): parsed and validated as dpkg's
//! `parseversion` does, ordered as dpkg's `verrevcmp` does.

use std::cmp::Ordering;
use std::fmt;

/// A Debian version `[epoch:]upstream_version[-debian_revision]`.
///
/// Equality and ordering are dpkg's, not textual: `1.0`, `0:1.0`, `1.0-0` and `1.00` are all
/// equal; `~` sorts before anything, even the end of the string (`1.0~rc1 < 1.0`). An absent
/// revision compares as the empty string, which equals `0`. The text is kept as written (without
/// surrounding whitespace) for [`Display`](fmt::Display) and serialization.
#[derive(Clone)]
pub struct Version {
    text: String,
    epoch: u32,
    /// Byte range of the upstream version in `text`.
    upstream: (usize, usize),
    /// Byte offset of the revision in `text` (after the last `-`), if there is one.
    revision: Option<usize>,
}

/// A version dpkg refuses, with the version text and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VersionError {
    #[error("version is empty")]
    Empty,
    #[error("version {version:?} contains whitespace")]
    EmbeddedSpace { version: String },
    #[error("version {version:?}: epoch is empty (nothing before ':')")]
    EmptyEpoch { version: String },
    #[error("version {version:?}: epoch {epoch:?} is not a number")]
    EpochNotNumber { version: String, epoch: String },
    #[error("version {version:?}: epoch {epoch:?} is too big")]
    EpochTooBig { version: String, epoch: String },
    #[error("version {version:?}: upstream version is empty")]
    EmptyUpstream { version: String },
    #[error("version {version:?}: revision is empty (nothing after the last '-')")]
    EmptyRevision { version: String },
    #[error(
        "version {version:?}: invalid character {character:?} in the upstream version \
         (letters, digits and . + - ~ : are allowed)"
    )]
    InvalidUpstreamChar { version: String, character: char },
    #[error(
        "version {version:?}: invalid character {character:?} in the revision (letters, digits and . + ~ are allowed)"
    )]
    InvalidRevisionChar { version: String, character: char },
}

impl Version {
    /// Parses a version as dpkg does: surrounding whitespace is ignored; the epoch is the part
    /// before the first `:` (a number up to 2^31-1), the revision the part after the last `-`.
    /// An upstream version that does not start with a digit is accepted (dpkg only warns).
    pub fn parse(text: &str) -> Result<Self, VersionError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(VersionError::Empty);
        }
        let version = || text.to_owned();
        if text.contains(char::is_whitespace) {
            return Err(VersionError::EmbeddedSpace { version: version() });
        }
        let (epoch, upstream_start) = match text.split_once(':') {
            None => (0, 0),
            Some((epoch, _)) => {
                if epoch.is_empty() {
                    return Err(VersionError::EmptyEpoch { version: version() });
                }
                if !epoch.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(VersionError::EpochNotNumber { version: version(), epoch: epoch.to_owned() });
                }
                let too_big = || VersionError::EpochTooBig { version: version(), epoch: epoch.to_owned() };
                let value: u32 = epoch.parse().map_err(|_| too_big())?;
                if value > i32::MAX as u32 {
                    return Err(too_big());
                }
                (value, epoch.len() + 1)
            }
        };
        let rest = text.get(upstream_start..).unwrap_or("");
        let (upstream, revision) = match rest.rsplit_once('-') {
            None => (rest, None),
            Some((upstream, revision)) => (upstream, Some(revision)),
        };
        if upstream.is_empty() {
            return Err(VersionError::EmptyUpstream { version: version() });
        }
        if let Some(character) = upstream.chars().find(|&c| !(c.is_ascii_alphanumeric() || ".+-~:".contains(c))) {
            return Err(VersionError::InvalidUpstreamChar { version: version(), character });
        }
        if let Some(revision) = revision {
            if revision.is_empty() {
                return Err(VersionError::EmptyRevision { version: version() });
            }
            if let Some(character) = revision.chars().find(|&c| !(c.is_ascii_alphanumeric() || ".+~".contains(c))) {
                return Err(VersionError::InvalidRevisionChar { version: version(), character });
            }
        }
        let upstream_end = upstream_start + upstream.len();
        Ok(Version {
            text: text.to_owned(),
            epoch,
            upstream: (upstream_start, upstream_end),
            revision: revision.map(|_| upstream_end + 1),
        })
    }

    /// The version as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The epoch (0 when absent).
    pub fn epoch(&self) -> u32 {
        self.epoch
    }

    /// The upstream version.
    pub fn upstream(&self) -> &str {
        self.text.get(self.upstream.0..self.upstream.1).unwrap_or("")
    }

    /// The Debian revision, if the version has one.
    pub fn revision(&self) -> Option<&str> {
        self.revision.map(|start| self.text.get(start..).unwrap_or(""))
    }
}

/// dpkg's character weight: `~` before the end of the string, which is before letters, which
/// are before every other character. Digits never reach this comparison (weight 0).
fn weight(c: Option<u8>) -> i32 {
    match c {
        None => 0,
        Some(b'~') => -1,
        Some(c) if c.is_ascii_digit() => 0,
        Some(c) if c.is_ascii_alphabetic() => i32::from(c),
        Some(c) => i32::from(c) + 256,
    }
}

fn is_digit(c: Option<&u8>) -> bool {
    c.is_some_and(u8::is_ascii_digit)
}

/// dpkg's `verrevcmp`: alternating non-digit runs (compared by [`weight`]) and digit runs
/// (compared numerically, of any length).
fn verrevcmp(a: &str, b: &str) -> Ordering {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        while a.get(i).is_some_and(|c| !c.is_ascii_digit()) || b.get(j).is_some_and(|c| !c.is_ascii_digit()) {
            let (x, y) = (weight(a.get(i).copied()), weight(b.get(j).copied()));
            if x != y {
                return x.cmp(&y);
            }
            i += 1;
            j += 1;
        }
        while a.get(i) == Some(&b'0') {
            i += 1;
        }
        while b.get(j) == Some(&b'0') {
            j += 1;
        }
        let mut first_difference = Ordering::Equal;
        while is_digit(a.get(i)) && is_digit(b.get(j)) {
            if first_difference == Ordering::Equal {
                first_difference = a.get(i).cmp(&b.get(j));
            }
            i += 1;
            j += 1;
        }
        if is_digit(a.get(i)) {
            return Ordering::Greater;
        }
        if is_digit(b.get(j)) {
            return Ordering::Less;
        }
        if first_difference != Ordering::Equal {
            return first_difference;
        }
    }
    Ordering::Equal
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        self.epoch
            .cmp(&other.epoch)
            .then_with(|| verrevcmp(self.upstream(), other.upstream()))
            .then_with(|| verrevcmp(self.revision().unwrap_or(""), other.revision().unwrap_or("")))
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Debug for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Version({:?})", self.text)
    }
}

eq_by_ord!(Version);
text_form!(Version, VersionError);

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn v(text: &str) -> Version {
        Version::parse(text).unwrap()
    }

    #[test]
    fn version_parts() {
        let version = v("1:2.36-9+deb12u4");
        assert_eq!((version.epoch(), version.upstream(), version.revision()), (1, "2.36", Some("9+deb12u4")));
        let version = v("2:1.2-3-4");
        assert_eq!((version.epoch(), version.upstream(), version.revision()), (2, "1.2-3", Some("4")));
        let version = v(" 8.4.0 ");
        assert_eq!(
            (version.epoch(), version.upstream(), version.revision(), version.as_str()),
            (0, "8.4.0", None, "8.4.0")
        );
        let version = v("1:2:3");
        assert_eq!((version.epoch(), version.upstream()), (1, "2:3"));
    }

    #[test]
    fn version_ordering_table() {
        use Ordering::{Equal as E, Greater as G, Less as L};
        let table = [
            ("1.0~rc1", L, "1.0"),
            ("1.0~rc1", L, "1.0~rc2"),
            ("1.0~~", L, "1.0~"),
            ("1.0~~a", L, "1.0~"),
            ("1.0~", L, "1.0"),
            ("1.0", L, "1.0a"),
            ("1.0a", L, "1.0+"),
            ("1.0", L, "1.0+b1"),
            ("1.0", L, "1.0.1"),
            ("1:0.1", G, "2.0"),
            ("0:2.0", E, "2.0"),
            ("1.0-1", L, "1.0-1+b1"),
            ("2.36-9+deb12u4", G, "2.36-9"),
            ("2.36-9+deb12u4", L, "2.36-9+deb12u10"),
            ("2.36-9+deb12u4", L, "2.36-10"),
            ("1.2.3", E, "1.2.3-0"),
            ("1.2.3", L, "1.2.3-1"),
            ("1.2.3", E, "1.00002.3"),
            ("1.9", L, "1.10"),
            ("7.88.1-10+deb12u5", L, "7.88.1-10+deb12u12"),
            ("7.88.1-10+deb12u5", G, "7.74.0-1.3+deb11u14"),
            ("8.14.1-2", G, "7.88.1-10+deb12u12"),
            ("1.2a", L, "1.2b"),
            ("1.2z", L, "1.2."),
            ("1.2-a", L, "1.2-."),
            ("a", L, "b"),
            ("1.0.0", G, "1.0"),
            ("3.0~beta1+dfsg", L, "3.0"),
            ("2.0+dfsg-1", G, "2.0-1"),
            ("0.9", L, "1:0.1"),
            ("1.1.1w-0+deb12u1", L, "3.0.15-1~deb12u1"),
            ("3.0.15-1~deb12u1", L, "3.0.15-1"),
            ("18446744073709551617", G, "18446744073709551616"),
            ("10", G, "9"),
            ("1.18.26", G, "1.18.3"),
        ];
        for (a, expected, b) in table {
            assert_eq!(v(a).cmp(&v(b)), expected, "{a} vs {b}");
            assert_eq!(v(b).cmp(&v(a)), expected.reverse(), "{b} vs {a}");
            assert_eq!(v(a) == v(b), expected == E, "{a} == {b}");
        }
    }

    #[test]
    fn version_sorts_a_list() {
        let mut versions: Vec<Version> =
            ["1.0", "1.0~rc1", "1:0.1", "1.0-1", "1.0+b1", "0.9", "1.0~~"].iter().map(|s| v(s)).collect();
        versions.sort();
        let sorted: Vec<&str> = versions.iter().map(Version::as_str).collect();
        assert_eq!(sorted, ["0.9", "1.0~~", "1.0~rc1", "1.0", "1.0-1", "1.0+b1", "1:0.1"]);
    }

    #[test]
    fn version_accepts_upstream_not_starting_with_a_digit() {
        let version = v("git20240101");
        assert_eq!(version.upstream(), "git20240101");
    }

    #[test]
    fn version_rejects_invalid_text_naming_the_problem() {
        let cases = [
            ("", "version is empty"),
            ("   ", "version is empty"),
            ("1.0 2", "contains whitespace"),
            (":1.0", "epoch is empty"),
            ("a:1.0", "epoch \"a\" is not a number"),
            ("-1:1.0", "is not a number"),
            ("99999999999:1.0", "epoch \"99999999999\" is too big"),
            ("2147483648:1.0", "too big"),
            ("1:", "upstream version is empty"),
            ("-1", "upstream version is empty"),
            ("1.0-", "revision is empty"),
            ("1.0_1", "invalid character '_' in the upstream version"),
            ("1.0é", "invalid character 'é' in the upstream version"),
            ("1:1.0-1:2", "invalid character ':' in the revision"),
            ("1.0-1:2", "epoch \"1.0-1\" is not a number"),
            ("1.0-1_2", "invalid character '_' in the revision"),
        ];
        for (text, message) in cases {
            let err = Version::parse(text).unwrap_err().to_string();
            assert!(err.contains(message), "{text:?}: {err}");
            if !text.trim().is_empty() {
                assert!(err.contains(&format!("{:?}", text.trim())), "{text:?}: {err}");
            }
        }
        assert!(Version::parse("2147483647:1").is_ok());
    }

    #[test]
    fn version_serializes_as_written() {
        let version = v("1:2.36-9+deb12u4");
        let json = serde_json::to_string(&version).unwrap();
        assert_eq!(json, "\"1:2.36-9+deb12u4\"");
        let back: Version = serde_json::from_str(&json).unwrap();
        assert_eq!(back.as_str(), version.as_str());
        assert!(serde_json::from_str::<Version>("\"1.0-\"").is_err());
    }
}
