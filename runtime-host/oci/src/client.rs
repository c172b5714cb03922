//! The capability-scoped client: the only way to reach a store from outside this crate.

use std::io::Read;
use std::path::PathBuf;

use crate::layout::LayoutStore;
use crate::registry::{RegistryConfig, RegistryStore};
use crate::store::Backend;
use crate::{BlobSource, Digest, Error, ManifestHead, Progress, RawManifest, Referrer, Result, Scope, VerifyingReader};

/// A store client bound to a [`Scope`]. Every call checks the scope before any I/O.
pub struct Client {
    backend: Box<dyn Backend>,
    scope: Scope,
}

impl Client {
    /// A client for a Distribution (OCI) registry.
    pub fn registry(config: RegistryConfig, scope: Scope) -> Result<Client> {
        Ok(Client { backend: Box::new(RegistryStore::new(config, &scope)?), scope })
    }

    /// A client for a directory of OCI image layouts, one per repository (`DIR/acme/x`).
    pub fn layout(root: impl Into<PathBuf>, scope: Scope) -> Client {
        Client { backend: Box::new(LayoutStore::new(root.into())), scope }
    }

    pub fn scope(&self) -> &Scope {
        &self.scope
    }

    pub fn describe(&self) -> String {
        self.backend.describe()
    }

    /// Fetch a manifest by tag or digest. When `reference` is a digest the bytes are verified.
    pub fn get_manifest(&self, repo: &str, reference: &str) -> Result<RawManifest> {
        self.scope.check_read(repo)?;
        let m = self.backend.get_manifest(repo, reference)?;
        let actual = Digest::of(&m.bytes);
        if Digest::is_valid(reference) && actual.as_str() != reference {
            return Err(Error::DigestMismatch {
                what: format!("manifest {repo}@{reference}"),
                expected: reference.parse()?,
                actual,
            });
        }
        Ok(RawManifest { digest: actual, ..m })
    }

    pub fn head_manifest(&self, repo: &str, reference: &str) -> Result<Option<ManifestHead>> {
        self.scope.check_read(repo)?;
        self.backend.head_manifest(repo, reference)
    }

    /// Stream a blob; the stream fails at its end unless content matches `digest` (and `size`).
    pub fn open_blob(&self, repo: &str, digest: &Digest, size: Option<u64>) -> Result<Box<dyn Read + Send>> {
        self.scope.check_read(repo)?;
        let inner = self.backend.open_blob(repo, digest)?;
        Ok(Box::new(VerifyingReader::new(inner, digest.clone(), size)))
    }

    /// Read a whole (small) blob, verified, refusing more than `limit` bytes.
    pub fn read_blob(&self, repo: &str, digest: &Digest, limit: u64) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        self.open_blob(repo, digest, None)?
            .take(limit + 1)
            .read_to_end(&mut out)
            .map_err(|e| Error::io(format!("reading blob {repo}@{digest}"), e))?;
        if out.len() as u64 > limit {
            return Err(Error::InvalidManifest(format!("blob {repo}@{digest} is larger than {limit} bytes")));
        }
        Ok(out)
    }

    pub fn blob_exists(&self, repo: &str, digest: &Digest) -> Result<Option<u64>> {
        self.scope.check_read(repo)?;
        self.backend.blob_exists(repo, digest)
    }

    /// Upload a blob. It is sent even when the store has it already (one round trip fewer
    /// for the small new blobs that are most uploads): check [`Client::blob_exists`] first
    /// where the bytes are large.
    pub fn put_blob(
        &self,
        repo: &str,
        digest: &Digest,
        size: u64,
        source: &BlobSource,
        progress: &dyn Progress,
    ) -> Result<()> {
        self.scope.check_write(repo)?;
        self.backend.put_blob(repo, digest, size, source, progress)
    }

    /// Make `digest` of repository `from` available in `repo` without moving bytes through us.
    pub fn mount_blob(&self, repo: &str, from: &str, digest: &Digest) -> Result<bool> {
        self.scope.check_write(repo)?;
        self.scope.check_read(from)?;
        self.backend.mount_blob(repo, from, digest)
    }

    pub fn put_manifest(&self, repo: &str, reference: &str, media_type: &str, bytes: &[u8]) -> Result<Digest> {
        self.scope.check_write(repo)?;
        self.backend.put_manifest(repo, reference, media_type, bytes)
    }

    pub fn list_tags(&self, repo: &str) -> Result<Vec<String>> {
        self.scope.check_read(repo)?;
        self.backend.list_tags(repo)
    }

    /// The manifests in `repo` whose `subject` is `digest` (OCI 1.1 referrers API), only those of
    /// `artifact_type` when given. `Ok(None)`: the store has no referrers API (fall back to the tag scheme).
    pub fn referrers(&self, repo: &str, digest: &Digest, artifact_type: Option<&str>) -> Result<Option<Vec<Referrer>>> {
        self.scope.check_read(repo)?;
        self.backend.referrers(repo, digest, artifact_type)
    }
}
