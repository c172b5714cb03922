//! Verifying the OpenPGP signatures of a Debian repository, as apt (with `gpgv`) does: an
//! `InRelease` file (cleartext signature) or a `Release` file with its detached `Release.gpg`,
//! against a [`Keyring`] made of the repository's key files (binary `.gpg` keyrings holding
//! several keys, or ASCII-armored `.asc` keys).
//!
//! A file is accepted when at least one of its signatures is good and was made by a key of the
//! keyring (its primary key or a signing subkey bound to it) that is neither revoked nor expired;
//! a signature by a known key that does not match the data rejects the file whatever the other
//! signatures say. Signatures by keys outside the keyring are ignored when another one is good
//! (Debian signs every suite with two keys).

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

use pgp::composed::{Deserializable, DetachedSignature, PublicOrSecret, SignedPublicKey, SignedPublicSubKey};
use pgp::crypto::hash::HashAlgorithm;
use pgp::packet::{Signature, SignatureType, SubpacketData};
use pgp::types::{KeyDetails, Tag, Timestamp};

use super::clearsign::{ClearSigned, ClearSignedError};
use super::release::{Release, ReleaseError};

/// Why a keyring, a signature or the signed data is not accepted; each message says what is
/// wrong and what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error(
        "keyring {file}: not an OpenPGP keyring (a binary .gpg keyring or an ASCII-armored .asc key): {reason}; \
         give the repository's public key as exported by `gpg --export` or `gpg --armor --export`"
    )]
    BadKeyring { file: String, reason: String },
    #[error("keyring {file}: holds no OpenPGP public key; give the repository's public key (.asc or .gpg)")]
    EmptyKeyring { file: String },
    #[error("no keyring to verify the signature with; give the repository's public keys (.asc or .gpg files)")]
    NoKeys,
    #[error(
        "the file is not signed ({0}); use the repository's InRelease, or its Release with Release.gpg, \
         as published"
    )]
    Unsigned(ClearSignedError),
    #[error("the OpenPGP cleartext signature is malformed: {0}")]
    BadClearSigned(ClearSignedError),
    #[error("the signature holds no OpenPGP signature packet; the repository's signature file is damaged")]
    NoSignature,
    #[error("the signature is not valid OpenPGP data (malformed armor or packets): {reason}")]
    BadArmor { reason: String },
    #[error(
        "signed by {}, which is not in the keyring ({}); add the repository's signing key to its keys",
        .issuers.join(", "),
        if .keyring.is_empty() { "no keyring files".to_owned() } else { .keyring.join(", ") }
    )]
    UnknownKey {
        /// The issuers of the signatures: fingerprints, or key ids when a signature names no
        /// fingerprint (uppercase hex).
        issuers: Vec<String>,
        /// The files the keyring was made of.
        keyring: Vec<String>,
    },
    #[error(
        "BAD signature by {key}: the signed data does not match it ({reason}); the file was changed after \
         it was signed or damaged in transit: fetch it again, and if this persists do not trust the \
         repository or mirror"
    )]
    BadSignature { key: String, reason: String },
    #[error(
        "the signature by {key} is of type {kind}, not a signature of data; the repository's signature file \
         is wrong"
    )]
    NotDataSignature { key: String, kind: String },
    #[error(
        "the signature by {key} uses the weak digest {algorithm}, which is not accepted; the repository must \
         be signed with SHA-256 or stronger"
    )]
    WeakDigest { key: String, algorithm: String },
    #[error(
        "{key} from {keyring} expired on {}; get the repository's current key (e.g. a newer archive keyring)",
        utc(*.expired)
    )]
    ExpiredKey { key: String, keyring: String, expired: u64 },
    #[error("{key} from {keyring} is revoked ({reason}); the repository must be signed with a valid key")]
    RevokedKey { key: String, keyring: String, reason: String },
    #[error("the signature by {key} expired on {}; the repository must be signed again", utc(*.expired))]
    ExpiredSignature { key: String, expired: u64 },
    #[error("{key} from {keyring} cannot verify signatures: {reason}")]
    UnusableKey { key: String, keyring: String, reason: String },
    #[error(transparent)]
    Release(#[from] ReleaseError),
}

