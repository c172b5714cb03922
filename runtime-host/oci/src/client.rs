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
    /// Remember blobs seen in repositories ([`crate::known`]): for registries, where asking costs
    /// a round trip and the registry's CPU; not for layout directories.
    remembers: bool,
}

impl Client {
    /// A client for a Distribution (OCI) registry.
    pub fn registry(config: RegistryConfig, scope: Scope) -> Result<Client> {
        Ok(Client { backend: Box::new(RegistryStore::new(config, &scope)?), scope, remembers: true })
    }

    /// A client for a directory of OCI image layouts, one per repository (`DIR/acme/x`).
    pub fn layout(root: impl Into<PathBuf>, scope: Scope) -> Client {
        Client { backend: Box::new(LayoutStore::new(root.into())), scope, remembers: false }
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

    /// Whether the store has `digest` in `repo`, and its size: always asks the store.
    pub fn blob_exists(&self, repo: &str, digest: &Digest) -> Result<Option<u64>> {
        self.scope.check_read(repo)?;
        let found = self.backend.blob_exists(repo, digest)?;
        if self.remembers {
            match found {
                Some(_) => crate::known::remember(&self.backend.describe(), repo, digest),
                None => crate::known::forget(&self.backend.describe(), repo, digest),
            }
        }
        Ok(found)
    }

    /// Whether `digest` is in `repo`, answered from what this process saw there in the last
    /// minutes when it can (no round trip), else asked. For blobs a manifest about to be pushed
    /// names: if one was deleted since, the registry refuses the manifest as naming an unknown
    /// blob, and the pusher checks again with [`Client::blob_exists`].
    pub fn blob_known(&self, repo: &str, digest: &Digest) -> Result<bool> {
        self.scope.check_read(repo)?;
        if self.remembers && crate::known::recalls(&self.backend.describe(), repo, digest) {
            return Ok(true);
        }
        Ok(self.blob_exists(repo, digest)?.is_some())
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
        self.backend.put_blob(repo, digest, size, source, progress)?;
        self.seen(repo, digest);
        Ok(())
    }

    fn seen(&self, repo: &str, digest: &Digest) {
        if self.remembers {
            crate::known::remember(&self.backend.describe(), repo, digest);
        }
    }

    /// Make `digest` of repository `from` available in `repo` without moving bytes through us.
    pub fn mount_blob(&self, repo: &str, from: &str, digest: &Digest) -> Result<bool> {
        self.scope.check_write(repo)?;
        self.scope.check_read(from)?;
        let mounted = self.backend.mount_blob(repo, from, digest)?;
        if mounted {
            self.seen(repo, digest);
        }
        Ok(mounted)
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
