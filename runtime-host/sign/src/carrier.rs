//! Where signatures and attestations are stored. Two schemes:
//! - **tags** (cosign's, every registry): one carrier manifest per image and kind under
//!   `sha256-<hex>.sig` / `.att`, its layers the signatures or envelopes, rewritten to add one;
//! - **referrers** (OCI 1.1, where the registry has the referrers API): each signature or
//!   attestation is its own manifest with `subject` = the image and an `artifactType`, pushed
//!   by digest; the registry lists them under `/v2/<name>/referrers/<digest>`.
//!
//! Writing uses the scheme [`Storage::detect`] found; reading looks in both, so images signed
//! before a registry gained the referrers API still verify.

use std::sync::{Arc, Condvar, Mutex};

use serde_json::{Map, Value, json};
use tailor_oci::{BlobSource, Client, Digest, Quiet, media};

use crate::error::{Result, SignError};

const CONFIG_MEDIA_TYPE: &str = "application/vnd.oci.image.config.v1+json";
const EMPTY_MEDIA_TYPE: &str = "application/vnd.oci.empty.v1+json";
pub(crate) const CARRIER_LIMIT: u64 = 64 << 20;

/// What a carrier holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Signature,
    Attestation,
}

impl Kind {
    /// The tag-scheme suffix.
    fn suffix(self) -> &'static str {
        match self {
            Kind::Signature => "sig",
            Kind::Attestation => "att",
        }
    }

    /// The referrer manifest's `artifactType`.
    pub fn artifact_type(self) -> &'static str {
        match self {
            Kind::Signature => "application/vnd.dev.cosign.artifact.sig.v1+json",
            Kind::Attestation => crate::cosign::DSSE_MEDIA_TYPE,
        }
    }

    /// `sha256-<hex>.sig` / `.att` for `digest`.
    pub fn tag(self, digest: &Digest) -> String {
        format!("{}.{}", digest.as_str().replace(':', "-"), self.suffix())
    }
}

/// How to store signatures and attestations in a repository.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Storage {
    /// `sha256-<hex>.sig` / `.att` tags (the fallback; Distribution 2.8).
    Tags,
    /// OCI 1.1 referrers (manifests with a `subject`).
    Referrers,
}

impl Storage {
    /// Referrers when the registry answers the referrers API for `digest` in `repo`.
    pub fn detect(client: &Client, repo: &str, digest: &Digest) -> Result<Storage> {
        match client.referrers(repo, digest, None).map_err(store)? {
            Some(_) => Ok(Storage::Referrers),
            None => Ok(Storage::Tags),
        }
    }
}

/// The image a signature or attestation is about (the referrer's `subject`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subject {
    pub digest: Digest,
    pub media_type: String,
    pub size: u64,
}

impl Subject {
    /// The subject of a manifest's exact bytes.
    pub fn of(media_type: &str, bytes: &[u8]) -> Subject {
        Subject { digest: Digest::of(bytes), media_type: media_type.to_owned(), size: bytes.len() as u64 }
    }
}

/// Holds back the manifests that make a signature or an attestation visible (a carrier under
/// its tag, a referrer) until the image they are about is in the registry, so that payloads,
/// envelopes and carrier configs go up while the image itself is still being pushed, and a
/// registry never shows a signature of an image it does not have. [`Gate::open`] lets them
/// through at once.
#[derive(Debug)]
pub struct Gate {
    /// None: the image is still being pushed; Some(pushed) once it is settled.
    state: Mutex<Option<bool>>,
    settled: Condvar,
}

impl Gate {
    /// A gate for an image that is in the registry already.
    pub fn open() -> Gate {
        Gate { state: Mutex::new(Some(true)), settled: Condvar::new() }
    }

    /// A gate for an image still being pushed: manifests wait for [`Gate::release`].
    pub fn closed() -> Gate {
        Gate { state: Mutex::new(None), settled: Condvar::new() }
    }

    /// Settles the gate: the image is in the registry (`pushed`), or it will not be and what
    /// waits is turned away. Only the first call counts.
    pub fn release(&self, pushed: bool) {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if state.is_none() {
            *state = Some(pushed);
        }
        self.settled.notify_all();
    }

