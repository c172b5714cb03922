//! A directory of OCI image layouts, one per repository: `ROOT/acme/dhi-python/{oci-layout,index.json,blobs/sha256/…}`.
//! Tags are `org.opencontainers.image.ref.name` annotations in `index.json`, as skopeo's and
//! umoci's `oci:` transports expect. Writes go to a temporary file and are renamed into place.

use std::fs;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde_json::{Value, json};

use crate::media::sniff_manifest_type;
use crate::store::Backend;
use crate::{BlobSource, Digest, Error, ManifestHead, Progress, RawManifest, Referrer, Result, VerifyingReader};

const REF_NAME: &str = "org.opencontainers.image.ref.name";

pub(crate) struct LayoutStore {
    root: PathBuf,
    /// Tags are a read-modify-write of a repository's `index.json`: one at a time, or two
    /// tags written at once (an image's signature and attestation carriers) lose one.
    tagging: Mutex<()>,
}

impl LayoutStore {
    pub(crate) fn new(root: PathBuf) -> LayoutStore {
        LayoutStore { root, tagging: Mutex::new(()) }
    }

    fn repo_dir(&self, repo: &str) -> Result<PathBuf> {
        let ok = !repo.is_empty()
            && repo.split('/').all(|c| {
                !c.is_empty()
                    && c != "."
                    && c != ".."
                    && c.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
            });
        if !ok {
            return Err(Error::InvalidManifest(format!("`{repo}` is not a valid repository name")));
        }
        Ok(self.root.join(repo))
    }

    fn blob_path(&self, repo: &str, digest: &Digest) -> Result<PathBuf> {
        Ok(self.repo_dir(repo)?.join("blobs/sha256").join(digest.hex()))
    }

    fn read_index(&self, repo: &str) -> Result<Option<Value>> {
        let path = self.repo_dir(repo)?.join("index.json");
        match fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|e| Error::InvalidManifest(format!("{}: not a valid OCI index: {e}", path.display()))),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Error::io(format!("reading {}", path.display()), e)),
        }
    }

    /// The descriptor a tag names in `index.json`.
    fn find_tag(&self, repo: &str, tag: &str) -> Result<Option<(Digest, Option<String>)>> {
        let Some(index) = self.read_index(repo)? else { return Ok(None) };
        for m in index["manifests"].as_array().into_iter().flatten() {
            if m["annotations"][REF_NAME].as_str() == Some(tag) {
                let digest: Digest = m["digest"].as_str().unwrap_or_default().parse()?;
                return Ok(Some((digest, m["mediaType"].as_str().map(str::to_string))));
            }
        }
        Ok(None)
    }

    fn resolve(&self, repo: &str, reference: &str) -> Result<Option<(Digest, Option<String>)>> {
        if Digest::is_valid(reference) {
            let d: Digest = reference.parse()?;
            return Ok(self.blob_path(repo, &d)?.is_file().then_some((d, None)));
        }
        self.find_tag(repo, reference)
    }

    fn ensure_layout(&self, repo: &str) -> Result<PathBuf> {
        let dir = self.repo_dir(repo)?;
        let blobs = dir.join("blobs/sha256");
        fs::create_dir_all(&blobs).map_err(|e| Error::io(format!("creating {}", blobs.display()), e))?;
        let marker = dir.join("oci-layout");
        if !marker.exists() {
            write_atomic(&marker, br#"{"imageLayoutVersion":"1.0.0"}"#)?;
        }
        Ok(dir)
    }

    fn write_blob_from(&self, repo: &str, digest: &Digest, size: Option<u64>, src: impl Read) -> Result<()> {
        let dir = self.ensure_layout(repo)?;
        let target = self.blob_path(repo, digest)?;
        if target.is_file() {
            return Ok(());
        }
        let what = format!("writing blob {digest} into {}", dir.display());
        let mut tmp = tempfile::NamedTempFile::new_in(dir.join("blobs/sha256")).map_err(|e| Error::io(&what, e))?;
        let mut verified = VerifyingReader::new(src, digest.clone(), size);
        io::copy(&mut verified, &mut tmp).map_err(|e| Error::io(&what, e))?;
        tmp.persist(&target).map_err(|e| Error::io(&what, e.error))?;
        Ok(())
    }
}

fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let what = || format!("writing {}", path.display());
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(|e| Error::io(what(), e))?;
    tmp.write_all(bytes).map_err(|e| Error::io(what(), e))?;
    tmp.persist(path).map_err(|e| Error::io(what(), e.error))?;
    Ok(())
}

