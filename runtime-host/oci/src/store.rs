//! The storage backend trait: what the build needs from a registry or an OCI layout.
//! Backends are crate-private; callers get a [`crate::Client`], which enforces its scope.

use std::io::Read;
use std::path::PathBuf;
use std::sync::Arc;

use crate::{Digest, Referrer, Result};

/// A manifest or index as stored: exact bytes (their sha256 is the digest) and media type.
#[derive(Debug, Clone)]
pub struct RawManifest {
    pub digest: Digest,
    pub media_type: String,
    pub bytes: Vec<u8>,
}

/// What a HEAD of a manifest tells.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestHead {
    pub digest: Digest,
    pub media_type: String,
    pub size: u64,
}

/// Opens a fresh stream of a blob's bytes (called again when an upload is retried).
pub type Opener = Arc<dyn Fn() -> Result<Box<dyn Read + Send>> + Send + Sync>;

/// Where the bytes of a blob to upload come from.
#[derive(Clone)]
pub enum BlobSource {
    Bytes(Arc<[u8]>),
    File(PathBuf),
    /// A stream, e.g. the blob being read from another registry: large ones are sent as they
    /// arrive, never held whole in memory. `what` names it in messages.
    Stream {
        what: String,
        open: Opener,
    },
}

impl std::fmt::Debug for BlobSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BlobSource::Bytes(b) => write!(f, "Bytes({} bytes)", b.len()),
            BlobSource::File(p) => write!(f, "File({})", p.display()),
            BlobSource::Stream { what, .. } => write!(f, "Stream({what})"),
        }
    }
}

impl BlobSource {
    pub fn open(&self) -> Result<Box<dyn Read + Send>> {
        match self {
            BlobSource::Bytes(b) => Ok(Box::new(std::io::Cursor::new(b.clone()))),
            BlobSource::File(p) => std::fs::File::open(p)
                .map(|f| Box::new(std::io::BufReader::new(f)) as Box<dyn Read + Send>)
                .map_err(|e| crate::Error::io(format!("opening {}", p.display()), e)),
            BlobSource::Stream { open, .. } => open(),
        }
    }

    /// What the bytes are, for messages.
    pub fn describe(&self) -> String {
        match self {
            BlobSource::Bytes(b) => format!("{} bytes in memory", b.len()),
            BlobSource::File(p) => p.display().to_string(),
            BlobSource::Stream { what, .. } => what.clone(),
        }
    }
}

/// Reports progress of long transfers (bytes done so far for one blob).
pub trait Progress: Send + Sync {
    fn transfer(&self, what: &str, done: u64, total: u64);
}

/// No progress output.
pub struct Quiet;
impl Progress for Quiet {
    fn transfer(&self, _: &str, _: u64, _: u64) {}
}

/// A store of repositories. `repo` is always a repository path without registry host
/// (`acme/dhi-python`); `reference` a tag or a digest string.
pub(crate) trait Backend: Send + Sync {
    fn get_manifest(&self, repo: &str, reference: &str) -> Result<RawManifest>;
    fn head_manifest(&self, repo: &str, reference: &str) -> Result<Option<ManifestHead>>;
    /// Unverified stream; the client wraps it in a verifying reader.
    fn open_blob(&self, repo: &str, digest: &Digest) -> Result<Box<dyn Read + Send>>;
    /// Size of the blob when present.
    fn blob_exists(&self, repo: &str, digest: &Digest) -> Result<Option<u64>>;
    fn put_blob(
        &self,
        repo: &str,
        digest: &Digest,
        size: u64,
        source: &BlobSource,
        progress: &dyn Progress,
    ) -> Result<()>;
    /// Try to make a blob of `from` available in `repo` without transferring it. `Ok(false)` when
    /// the store could not (the caller then uploads).
    fn mount_blob(&self, repo: &str, from: &str, digest: &Digest) -> Result<bool>;
    fn put_manifest(&self, repo: &str, reference: &str, media_type: &str, bytes: &[u8]) -> Result<Digest>;
    fn list_tags(&self, repo: &str) -> Result<Vec<String>>;
    /// The manifests of `repo` whose `subject` is `digest`, only those of `artifact_type` when
    /// given. `Ok(None)`: the store has no referrers API.
    fn referrers(&self, repo: &str, digest: &Digest, artifact_type: Option<&str>) -> Result<Option<Vec<Referrer>>>;
    /// Human name of the store, for messages (`http://127.0.0.1:5000`, `layout /x`).
    fn describe(&self) -> String;
}