    /// Waits until the gate is settled; an error when the image was not pushed.
    pub(crate) fn pass(&self) -> Result<()> {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            match *state {
                Some(true) => return Ok(()),
                Some(false) => {
                    return Err(SignError::Invalid("the image was not pushed, so nothing was signed".into()));
                }
                None => state = self.settled.wait(state).unwrap_or_else(|p| p.into_inner()),
            }
        }
    }
}

pub(crate) fn store(e: tailor_oci::Error) -> SignError {
    SignError::Store(e)
}

pub(crate) fn panicked() -> SignError {
    SignError::Invalid("a signature store thread panicked".into())
}

/// Uploads a small blob (no existence check first: one round trip fewer, and the registry
/// accepts a blob it already has). Shared bytes: an envelope of hundreds of KB is not copied.
pub(crate) fn put(client: &Client, repo: &str, digest: &Digest, bytes: Arc<[u8]>) -> Result<()> {
    client.put_blob(repo, digest, bytes.len() as u64, &BlobSource::Bytes(bytes), &Quiet).map_err(store)
}

/// The layers of the tag-scheme carrier of `kind` for `digest` (none when there is no tag).
pub(crate) fn tagged_layers(client: &Client, repo: &str, kind: Kind, digest: &Digest) -> Result<Vec<Value>> {
    match client.get_manifest(repo, &kind.tag(digest)) {
        Ok(m) => {
            Ok(
                serde_json::from_slice::<Value>(&m.bytes).map_err(|e| {
                    SignError::Invalid(format!("{repo}:{}: not a JSON manifest ({e})", kind.tag(digest)))
                })?["layers"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default(),
            )
        }
        Err(e) if e.is_not_found() => Ok(Vec::new()),
        Err(e) => Err(store(e)),
    }
}

/// Every stored layer of `kind` for `digest`: the tag carrier's and, where the registry has
/// the referrers API, those of each referrer of the kind's artifact type (`keep` filters
/// referrers by their manifest annotations before they are fetched).
pub(crate) fn all_layers(
    client: &Client,
    repo: &str,
    kind: Kind,
    digest: &Digest,
    keep: &dyn Fn(&std::collections::BTreeMap<String, String>) -> bool,
) -> Result<Vec<Value>> {
    let mut layers = tagged_layers(client, repo, kind, digest)?;
    for r in client.referrers(repo, digest, Some(kind.artifact_type())).map_err(store)?.unwrap_or_default() {
        if !keep(&r.annotations) {
            continue;
        }
        let m = client.get_manifest(repo, r.digest.as_str()).map_err(store)?;
        let v: Value = serde_json::from_slice(&m.bytes)
            .map_err(|e| SignError::Invalid(format!("{repo}@{}: not a JSON manifest ({e})", r.digest)))?;
        // Only a manifest that really names this subject counts.
        if v["subject"]["digest"] == digest.as_str() {
            layers.extend(v["layers"].as_array().cloned().unwrap_or_default());
        }
    }
    Ok(layers)
}

/// Rewrites the tag-scheme carrier of `kind` for `digest`, with as few round trips in a row
/// as possible: the carrier is read while `upload` sends the new layers' blobs and while the
/// config of the likely result — no carrier yet, so just the new layers — goes up; `edit`
/// turns the layers found into the new list (None: nothing to change), and only when that
/// differs from the guess is another config sent. Once `upload` is done and `gate` lets it
/// through, the manifest is pushed. Returns the tag.
pub(crate) fn rewrite_tagged(
    client: &Client,
    repo: &str,
    kind: Kind,
    digest: &Digest,
    upload: impl FnOnce() -> Result<()> + Send,
    edit: impl Fn(Vec<Value>) -> Option<Vec<Value>> + Sync,
    gate: &Gate,
) -> Result<String> {
    let tag = kind.tag(digest);
    std::thread::scope(|s| {
        let up = s.spawn(upload);
        let guess =
            s.spawn(|| edit(Vec::new()).map(|layers| carrier_manifest(client, repo, &layers).map(|m| (layers, m))));
        let found = tagged_layers(client, repo, kind, digest);
        let guessed = guess.join().unwrap_or_else(|_| Some(Err(panicked())));
        let manifest = found.and_then(|found| {
            let Some(layers) = edit(found) else { return Ok(None) };
            match guessed {
                Some(Ok((g, m))) if g == layers => Ok(Some(m)),
                _ => carrier_manifest(client, repo, &layers).map(Some),
            }
        });
        let uploaded = up.join().unwrap_or_else(|_| Err(panicked()));
        let manifest = manifest?;
        uploaded?;
        if let Some(m) = manifest {
            gate.pass()?;
            client.put_manifest(repo, &tag, media::OCI_MANIFEST, &m).map_err(store)?;
        }
        Ok(tag)
    })
}

/// Writes the tag-scheme carrier of `kind` for `digest` holding `layers`: its config goes up
/// while `upload` sends the new layers' blobs, then (once `gate` lets it through) the
/// manifest. Returns the tag.
pub(crate) fn write_tagged(
    client: &Client,
    repo: &str,
    kind: Kind,
    digest: &Digest,
    layers: Vec<Value>,
    upload: impl FnOnce() -> Result<()> + Send,
    gate: &Gate,
) -> Result<String> {
    let tag = kind.tag(digest);
    let (manifest, uploaded) = std::thread::scope(|s| {
        let up = s.spawn(upload);
        let manifest = carrier_manifest(client, repo, &layers);
        (manifest, up.join().unwrap_or_else(|_| Err(panicked())))
    });
    let manifest = manifest?;
    uploaded?;
    gate.pass()?;
    client.put_manifest(repo, &tag, media::OCI_MANIFEST, &manifest).map_err(store)?;
    Ok(tag)
}

/// cosign's carrier manifest for `layers`: an OCI image manifest whose config (uploaded here)
/// lists the layers as diff ids.
fn carrier_manifest(client: &Client, repo: &str, layers: &[Value]) -> Result<Vec<u8>> {
    let diff_ids: Vec<Value> = layers.iter().map(|l| l["digest"].clone()).collect();
    let history: Vec<Value> = layers.iter().map(|_| json!({"created": "0001-01-01T00:00:00Z"})).collect();
    let config = serde_json::to_vec(&json!({
        "architecture": "",
        "config": {},
        "created": "0001-01-01T00:00:00Z",
        "history": history,
        "os": "",
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
    }))
    .unwrap_or_default();
    let config_digest = Digest::of(&config);
    put(client, repo, &config_digest, config.as_slice().into())?;
    Ok(serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": media::OCI_MANIFEST,
        "config": {"mediaType": CONFIG_MEDIA_TYPE, "size": config.len(), "digest": config_digest.as_str()},
        "layers": layers,
    }))
    .unwrap_or_default())
}

