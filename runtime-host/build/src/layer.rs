//! A layer tailor made: its compressed blob, digest, uncompressed diff ID and entry kinds.
//! A layer found in the cache is not read until it must be uploaded: most builds reuse layers
//! the registry has already.

use std::path::PathBuf;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use tailor_oci::Digest;

use crate::cache::Cache;
use crate::compress;
use crate::tarfs::{Entry, write_tar};

#[derive(Debug, Clone)]
pub struct Layer {
    blob: Blob,
    size: u64,
    pub digest: Digest,
    pub diff_id: Digest,
}

#[derive(Debug, Clone)]
enum Blob {
    Memory(Arc<[u8]>),
    /// A cache file, verified when read.
    Cached(PathBuf),
}

/// What the cache keeps about a made layer (the blob itself is under its digest).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LayerMeta {
    pub digest: Digest,
    pub diff_id: Digest,
}

impl Layer {
    /// Tar `entries` (already ordered), compress, and digest. `None` when there is nothing to add.
    pub fn from_entries(entries: &[Entry], threads: usize) -> std::io::Result<Option<Layer>> {
        if entries.is_empty() {
            return Ok(None);
        }
        let tar = write_tar(entries)?;
        let diff_id = Digest::of(&tar);
        let blob: Arc<[u8]> = compress::gzip(&tar, threads).into();
        Ok(Some(Layer { digest: Digest::of(&blob), diff_id, size: blob.len() as u64, blob: Blob::Memory(blob) }))
    }

    /// The layer of a tar compressed ahead of time (see [`compress::Ahead`]); the same layer as
    /// [`Layer::from_entries`] of the entries that tar holds.
    pub fn from_ahead(ahead: compress::Ahead, threads: usize) -> Layer {
        let diff_id = Digest::of(ahead.tar());
        let blob: Arc<[u8]> = ahead.finish(threads).into();
        Layer { digest: Digest::of(&blob), diff_id, size: blob.len() as u64, blob: Blob::Memory(blob) }
    }

    /// Look a layer up in the cache by `key`, or make it with `make` and remember it.
    pub fn cached(
        cache: &Cache,
        key: &str,
        make: impl FnOnce() -> crate::Result<Option<Layer>>,
    ) -> crate::Result<Option<Layer>> {
        if let Some(meta) = cache.get_json::<Option<LayerMeta>>("layers", key) {
            match meta {
                None => return Ok(None),
                Some(m) => {
                    if let Some((path, size)) = cache.blob_file(&m.digest) {
                        return Ok(Some(Layer {
                            blob: Blob::Cached(path),
                            size,
                            digest: m.digest,
                            diff_id: m.diff_id,
                        }));
                    }
                }
            }
        }
        let layer = make()?;
        if let Some(Layer { blob: Blob::Memory(bytes), digest, .. }) = &layer {
            cache.put_blob(digest, bytes);
        }
        cache.put_json(
            "layers",
            key,
            &layer.as_ref().map(|l| LayerMeta { digest: l.digest.clone(), diff_id: l.diff_id.clone() }),
        );
        Ok(layer)
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    /// The compressed bytes. A cached file that no longer matches its digest is removed and
    /// reported (the next attempt makes the layer again).
    pub fn bytes(&self) -> crate::Result<Arc<[u8]>> {
        match &self.blob {
            Blob::Memory(b) => Ok(b.clone()),
            Blob::Cached(path) => {
                let bytes = std::fs::read(path).map_err(|e| {
                    crate::BuildError::Internal(format!("reading the cached layer {}: {e}", path.display()))
                })?;
                if Digest::of(&bytes) != self.digest || bytes.len() as u64 != self.size {
                    let _ = std::fs::remove_file(path);
                    return Err(crate::BuildError::Internal(format!(
                        "the cached layer {} was corrupt and is removed; build again",
                        path.display()
                    )));
                }
                Ok(bytes.into())
            }
        }
    }
}
