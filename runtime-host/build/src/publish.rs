//! Publish in crash-safe order: every blob, then the platform manifests and the index by
//! digest, then (with a key) their signatures, and only then the tag. A failure at any step
//! leaves the old tag as it was.

use std::collections::BTreeMap;

use tailor_oci::{BlobSource, Client, Digest, media};

use crate::platform::Built;
use crate::{Options, Result};

#[derive(Debug, Default, Clone)]
pub struct Transferred {
    pub uploaded: u64,
    pub reused: u64,
    /// Signature tags written (with a signing key).
    pub signatures: Vec<String>,
    /// Attestation tags written (with a signing key).
    pub attestations: Vec<String>,
}

/// `statements`: the provenance (in-toto statement bytes) of each platform manifest, attested
/// when `opts.signer` is set.
#[allow(clippy::too_many_arguments)]
pub fn publish(
    opts: &Options,
    client: &Client,
    dest: &str,
    source: &str,
    built: &[Built],
    index: &[u8],
    tag: &str,
    statements: &[(Digest, Vec<u8>)],
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
            .map(|h| h.join().unwrap_or_else(|_| Err(crate::BuildError::Internal("upload thread panicked".into()))))
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
        let reference = match &opts.registry_host {
            Some(host) => format!("{host}/{dest}"),
            None => dest.to_owned(),
        };
        enum Job<'a> {
            Sign(&'a Digest),
            Attest(&'a Digest, &'a [u8]),
        }
        let run = |job: &Job| -> Result<(bool, String)> {
            match job {
                Job::Sign(digest) => tailor_sign::sign_image(client, dest, digest, &reference, key)
                    .map(|tag| (true, tag))
                    .map_err(|e| crate::BuildError::Internal(format!("signing {dest}@{digest}: {e}"))),
                Job::Attest(digest, statement) => {
                    let envelope = tailor_sign::Envelope::sign(key, tailor_sign::IN_TOTO_PAYLOAD_TYPE, statement);
                    let predicate = tailor_sign::intoto::SLSA_PROVENANCE_V1;
                    tailor_sign::attach_attestation(client, dest, digest, predicate, &envelope)
                        .map(|tag| (false, tag))
                        .map_err(|e| crate::BuildError::Internal(format!("attesting {dest}@{digest}: {e}")))
                }
            }
        };
        let jobs: Vec<Job> = std::iter::once(Job::Sign(&index_digest))
            .chain(built.iter().map(|b| Job::Sign(&b.manifest.0)))
            .chain(statements.iter().map(|(d, s)| Job::Attest(d, s)))
            .collect();
        // Every signature and attestation is its own small manifest (`.sig` and `.att` tags
        // differ): write them all in parallel.
        let done: Vec<Result<(bool, String)>> = std::thread::scope(|s| {
            let handles: Vec<_> = jobs.iter().map(|j| s.spawn(|| run(j))).collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join().unwrap_or_else(|_| Err(crate::BuildError::Internal("signing thread panicked".into())))
                })
                .collect()
        });
        for r in done {
            match r? {
                (true, tag) => t.signatures.push(tag),
                (false, tag) => t.attestations.push(tag),
            }
        }
        (opts.log)(&format!(
            "signed the index and {} manifest(s) and attested their provenance with key {}",
            built.len(),
            key.public().fingerprint()
        ));
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
