//! ECDSA P-256 key pairs: generated from the OS's random source, written as PKCS#8 PEM
//! (`tailor.key`, mode 0600) and SPKI PEM (`tailor.pub`), read back from files or PEM text.
//! Signatures are deterministic (RFC 6979) and DER-encoded, as cosign and openssl expect.

use std::io::{Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use base64::Engine;
use p256::ecdsa::signature::{DigestSigner, Signer, Verifier};
use p256::ecdsa::{DerSignature, Signature, SigningKey, VerifyingKey};
use p256::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey, LineEnding};

use crate::error::{Result, SignError};

/// A private signing key. Its `Debug` never shows the key.
#[derive(Clone)]
pub struct PrivateKey(SigningKey);

impl std::fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PrivateKey(P-256, public {})", self.public().fingerprint())
    }
}

/// A public verification key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKey(VerifyingKey);

impl PrivateKey {
    /// A new key from /dev/urandom.
    pub fn generate() -> Result<PrivateKey> {
        let mut f = std::fs::File::open("/dev/urandom")
            .map_err(|source| SignError::Io { what: "/dev/urandom".into(), source })?;
        loop {
            let mut bytes = [0u8; 32];
            f.read_exact(&mut bytes).map_err(|source| SignError::Io { what: "/dev/urandom".into(), source })?;
            // Out-of-range scalars (probability ~2^-32) are drawn again.
            if let Ok(k) = SigningKey::from_bytes(&bytes.into()) {
                return Ok(PrivateKey(k));
            }
        }
    }

    /// Reads PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`); `what` names the source in errors.
    pub fn from_pem(pem: &str, what: &str) -> Result<PrivateKey> {
        if pem.contains("ENCRYPTED") {
            return Err(SignError::key(what, "an encrypted key (e.g. cosign's): export it unencrypted as PKCS#8 PEM"));
        }
        SigningKey::from_pkcs8_pem(pem)
            .map(PrivateKey)
            .map_err(|e| SignError::key(what, format!("not an ECDSA P-256 private key in PKCS#8 PEM ({e})")))
    }

    pub fn from_file(path: &Path) -> Result<PrivateKey> {
        let what = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| SignError::Io { what: what.clone(), source })?;
        PrivateKey::from_pem(&text, &what)
    }

    pub fn to_pem(&self) -> Result<String> {
        self.0.to_pkcs8_pem(LineEnding::LF).map(|z| z.to_string()).map_err(|e| SignError::key("private key", e))
    }

    pub fn public(&self) -> PublicKey {
        PublicKey(*self.0.verifying_key())
    }

    /// The DER-encoded ECDSA signature of SHA-256(`message`).
    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        let sig: Signature = self.0.sign(message);
        sig.to_der().as_bytes().to_vec()
    }

    /// [`PrivateKey::sign_base64`] of a message already fed to `hash`: the same signature as
    /// signing the message itself, without holding it in one buffer.
    pub fn sign_digest_base64(&self, hash: sha2::Sha256) -> String {
        let sig: Signature = self.0.sign_digest(hash);
        base64::engine::general_purpose::STANDARD.encode(sig.to_der().as_bytes())
    }

    /// [`PrivateKey::sign`], base64 (standard alphabet, padded) as cosign stores it.
    pub fn sign_base64(&self, message: &[u8]) -> String {
        base64::engine::general_purpose::STANDARD.encode(self.sign(message))
    }
}

impl PublicKey {
    /// Reads SPKI PEM (`-----BEGIN PUBLIC KEY-----`).
    pub fn from_pem(pem: &str, what: &str) -> Result<PublicKey> {
        VerifyingKey::from_public_key_pem(pem)
            .map(PublicKey)
            .map_err(|e| SignError::key(what, format!("not an ECDSA P-256 public key in SPKI PEM ({e})")))
    }

    pub fn from_file(path: &Path) -> Result<PublicKey> {
        let what = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| SignError::Io { what: what.clone(), source })?;
        PublicKey::from_pem(&text, &what)
    }

    pub fn to_pem(&self) -> Result<String> {
        self.0.to_public_key_pem(LineEnding::LF).map_err(|e| SignError::key("public key", e))
    }

    /// `sha256:<hex>` of the DER public key: a short name for the key.
    pub fn fingerprint(&self) -> String {
        let der = self.0.to_public_key_der().map(|d| d.as_bytes().to_vec()).unwrap_or_default();
        format!("sha256:{}", hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&der)))
    }

    /// Verifies a DER signature of `message`.
    pub fn verify(&self, message: &[u8], der: &[u8]) -> Result<()> {
        let sig = DerSignature::try_from(der)
            .map_err(|e| SignError::Invalid(format!("the signature is not a DER ECDSA signature ({e})")))?;
        self.0
            .verify(message, &sig)
            .map_err(|_| SignError::Invalid(format!("the signature does not verify with key {}", self.fingerprint())))
    }

    /// Verifies a base64 DER signature (cosign's annotation value).
    pub fn verify_base64(&self, message: &[u8], b64: &str) -> Result<()> {
        let der = base64::engine::general_purpose::STANDARD
            .decode(b64.trim())
            .map_err(|e| SignError::Invalid(format!("the signature is not base64 ({e})")))?;
        self.verify(message, &der)
    }
}

/// Writes `dir/tailor.key` (mode 0600) and `dir/tailor.pub`; refuses to overwrite a key
/// unless `force`. Returns the two paths.
pub fn write_key_pair(key: &PrivateKey, dir: &Path, force: bool) -> Result<(PathBuf, PathBuf)> {
    let io = |what: &Path| {
        let what = what.display().to_string();
        move |source| SignError::Io { what, source }
    };
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let (private, public) = (dir.join("tailor.key"), dir.join("tailor.pub"));
    if !force && (private.exists() || public.exists()) {
        return Err(SignError::key(
            private.display().to_string(),
            "a key already exists there; pass --force to replace it (signatures made with it will no longer verify with the new key)",
        ));
    }
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&private)
        .map_err(io(&private))?;
    // An existing file keeps its mode on open: make sure it is 0600.
    std::fs::set_permissions(&private, std::os::unix::fs::PermissionsExt::from_mode(0o600)).map_err(io(&private))?;
    f.write_all(key.to_pem()?.as_bytes()).map_err(io(&private))?;
    std::fs::write(&public, key.public().to_pem()?).map_err(io(&public))?;
    Ok((private, public))
}
