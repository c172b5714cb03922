//! A layer tailor made: its compressed blob, digest, uncompressed diff ID and entry kinds.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use tailor_oci::Digest;

use crate::cache::Cache;
use crate::compress;
use crate::tarfs::{Entry, write_tar};

#[derive(Debug, Clone)]
pub struct Layer {
    pub blob: Arc<[u8]>,
    pub digest: Digest,
    pub diff_id: Digest,
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
        Ok(Some(Layer { digest: Digest::of(&blob), diff_id, blob }))
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
                    if let Some(blob) = cache.get_blob(&m.digest) {
                        return Ok(Some(Layer { blob, digest: m.digest, diff_id: m.diff_id }));
                    }
                }
            }
        }
        let layer = make()?;
        if let Some(l) = &layer {
            cache.put_blob(&l.digest, &l.blob);
        }
        cache.put_json(
            "layers",
            key,
            &layer.as_ref().map(|l| LayerMeta { digest: l.digest.clone(), diff_id: l.diff_id.clone() }),
        );
        Ok(layer)
    }

    pub fn size(&self) -> u64 {
        self.blob.len() as u64
    }
}