/// The key whose good signature was accepted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verified {
    /// Fingerprint of the certificate's primary key (uppercase hex, as `gpg` shows it).
    pub fingerprint: String,
    /// Fingerprint of the key that made the signature: the primary key's, or a signing subkey's.
    pub signing_key: String,
    /// The certificate's primary user id, like `Debian Stable Release Key (12/bookworm)
    /// <debian-release@lists.debian.org>`.
    pub user_id: Option<String>,
    /// The keyring file the key came from.
    pub keyring: String,
    /// When the signature was made, in seconds since the Unix epoch.
    pub created: Option<u64>,
}

impl fmt::Display for Verified {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&describe(&self.fingerprint, self.user_id.as_deref()))?;
        if self.signing_key != self.fingerprint {
            write!(f, " (subkey {})", self.signing_key)?;
        }
        write!(f, " from {}", self.keyring)
    }
}

/// How one key (a primary key or a subkey) may be used to verify data signatures; computed when
/// the key is added, except expiry which depends on the time of verification.
#[derive(Clone, Debug)]
struct Status {
    fingerprint: String,
    /// Seconds since the Unix epoch.
    expires: Option<u64>,
    revoked: Option<String>,
    /// Why the key is not valid at all (no valid self-signature or binding).
    invalid: Option<String>,
    /// Why the key may not make data signatures (key flags, missing cross-certification).
    cannot_sign: Option<String>,
}

#[derive(Clone, Debug)]
struct Certificate {
    key: SignedPublicKey,
    file: String,
    user_id: Option<String>,
    primary: Status,
    /// Parallel to `key.public_subkeys`.
    subkeys: Vec<Status>,
}

impl Certificate {
    fn describe(&self) -> String {
        describe(&self.primary.fingerprint, self.user_id.as_deref())
    }
}

/// A set of trusted OpenPGP public keys, from one or more key files.
#[derive(Clone, Default)]
pub struct Keyring {
    certificates: Vec<Certificate>,
    files: Vec<String>,
}

impl fmt::Debug for Keyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Keyring").field("files", &self.files).field("fingerprints", &self.fingerprints()).finish()
    }
}

impl Keyring {
    /// An empty keyring.
    pub fn new() -> Keyring {
        Keyring::default()
    }

    /// The keys of one file: a binary keyring (`gpg --export`, several keys concatenated, like
    /// `/usr/share/keyrings/debian-archive-keyring.gpg`) or ASCII-armored keys (`.asc`, one or
    /// more armor blocks). `name` names the file in messages. Secret keys are reduced to their
    /// public part.
    pub fn from_bytes(name: &str, bytes: &[u8]) -> Result<Keyring, VerifyError> {
        let mut keyring = Keyring::new();
        keyring.add(name, bytes)?;
        Ok(keyring)
    }

    /// Adds the keys of one file (see [`Keyring::from_bytes`]); returns how many were added.
    pub fn add(&mut self, name: &str, bytes: &[u8]) -> Result<usize, VerifyError> {
        let keys = parse_keys(name, bytes)?;
        if keys.is_empty() {
            return Err(VerifyError::EmptyKeyring { file: name.to_owned() });
        }
        let count = keys.len();
        self.certificates.extend(keys.into_iter().map(|key| certificate(key, name)));
        if !self.files.iter().any(|file| file == name) {
            self.files.push(name.to_owned());
        }
        Ok(count)
    }

    /// Adds all keys of `other`.
    pub fn merge(&mut self, other: Keyring) {
        self.certificates.extend(other.certificates);
        for file in other.files {
            if !self.files.contains(&file) {
                self.files.push(file);
            }
        }
    }

    /// The primary keys' fingerprints (uppercase hex), in the order they were added, each once.
    pub fn fingerprints(&self) -> Vec<String> {
        let mut fingerprints: Vec<String> = Vec::new();
        for certificate in &self.certificates {
            if !fingerprints.contains(&certificate.primary.fingerprint) {
                fingerprints.push(certificate.primary.fingerprint.clone());
            }
        }
        fingerprints
    }

