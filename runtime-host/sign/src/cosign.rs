//! Signatures stored the way cosign stores them (tag scheme): an OCI image manifest tagged
//! `sha256-<hex>.sig` in the image's repository, one layer per signature — the simple-signing
//! payload (media type `application/vnd.dev.cosign.simplesigning.v1+json`) with the base64
//! signature in the layer annotation `dev.cosignproject.cosign/signature`. Signing again adds
//! a layer; the earlier signatures stay.

use serde_json::{Map, Value, json};
use tailor_oci::{BlobSource, Client, Digest, Quiet, media};

use crate::dsse::Envelope;
use crate::error::{Result, SignError};
use crate::keys::{PrivateKey, PublicKey};
use crate::simplesigning::{Payload, payload};

pub const SIMPLESIGNING_MEDIA_TYPE: &str = "application/vnd.dev.cosign.simplesigning.v1+json";
pub const SIGNATURE_ANNOTATION: &str = "dev.cosignproject.cosign/signature";
pub const DSSE_MEDIA_TYPE: &str = "application/vnd.dsse.envelope.v1+json";
pub const PREDICATE_TYPE_ANNOTATION: &str = "predicateType";
const CONFIG_MEDIA_TYPE: &str = "application/vnd.oci.image.config.v1+json";
const MANIFEST_LIMIT: u64 = 4 << 20;

/// `sha256-<hex>.sig` for `digest`.
pub fn signature_tag(digest: &Digest) -> String {
    format!("{}.sig", digest.as_str().replace(':', "-"))
}

/// `sha256-<hex>.att` for `digest`.
pub fn attestation_tag(digest: &Digest) -> String {
    format!("{}.att", digest.as_str().replace(':', "-"))
}

fn store(e: tailor_oci::Error) -> SignError {
    SignError::Invalid(format!("signature store: {e}"))
}

/// One signature found on an image.
#[derive(Debug, Clone)]
pub struct FoundSignature {
    pub payload: Vec<u8>,
    pub signature: String,
}

/// The signatures stored for `digest` in `repo` (none when there is no `.sig` tag).
pub fn signatures(client: &Client, repo: &str, digest: &Digest) -> Result<Vec<FoundSignature>> {
    let raw = match client.get_manifest(repo, &signature_tag(digest)) {
        Ok(m) => m,
        Err(e) if e.is_not_found() => return Ok(Vec::new()),
        Err(e) => return Err(store(e)),
    };
    let manifest: Value = serde_json::from_slice(&raw.bytes)
        .map_err(|e| SignError::Invalid(format!("{repo}:{}: not a JSON manifest ({e})", signature_tag(digest))))?;
    let mut out = Vec::new();
    for layer in manifest["layers"].as_array().into_iter().flatten() {
        if layer["mediaType"] != SIMPLESIGNING_MEDIA_TYPE {
            continue;
        }
        let (Some(d), Some(sig)) = (layer["digest"].as_str(), layer["annotations"][SIGNATURE_ANNOTATION].as_str())
        else {
            continue;
        };
        let d: Digest = d.parse().map_err(store)?;
        let payload = client.read_blob(repo, &d, MANIFEST_LIMIT).map_err(store)?;
        out.push(FoundSignature { payload, signature: sig.to_owned() });
    }
    Ok(out)
}

/// Signs `digest` in `repo` as `docker_reference` and stores the signature; returns the tag.
/// Signing the same digest with the same key again changes nothing (signatures are
/// deterministic); another key's signature is added next to the earlier ones.
pub fn sign_image(
    client: &Client,
    repo: &str,
    digest: &Digest,
    docker_reference: &str,
    key: &PrivateKey,
) -> Result<String> {
    let tag = signature_tag(digest);
    let body = payload(docker_reference, digest.as_str(), &Map::new());
    let signature = key.sign_base64(&body);
    let mut layers = existing_layers(client, repo, &tag)?;
    let body_digest = Digest::of(&body);
    if layers
        .iter()
        .any(|l| l["digest"] == body_digest.as_str() && l["annotations"][SIGNATURE_ANNOTATION] == signature.as_str())
    {
        return Ok(tag);
    }
    put(client, repo, &body_digest, &body)?;
    layers.push(json!({
        "mediaType": SIMPLESIGNING_MEDIA_TYPE,
        "size": body.len(),
        "digest": body_digest.as_str(),
        "annotations": {SIGNATURE_ANNOTATION: signature},
    }));
    write_manifest(client, repo, &tag, layers)?;
    Ok(tag)
}

/// Writes cosign's carrier manifest for `layers` under `tag`: an OCI image manifest whose
/// config lists the layers as diff ids.
fn write_manifest(client: &Client, repo: &str, tag: &str, layers: Vec<Value>) -> Result<()> {
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
    put(client, repo, &config_digest, &config)?;
    let manifest = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": media::OCI_MANIFEST,
        "config": {"mediaType": CONFIG_MEDIA_TYPE, "size": config.len(), "digest": config_digest.as_str()},
        "layers": layers,
    }))
    .unwrap_or_default();
    client.put_manifest(repo, tag, media::OCI_MANIFEST, &manifest).map_err(store)?;
    Ok(())
}

