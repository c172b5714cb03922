//! `Release` files (and the signed body of `InRelease`): what a Debian repository's suite holds
//! and the SHA-256 of every index file, which apt checks each downloaded index against.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::clearsign::{ClearSigned, ClearSignedError};
use super::control::{ControlError, Field, Stanza, Stanzas, excerpt};
use crate::digest::Sha256Digest;

/// One line of the `SHA256` list: an index file of the suite.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReleaseFile {
    /// Path relative to the `Release` file's directory, like `main/binary-amd64/Packages.xz`.
    pub path: String,
    pub size: u64,
    pub sha256: Sha256Digest,
}

/// A parsed `Release` file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Release {
    pub origin: Option<String>,
    pub label: Option<String>,
    pub suite: Option<String>,
    pub version: Option<String>,
    pub codename: Option<String>,
    /// `Date`, as written (RFC 2822).
    pub date: Option<String>,
    /// `Valid-Until`, as written (RFC 2822).
    pub valid_until: Option<String>,
    pub architectures: Vec<String>,
    pub components: Vec<String>,
    /// `Acquire-By-Hash: yes`: indexes can be fetched from `…/by-hash/SHA256/<hash>`.
    pub acquire_by_hash: bool,
    /// The `SHA256` list by path.
    pub files: BTreeMap<String, ReleaseFile>,
}

