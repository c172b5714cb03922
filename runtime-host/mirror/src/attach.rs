//! What is attached to a copied digest, copied with it before its tag moves: cosign's
//! signature, attestation and SBOM tags (`sha256-<hex>.sig`, `.att`, `.sbom`), the OCI
//! referrers tag schema's index (`sha256-<hex>`), and the manifests the upstream's referrers
//! API lists — stored as referrers where the destination has that API, else listed in the
//! destination's `sha256-<hex>` index (the referrers tag schema).

use serde_json::{Value, json};
use tailor_oci::{Digest, Referrer, media};

use crate::copy::{Copier, once};
use crate::error::{MirrorError, Result};
use crate::parallel;

/// The tags cosign and the referrers tag schema attach to `digest`.
pub(crate) fn attachment_tags(digest: &Digest) -> [String; 4] {
    let base = format!("sha256-{}", digest.hex());
    [format!("{base}.sig"), format!("{base}.att"), format!("{base}.sbom"), base]
}

/// Copies what is attached to each of `subjects` (once per digest per sync); returns what was
/// copied: tags, and referrers as `repository@digest`.
pub(crate) fn copy_attachments(c: &Copier, subjects: &[Digest]) -> Result<Vec<String>> {
    let mut copied = Vec::new();
    for r in parallel::map(subjects, c.opts.threads, |d| once(&c.attachments, d, || attach(c, d))) {
        copied.extend(r?);
    }
    Ok(copied)
}

fn attach(c: &Copier, subject: &Digest) -> Result<Vec<String>> {
    let (up, dest) = (&c.ep.upstream, &c.ep.destination);
    let (source, destination) = (&c.job.source, &c.job.destination);
    let tags = attachment_tags(subject);
    let copied_tags = parallel::map(&tags, 4, |tag| -> Result<Option<String>> {
        let Some(head) = up.head_manifest(source, tag)? else { return Ok(None) };
        if dest.head_manifest(destination, tag)?.is_some_and(|d| d.digest == head.digest) {
            return Ok(None);
        }
        let raw = up.get_manifest(source, head.digest.as_str())?;
        c.copy_tree(&raw)?;
        dest.put_manifest(destination, tag, &raw.media_type, &raw.bytes)?;
        Ok(Some(tag.clone()))
    });
    let mut copied = Vec::new();
    for t in copied_tags {
        copied.extend(t.map_err(|e| attachment_error(c, subject, e))?);
    }
    let referrers = up.referrers(source, subject, None).map_err(|e| attachment_error(c, subject, e.into()))?;
    let referrers = referrers.unwrap_or_default();
    if !referrers.is_empty() {
        copied.extend(copy_referrers(c, subject, &referrers).map_err(|e| attachment_error(c, subject, e))?);
    }
    Ok(copied)
}

fn attachment_error(c: &Copier, subject: &Digest, e: MirrorError) -> MirrorError {
    let transient = e.is_transient();
    MirrorError::Earlier {
        message: format!("copying what is attached to {}@{subject}: {e}", c.job.source_name),
        transient,
    }
}

/// Copies each referrer manifest (and its blobs) by digest; where the destination has no
/// referrers API, adds them to its `sha256-<hex>` index.
fn copy_referrers(c: &Copier, subject: &Digest, referrers: &[Referrer]) -> Result<Vec<String>> {
    let (up, dest) = (&c.ep.upstream, &c.ep.destination);
    let destination = &c.job.destination;
    let mut copied = Vec::new();
    for r in parallel::map(referrers, c.opts.threads, |r| -> Result<Option<String>> {
        if dest.head_manifest(destination, r.digest.as_str())?.is_some() {
            return Ok(None);
        }
        let raw = up.get_manifest(&c.job.source, r.digest.as_str())?;
        c.copy_tree(&raw)?;
        Ok(Some(format!("{destination}@{}", r.digest)))
    }) {
        copied.extend(r?);
    }
    if dest.referrers(destination, subject, None)?.is_none() {
        let tag = format!("sha256-{}", subject.hex());
        let mut index = match dest.get_manifest(destination, &tag) {
            Ok(m) => serde_json::from_slice::<Value>(&m.bytes)
                .map_err(|e| MirrorError::BadContent(format!("{destination}:{tag} is not a referrers index ({e})")))?,
            Err(e) if e.is_not_found() => json!({"schemaVersion": 2, "mediaType": media::OCI_INDEX, "manifests": []}),
            Err(e) => return Err(e.into()),
        };
        let mut entries = index["manifests"].as_array().cloned().unwrap_or_default();
        let before = entries.len();
        for r in referrers {
            if !entries.iter().any(|e| e["digest"] == r.digest.as_str()) {
                let mut entry = json!({"mediaType": r.media_type, "digest": r.digest.as_str(), "size": r.size});
                if let Some(t) = &r.artifact_type {
                    entry["artifactType"] = json!(t);
                }
                if !r.annotations.is_empty() {
                    entry["annotations"] = json!(r.annotations);
                }
                entries.push(entry);
            }
        }
        if entries.len() != before {
            index["manifests"] = Value::Array(entries);
            let bytes = serde_json::to_vec(&index).map_err(|e| MirrorError::BadContent(e.to_string()))?;
            dest.put_manifest(destination, &tag, media::OCI_INDEX, &bytes)?;
        }
    }
    Ok(copied)
}
