//! Signatures the way cosign stores them: the simple-signing payload as a layer (media type
//! `application/vnd.dev.cosign.simplesigning.v1+json`) with the base64 signature in the layer
//! annotation `dev.cosignproject.cosign/signature`, in a carrier manifest (see [`crate::carrier`]:
//! the `sha256-<hex>.sig` tag, or an OCI 1.1 referrer). Signing again adds a signature; the
//! earlier ones stay.

use serde_json::{Map, json};
use tailor_oci::{Client, Digest};

use crate::carrier::{
    CARRIER_LIMIT, Gate, Kind, Storage, Subject, all_layers, put, store, tagged_layers, write_referrer, write_tagged,
};
use crate::error::{Result, SignError};
use crate::keys::{PrivateKey, PublicKey};
use crate::simplesigning::{Payload, payload};

pub const SIMPLESIGNING_MEDIA_TYPE: &str = "application/vnd.dev.cosign.simplesigning.v1+json";
pub const SIGNATURE_ANNOTATION: &str = "dev.cosignproject.cosign/signature";
pub const DSSE_MEDIA_TYPE: &str = "application/vnd.dsse.envelope.v1+json";
pub const PREDICATE_TYPE_ANNOTATION: &str = "predicateType";

/// `sha256-<hex>.sig` for `digest`.
pub fn signature_tag(digest: &Digest) -> String {
    Kind::Signature.tag(digest)
}

/// `sha256-<hex>.att` for `digest`.
pub fn attestation_tag(digest: &Digest) -> String {
    Kind::Attestation.tag(digest)
}

/// One signature found on an image.
#[derive(Debug, Clone)]
pub struct FoundSignature {
    pub payload: Vec<u8>,
    pub signature: String,
}

/// The signatures stored for `digest` in `repo`, under its `.sig` tag and as referrers.
pub fn signatures(client: &Client, repo: &str, digest: &Digest) -> Result<Vec<FoundSignature>> {
    let mut out = Vec::new();
    for layer in all_layers(client, repo, Kind::Signature, digest, &|_| true)? {
        if layer["mediaType"] != SIMPLESIGNING_MEDIA_TYPE {
            continue;
        }
        let (Some(d), Some(sig)) = (layer["digest"].as_str(), layer["annotations"][SIGNATURE_ANNOTATION].as_str())
        else {
            continue;
        };
        let d: Digest = d.parse().map_err(store)?;
        let payload = client.read_blob(repo, &d, CARRIER_LIMIT).map_err(store)?;
        out.push(FoundSignature { payload, signature: sig.to_owned() });
    }
    Ok(out)
}

/// Signs `subject` in `repo` as `docker_reference` and stores the signature with `storage`;
/// returns where: the tag, or the referrer's digest. Signing the same digest with the same
/// key again adds nothing (signatures are deterministic); another key's signature is added
/// next to the earlier ones.
pub fn sign_image(
    client: &Client,
    repo: &str,
    subject: &Subject,
    docker_reference: &str,
    key: &PrivateKey,
    storage: Storage,
) -> Result<String> {
    sign_image_gated(client, repo, subject, docker_reference, key, storage, &Gate::open())
}

/// [`sign_image`] for an image that may still be going up: the payload and the carrier's
/// config are uploaded at once, the manifest that makes the signature visible waits for `gate`.
pub fn sign_image_gated(
    client: &Client,
    repo: &str,
    subject: &Subject,
    docker_reference: &str,
    key: &PrivateKey,
    storage: Storage,
    gate: &Gate,
) -> Result<String> {
    let digest = &subject.digest;
    let body = payload(docker_reference, digest.as_str(), &Map::new());
    let signature = key.sign_base64(&body);
    let body_digest = Digest::of(&body);
    let layer = json!({
        "mediaType": SIMPLESIGNING_MEDIA_TYPE,
        "size": body.len(),
        "digest": body_digest.as_str(),
        "annotations": {SIGNATURE_ANNOTATION: signature},
    });
    match storage {
        Storage::Referrers => {
            // The same signature is the same manifest: pushing it again changes nothing.
            put(client, repo, &body_digest, body.as_slice().into())?;
            Ok(write_referrer(client, repo, Kind::Signature, subject, layer, Map::new(), gate)?.to_string())
        }
        Storage::Tags => {
            // Read first: a signature already there (a rebuild of the same image) needs no write.
            let mut layers = tagged_layers(client, repo, Kind::Signature, digest)?;
            if layers.iter().any(|l| {
                l["digest"] == body_digest.as_str() && l["annotations"][SIGNATURE_ANNOTATION] == signature.as_str()
            }) {
                return Ok(signature_tag(digest));
            }
            layers.push(layer);
            let upload = || put(client, repo, &body_digest, body.as_slice().into());
            write_tagged(client, repo, Kind::Signature, digest, layers, upload, gate)
        }
    }
}

/// Checks that some signature on `digest` verifies with `key` and names this digest;
/// the error says what was found instead.
pub fn verify_image(client: &Client, repo: &str, digest: &Digest, key: &PublicKey) -> Result<Payload> {
    let found = signatures(client, repo, digest)?;
    if found.is_empty() {
        return Err(SignError::Invalid(format!(
            "{repo}@{digest} has no signature (neither the tag {} nor a referrer)",
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
