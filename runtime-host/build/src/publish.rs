//! Publish in crash-safe order: every blob, then the platform manifests and the index by
//! digest, then (with a key) their signatures, and only then the tag. A failure at any step
//! leaves the old tag as it was.

use std::collections::BTreeMap;

use tailor_oci::{BlobSource, Client, Digest, media};

use tailor_sign::{Envelope, IN_TOTO_PAYLOAD_TYPE, PrivateKey, Storage, Subject};

use crate::platform::Built;
use crate::{BuildError, Options, Result};

#[derive(Debug, Default, Clone)]
pub struct Transferred {
    pub uploaded: u64,
    pub reused: u64,
    /// Where signatures were written (with a signing key): tags, or referrer digests.
    pub signatures: Vec<String>,
    /// Where attestations were written (with a signing key): tags, or referrer digests.
    pub attestations: Vec<String>,
}

/// An in-toto statement to attest about one manifest.
pub struct Statement {
    pub subject: Digest,
    pub predicate_type: &'static str,
    pub bytes: Vec<u8>,
}

/// Signs the index and every platform manifest and attests each platform manifest's
/// statements, all in parallel (each is its own small write), in the storage the registry
/// supports (OCI 1.1 referrers, else cosign's tags).
#[allow(clippy::too_many_arguments)]
fn sign_and_attest(
    opts: &Options,
    key: &PrivateKey,
    client: &Client,
    dest: &str,
    built: &[Built],
    index: &[u8],
    statements: &[Statement],
    t: &mut Transferred,
) -> Result<()> {
    let index_subject = Subject::of(media::OCI_INDEX, index);
    let storage = Storage::detect(client, dest, &index_subject.digest)
        .map_err(|e| BuildError::Internal(format!("checking {dest} for the referrers API: {e}")))?;
    let reference = match &opts.registry_host {
        Some(host) => format!("{host}/{dest}"),
        None => dest.to_owned(),
    };
    enum Job<'a> {
        Sign(Subject),
        Attest(Subject, Vec<&'a Statement>),
    }
    let mut jobs: Vec<Job> = vec![Job::Sign(index_subject)];
    for b in built {
        let subject = Subject::of(media::OCI_MANIFEST, &b.manifest.1);
        let mine: Vec<&Statement> = statements.iter().filter(|s| s.subject == subject.digest).collect();
        if !mine.is_empty() {
            jobs.push(Job::Attest(subject.clone(), mine));
        }
        jobs.push(Job::Sign(subject));
    }
    let run = |job: &Job| -> Result<(bool, Vec<String>)> {
        match job {
            Job::Sign(subject) => tailor_sign::sign_image(client, dest, subject, &reference, key, storage)
                .map(|w| (true, vec![w]))
                .map_err(|e| BuildError::Internal(format!("signing {dest}@{}: {e}", subject.digest))),
            Job::Attest(subject, statements) => {
                let envelopes: Vec<(&str, Envelope)> = statements
                    .iter()
                    .map(|s| (s.predicate_type, Envelope::sign(key, IN_TOTO_PAYLOAD_TYPE, &s.bytes)))
                    .collect();
                tailor_sign::attach_attestations(client, dest, subject, &envelopes, storage)
                    .map(|w| (false, w))
                    .map_err(|e| BuildError::Internal(format!("attesting {dest}@{}: {e}", subject.digest)))
            }
        }
    };
    let done: Vec<Result<(bool, Vec<String>)>> = std::thread::scope(|s| {
        let handles: Vec<_> = jobs.iter().map(|j| s.spawn(|| run(j))).collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| Err(BuildError::Internal("signing thread panicked".into()))))
            .collect()
    });
    for r in done {
        match r? {
            (true, w) => t.signatures.extend(w),
            (false, w) => t.attestations.extend(w),
        }
    }
    (opts.log)(&format!(
        "signed the index and {} manifest(s) and attested their provenance and SBOM with key {} ({})",
        built.len(),
        key.public().fingerprint(),
        match storage {
            Storage::Tags => "cosign tags",
            Storage::Referrers => "OCI referrers",
        }
    ));
    Ok(())
}

/// `statements`: what to attest about each platform manifest (provenance, SBOM) when
/// `opts.signer` is set.
#[allow(clippy::too_many_arguments)]
pub fn publish(
    opts: &Options,
    client: &Client,
    dest: &str,
    source: &str,
    built: &[Built],
    index: &[u8],
    tag: &str,
    statements: &[Statement],
) -> Result<Transferred> {
    let mut t = Transferred::default();
    // Base layers: never re-uploaded; present already (same repository) or mounted.
    let mut base: BTreeMap<&Digest, u64> = BTreeMap::new();
    for b in built {
        base.extend(b.base_layers.iter().map(|(d, s)| (d, *s)));
    }
    for (digest, size) in base {
        if client.blob_exists(dest, digest)?.is_some() || (dest != source && client.mount_blob(dest, source, digest)?) {
            t.reused += size;
            continue;
        }
        (opts.log)(&format!("base layer {digest} could not be mounted into {dest}: copying it"));
        let bytes = client.read_blob(source, digest, u64::MAX - 1)?;
        client.put_blob(dest, digest, size, &BlobSource::Bytes(bytes.into()), opts.progress.as_ref())?;
        t.uploaded += size;
    }
    // New blobs: layers and configs, each once.
    let mut blobs: BTreeMap<&Digest, BlobSource> = BTreeMap::new();
    for b in built {
        for l in &b.layers {
            blobs.insert(&l.digest, BlobSource::Bytes(l.blob.clone()));
        }
        blobs.insert(&b.config.0, BlobSource::Bytes(b.config.1.clone()));
    }
    let results: Vec<Result<Transferred>> = std::thread::scope(|s| {
        let handles: Vec<_> = blobs
            .iter()
            .map(|(digest, src)| {
                s.spawn(move || {
                    let BlobSource::Bytes(bytes) = src else { unreachable!() };
                    let size = bytes.len() as u64;
                    if client.blob_exists(dest, digest)?.is_some() {
                        return Ok(Transferred { uploaded: 0, reused: size, ..Transferred::default() });
                    }
                    (opts.log)(&format!("uploading {digest} ({})", human(size)));
                    client.put_blob(dest, digest, size, src, opts.progress.as_ref())?;
                    Ok(Transferred { uploaded: size, reused: 0, ..Transferred::default() })
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| Err(BuildError::Internal("upload thread panicked".into()))))
            .collect()
    });
    for r in results {
        let r = r?;
        t.uploaded += r.uploaded;
        t.reused += r.reused;
    }
    for b in built {
        client.put_manifest(dest, b.manifest.0.as_str(), media::OCI_MANIFEST, &b.manifest.1)?;
    }
    let index_digest = Digest::of(index);
    client.put_manifest(dest, index_digest.as_str(), media::OCI_INDEX, index)?;
    if let Some(key) = &opts.signer {
        sign_and_attest(opts, key, client, dest, built, index, statements, &mut t)?;
    }
    client.put_manifest(dest, tag, media::OCI_INDEX, index)?;
    Ok(t)
}

pub fn human(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 20 => format!("{:.1} MiB", b as f64 / f64::from(1u32 << 20)),
        b if b >= 1 << 10 => format!("{:.1} KiB", b as f64 / 1024.0),
        b => format!("{b} B"),
    }
}
