//! Copying a manifest tree byte for byte: an index's manifests, each manifest's config and
//! layers (any media type: images, Helm charts, other artifacts), bottom-up so that every
//! manifest is pushed after what it names. Each blob and manifest is handled once per sync
//! (tags share most of them): skipped when the destination has it, mounted when both sides are
//! one registry, else streamed from the upstream to the destination — verified against its
//! digest and size on the way, never held whole in memory.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use serde_json::Value;
use tailor_oci::{BlobSource, Digest, Opener, RawManifest, media};

use crate::error::{MirrorError, Result};
use crate::parallel;
use crate::sync::{Endpoints, Job, Options};

/// Indexes nested deeper than this are refused.
const MAX_DEPTH: usize = 4;
/// Manifests naming more descriptors than this are refused.
const MAX_DESCRIPTORS: usize = 10_000;

/// What a copied tree holds: every manifest digest (the top first), and an index's platforms.
#[derive(Debug, Default, Clone)]
pub(crate) struct Tree {
    pub digests: Vec<Digest>,
    pub platforms: Vec<String>,
}

/// The outcome of a blob or manifest done once per sync, shared by every tag that needs it.
type Once<T> = Arc<OnceLock<std::result::Result<T, (String, bool)>>>;

#[derive(Default)]
pub(crate) struct Stats {
    pub bytes_copied: u64,
    pub bytes_existing: u64,
    pub bytes_mounted: u64,
    pub blobs_copied: u64,
    pub manifests_copied: u64,
}

pub(crate) struct Copier<'a> {
    pub job: &'a Job,
    pub ep: &'a Endpoints,
    pub opts: &'a Options,
    blobs: Mutex<HashMap<Digest, Once<()>>>,
    manifests: Mutex<HashMap<Digest, Once<Tree>>>,
    pub(crate) attachments: Mutex<HashMap<Digest, Once<Vec<String>>>>,
    bytes_copied: AtomicU64,
    bytes_existing: AtomicU64,
    bytes_mounted: AtomicU64,
    blobs_copied: AtomicU64,
    manifests_copied: AtomicU64,
}

/// Runs `f` once per `key` in `map` (others wait for it), sharing its outcome.
pub(crate) fn once<T: Clone>(
    map: &Mutex<HashMap<Digest, Once<T>>>,
    key: &Digest,
    f: impl FnOnce() -> Result<T>,
) -> Result<T> {
    let cell = map.lock().unwrap_or_else(|p| p.into_inner()).entry(key.clone()).or_default().clone();
    cell.get_or_init(|| f().map_err(|e| (e.to_string(), e.is_transient())))
        .clone()
        .map_err(|(message, transient)| MirrorError::Earlier { message, transient })
}

/// A descriptor of a manifest: what to fetch, how big it says it is.
struct Descriptor {
    digest: Digest,
    size: u64,
    /// Foreign (non-distributable) layers name URLs and may be absent from the registry.
    foreign: bool,
}

fn descriptor(v: &Value, field: &str, what: &str) -> Result<Descriptor> {
    let digest = v["digest"].as_str().unwrap_or_default();
    let digest: Digest = digest
        .parse()
        .map_err(|_| MirrorError::BadContent(format!("{what}: {field}.digest {digest:?} is not a sha256 digest")))?;
    let size = v["size"]
        .as_u64()
        .ok_or_else(|| MirrorError::BadContent(format!("{what}: {field}.size is missing or not a number")))?;
    let foreign = v["urls"].as_array().is_some_and(|u| !u.is_empty());
    Ok(Descriptor { digest, size, foreign })
}

fn list<'v>(doc: &'v Value, field: &str, what: &str) -> Result<&'v [Value]> {
    match &doc[field] {
        Value::Null => Ok(&[]),
        Value::Array(items) if items.len() <= MAX_DESCRIPTORS => Ok(items),
        Value::Array(items) => Err(MirrorError::BadContent(format!(
            "{what}: {} entries in {field}; at most {MAX_DESCRIPTORS} are accepted",
            items.len()
        ))),
        _ => Err(MirrorError::BadContent(format!("{what}: {field} is not an array"))),
    }
}