/// A `Release` or `InRelease` file that cannot be used, naming the line and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReleaseError {
    #[error(transparent)]
    Control(#[from] ControlError),
    #[error(transparent)]
    ClearSigned(#[from] ClearSignedError),
    #[error("the release file is empty")]
    Empty,
    #[error("line {line}: the release file has more than one stanza")]
    ExtraStanza { line: usize },
    #[error("the release file has no SHA256 field (weak or no checksums)")]
    MissingSha256,
    #[error("line {line}: field SHA256: {text:?} is not \"<sha256> <size> <path>\": {problem}")]
    BadFileLine { line: usize, text: String, problem: String },
    #[error("line {line}: field SHA256 lists {path} twice")]
    DuplicateFile { line: usize, path: String },
    #[error("line {line}: field Acquire-By-Hash: {value:?} is not yes or no")]
    BadAcquireByHash { line: usize, value: String },
}

impl ReleaseError {
    fn shifted(self, by: usize) -> Self {
        match self {
            ReleaseError::Control(err) => ReleaseError::Control(err.shifted(by)),
            ReleaseError::ExtraStanza { line } => ReleaseError::ExtraStanza { line: line + by },
            ReleaseError::BadFileLine { line, text, problem } => {
                ReleaseError::BadFileLine { line: line + by, text, problem }
            }
            ReleaseError::DuplicateFile { line, path } => ReleaseError::DuplicateFile { line: line + by, path },
            ReleaseError::BadAcquireByHash { line, value } => ReleaseError::BadAcquireByHash { line: line + by, value },
            other @ (ReleaseError::ClearSigned(_) | ReleaseError::Empty | ReleaseError::MissingSha256) => other,
        }
    }
}

fn single(stanza: &Stanza<'_>, name: &str) -> Option<String> {
    stanza.get(name).map(str::trim).filter(|value| !value.is_empty()).map(str::to_owned)
}

fn words(stanza: &Stanza<'_>, name: &str) -> Vec<String> {
    stanza.get(name).map(|value| value.split_whitespace().map(str::to_owned).collect()).unwrap_or_default()
}

fn parse_file_line(number: usize, line: &str) -> Result<ReleaseFile, ReleaseError> {
    let bad = |problem: String| ReleaseError::BadFileLine { line: number, text: excerpt(line.trim()), problem };
    let parts: Vec<&str> = line.split_whitespace().collect();
    let [hash, size, path] = parts.as_slice() else {
        return Err(bad(format!("{} words instead of 3", parts.len())));
    };
    let sha256 = Sha256Digest::parse(hash).map_err(|err| bad(err.to_string()))?;
    let size = size.parse().map_err(|_| bad(format!("size {size:?} is not a number")))?;
    Ok(ReleaseFile { path: (*path).to_owned(), size, sha256 })
}

fn parse_files(field: &Field<'_>) -> Result<BTreeMap<String, ReleaseFile>, ReleaseError> {
    let mut files = BTreeMap::new();
    for (number, line) in field.lines() {
        if line.trim().is_empty() {
            continue;
        }
        let file = parse_file_line(number, line)?;
        if files.contains_key(&file.path) {
            return Err(ReleaseError::DuplicateFile { line: number, path: file.path });
        }
        files.insert(file.path.clone(), file);
    }
    Ok(files)
}

impl Release {
    /// Parses a `Release` file (one stanza). A `SHA256` field is required; `MD5Sum` and `SHA1`
    /// lists are ignored.
    pub fn parse(text: &str) -> Result<Release, ReleaseError> {
        let mut stanzas = Stanzas::new(text);
        let stanza = stanzas.next().ok_or(ReleaseError::Empty)??;
        if let Some(next) = stanzas.next() {
            return Err(ReleaseError::ExtraStanza { line: next?.line });
        }
        let acquire_by_hash = match stanza.field("Acquire-By-Hash") {
            None => false,
            Some(field) => match field.value.trim() {
                "yes" => true,
                "no" => false,
                other => {
                    return Err(ReleaseError::BadAcquireByHash { line: field.line, value: other.to_owned() });
                }
            },
        };
        let files = parse_files(stanza.field("SHA256").ok_or(ReleaseError::MissingSha256)?)?;
        Ok(Release {
            origin: single(&stanza, "Origin"),
            label: single(&stanza, "Label"),
            suite: single(&stanza, "Suite"),
            version: single(&stanza, "Version"),
            codename: single(&stanza, "Codename"),
            date: single(&stanza, "Date"),
            valid_until: single(&stanza, "Valid-Until"),
            architectures: words(&stanza, "Architectures"),
            components: words(&stanza, "Components"),
            acquire_by_hash,
            files,
        })
    }

    /// Takes an `InRelease` file apart and parses its signed text; error lines are lines of
    /// the `InRelease` file. The signature is returned for the caller to verify.
    pub fn parse_inrelease(input: &str) -> Result<(Release, ClearSigned), ReleaseError> {
        let signed = ClearSigned::parse(input)?;
        let release = Release::parse(&signed.text).map_err(|err| err.shifted(signed.text_line.saturating_sub(1)))?;
        Ok((release, signed))
    }

    /// The `SHA256` entry for `path` (relative to the `Release` file's directory).
    pub fn file(&self, path: &str) -> Option<&ReleaseFile> {
        self.files.get(path)
    }

    /// The `Packages` index files of `dir` (like `main/binary-amd64`, or `""` for a flat
    /// repository) listed in the `SHA256` list, best compression first: `.xz`, `.gz`, plain.
    pub fn packages_indexes(&self, dir: &str) -> Vec<&ReleaseFile> {
        let prefix = if dir.is_empty() { String::new() } else { format!("{}/", dir.trim_end_matches('/')) };
        ["Packages.xz", "Packages.gz", "Packages"]
            .iter()
            .filter_map(|name| self.files.get(&format!("{prefix}{name}")))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// Excerpt of Debian bookworm's `Release` (the real one lists ~600 files).
    const BOOKWORM_RELEASE: &str = "\
Origin: Debian
Label: Debian
Suite: stable
Version: 12.11
Codename: bookworm
Changelogs: https://metadata.ftp-master.debian.org/changelogs/@CHANGEPATH@_changelog
Date: Sat, 17 May 2025 08:59:17 UTC
Acquire-By-Hash: yes
No-Support-for-Architecture-all: Packages
Architectures: all amd64 arm64 armel armhf i386 mips64el mipsel ppc64el s390x
Components: main contrib non-free-firmware non-free
Description: Debian 12.11 Released 17 May 2025
MD5Sum:
 0ed6d4c8891eb86358b94bb35d9e4da4  1484322 contrib/Contents-all
 d0a0325a97c42fd5f66a8c3e29bcea64    98581 contrib/Contents-all.gz
SHA256:
 d6c9c82f4e61b4662f9ba16b9ebb379c57b4943f8b7813091d1f637325ddfb79  1484322 contrib/Contents-all
 3e9a121d599b56c08bc8f144e4830807c77c29d7114316d6984ba54695d3db7b    98581 contrib/Contents-all.gz
 7c4a1b5fd5e3d1b7e2a9a8e8a5e6c1b9d2f3a4e5b6c7d8e9f0a1b2c3d4e5f6a7  8902112 main/binary-amd64/Packages.xz
 a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192 45263432 main/binary-amd64/Packages
 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef  9987654 main/binary-amd64/Packages.gz
 fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210      117 main/binary-amd64/Release
";

    #[test]
    fn release_fields_and_sha256_list() {
        let release = Release::parse(BOOKWORM_RELEASE).unwrap();
        assert_eq!(release.suite.as_deref(), Some("stable"));
        assert_eq!(release.codename.as_deref(), Some("bookworm"));
        assert_eq!(release.origin.as_deref(), Some("Debian"));
        assert_eq!(release.version.as_deref(), Some("12.11"));
        assert_eq!(release.date.as_deref(), Some("Sat, 17 May 2025 08:59:17 UTC"));
        assert_eq!(release.valid_until, None);
        assert!(release.acquire_by_hash);
        assert_eq!(release.architectures.len(), 10);
        assert_eq!(release.components, ["main", "contrib", "non-free-firmware", "non-free"]);
        assert_eq!(release.files.len(), 6);
        let gz = release.file("contrib/Contents-all.gz").unwrap();
        assert_eq!(gz.size, 98581);
        assert_eq!(gz.sha256.to_string(), "3e9a121d599b56c08bc8f144e4830807c77c29d7114316d6984ba54695d3db7b");
        assert!(release.file("contrib/Contents-amd64").is_none());
        let indexes: Vec<&str> =
            release.packages_indexes("main/binary-amd64").iter().map(|f| f.path.as_str()).collect();
        assert_eq!(
            indexes,
            ["main/binary-amd64/Packages.xz", "main/binary-amd64/Packages.gz", "main/binary-amd64/Packages"]
        );
        assert!(release.packages_indexes("main/binary-arm64").is_empty());
    }

    #[test]
    fn flat_repository_release() {
        let empty = Sha256Digest::of(b"");
        let text =
            format!("Date: Mon, 01 Jan 2024 00:00:00 UTC\nSHA256:\n {empty} 0 Packages\n {empty} 0 Packages.gz\n");
        let release = Release::parse(&text).unwrap();
        let indexes: Vec<&str> = release.packages_indexes("").iter().map(|f| f.path.as_str()).collect();
        assert_eq!(indexes, ["Packages.gz", "Packages"]);
        assert_eq!(release.suite, None);
        assert!(!release.acquire_by_hash);
    }

    fn inrelease(body: &str) -> String {
        let escaped: String = body
            .lines()
            .map(|line| if line.starts_with('-') { format!("- {line}\n") } else { format!("{line}\n") })
            .collect();
        format!(
            "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA512\n\n{escaped}-----BEGIN PGP SIGNATURE-----\n\niQIzBAEBCAAd\n=H0cT\n-----END PGP SIGNATURE-----\n"
        )
    }

    #[test]
    fn inrelease_body_parses_like_release() {
        let (release, signed) = Release::parse_inrelease(&inrelease(BOOKWORM_RELEASE)).unwrap();
        assert_eq!(release, Release::parse(BOOKWORM_RELEASE).unwrap());
        assert_eq!(signed.text, BOOKWORM_RELEASE);
        assert_eq!(signed.hashes, ["SHA512"]);
        assert!(signed.signature.starts_with("-----BEGIN PGP SIGNATURE-----\n"));
    }

    #[test]
    fn release_errors_name_the_line() {
        let sha = "d6c9c82f4e61b4662f9ba16b9ebb379c57b4943f8b7813091d1f637325ddfb79";
        let cases = [
            (String::new(), "the release file is empty"),
            ("Suite: stable\n".to_owned(), "no SHA256 field"),
            (format!("Suite: stable\nSHA256:\n {sha} 12\n"), "line 3: field SHA256: "),
            (format!("SHA256:\n {sha} 12\n"), "2 words instead of 3"),
            (format!("SHA256:\n {sha} twelve main/Packages\n"), "line 2: field SHA256: "),
            (format!("SHA256:\n {sha} twelve main/Packages\n"), "size \"twelve\" is not a number"),
            ("SHA256:\n abcd 12 main/Packages\n".to_owned(), "\"abcd\" is not a SHA-256 digest"),
            (format!("SHA256:\n {sha} 1 a\n {sha} 2 a\n"), "line 3: field SHA256 lists a twice"),
            (format!("Acquire-By-Hash: sure\nSHA256:\n {sha} 1 a\n"), "line 1: field Acquire-By-Hash: \"sure\""),
            (format!("SHA256:\n {sha} 1 a\n\nSuite: again\n"), "line 4: the release file has more than one stanza"),
            ("Suite stable\n".to_owned(), "line 1: expected \"Field: value\""),
        ];
        for (text, expected) in cases {
            let err = Release::parse(&text).unwrap_err().to_string();
            assert!(err.contains(expected), "{text:?}: {err}");
        }
    }

    #[test]
    fn inrelease_errors_name_lines_of_the_inrelease_file() {
        let body = "Suite: stable\nSHA256:\n abcd 12 main/Packages\n";
        let err = Release::parse_inrelease(&inrelease(body)).unwrap_err().to_string();
        assert!(err.starts_with("line 6: field SHA256: \"abcd 12 main/Packages\""), "{err}");
        let err = Release::parse_inrelease(body).unwrap_err().to_string();
        assert!(err.starts_with("line 1: unexpected \"Suite: stable\" outside the signed message"), "{err}");
    }
}
