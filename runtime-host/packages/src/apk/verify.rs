//! Verifying Alpine signatures, as apk-tools does for v2 files. A signed `APKINDEX.tar.gz` or
//! `.apk` starts with a gzip stream holding a tar (without its end-of-archive blocks) of
//! `.SIGN.<algorithm>.<key name>` entries: an RSA PKCS#1 v1.5 signature made with the key whose
//! file in `/etc/apk/keys` is named `<key name>`, over the SHA-1 (`RSA`), SHA-256 (`RSA256`) or
//! SHA-512 (`RSA512`) digest of the following gzip streams, as stored:
//!
//! - an index: everything after the signature ([`verify_signed`]);
//! - a package: its control stream (`.PKGINFO`), whose `datahash` is the SHA-256 of the data
//!   stream(s) after it; without a `datahash` the signature covers control and data together
//!   ([`verify_package`]).
//!
//! One good signature by a key of the set suffices; the first signature whose key is known is
//! the one checked (as apk-tools does).

use std::collections::BTreeMap;
use std::fmt;
use std::io::Read;
use std::ops::Range;

use flate2::bufread::GzDecoder;
use rsa::pkcs1::DecodeRsaPublicKey;
use rsa::pkcs8::DecodePublicKey;
use rsa::{Pkcs1v15Sign, RsaPublicKey};
use sha1::Sha1;
use sha2::{Digest, Sha256, Sha512};

use crate::digest::Sha256Digest;

/// The largest signature stream read (decompressed); real ones are about 1 KiB.
const SIGNATURE_LIMIT: u64 = 1 << 20;
/// The largest control stream read (decompressed): `.PKGINFO` and maintainer scripts.
const CONTROL_LIMIT: u64 = 64 << 20;

/// The digest an RSA signature was made over, from its entry name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Algorithm {
    /// `.SIGN.RSA.`: SHA-1 (what abuild-sign makes).
    RsaSha1,
    /// `.SIGN.RSA256.`
    RsaSha256,
    /// `.SIGN.RSA512.`
    RsaSha512,
}

impl Algorithm {
    const ALL: [Algorithm; 3] = [Algorithm::RsaSha1, Algorithm::RsaSha256, Algorithm::RsaSha512];

