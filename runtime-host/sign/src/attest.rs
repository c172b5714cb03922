//! Attestations: in-toto statements in DSSE envelopes (layer media type
//! `application/vnd.dsse.envelope.v1+json`, the predicate type in the layer annotation
//! `predicateType`), stored cosign-style under `sha256-<hex>.att` or as OCI 1.1 referrers.

use std::sync::Arc;

use serde_json::{Map, Value, json};
use tailor_oci::{Client, Digest};

use crate::carrier::{
    CARRIER_LIMIT, Gate, Kind, Storage, Subject, all_layers, panicked, put, rewrite_tagged, store, write_referrer,
};
use crate::cosign::{DSSE_MEDIA_TYPE, PREDICATE_TYPE_ANNOTATION, attestation_tag};
use crate::dsse::Envelope;
use crate::error::{Result, SignError};
use crate::keys::PublicKey;

/// Stores DSSE `envelopes` (each an in-toto statement of its predicate type) for `subject`.
/// Tag scheme: one `.att` carrier; an earlier attestation of the same predicate type is
/// replaced (a rebuild attests again), others stay. Referrers: one referrer per envelope.
/// Returns where each was written (the tag once, or each referrer's digest).
pub fn attach_attestations(
    client: &Client,
    repo: &str,
    subject: &Subject,
    envelopes: &[(&str, Envelope)],
    storage: Storage,
) -> Result<Vec<String>> {
    attach_attestations_gated(client, repo, subject, envelopes, storage, &Gate::open())
}

/// [`attach_attestations`] for an image that may still be going up: the envelopes and the
/// carrier's config are uploaded at once, the manifests that make them visible wait for `gate`.
pub fn attach_attestations_gated(
    client: &Client,
    repo: &str,
    subject: &Subject,
    envelopes: &[(&str, Envelope)],
    storage: Storage,
    gate: &Gate,
) -> Result<Vec<String>> {
    let digest = &subject.digest;
    // Each envelope (an SBOM's is hundreds of KB) serialized, hashed and copied once.
    let bodies: Vec<(&str, Arc<[u8]>, Digest)> = envelopes
        .iter()
        .map(|(p, e)| {
            let body: Arc<[u8]> = e.to_json().into();
            let digest = Digest::of(&body);
            (*p, body, digest)
        })
        .collect();
    let new_layers: Vec<(&str, Value)> = bodies
        .iter()
        .map(|(predicate_type, body, digest)| {
            let layer = json!({
                "mediaType": DSSE_MEDIA_TYPE,
                "size": body.len(),
                "digest": digest.as_str(),
                "annotations": {PREDICATE_TYPE_ANNOTATION: predicate_type},
            });
            (*predicate_type, layer)
        })
        .collect();
    // Every envelope goes up at once, and (tags) the carrier is read meanwhile.
    let upload_all = || -> Result<()> {
        std::thread::scope(|s| {
            let handles: Vec<_> = bodies
                .iter()
                .map(|(_, body, digest)| s.spawn(move || put(client, repo, digest, body.clone())))
                .collect();
            handles.into_iter().try_for_each(|h| h.join().unwrap_or_else(|_| Err(panicked())))
        })
    };
    match storage {
        Storage::Referrers => {
            upload_all()?;
            new_layers
                .into_iter()
                .map(|(predicate_type, layer)| {
                    let annotations = Map::from_iter([(PREDICATE_TYPE_ANNOTATION.to_string(), json!(predicate_type))]);
                    write_referrer(client, repo, Kind::Attestation, subject, layer, annotations, gate)
                        .map(|d| d.to_string())
                })
                .collect()
        }
        Storage::Tags => {
            let edit = |existing: Vec<Value>| {
                let mut layers: Vec<Value> = existing
                    .into_iter()
                    .filter(|l| !new_layers.iter().any(|(p, _)| l["annotations"][PREDICATE_TYPE_ANNOTATION] == *p))
                    .collect();
                layers.extend(new_layers.iter().map(|(_, l)| l.clone()));
                Some(layers)
            };
            let tag = rewrite_tagged(client, repo, Kind::Attestation, digest, upload_all, edit, gate)?;
            Ok(vec![tag])
        }
    }
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
    let of_type = |a: &std::collections::BTreeMap<String, String>| {
        a.get(PREDICATE_TYPE_ANNOTATION).is_none_or(|p| p == predicate_type)
    };
    let wanted: Vec<Value> = all_layers(client, repo, Kind::Attestation, digest, &of_type)?
        .into_iter()
        .filter(|l| l["annotations"][PREDICATE_TYPE_ANNOTATION] == predicate_type)
        .collect();
    if wanted.is_empty() {
        return Err(SignError::Invalid(format!(
            "{repo}@{digest} has no {predicate_type} attestation (neither under the tag {} nor as a referrer)",
            attestation_tag(digest)
        )));
    }
    let mut out = Vec::new();
    let mut problems = Vec::new();
    for l in wanted {
        let Some(d) = l["digest"].as_str().and_then(|d| d.parse::<Digest>().ok()) else { continue };
        let body = client.read_blob(repo, &d, CARRIER_LIMIT).map_err(store)?;
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