/// The layers of the carrier manifest under `tag` (none when there is no such tag).
fn existing_layers(client: &Client, repo: &str, tag: &str) -> Result<Vec<Value>> {
    match client.get_manifest(repo, tag) {
        Ok(m) => Ok(serde_json::from_slice::<Value>(&m.bytes)
            .ok()
            .and_then(|v| v["layers"].as_array().cloned())
            .unwrap_or_default()),
        Err(e) if e.is_not_found() => Ok(Vec::new()),
        Err(e) => Err(store(e)),
    }
}

fn put(client: &Client, repo: &str, digest: &Digest, bytes: &[u8]) -> Result<()> {
    if client.blob_exists(repo, digest).map_err(store)?.is_none() {
        client
            .put_blob(repo, digest, bytes.len() as u64, &BlobSource::Bytes(bytes.to_vec().into()), &Quiet)
            .map_err(store)?;
    }
    Ok(())
}

/// Checks that some signature on `digest` verifies with `key` and names this digest;
/// the error says what was found instead.
pub fn verify_image(client: &Client, repo: &str, digest: &Digest, key: &PublicKey) -> Result<Payload> {
    let found = signatures(client, repo, digest)?;
    if found.is_empty() {
        return Err(SignError::Invalid(format!(
            "{repo}@{digest} has no signature ({} not found)",
            signature_tag(digest)
        )));
    }
    let mut problems = Vec::new();
    for s in &found {
        match key.verify_base64(&s.payload, &s.signature).and_then(|()| Payload::parse(&s.payload)) {
            Ok(p) if p.manifest_digest == digest.as_str() => return Ok(p),
            Ok(p) => problems.push(format!("a signature for another image ({})", p.manifest_digest)),
            Err(e) => problems.push(e.to_string()),
        }
    }
    Err(SignError::Invalid(format!(
        "{repo}@{digest}: no valid signature with key {}: {}",
        key.fingerprint(),
        problems.join("; ")
    )))
}

/// Stores a DSSE `envelope` (in-toto statement of `predicate_type`) for `digest`, cosign-style
/// under `sha256-<hex>.att`; an earlier attestation of the same predicate type is replaced
/// (a rebuild attests again), others stay. Returns the tag.
pub fn attach_attestation(
    client: &Client,
    repo: &str,
    digest: &Digest,
    predicate_type: &str,
    envelope: &Envelope,
) -> Result<String> {
    let tag = attestation_tag(digest);
    let body = serde_json::to_vec(envelope).unwrap_or_default();
    let body_digest = Digest::of(&body);
    let mut layers: Vec<Value> = existing_layers(client, repo, &tag)?
        .into_iter()
        .filter(|l| l["annotations"][PREDICATE_TYPE_ANNOTATION] != predicate_type)
        .collect();
    put(client, repo, &body_digest, &body)?;
    layers.push(json!({
        "mediaType": DSSE_MEDIA_TYPE,
        "size": body.len(),
        "digest": body_digest.as_str(),
        "annotations": {PREDICATE_TYPE_ANNOTATION: predicate_type},
    }));
    write_manifest(client, repo, &tag, layers)?;
    Ok(tag)
}

/// The in-toto statements of `predicate_type` attested for `digest` whose envelope verifies
/// with `key` and whose subject is `digest`; an error names what was found instead.
pub fn verify_attestations(
    client: &Client,
    repo: &str,
    digest: &Digest,
    predicate_type: &str,
    key: &PublicKey,
) -> Result<Vec<Value>> {
    let tag = attestation_tag(digest);
    let layers = existing_layers(client, repo, &tag)?;
    let wanted: Vec<&Value> =
        layers.iter().filter(|l| l["annotations"][PREDICATE_TYPE_ANNOTATION] == predicate_type).collect();
    if wanted.is_empty() {
        return Err(SignError::Invalid(format!("{repo}@{digest} has no {predicate_type} attestation ({tag})")));
    }
    let mut out = Vec::new();
    let mut problems = Vec::new();
    for l in wanted {
        let Some(d) = l["digest"].as_str().and_then(|d| d.parse::<Digest>().ok()) else { continue };
        let body = client.read_blob(repo, &d, MANIFEST_LIMIT).map_err(store)?;
        let checked = serde_json::from_slice::<Envelope>(&body)
            .map_err(|e| SignError::Invalid(format!("not a DSSE envelope ({e})")))
            .and_then(|env| env.verify(key))
            .and_then(|statement| {
                serde_json::from_slice::<Value>(&statement)
                    .map_err(|e| SignError::Invalid(format!("the attested statement is not JSON ({e})")))
            });
        match checked {
            Ok(s) if s["predicateType"] != predicate_type => {
                problems.push(format!("the statement's predicateType is {}", s["predicateType"]))
            }
            Ok(s) => {
                let subjects: Vec<&str> = s["subject"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|x| x["digest"]["sha256"].as_str())
                    .collect();
                if subjects.contains(&digest.hex()) {
                    out.push(s);
                } else {
                    problems
                        .push(format!("its subject points at another digest (sha256:{})", subjects.join(", sha256:")));
                }
            }
            Err(e) => problems.push(e.to_string()),
        }
    }
    if out.is_empty() {
        return Err(SignError::Invalid(format!(
            "{repo}@{digest}: no valid {predicate_type} attestation with key {}: {}",
            key.fingerprint(),
            problems.join("; ")
        )));
    }
    Ok(out)
}