    /// The names of the files the keys came from.
    pub fn files(&self) -> &[String] {
        &self.files
    }

    /// The number of keys (certificates).
    pub fn len(&self) -> usize {
        self.certificates.len()
    }

    pub fn is_empty(&self) -> bool {
        self.certificates.is_empty()
    }
}

const ARMOR_BEGIN: &str = "-----BEGIN PGP ";

fn parse_keys(name: &str, bytes: &[u8]) -> Result<Vec<SignedPublicKey>, VerifyError> {
    let bad = |reason: String| VerifyError::BadKeyring { file: name.to_owned(), reason };
    let trimmed = bytes.trim_ascii_start();
    let mut keys = Vec::new();
    if trimmed.starts_with(ARMOR_BEGIN.as_bytes()) {
        let text = std::str::from_utf8(trimmed).map_err(|_| bad("the armored text is not UTF-8".to_owned()))?;
        let starts: Vec<usize> = text.match_indices(ARMOR_BEGIN).map(|(at, _)| at).collect();
        for (i, &start) in starts.iter().enumerate() {
            let end = starts.get(i + 1).copied().unwrap_or(text.len());
            let block = &text[start..end];
            let (parsed, _) =
                PublicOrSecret::from_armor_many_buf(block.as_bytes()).map_err(|err| bad(err.to_string()))?;
            for key in parsed {
                keys.push(public(key.map_err(|err| bad(err.to_string()))?));
            }
        }
    } else {
        let parsed = PublicOrSecret::from_bytes_many(bytes).map_err(|err| bad(err.to_string()))?;
        for key in parsed {
            keys.push(public(key.map_err(|err| bad(err.to_string()))?));
        }
    }
    Ok(keys)
}

fn public(key: PublicOrSecret) -> SignedPublicKey {
    match key {
        PublicOrSecret::Public(key) => key,
        PublicOrSecret::Secret(key) => key.to_public_key(),
    }
}

fn fingerprint_of(key: &impl KeyDetails) -> String {
    format!("{:X}", key.fingerprint())
}

fn seconds(timestamp: Timestamp) -> u64 {
    u64::from(timestamp.as_secs())
}

/// The expiry of a key created at `created` according to self-signature `sig`.
fn expiry(created: Timestamp, sig: &Signature) -> Option<u64> {
    let duration = std::time::Duration::from(sig.key_expiration_time()?).as_secs();
    (duration != 0).then(|| seconds(created) + duration)
}

/// Whether `sig` names `key` as its issuer (or names no issuer at all).
fn issued_by(sig: &Signature, key: &impl KeyDetails) -> bool {
    let ids = sig.issuer_key_id();
    let fingerprints = sig.issuer_fingerprint();
    (ids.is_empty() && fingerprints.is_empty())
        || ids.iter().any(|id| **id == key.legacy_key_id())
        || fingerprints.iter().any(|fp| **fp == key.fingerprint())
}

/// `Some(flags allow signing)` when the signature carries a key flags subpacket.
fn may_sign(sig: &Signature) -> Option<bool> {
    let config = sig.config()?;
    config
        .hashed_subpackets()
        .any(|packet| matches!(packet.data, SubpacketData::KeyFlags(_)))
        .then(|| sig.key_flags().sign())
}

fn created(sig: &Signature) -> u64 {
    sig.created().map(seconds).unwrap_or(0)
}

fn revocation_reason(sig: &Signature) -> String {
    let text = sig.revocation_reason_string().map(|reason| String::from_utf8_lossy(reason).trim().to_owned());
    match (sig.revocation_reason_code(), text) {
        (_, Some(text)) if !text.is_empty() => text,
        (Some(code), _) => format!("{code:?}"),
        _ => "no reason given".to_owned(),
    }
}

