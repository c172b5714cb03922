//! A content-keyed cache on disk, so identical work is never done twice: compressed layers
//! and uncompressed filtered artifact trees by digest, and small JSON summaries (a base's file
//! index with its /etc/passwd and /etc/group, an artifact's filter result) by a key hashed
//! from the digests they were computed from. Entries are written atomically; a corrupt or
//! missing entry is a miss, never an error.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Serialize;
use serde::de::DeserializeOwned;
use sha2::{Digest as _, Sha256};
use tailor_oci::Digest;

/// Version of the builder's output format: part of every cache key.
pub const BUILDER: &str = concat!("tailor/", env!("CARGO_PKG_VERSION"), "+layers1");

#[derive(Debug, Clone, Default)]
pub struct Cache {
    root: Option<PathBuf>,
}

/// A key from parts (digests, paths, settings).
pub fn key<S: AsRef<str>>(parts: impl IntoIterator<Item = S>) -> String {
    let mut h = Sha256::new();
    h.update(BUILDER.as_bytes());
    for p in parts {
        h.update([0u8]);
        h.update(p.as_ref().as_bytes());
    }
    hex::encode(h.finalize())
}

impl Cache {
    /// No caching at all.
    pub fn disabled() -> Cache {
        Cache { root: None }
    }

    pub fn at(root: impl Into<PathBuf>) -> Cache {
        Cache { root: Some(root.into()) }
    }

    pub fn enabled(&self) -> bool {
        self.root.is_some()
    }

    fn path(&self, kind: &str, name: &str) -> Option<PathBuf> {
        self.root.as_ref().map(|r| r.join(kind).join(name))
    }

    pub fn get_json<T: DeserializeOwned>(&self, kind: &str, key: &str) -> Option<T> {
        let bytes = fs::read(self.path(kind, &format!("{key}.json"))?).ok()?;
        serde_json::from_slice(&bytes).ok()
    }

    pub fn put_json<T: Serialize>(&self, kind: &str, key: &str, value: &T) {
        if let (Some(path), Ok(bytes)) = (self.path(kind, &format!("{key}.json")), serde_json::to_vec(value)) {
            write_atomic(&path, &bytes);
        }
    }

    /// A value kept in postcard's binary form (for large listings: parsed several times faster).
    pub fn get_bin<T: DeserializeOwned>(&self, kind: &str, key: &str) -> Option<T> {
        let bytes = fs::read(self.path(kind, &format!("{key}.bin"))?).ok()?;
        postcard::from_bytes(&bytes).ok()
    }

    pub fn put_bin<T: Serialize>(&self, kind: &str, key: &str, value: &T) {
        if let (Some(path), Ok(bytes)) = (self.path(kind, &format!("{key}.bin")), postcard::to_allocvec(value)) {
            write_atomic(&path, &bytes);
        }
    }

    /// A cached blob, verified against its digest.
    pub fn get_blob(&self, digest: &Digest) -> Option<Arc<[u8]>> {
        let bytes = fs::read(self.path("blobs", digest.hex())?).ok()?;
        (Digest::of(&bytes) == *digest).then(|| Arc::from(bytes))
    }

    /// The file of a cached blob and its size, without reading it (the reader verifies).
    pub fn blob_file(&self, digest: &Digest) -> Option<(PathBuf, u64)> {
        let path = self.path("blobs", digest.hex())?;
        let len = fs::metadata(&path).ok().filter(|m| m.is_file())?.len();
        Some((path, len))
    }

    pub fn put_blob(&self, digest: &Digest, bytes: &[u8]) {
        if let Some(path) = self.path("blobs", digest.hex())
            && !path.exists()
        {
            write_atomic(&path, bytes);
        }
    }
}

/// Best effort: a cache that cannot be written just does not cache.
fn write_atomic(path: &Path, bytes: &[u8]) {
    let Some(dir) = path.parent() else { return };
    if fs::create_dir_all(dir).is_err() {
        return;
    }
    if let Ok(mut tmp) = tempfile::NamedTempFile::new_in(dir)
        && tmp.write_all(bytes).is_ok()
    {
        let _ = tmp.persist(path);
    }
}
