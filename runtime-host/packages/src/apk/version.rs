//! Alpine package versions, validated and ordered with apk-tools' algorithm (`src/version.c`):
//! `digits{.digits}...[letter]{_suffix[digits]}...[~commit-hash][-r<revision>]`, where the
//! suffixes `_alpha` < `_beta` < `_pre` < `_rc` sort before the plain release, and `_cvs` <
//! `_svn` < `_git` < `_hg` < `_p` after it.

use std::cmp::Ordering;
use std::fmt;

/// Token kinds, in the order a version must follow (apk-tools' `enum PARTS`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    InitialDigit,
    Digit,
    Letter,
    Suffix,
    SuffixNumber,
    CommitHash,
    Revision,
    End,
    Invalid,
}

/// Suffix ranks: pre-release suffixes below [`NO_SUFFIX`], post-release ones above.
const SUFFIXES: [(&str, u8); 9] =
    [("alpha", 1), ("beta", 2), ("pre", 3), ("rc", 4), ("cvs", 6), ("svn", 7), ("git", 8), ("hg", 9), ("p", 10)];
const NO_SUFFIX: u8 = 5;

#[derive(Clone, Copy)]
struct Token<'a> {
    kind: Kind,
    value: &'a [u8],
    number: u64,
    suffix: u8,
}

/// A cursor over a version's tokens.
struct Tokens<'a> {
    rest: &'a [u8],
    token: Token<'a>,
}

impl<'a> Tokens<'a> {
    fn new(text: &'a [u8]) -> Self {
        let mut tokens =
            Tokens { rest: text, token: Token { kind: Kind::InitialDigit, value: &[], number: 0, suffix: 0 } };
        tokens.digits();
        tokens
    }

    /// Takes the longest prefix of `rest` whose bytes satisfy `accept`.
    fn take_while(&mut self, accept: impl Fn(u8) -> bool) -> &'a [u8] {
        let end = self.rest.iter().position(|&b| !accept(b)).unwrap_or(self.rest.len());
        let (taken, rest) = self.rest.split_at(end);
        self.rest = rest;
        taken
    }

    fn skip(&mut self, count: usize) {
        self.rest = self.rest.get(count..).unwrap_or(&[]);
    }

    /// A digit run (apk-tools wraps on overflow; so does this).
    fn digits(&mut self) {
        let value = self.take_while(|b| b.is_ascii_digit());
        self.token.value = value;
        self.token.number =
            value.iter().fold(0u64, |n, &b| n.wrapping_mul(10).wrapping_add(u64::from(b.wrapping_sub(b'0'))));
        if value.is_empty() {
            self.token.kind = Kind::Invalid;
        }
    }

    fn advance(&mut self) {
        let previous = self.token.kind;
        let Some(&first) = self.rest.first() else {
            self.token.kind = Kind::End;
            return;
        };
        match first {
            b'a'..=b'z' if previous <= Kind::Digit => {
                self.token.value = self.rest.get(..1).unwrap_or(&[]);
                self.token.kind = Kind::Letter;
                self.skip(1);
            }
            b'.' | b'0'..=b'9' => {
                if first == b'.' {
                    if previous > Kind::Digit {
                        self.token.kind = Kind::Invalid;
                        return;
                    }
                    self.skip(1);
                }
                self.token.kind = match previous {
                    Kind::InitialDigit | Kind::Digit => Kind::Digit,
                    Kind::Suffix => Kind::SuffixNumber,
                    _ => {
                        self.token.kind = Kind::Invalid;
                        return;
                    }
                };
                self.digits();
            }
            b'_' if previous <= Kind::SuffixNumber => {
                self.skip(1);
                let name = self.take_while(|b| b.is_ascii_lowercase());
                self.token.value = name;
                match SUFFIXES.iter().find(|(suffix, _)| suffix.as_bytes() == name) {
                    Some(&(_, rank)) => {
                        self.token.suffix = rank;
                        self.token.kind = Kind::Suffix;
                    }
                    None => self.token.kind = Kind::Invalid,
                }
            }
            b'~' if previous < Kind::CommitHash => {
                self.skip(1);
                let hash = self.take_while(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
                self.token.value = hash;
                self.token.kind = if hash.is_empty() { Kind::Invalid } else { Kind::CommitHash };
            }
            b'-' if previous < Kind::Revision && self.rest.starts_with(b"-r") => {
                self.skip(2);
                self.token.kind = Kind::Revision;
                self.digits();
            }
            _ => self.token.kind = Kind::Invalid,
        }
    }
}