fn certificate(key: SignedPublicKey, file: &str) -> Certificate {
    let primary = &key.primary_key;
    // Valid self-certifications of user ids, newest last.
    let mut self_sigs: Vec<(&Signature, Option<String>)> = Vec::new();
    for user in &key.details.users {
        let id = String::from_utf8_lossy(user.id.id()).into_owned();
        for sig in &user.signatures {
            if issued_by(sig, primary) && sig.verify_certification(primary, Tag::UserId, &user.id).is_ok() {
                self_sigs.push((sig, Some(id.clone())));
            }
        }
    }
    for sig in &key.details.direct_signatures {
        if sig.typ() == Some(SignatureType::Key) && issued_by(sig, primary) && sig.verify_key(primary).is_ok() {
            self_sigs.push((sig, None));
        }
    }
    self_sigs.sort_by_key(|(sig, _)| created(sig));
    let user_id = self_sigs
        .iter()
        .rev()
        .find(|(sig, id)| id.is_some() && sig.is_primary())
        .or_else(|| self_sigs.iter().rev().find(|(_, id)| id.is_some()))
        .and_then(|(_, id)| id.clone());
    let newest = self_sigs.last().map(|(sig, _)| *sig);
    let revoked = key
        .details
        .revocation_signatures
        .iter()
        .find(|sig| issued_by(sig, primary) && sig.verify_key(primary).is_ok())
        .map(revocation_reason);
    let invalid = newest.is_none().then(|| "it has no valid self-signature".to_owned());
    let cannot_sign =
        newest.filter(|sig| may_sign(sig) == Some(false)).map(|_| "its key flags do not allow signing".to_owned());
    let primary_status = Status {
        fingerprint: fingerprint_of(primary),
        expires: newest.and_then(|sig| expiry(primary.created_at(), sig)),
        revoked,
        invalid,
        cannot_sign,
    };
    let subkeys = key.public_subkeys.iter().map(|subkey| subkey_status(primary, subkey)).collect();
    Certificate { file: file.to_owned(), user_id, primary: primary_status, subkeys, key }
}

fn subkey_status(primary: &pgp::packet::PublicKey, subkey: &SignedPublicSubKey) -> Status {
    let mut bindings: Vec<&Signature> = subkey
        .signatures
        .iter()
        .filter(|sig| {
            sig.typ() == Some(SignatureType::SubkeyBinding) && sig.verify_subkey_binding(primary, &subkey.key).is_ok()
        })
        .collect();
    bindings.sort_by_key(|sig| created(sig));
    let newest = bindings.last().copied();
    let revoked = subkey
        .signatures
        .iter()
        .find(|sig| {
            sig.typ() == Some(SignatureType::SubkeyRevocation)
                && sig.verify_subkey_binding(primary, &subkey.key).is_ok()
        })
        .map(revocation_reason);
    let invalid = newest.is_none().then(|| "the subkey has no valid binding signature from its primary key".to_owned());
    let cannot_sign = newest.and_then(|sig| {
        if may_sign(sig) != Some(true) {
            return Some("the subkey's key flags do not allow signing".to_owned());
        }
        match sig.embedded_signature() {
            Some(back) if back.verify_primary_key_binding(&subkey.key, primary).is_ok() => None,
            _ => Some("the signing subkey is not cross-certified (no valid primary key binding signature)".to_owned()),
        }
    });
    Status {
        fingerprint: fingerprint_of(&subkey.key),
        expires: newest.and_then(|sig| expiry(subkey.key.created_at(), sig)),
        revoked,
        invalid,
        cannot_sign,
    }
}

fn describe(fingerprint: &str, user_id: Option<&str>) -> String {
    match user_id {
        Some(id) => format!("key {fingerprint} ({id})"),
        None => format!("key {fingerprint}"),
    }
}

/// The issuer a signature names, for messages: its fingerprint, else its key id.
fn issuer(sig: &Signature) -> String {
    if let Some(fingerprint) = sig.issuer_fingerprint().first() {
        return format!("key {fingerprint:X}");
    }
    match sig.issuer_key_id().first() {
        Some(id) => format!("key id {}", id.to_string().to_uppercase()),
        None => "an unnamed key".to_owned(),
    }
}

/// What one signature says.
enum Outcome {
    Good(Verified),
    Unknown(String),
    Failed(VerifyError),
}

