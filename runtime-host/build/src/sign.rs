//! Signing and attesting a published image (DESIGN.md §7): the index and every platform
//! manifest signed, each platform manifest's statements (provenance, SBOM) attested, in the
//! storage the registry supports — OCI 1.1 referrers where it has the API, else cosign's tags.

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};
use std::time::{Duration, Instant};

use tailor_oci::{Client, Digest, media};
use tailor_sign::{Envelope, Gate, IN_TOTO_PAYLOAD_TYPE, PrivateKey, Storage, Subject};

use crate::platform::Built;
use crate::{BuildError, Options, Result};

/// An in-toto statement to attest about one manifest.
pub struct Statement {
    pub subject: Digest,
    pub predicate_type: &'static str,
    pub bytes: Vec<u8>,
}

/// What each repository supports, asked at most every [`STORAGE_TTL`] (a fan-out publishes
/// to the same repositories many times a second).
static STORAGE: LazyLock<Mutex<HashMap<String, (Storage, Instant)>>> = LazyLock::new(Default::default);
const STORAGE_TTL: Duration = Duration::from_secs(300);

pub(crate) fn storage_of(client: &Client, dest: &str, digest: &Digest) -> Result<Storage> {
    let key = format!("{} {dest}", client.describe());
    if let Some((s, at)) = STORAGE.lock().unwrap_or_else(|p| p.into_inner()).get(&key)
        && at.elapsed() < STORAGE_TTL
    {
        return Ok(*s);
    }
    let s = Storage::detect(client, dest, digest)
        .map_err(|source| BuildError::Sign { what: format!("checking {dest} for the referrers API"), source })?;
    STORAGE.lock().unwrap_or_else(|p| p.into_inner()).insert(key, (s, Instant::now()));
    Ok(s)
}

/// Where signatures and attestations were written: tags, or referrer digests.
#[derive(Debug, Default)]
pub(crate) struct Written {
    pub signatures: Vec<String>,
    pub attestations: Vec<String>,
}

/// Signs the index and every platform manifest and attests each platform manifest's
/// statements, all in parallel (each is its own small write), in the storage the registry
/// supports (OCI 1.1 referrers, else cosign's tags). Payloads, envelopes and carrier configs
/// go up at once; the manifests that make them visible wait for `gate` (the image pushed).
#[allow(clippy::too_many_arguments)]
pub(crate) fn sign_and_attest(
    opts: &Options,
    key: &PrivateKey,
    client: &Client,
    dest: &str,
    built: &[Built],
    index: &[u8],
    statements: &[Statement],
    storage: Storage,
    gate: &Gate,
) -> Result<Written> {
    let index_subject = Subject::of(media::OCI_INDEX, index);
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
            Job::Sign(subject) => tailor_sign::sign_image_gated(client, dest, subject, &reference, key, storage, gate)
                .map(|w| (true, vec![w]))
                .map_err(|source| BuildError::Sign { what: format!("signing {dest}@{}", subject.digest), source }),
            Job::Attest(subject, statements) => {
                let envelopes: Vec<(&str, Envelope)> = statements
                    .iter()
                    .map(|s| (s.predicate_type, Envelope::sign(key, IN_TOTO_PAYLOAD_TYPE, &s.bytes)))
                    .collect();
                tailor_sign::attach_attestations_gated(client, dest, subject, &envelopes, storage, gate)
                    .map(|w| (false, w))
                    .map_err(|source| BuildError::Sign { what: format!("attesting {dest}@{}", subject.digest), source })
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
    let mut written = Written::default();
    for r in done {
        match r? {
            (true, w) => written.signatures.extend(w),
            (false, w) => written.attestations.extend(w),
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
    Ok(written)
}