/// Pushes one referrer manifest of `kind` about `subject` holding `layer` (its blob already
/// uploaded), by digest, once `gate` lets it through; returns the referrer's digest. The
/// config is the OCI empty descriptor; `annotations` (e.g. the predicate type) let readers
/// filter without fetching.
pub(crate) fn write_referrer(
    client: &Client,
    repo: &str,
    kind: Kind,
    subject: &Subject,
    layer: Value,
    annotations: Map<String, Value>,
    gate: &Gate,
) -> Result<Digest> {
    let empty = b"{}";
    put(client, repo, &Digest::of(empty), empty.as_slice().into())?;
    let mut manifest = json!({
        "schemaVersion": 2,
        "mediaType": media::OCI_MANIFEST,
        "artifactType": kind.artifact_type(),
        "config": {"mediaType": EMPTY_MEDIA_TYPE, "size": 2, "digest": Digest::of(empty).as_str(), "data": "e30="},
        "layers": [layer],
        "subject": {"mediaType": subject.media_type, "size": subject.size, "digest": subject.digest.as_str()},
    });
    if !annotations.is_empty() {
        manifest["annotations"] = Value::Object(annotations);
    }
    let bytes = serde_json::to_vec(&manifest).unwrap_or_default();
    let digest = Digest::of(&bytes);
    gate.pass()?;
    client.put_manifest(repo, digest.as_str(), media::OCI_MANIFEST, &bytes).map_err(store)?;
    Ok(digest)
}
