//! `verify_keys`: a tag is copied only when its upstream digest carries a cosign signature (a
//! simple-signing payload naming that digest) that one of the keys verifies — checked on the
//! upstream, before anything is copied, so an unsigned tag never enters the org.

use tailor_oci::Digest;
use tailor_sign::{Kind, Payload, signatures};

use crate::error::{MirrorError, Result};
use crate::sync::{Endpoints, Job};

/// Why a tag was refused, and what that was based on (for polls: ask again when it moves).
pub(crate) struct Refusal {
    pub reason: String,
    pub evidence: String,
}

/// What a refusal of `digest` is based on: the upstream's signature tag and signature referrers.
pub fn evidence(job: &Job, ep: &Endpoints, digest: &Digest) -> Result<String> {
    let tag = Kind::Signature.tag(digest);
    let head = ep.upstream.head_manifest(&job.source, &tag)?.map(|h| h.digest.to_string());
    let referrers = ep.upstream.referrers(&job.source, digest, Some(Kind::Signature.artifact_type()))?;
    Ok(evidence_of(head.as_deref(), referrers.unwrap_or_default().iter().map(|r| r.digest.as_str())))
}

fn evidence_of<'a>(tag: Option<&str>, referrers: impl Iterator<Item = &'a str>) -> String {
    let mut referrers: Vec<&str> = referrers.collect();
    referrers.sort_unstable();
    format!("sig:{} referrers:[{}]", tag.unwrap_or("none"), referrers.join(","))
}

/// `Ok(Ok(()))` when a signature on `digest` verifies with one of the job's keys.
pub(crate) fn check(job: &Job, ep: &Endpoints, digest: &Digest) -> Result<Result<(), Refusal>> {
    let evidence = evidence(job, ep, digest)?;
    let found = match signatures(&ep.upstream, &job.source, digest) {
        Ok(found) => found,
        Err(tailor_sign::SignError::Store(e)) => return Err(MirrorError::Store(e)),
        Err(e) => {
            let reason = format!("the signatures on {digest} cannot be read: {e}");
            return Ok(Err(Refusal { reason, evidence }));
        }
    };
    if found.is_empty() {
        let reason = format!(
            "{digest} carries no cosign signature (neither the tag {} nor a signature referrer)",
            Kind::Signature.tag(digest)
        );
        return Ok(Err(Refusal { reason, evidence }));
    }
    let mut problems = Vec::new();
    for s in &found {
        let payload = match Payload::parse(&s.payload) {
            Ok(p) => p,
            Err(e) => {
                problems.push(e.to_string());
                continue;
            }
        };
        if payload.manifest_digest != digest.as_str() {
            problems.push(format!("a signature for another digest ({})", payload.manifest_digest));
            continue;
        }
        if job.keys.iter().any(|k| k.verify_base64(&s.payload, &s.signature).is_ok()) {
            return Ok(Ok(()));
        }
        problems.push("a signature made with another key".to_owned());
    }
    let keys: Vec<String> = job.keys.iter().map(|k| k.fingerprint()).collect();
    let reason = format!(
        "none of the {} signature(s) on {digest} verifies with verify_keys ({}): {}",
        found.len(),
        keys.join(", "),
        problems.join("; ")
    );
    Ok(Err(Refusal { reason, evidence }))
}
