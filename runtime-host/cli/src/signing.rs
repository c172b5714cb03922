//! Which signing key a command uses: `--key FILE`, else `TAILOR_SIGNING_KEY` (the PEM text);
//! the service also falls back to the key in its data directory, made on first start.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use tailor_sign::{PrivateKey, write_key_pair};

pub const KEY_ENV: &str = "TAILOR_SIGNING_KEY";

/// The key of `--key` or the environment; `None` when neither is given.
pub fn explicit_key(flag: Option<&Path>) -> Result<Option<Arc<PrivateKey>>> {
    if let Some(path) = flag {
        return Ok(Some(Arc::new(key_file(path).context("--key")?)));
    }
    match std::env::var(KEY_ENV) {
        Ok(pem) if !pem.trim().is_empty() => Ok(Some(Arc::new(PrivateKey::from_pem(&pem, KEY_ENV)?))),
        _ => Ok(None),
    }
}

/// The service's key: explicit, else `DATA/keys/tailor.key`, generated when missing.
pub fn service_key(flag: Option<&Path>, data: &Path) -> Result<Arc<PrivateKey>> {
    if let Some(key) = explicit_key(flag)? {
        return Ok(key);
    }
    let dir = data.join("keys");
    let path = dir.join("tailor.key");
    if path.exists() {
        return Ok(Arc::new(key_file(&path)?));
    }
    let key = PrivateKey::generate()?;
    let (private, public) = write_key_pair(&key, &dir, false)?;
    eprintln!(
        "tailor: generated a signing key: {} (public key {}, fingerprint {}); builds are signed with it",
        private.display(),
        public.display(),
        key.public().fingerprint()
    );
    Ok(Arc::new(key))
}

/// The private key in `path`, refused when its group or others may read or write it: the
/// org's signing key is for tailor's user alone (what `tailor key generate` writes, and a
/// Kubernetes Secret mounted with `defaultMode: 0400`).
fn key_file(path: &Path) -> Result<PrivateKey> {
    let key = PrivateKey::from_file(path)?;
    let mode = std::fs::metadata(path).with_context(|| format!("reading {}", path.display()))?.permissions().mode();
    if mode & 0o077 != 0 {
        bail!(
            "the signing key {} may be read or written by other users (mode {:04o}): run `chmod 600 {}`",
            path.display(),
            mode & 0o7777,
            path.display()
        );
    }
    Ok(key)
}