/// Checks `sig` over `data` with one key (primary or subkey) of `certificate`.
fn check_with(
    sig: &Signature,
    data: &[u8],
    certificate: &Certificate,
    subkey: Option<usize>,
    now: u64,
) -> Result<Verified, VerifyError> {
    let (status, verified) = match subkey {
        None => (&certificate.primary, sig.verify(&certificate.key.primary_key, data)),
        Some(index) => (&certificate.subkeys[index], sig.verify(&certificate.key.public_subkeys[index].key, data)),
    };
    let key = match subkey {
        None => certificate.describe(),
        Some(_) => format!("{} (subkey {})", certificate.describe(), status.fingerprint),
    };
    let keyring = certificate.file.clone();
    match sig.typ() {
        Some(SignatureType::Binary | SignatureType::Text) => {}
        other => {
            let kind = other.map_or_else(|| "unknown".to_owned(), |kind| format!("{kind:?}"));
            return Err(VerifyError::NotDataSignature { key, kind });
        }
    }
    if let Some(algorithm @ (HashAlgorithm::Md5 | HashAlgorithm::Sha1 | HashAlgorithm::Ripemd160)) = sig.hash_alg() {
        return Err(VerifyError::WeakDigest { key, algorithm: algorithm.to_string() });
    }
    if let Err(err) = verified {
        return Err(VerifyError::BadSignature { key, reason: err.to_string() });
    }
    if let Some(reason) = &status.cannot_sign {
        return Err(VerifyError::UnusableKey { key, keyring, reason: reason.clone() });
    }
    for status in [Some(&certificate.primary), subkey.map(|_| status)].into_iter().flatten() {
        if let Some(reason) = &status.invalid {
            return Err(VerifyError::UnusableKey { key, keyring, reason: reason.clone() });
        }
        if let Some(reason) = &status.revoked {
            return Err(VerifyError::RevokedKey { key, keyring, reason: reason.clone() });
        }
        if let Some(expired) = status.expires.filter(|&expires| expires <= now) {
            return Err(VerifyError::ExpiredKey { key, keyring, expired });
        }
    }
    let signed_at = sig.created().map(seconds);
    if let (Some(at), Some(duration)) = (signed_at, sig.signature_expiration_time()) {
        let duration = std::time::Duration::from(duration).as_secs();
        if duration != 0 && at + duration <= now {
            return Err(VerifyError::ExpiredSignature { key, expired: at + duration });
        }
    }
    Ok(Verified {
        fingerprint: certificate.primary.fingerprint.clone(),
        signing_key: status.fingerprint.clone(),
        user_id: certificate.user_id.clone(),
        keyring,
        created: signed_at,
    })
}

fn check(sig: &Signature, data: &[u8], keyring: &Keyring, now: u64) -> Outcome {
    let mut failure = None;
    for certificate in &keyring.certificates {
        let subkeys = certificate.key.public_subkeys.iter().enumerate().map(|(i, subkey)| (Some(i), &subkey.key));
        let primary = std::iter::once((None, &certificate.key.primary_key));
        let candidates: Vec<Option<usize>> = primary
            .map(|(index, key)| (index, issued_by(sig, key)))
            .chain(subkeys.map(|(index, key)| (index, issued_by(sig, key))))
            .filter(|(_, matches)| *matches)
            .map(|(index, _)| index)
            .collect();
        for subkey in candidates {
            match check_with(sig, data, certificate, subkey, now) {
                Ok(verified) => return Outcome::Good(verified),
                Err(err) => {
                    failure.get_or_insert(err);
                }
            }
        }
    }
    // A signature that names no issuer was tried with every key: its failures only say that
    // none of them made it.
    let named = !sig.issuer_key_id().is_empty() || !sig.issuer_fingerprint().is_empty();
    match failure {
        Some(err) if named => Outcome::Failed(err),
        _ => Outcome::Unknown(issuer(sig)),
    }
}

fn unix(now: SystemTime) -> u64 {
    now.duration_since(UNIX_EPOCH).map(|duration| duration.as_secs()).unwrap_or(0)
}