impl Backend for LayoutStore {
    fn get_manifest(&self, repo: &str, reference: &str) -> Result<RawManifest> {
        let (digest, media_type) = self
            .resolve(repo, reference)?
            .ok_or_else(|| Error::NotFound { what: format!("manifest {repo}:{reference} in {}", self.describe()) })?;
        let path = self.blob_path(repo, &digest)?;
        let bytes = fs::read(&path).map_err(|e| Error::io(format!("reading {}", path.display()), e))?;
        let media_type = media_type
            .or_else(|| sniff_manifest_type(&bytes))
            .ok_or_else(|| Error::InvalidManifest(format!("{repo}@{digest}: not a manifest or index")))?;
        Ok(RawManifest { digest, media_type, bytes })
    }

    fn head_manifest(&self, repo: &str, reference: &str) -> Result<Option<ManifestHead>> {
        match self.get_manifest(repo, reference) {
            Ok(m) => Ok(Some(ManifestHead { size: m.bytes.len() as u64, digest: m.digest, media_type: m.media_type })),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn open_blob(&self, repo: &str, digest: &Digest) -> Result<Box<dyn Read + Send>> {
        let path = self.blob_path(repo, digest)?;
        match fs::File::open(&path) {
            Ok(f) => Ok(Box::new(io::BufReader::with_capacity(256 * 1024, f))),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                Err(Error::NotFound { what: format!("blob {repo}@{digest} in {}", self.describe()) })
            }
            Err(e) => Err(Error::io(format!("opening {}", path.display()), e)),
        }
    }

    fn blob_exists(&self, repo: &str, digest: &Digest) -> Result<Option<u64>> {
        Ok(fs::metadata(self.blob_path(repo, digest)?).ok().filter(|m| m.is_file()).map(|m| m.len()))
    }

    fn put_blob(
        &self,
        repo: &str,
        digest: &Digest,
        size: u64,
        source: &BlobSource,
        progress: &dyn Progress,
    ) -> Result<()> {
        self.write_blob_from(repo, digest, Some(size), source.open()?)?;
        progress.transfer(&format!("blob {}", digest), size, size);
        Ok(())
    }

    fn mount_blob(&self, repo: &str, from: &str, digest: &Digest) -> Result<bool> {
        let src = self.blob_path(from, digest)?;
        if !src.is_file() {
            return Ok(false);
        }
        self.ensure_layout(repo)?;
        let dst = self.blob_path(repo, digest)?;
        if dst.is_file() || fs::hard_link(&src, &dst).is_ok() {
            return Ok(true);
        }
        let f = fs::File::open(&src).map_err(|e| Error::io(format!("opening {}", src.display()), e))?;
        self.write_blob_from(repo, digest, None, f)?;
        Ok(true)
    }

    fn put_manifest(&self, repo: &str, reference: &str, media_type: &str, bytes: &[u8]) -> Result<Digest> {
        let digest = Digest::of(bytes);
        if Digest::is_valid(reference) && reference != digest.as_str() {
            return Err(Error::DigestMismatch {
                what: format!("manifest for {repo}"),
                expected: reference.parse()?,
                actual: digest,
            });
        }
        self.write_blob_from(repo, &digest, Some(bytes.len() as u64), bytes)?;
        if Digest::is_valid(reference) {
            return Ok(digest);
        }
        let _tagging = self.tagging.lock().unwrap_or_else(|p| p.into_inner());
        let mut index = self.read_index(repo)?.unwrap_or_else(|| json!({"schemaVersion": 2, "manifests": []}));
        if index.get("mediaType").is_none() {
            index["mediaType"] = json!(crate::media::OCI_INDEX);
        }
        let mut entries: Vec<Value> = index["manifests"].as_array().cloned().unwrap_or_default();
        entries.retain(|m| m["annotations"][REF_NAME].as_str() != Some(reference));
        entries.push(json!({
            "mediaType": media_type,
            "digest": digest.as_str(),
            "size": bytes.len(),
            "annotations": { REF_NAME: reference },
        }));
        index["manifests"] = Value::Array(entries);
        let body = serde_json::to_vec(&index).map_err(|e| Error::InvalidManifest(e.to_string()))?;
        write_atomic(&self.repo_dir(repo)?.join("index.json"), &body)?;
        Ok(digest)
    }

    fn list_tags(&self, repo: &str) -> Result<Vec<String>> {
        let Some(index) = self.read_index(repo)? else {
            return Err(Error::NotFound { what: format!("repository {repo} in {}", self.describe()) });
        };
        let mut tags: Vec<String> = index["manifests"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|m| m["annotations"][REF_NAME].as_str().map(str::to_string))
            .collect();
        tags.sort();
        Ok(tags)
    }

    /// Layouts have no referrers API: referrers are found through the tag scheme.
    fn referrers(&self, repo: &str, _: &Digest, _: Option<&str>) -> Result<Option<Vec<Referrer>>> {
        self.repo_dir(repo)?;
        Ok(None)
    }

    fn describe(&self) -> String {
        format!("layout {}", self.root.display())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Client, Quiet, Scope};

    #[test]
    fn round_trips_blobs_manifests_and_tags() {
        let dir = tempfile::tempdir().unwrap();
        let c = Client::layout(dir.path(), Scope::new(["acme"], ["acme/a", "acme/b"]));
        let blob: std::sync::Arc<[u8]> = b"layer".to_vec().into();
        let d = Digest::of(&blob);
        c.put_blob("acme/a", &d, 5, &BlobSource::Bytes(blob.clone()), &Quiet).unwrap();
        assert_eq!(c.blob_exists("acme/a", &d).unwrap(), Some(5));
        assert!(c.mount_blob("acme/b", "acme/a", &d).unwrap());
        assert_eq!(c.read_blob("acme/b", &d, 100).unwrap(), b"layer");

        let m = br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json"}"#;
        let md = c.put_manifest("acme/a", "1.0", crate::media::OCI_MANIFEST, m).unwrap();
        c.put_manifest("acme/a", "1.0", crate::media::OCI_MANIFEST, m).unwrap();
        assert_eq!(c.list_tags("acme/a").unwrap(), vec!["1.0"]);
        let got = c.get_manifest("acme/a", "1.0").unwrap();
        assert_eq!((got.digest, got.bytes.as_slice()), (md.clone(), &m[..]));
        assert!(c.get_manifest("acme/a", md.as_str()).is_ok());
        assert!(c.get_manifest("acme/a", "2.0").unwrap_err().is_not_found());
    }

    #[test]
    fn refuses_wrong_content_and_scope() {
        let dir = tempfile::tempdir().unwrap();
        let c = Client::layout(dir.path(), Scope::new(["acme"], ["acme/a"]));
        let d = Digest::of(b"right");
        let err = c.put_blob("acme/a", &d, 5, &BlobSource::Bytes(b"wrong".to_vec().into()), &Quiet).unwrap_err();
        assert!(err.to_string().contains("does not match"), "{err}");
        assert_eq!(c.blob_exists("acme/a", &d).unwrap(), None);
        assert!(matches!(
            c.put_blob("acme/z", &d, 5, &BlobSource::Bytes(b"right".to_vec().into()), &Quiet),
            Err(Error::OutOfScope { .. })
        ));
        assert!(matches!(c.get_manifest("other/x", "1"), Err(Error::OutOfScope { .. })));
        assert!(!dir.path().join("acme/z").exists() && !dir.path().join("other").exists());
    }

    #[test]
    fn has_no_referrers_api() {
        let dir = tempfile::tempdir().unwrap();
        let c = Client::layout(dir.path(), Scope::new(["acme"], ["acme/a"]));
        let d = Digest::of(b"subject");
        assert_eq!(c.referrers("acme/a", &d, None).unwrap(), None);
        assert_eq!(c.referrers("acme/a", &d, Some("application/spdx+json")).unwrap(), None);
        assert!(matches!(c.referrers("other/x", &d, None), Err(Error::OutOfScope { .. })));
        assert!(c.referrers("acme/../x", &d, None).is_err());
    }

    #[test]
    fn tags_written_at_once_are_all_kept() {
        let dir = tempfile::tempdir().unwrap();
        let c = Client::layout(dir.path(), Scope::new(["acme"], ["acme/a"]));
        std::thread::scope(|s| {
            for i in 0..8 {
                let c = &c;
                s.spawn(move || {
                    let m = format!(r#"{{"schemaVersion":2,"mediaType":"{}","n":{i}}}"#, crate::media::OCI_MANIFEST);
                    c.put_manifest("acme/a", &format!("t{i}"), crate::media::OCI_MANIFEST, m.as_bytes()).unwrap();
                });
            }
        });
        let mut tags = c.list_tags("acme/a").unwrap();
        tags.sort();
        assert_eq!(tags, (0..8).map(|i| format!("t{i}")).collect::<Vec<_>>());
    }
}