    /// The name in `.SIGN.<name>.<key name>`.
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::RsaSha1 => "RSA",
            Algorithm::RsaSha256 => "RSA256",
            Algorithm::RsaSha512 => "RSA512",
        }
    }

    fn verify(self, key: &RsaPublicKey, data: &[u8], signature: &[u8]) -> Result<(), rsa::Error> {
        match self {
            Algorithm::RsaSha1 => key.verify(Pkcs1v15Sign::new::<Sha1>(), &Sha1::digest(data), signature),
            Algorithm::RsaSha256 => key.verify(Pkcs1v15Sign::new::<Sha256>(), &Sha256::digest(data), signature),
            Algorithm::RsaSha512 => key.verify(Pkcs1v15Sign::new::<Sha512>(), &Sha512::digest(data), signature),
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a key or a signed file is not accepted; each message says what is wrong and what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error(
        "key {name}: not an RSA public key in PEM (\"BEGIN PUBLIC KEY\" or \"BEGIN RSA PUBLIC KEY\"): {reason}; \
         give the repository's .rsa.pub key file"
    )]
    BadKey { name: String, reason: String },
    #[error(
        "key file name {name:?} cannot name a key: give the key's file as named in the signature (like alpine-devel@lists.alpinelinux.org-6165ee59.rsa.pub)"
    )]
    BadKeyName { name: String },
    #[error("no keys to verify the signature with; give the repository's .rsa.pub key files")]
    NoKeys,
    #[error("the {part} is not a valid gzip stream ({reason}); the file is damaged: fetch it again")]
    BadGzip { part: &'static str, reason: String },
    #[error("the {part} is not a valid tar archive ({reason}); the file is damaged: fetch it again")]
    BadTar { part: &'static str, reason: String },
    #[error(
        "the file is not signed: its first gzip stream holds {} instead of a .SIGN.RSA.<key name> entry; \
         sign it with abuild-sign, or use the repository's signed file",
        .first.as_deref().map_or_else(|| "nothing".to_owned(), |name| format!("{name:?}"))
    )]
    Unsigned { first: Option<String> },
    #[error(
        "the file is signed only with unsupported algorithms ({}); only RSA, RSA256 and RSA512 signatures \
         are verified",
        .entries.join(", ")
    )]
    UnsupportedSignature { entries: Vec<String> },
    #[error(
        "signed with key {}, which is not among the keys given ({}); add the repository's key file named {}",
        .key_names.join(", "),
        if .known.is_empty() { "none".to_owned() } else { .known.join(", ") },
        .key_names.first().map_or("", String::as_str)
    )]
    UnknownKey {
        /// The key names of the signatures.
        key_names: Vec<String>,
        /// The names of the keys given.
        known: Vec<String>,
    },
    #[error(
        "BAD signature ({algorithm}) with key {key_name}: the signed content does not match it; the file was \
         changed after it was signed or damaged in transit: fetch it again, and if this persists do not \
         trust the repository or mirror"
    )]
    BadSignature { key_name: String, algorithm: Algorithm },
    #[error("the file holds a signature but no signed content; the file is truncated: fetch it again")]
    NoContent,
    #[error("the package has no control stream with a .PKGINFO after its signature; it is not a v2 .apk package")]
    NoPkgInfo,
    #[error(".PKGINFO: datahash {value:?} is not a SHA-256 digest (64 hex digits)")]
    BadDataHash { value: String },
    #[error(
        "the package's data (SHA-256 {actual}) does not match the datahash {expected} of its signed .PKGINFO; \
         the package was changed after it was signed or damaged in transit: fetch it again"
    )]
    DataHashMismatch { expected: Sha256Digest, actual: Sha256Digest },
}

/// Which key and algorithm made the good signature.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verified {
    /// The key's file name, like `alpine-devel@lists.alpinelinux.org-6165ee59.rsa.pub`.
    pub key_name: String,
    pub algorithm: Algorithm,
}

impl fmt::Display for Verified {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "key {} ({})", self.key_name, self.algorithm)
    }
}

/// A verified `.apk`: where its parts are.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedPackage {
    pub verified: Verified,
    /// The bytes of the control gzip stream (`.PKGINFO` and scripts; its SHA-1 is the package's
    /// `C:` checksum in `APKINDEX`).
    pub control: Range<usize>,
    /// The bytes of the data gzip stream (the files), up to the end of the file.
    pub data: Range<usize>,
    /// `.PKGINFO`'s `datahash`, which `data` matches; `None` when the signature covers the data
    /// directly.
    pub data_hash: Option<Sha256Digest>,
}

/// The trusted RSA keys, by file name (as `/etc/apk/keys` holds them).
#[derive(Clone, Default)]
pub struct ApkKeys {
    keys: BTreeMap<String, RsaPublicKey>,
}

impl fmt::Debug for ApkKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ApkKeys").field(&self.names()).finish()
    }
}

impl ApkKeys {
    /// No keys.
    pub fn new() -> ApkKeys {
        ApkKeys::default()
    }

    /// Adds the key of file `name` (a path is reduced to its file name, which signatures name),
    /// in PEM: SubjectPublicKeyInfo (`BEGIN PUBLIC KEY`, what Alpine publishes) or PKCS#1
    /// (`BEGIN RSA PUBLIC KEY`). A key of the same name is replaced.
    pub fn add(&mut self, name: &str, pem: &[u8]) -> Result<(), VerifyError> {
        let file_name = name.rsplit('/').next().unwrap_or(name);
        if file_name.is_empty() || file_name == "." || file_name == ".." {
            return Err(VerifyError::BadKeyName { name: name.to_owned() });
        }
        let bad = |reason: String| VerifyError::BadKey { name: name.to_owned(), reason };
        let text = std::str::from_utf8(pem).map_err(|_| bad("the file is not text".to_owned()))?.trim();
        let key = if text.starts_with("-----BEGIN RSA PUBLIC KEY-----") {
            RsaPublicKey::from_pkcs1_pem(text).map_err(|err| bad(err.to_string()))?
        } else if text.starts_with("-----BEGIN PUBLIC KEY-----") {
            RsaPublicKey::from_public_key_pem(text).map_err(|err| bad(err.to_string()))?
        } else {
            return Err(bad("no \"-----BEGIN PUBLIC KEY-----\" line".to_owned()));
        };
        self.keys.insert(file_name.to_owned(), key);
        Ok(())
    }