/// Combines the outcomes of all signatures (see the module documentation).
fn verify_signatures(
    signatures: &[Signature],
    data: &[u8],
    keyring: &Keyring,
    now: u64,
) -> Result<Verified, VerifyError> {
    if keyring.is_empty() {
        return Err(VerifyError::NoKeys);
    }
    if signatures.is_empty() {
        return Err(VerifyError::NoSignature);
    }
    let mut good = None;
    let mut failure = None;
    let mut unknown = Vec::new();
    for sig in signatures {
        match check(sig, data, keyring, now) {
            Outcome::Good(verified) => {
                good.get_or_insert(verified);
            }
            Outcome::Unknown(issuer) => unknown.push(issuer),
            Outcome::Failed(err @ VerifyError::BadSignature { .. }) => return Err(err),
            Outcome::Failed(err) => {
                failure.get_or_insert(err);
            }
        }
    }
    match (good, failure) {
        (Some(verified), _) => Ok(verified),
        (None, Some(err)) => Err(err),
        (None, None) => Err(VerifyError::UnknownKey { issuers: unknown, keyring: keyring.files.clone() }),
    }
}

fn parse_signatures(signature: &[u8]) -> Result<Vec<Signature>, VerifyError> {
    let bad = |err: pgp::errors::Error| VerifyError::BadArmor { reason: err.to_string() };
    if signature.trim_ascii().is_empty() {
        return Err(VerifyError::NoSignature);
    }
    let (parsed, _) = DetachedSignature::from_reader_many_buf(signature).map_err(bad)?;
    parsed.map(|sig| sig.map(|sig| sig.signature).map_err(bad)).collect()
}

/// Verifies an `InRelease` file at the current time and parses the `Release` it carries.
pub fn verify_inrelease(text: &str, keyring: &Keyring) -> Result<(Release, Verified), VerifyError> {
    verify_inrelease_at(text, keyring, SystemTime::now())
}

/// [`verify_inrelease`] at time `now` (for key and signature expiry).
pub fn verify_inrelease_at(text: &str, keyring: &Keyring, now: SystemTime) -> Result<(Release, Verified), VerifyError> {
    let signed = ClearSigned::parse(text).map_err(|err| {
        let begins = text.lines().any(|line| line.trim_end() == "-----BEGIN PGP SIGNED MESSAGE-----");
        if begins { VerifyError::BadClearSigned(err) } else { VerifyError::Unsigned(err) }
    })?;
    let signatures = parse_signatures(signed.signature.as_bytes())?;
    let verified = verify_signatures(&signatures, &signed.signed_data(), keyring, unix(now))?;
    let (release, _) = Release::parse_inrelease(text)?;
    Ok((release, verified))
}

/// Verifies a detached signature (like `Release.gpg`, armored or binary) of `data` at the
/// current time.
pub fn verify_detached(data: &[u8], signature: &[u8], keyring: &Keyring) -> Result<Verified, VerifyError> {
    verify_detached_at(data, signature, keyring, SystemTime::now())
}

/// [`verify_detached`] at time `now`.
pub fn verify_detached_at(
    data: &[u8],
    signature: &[u8],
    keyring: &Keyring,
    now: SystemTime,
) -> Result<Verified, VerifyError> {
    let signatures = parse_signatures(signature)?;
    verify_signatures(&signatures, data, keyring, unix(now))
}

/// Verifies a `Release` file with its `Release.gpg` at the current time and parses it.
pub fn verify_release(release: &[u8], signature: &[u8], keyring: &Keyring) -> Result<(Release, Verified), VerifyError> {
    let verified = verify_detached(release, signature, keyring)?;
    let text = String::from_utf8_lossy(release);
    Ok((Release::parse(&text)?, verified))
}

/// `YYYY-MM-DD HH:MM:SS UTC` of seconds since the Unix epoch.
fn utc(seconds: u64) -> String {
    let days = seconds / 86_400;
    let rest = seconds % 86_400;
    // Howard Hinnant's civil_from_days.
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC", rest / 3600, rest % 3600 / 60, rest % 60)
}

#[cfg(test)]
mod tests;