impl<'a> Copier<'a> {
    pub(crate) fn new(job: &'a Job, ep: &'a Endpoints, opts: &'a Options) -> Copier<'a> {
        Copier {
            job,
            ep,
            opts,
            blobs: Mutex::default(),
            manifests: Mutex::default(),
            attachments: Mutex::default(),
            bytes_copied: AtomicU64::new(0),
            bytes_existing: AtomicU64::new(0),
            bytes_mounted: AtomicU64::new(0),
            blobs_copied: AtomicU64::new(0),
            manifests_copied: AtomicU64::new(0),
        }
    }

    pub(crate) fn stats(&self) -> Stats {
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        Stats {
            bytes_copied: get(&self.bytes_copied),
            bytes_existing: get(&self.bytes_existing),
            bytes_mounted: get(&self.bytes_mounted),
            blobs_copied: get(&self.blobs_copied),
            manifests_copied: get(&self.manifests_copied),
        }
    }

    /// Copies `raw` (fetched from the upstream) and everything below it; pushes `raw` by
    /// digest last. Returns every manifest digest of the tree and an index's platforms.
    pub(crate) fn copy_tree(&self, raw: &RawManifest) -> Result<Tree> {
        self.copy_manifest(raw, 0)
    }

    fn copy_manifest(&self, raw: &RawManifest, depth: usize) -> Result<Tree> {
        once(&self.manifests, &raw.digest, || self.copy_manifest_once(raw, depth))
    }

    fn copy_manifest_once(&self, raw: &RawManifest, depth: usize) -> Result<Tree> {
        let what = format!("{}@{}", self.job.source_name, raw.digest);
        if depth > MAX_DEPTH {
            return Err(MirrorError::BadContent(format!("{what}: indexes nested more than {MAX_DEPTH} deep")));
        }
        let doc: Value = serde_json::from_slice(&raw.bytes)
            .map_err(|e| MirrorError::BadContent(format!("{what}: the manifest is not JSON ({e})")))?;
        if !doc.is_object() {
            return Err(MirrorError::BadContent(format!("{what}: the manifest is not a JSON object")));
        }
        let mut tree = Tree { digests: vec![raw.digest.clone()], platforms: Vec::new() };
        let is_index =
            media::is_index(&raw.media_type) || (doc.get("manifests").is_some() && doc.get("config").is_none());
        let present = if is_index {
            let children = list(&doc, "manifests", &what)?;
            let mut descriptors = Vec::new();
            for (i, child) in children.iter().enumerate() {
                descriptors.push(descriptor(child, &format!("manifests[{i}]"), &what)?);
                if let Some(p) = platform(&child["platform"]) {
                    tree.platforms.push(p);
                }
            }
            let below = parallel::map(&descriptors, self.opts.threads, |d| -> Result<Tree> {
                let child = self.ep.upstream.get_manifest(&self.job.source, d.digest.as_str())?;
                if child.bytes.len() as u64 != d.size {
                    return Err(MirrorError::BadContent(format!(
                        "{what}: manifest {} has {} bytes, the index says {}",
                        d.digest,
                        child.bytes.len(),
                        d.size
                    )));
                }
                self.copy_manifest(&child, depth + 1)
            });
            for t in below {
                tree.digests.extend(t?.digests);
            }
            self.ep.destination.head_manifest(&self.job.destination, raw.digest.as_str())?.is_some()
        } else {
            let present = self.ep.destination.head_manifest(&self.job.destination, raw.digest.as_str())?.is_some();
            if !present {
                let mut blobs = Vec::new();
                if doc.get("config").is_some() {
                    blobs.push(descriptor(&doc["config"], "config", &what)?);
                }
                for field in ["layers", "blobs"] {
                    for (i, layer) in list(&doc, field, &what)?.iter().enumerate() {
                        blobs.push(descriptor(layer, &format!("{field}[{i}]"), &what)?);
                    }
                }
                for r in parallel::map(&blobs, self.opts.threads, |d| self.copy_blob(d)) {
                    r?;
                }
            }
            present
        };
        if !present {
            self.ep.destination.put_manifest(
                &self.job.destination,
                raw.digest.as_str(),
                &raw.media_type,
                &raw.bytes,
            )?;
            self.manifests_copied.fetch_add(1, Ordering::Relaxed);
        }
        Ok(tree)
    }

    fn copy_blob(&self, d: &Descriptor) -> Result<()> {
        once(&self.blobs, &d.digest, || {
            let (dest, source) = (&self.job.destination, &self.job.source);
            if self.ep.destination.blob_exists(dest, &d.digest)?.is_some() {
                self.bytes_existing.fetch_add(d.size, Ordering::Relaxed);
                return Ok(());
            }
            if self.ep.same_registry && self.ep.destination.mount_blob(dest, source, &d.digest)? {
                self.bytes_mounted.fetch_add(d.size, Ordering::Relaxed);
                return Ok(());
            }
            let upstream = Arc::clone(&self.ep.upstream);
            let (repo, digest, size) = (source.clone(), d.digest.clone(), d.size);
            let open: Opener = Arc::new(move || upstream.open_blob(&repo, &digest, Some(size)));
            let what = format!("{}@{}", self.job.source_name, d.digest);
            let put = self.ep.destination.put_blob(
                dest,
                &d.digest,
                d.size,
                &BlobSource::Stream { what: what.clone(), open },
                self.opts.progress.as_ref(),
            );
            match put {
                Ok(()) => {
                    self.bytes_copied.fetch_add(d.size, Ordering::Relaxed);
                    self.blobs_copied.fetch_add(1, Ordering::Relaxed);
                    Ok(())
                }
                // A foreign layer lives at its URLs, not in the registry: nothing to copy.
                Err(e) if d.foreign && e.is_not_found() => {
                    (self.opts.log)(&format!("{what}: foreign layer not in the upstream registry; left out"));
                    Ok(())
                }
                Err(e) => Err(e.into()),
            }
        })
    }
}

/// `os/arch[/variant]` of an index entry's platform (None for attestation entries such as
/// BuildKit's `unknown/unknown`).
fn platform(p: &Value) -> Option<String> {
    let (os, arch) = (p["os"].as_str()?, p["architecture"].as_str()?);
    if os == "unknown" || arch == "unknown" {
        return None;
    }
    Some(match p["variant"].as_str() {
        Some(v) if !v.is_empty() => format!("{os}/{arch}/{v}"),
        _ => format!("{os}/{arch}"),
    })
}