    /// Adds all keys of `other`.
    pub fn merge(&mut self, other: ApkKeys) {
        self.keys.extend(other.keys);
    }

    /// The keys' names, sorted.
    pub fn names(&self) -> Vec<&str> {
        self.keys.keys().map(String::as_str).collect()
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

/// A gzip stream at the start of some bytes.
struct Member {
    content: Vec<u8>,
    /// Its length in the input; `None` when the content is over the limit (then `content` holds
    /// the first `limit` bytes).
    len: Option<usize>,
}

fn gzip_member(bytes: &[u8], limit: u64, part: &'static str) -> Result<Member, VerifyError> {
    let bad = |reason: String| VerifyError::BadGzip { part, reason };
    if bytes.is_empty() {
        return Err(bad("no data".to_owned()));
    }
    let mut decoder = GzDecoder::new(bytes);
    let mut content = Vec::new();
    (&mut decoder).take(limit + 1).read_to_end(&mut content).map_err(|err| bad(err.to_string()))?;
    if content.len() as u64 > limit {
        content.truncate(limit as usize);
        return Ok(Member { content, len: None });
    }
    let rest = decoder.into_inner();
    Ok(Member { content, len: Some(bytes.len() - rest.len()) })
}

/// The entries (name, content) of a tar, which may lack its end-of-archive blocks. With
/// `partial`, the input may be cut anywhere: entries are read while they are whole.
fn tar_entries(tar: &[u8], part: &'static str, partial: bool) -> Result<Vec<(String, Vec<u8>)>, VerifyError> {
    let bad = |err: std::io::Error| VerifyError::BadTar { part, reason: err.to_string() };
    let mut archive = tar::Archive::new(tar);
    let mut entries = Vec::new();
    for entry in archive.entries().map_err(bad)? {
        let mut entry = match entry {
            Ok(entry) => entry,
            Err(_) if partial => break,
            Err(err) => return Err(bad(err)),
        };
        let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let mut content = Vec::new();
        match entry.read_to_end(&mut content) {
            Ok(_) => entries.push((name, content)),
            Err(_) if partial => {
                entries.push((name, Vec::new()));
                break;
            }
            Err(err) => return Err(bad(err)),
        }
    }
    Ok(entries)
}

struct Signature {
    algorithm: Algorithm,
    key_name: String,
    bytes: Vec<u8>,
}

/// Reads the signature stream at the start of `bytes`; returns the signatures and the
/// stream's length.
fn signatures(bytes: &[u8]) -> Result<(Vec<Signature>, usize), VerifyError> {
    let member = gzip_member(bytes, SIGNATURE_LIMIT, "signature stream")?;
    let entries = tar_entries(&member.content, "signature stream", member.len.is_none())?;
    let first = entries.first().map(|(name, _)| name.clone());
    let Some(len) = member.len else { return Err(VerifyError::Unsigned { first }) };
    let mut found = Vec::new();
    let mut unsupported = Vec::new();
    for (name, content) in entries {
        let Some(rest) = name.strip_prefix(".SIGN.") else { continue };
        let algorithm = Algorithm::ALL.into_iter().find_map(|algorithm| {
            let key_name = rest.strip_prefix(algorithm.name())?.strip_prefix('.')?;
            Some((algorithm, key_name))
        });
        match algorithm {
            Some((algorithm, key_name)) if !key_name.is_empty() => {
                found.push(Signature { algorithm, key_name: key_name.to_owned(), bytes: content })
            }
            _ => unsupported.push(name),
        }
    }
    if found.is_empty() {
        return Err(if unsupported.is_empty() {
            VerifyError::Unsigned { first }
        } else {
            VerifyError::UnsupportedSignature { entries: unsupported }
        });
    }
    Ok((found, len))
}

/// Picks the first signature whose key is known.
fn pick<'a>(signatures: &'a [Signature], keys: &'a ApkKeys) -> Result<(&'a Signature, &'a RsaPublicKey), VerifyError> {
    if keys.is_empty() {
        return Err(VerifyError::NoKeys);
    }
    signatures.iter().find_map(|signature| keys.keys.get(&signature.key_name).map(|key| (signature, key))).ok_or_else(
        || VerifyError::UnknownKey {
            key_names: signatures.iter().map(|signature| signature.key_name.clone()).collect(),
            known: keys.keys.keys().cloned().collect(),
        },
    )
}

fn check(signature: &Signature, key: &RsaPublicKey, data: &[u8]) -> Result<Verified, VerifyError> {
    let verified = Verified { key_name: signature.key_name.clone(), algorithm: signature.algorithm };
    signature.algorithm.verify(key, data, &signature.bytes).map_err(|_| VerifyError::BadSignature {
        key_name: verified.key_name.clone(),
        algorithm: verified.algorithm,
    })?;
    Ok(verified)
}

/// Verifies a signed file whose signature covers everything after it, like `APKINDEX.tar.gz`;
/// returns the signer and the offset where the signed content (the index's gzip stream) starts.
pub fn verify_signed(bytes: &[u8], keys: &ApkKeys) -> Result<(Verified, usize), VerifyError> {
    let (signatures, start) = signatures(bytes)?;
    let (signature, key) = pick(&signatures, keys)?;
    if start == bytes.len() {
        return Err(VerifyError::NoContent);
    }
    Ok((check(signature, key, &bytes[start..])?, start))
}

/// Verifies a v2 `.apk` package: the signature over its control stream and the control's
/// `datahash` over the data (or, without `datahash`, the signature over both).
pub fn verify_package(bytes: &[u8], keys: &ApkKeys) -> Result<VerifiedPackage, VerifyError> {
    let (signatures, start) = signatures(bytes)?;
    let (signature, key) = pick(&signatures, keys)?;
    if start == bytes.len() {
        return Err(VerifyError::NoContent);
    }
    let member = gzip_member(&bytes[start..], CONTROL_LIMIT, "control stream")?;
    let Some(len) = member.len else {
        return Err(VerifyError::BadGzip { part: "control stream", reason: format!("over {CONTROL_LIMIT} bytes") });
    };
    let control = start..start + len;
    let data = control.end..bytes.len();
    let entries = tar_entries(&member.content, "control stream", false)?;
    let Some((_, pkginfo)) = entries.iter().find(|(name, _)| name == ".PKGINFO") else {
        return Err(VerifyError::NoPkgInfo);
    };
    let data_hash = String::from_utf8_lossy(pkginfo)
        .lines()
        .filter_map(|line| line.split_once('='))
        .find(|(key, _)| key.trim() == "datahash")
        .map(|(_, value)| {
            let value = value.trim();
            Sha256Digest::parse(value).map_err(|_| VerifyError::BadDataHash { value: value.to_owned() })
        })
        .transpose()?;
    let verified = match data_hash {
        Some(expected) => {
            let verified = check(signature, key, &bytes[control.clone()])?;
            let actual = Sha256Digest::of(&bytes[data.clone()]);
            if actual != expected {
                return Err(VerifyError::DataHashMismatch { expected, actual });
            }
            verified
        }
        None => check(signature, key, &bytes[start..])?,
    };
    Ok(VerifiedPackage { verified, control, data, data_hash })
}

#[cfg(test)]
mod tests;