/// Byte-wise comparison, shorter first on a common prefix (apk-tools' `apk_blob_sort`).
fn bytes_cmp(a: &[u8], b: &[u8]) -> Ordering {
    a.cmp(b)
}

/// Compares two tokens of the same kind.
fn token_cmp(a: &Token<'_>, b: &Token<'_>) -> Ordering {
    match a.kind {
        // A leading zero after a dot makes the digits compare as text (Gentoo's rule).
        Kind::Digit if a.value.first() == Some(&b'0') || b.value.first() == Some(&b'0') => bytes_cmp(a.value, b.value),
        Kind::Digit | Kind::InitialDigit | Kind::SuffixNumber | Kind::Revision => a.number.cmp(&b.number),
        Kind::Letter => a.value.first().cmp(&b.value.first()),
        Kind::Suffix => a.suffix.cmp(&b.suffix),
        _ => bytes_cmp(a.value, b.value),
    }
}

/// apk-tools' `apk_version_compare_fuzzy`. With `fuzzy`, `b` matches `a` when it is a prefix of
/// it token-wise (`3.6` matches `3.6.9`).
fn compare_tokens(a: &str, b: &str, fuzzy: bool) -> Ordering {
    let (mut ta, mut tb) = (Tokens::new(a.as_bytes()), Tokens::new(b.as_bytes()));
    while ta.token.kind == tb.token.kind && ta.token.kind < Kind::End {
        let ordering = token_cmp(&ta.token, &tb.token);
        if ordering != Ordering::Equal {
            return ordering;
        }
        ta.advance();
        tb.advance();
    }
    let (a, b) = (ta.token, tb.token);
    if a.kind == b.kind || (b.kind == Kind::End && fuzzy) {
        return Ordering::Equal;
    }
    // The longer version is later, unless what follows is a pre-release suffix.
    if a.kind == Kind::Suffix && a.suffix < NO_SUFFIX {
        return Ordering::Less;
    }
    if b.kind == Kind::Suffix && b.suffix < NO_SUFFIX {
        return Ordering::Greater;
    }
    b.kind.cmp(&a.kind)
}

/// Compares two version strings with apk-tools' algorithm, valid or not (invalid parts
/// compare as apk-tools compares them).
pub fn compare(a: &str, b: &str) -> Ordering {
    compare_tokens(a, b, false)
}

/// Whether `version` is valid for apk-tools.
fn is_valid(version: &str) -> bool {
    let mut tokens = Tokens::new(version.as_bytes());
    while tokens.token.kind < Kind::End {
        tokens.advance();
    }
    tokens.token.kind == Kind::End
}

/// A valid apk version. Equality and ordering are apk-tools' (`01.0` equals `1.0`); the text is
/// kept as written.
#[derive(Clone)]
pub struct Version(String);

/// A version apk-tools refuses.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid apk version {version:?} (expected digits{{.digits}}[letter]{{_alpha|_beta|_pre|_rc|_cvs|_svn|_git|_hg|_p[N]}}[~hash][-rN])"
)]
pub struct VersionError {
    pub version: String,
}

impl Version {
    pub fn parse(text: &str) -> Result<Self, VersionError> {
        if is_valid(text) { Ok(Version(text.to_owned())) } else { Err(VersionError { version: text.to_owned() }) }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// apk's fuzzy match (`name~prefix`): `self` starts, token-wise, with `prefix`
    /// (`3.6.9` and `3.6_pre1` match `3.6`; `3.60` does not).
    pub fn fuzzy_matches(&self, prefix: &Version) -> bool {
        compare_tokens(&self.0, &prefix.0, true) == Ordering::Equal
    }

    /// apk-tools' comparison with the fuzzy flag, for dependency matching.
    pub(crate) fn compare_fuzzy(&self, other: &Version, fuzzy: bool) -> Ordering {
        compare_tokens(&self.0, &other.0, fuzzy)
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        compare(&self.0, &other.0)
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Version({:?})", self.0)
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
    fn apk_version_ordering_table() {
        use Ordering::{Equal as E, Greater as G, Less as L};
        let table = [
            ("8.9.1-r1", L, "8.9.1-r2"),
            ("8.9.1-r2", L, "8.10.0-r0"),
            ("1.36.1-r29", G, "1.36.1-r2"),
            ("1.2.5-r0", E, "1.2.5-r0"),
            ("1.2.5", L, "1.2.5-r0"),
            ("1.0", L, "1.0.0"),
            ("1.0_alpha", L, "1.0_beta"),
            ("1.0_beta", L, "1.0_pre"),
            ("1.0_pre", L, "1.0_rc"),
            ("1.0_rc1", L, "1.0"),
            ("1.0", L, "1.0_cvs"),
            ("1.0_cvs", L, "1.0_svn"),
            ("1.0_svn", L, "1.0_git"),
            ("1.0_git", L, "1.0_hg"),
            ("1.0_hg", L, "1.0_p"),
            ("1.0_p1", L, "1.0_p2"),
            ("1.0_p9", L, "1.0_p10"),
            ("1.0_rc1", L, "1.0_rc2"),
            ("1.0_alpha_pre2", L, "1.0_alpha"),
            ("1.0_rc1-r5", L, "1.0-r0"),
            ("1.0a", L, "1.0b"),
            ("1.0", L, "1.0a"),
            ("1.0z", L, "1.1"),
            ("2.3.0b-r1", L, "2.3.0b-r2"),
            ("1.10", G, "1.9"),
            ("1.01", L, "1.1"),
            ("1.001", L, "1.01"),
            ("8.2.0", L, "8.2.001"),
            ("8.2.0015", L, "8.2.002"),
            ("01.0", E, "1.0"),
            ("006", G, "1.0.0"),
            ("1.0~1234", L, "1.0~2345"),
            ("1.0~1234-r1", G, "1.0~1234-r0"),
            ("1.0~abc", G, "1.0-r0"),
            ("3.0.15-r0", G, "3.0.8-r3"),
            ("1.1.1w-r1", G, "1.1.1t-r3"),
            ("2.40.1-r0", G, "2.4.1-r0"),
        ];
        for (a, expected, b) in table {
            assert_eq!(v(a).cmp(&v(b)), expected, "{a} vs {b}");
            assert_eq!(v(b).cmp(&v(a)), expected.reverse(), "{b} vs {a}");
        }
        // Invalid text still compares as apk-tools does: the valid prefix first.
        assert_eq!(compare("1.0", "1.0bc"), L);
    }

    #[test]
    fn apk_fuzzy_match() {
        for (version, prefix, expected) in [
            ("3.6.0", "3.6", true),
            ("3.6.9", "3.6", true),
            ("3.6_pre1", "3.6", true),
            ("3.6.9-r3", "3.6", true),
            ("3.6", "3.6", true),
            ("3.60", "3.6", false),
            ("3.5", "3.6", false),
            ("3.8", "3.8.1", false),
            ("3.8.0.1", "3.8.1", false),
        ] {
            assert_eq!(v(version).fuzzy_matches(&v(prefix)), expected, "{version} ~ {prefix}");
        }
    }

    #[test]
    fn apk_version_validity() {
        for valid in [
            "1.2",
            "0.1_pre2",
            "0.1_pre2~1234abcd",
            "0.1_p1_pre2",
            "0.1_git20240101_pre1",
            "1.36.1-r29",
            "2.3.0b-r1",
            "8.9.1-r0",
            "1.0~1234-r1",
        ] {
            assert!(Version::parse(valid).is_ok(), "{valid}");
        }
        for invalid in [
            "",
            "0.1bc",
            "0.1bc1",
            "0.1a1",
            "0.1a.1",
            "0.1_pre2~",
            "0.1_pre2~1234xbcd",
            "0.1_pre2~1234abcd_pre1",
            "0.1_foobar",
            "0.1-pre1.1",
            "0.1-r",
            "0.1-r2_pre1",
            "0.1-r2-r3",
            "0.1-r2.1",
            ".1",
            "a",
            "_pre1",
            "-r1",
            "0.1_",
            "0.1__alpha",
            "0.1_1_alpha",
            "1.0 ",
            "1.0-R1",
        ] {
            let err = Version::parse(invalid).unwrap_err();
            assert!(err.to_string().starts_with(&format!("invalid apk version {invalid:?}")), "{err}");
        }
    }

    #[test]
    fn apk_versions_sort() {
        let mut versions: Vec<Version> =
            ["1.0-r1", "1.0_rc1", "1.0", "0.9_p1", "1.0_p1", "1.0_alpha"].iter().map(|s| v(s)).collect();
        versions.sort();
        let sorted: Vec<&str> = versions.iter().map(Version::as_str).collect();
        assert_eq!(sorted, ["0.9_p1", "1.0_alpha", "1.0_rc1", "1.0", "1.0-r1", "1.0_p1"]);
    }
}
