//! Publish in crash-safe order: every blob, then the platform manifests and the index by
//! digest, then (with a key) the manifests that show their signatures and attestations
//! (`crate::sign`; their blobs go up alongside the image), and only then the tag. A failure
//! at any step leaves the old tag as it was.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use tailor_oci::{BlobSource, Client, Digest, media};
use tailor_sign::Gate;

use crate::layer::Layer;
use crate::platform::Built;
pub use crate::sign::Statement;
use crate::sign::{sign_and_attest, storage_of};
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

/// Pushes a platform manifest by digest. The registry can refuse it as referencing an unknown
/// blob: the Distribution registry does while another build's upload of the same blob is being
/// committed, and any registry does when a blob this process remembered seeing
/// ([`Client::blob_known`]) was deleted since. Then every blob is asked about again, what is
/// missing is sent, and the push is tried once more.
fn put_image_manifest(opts: &Options, client: &Client, dest: &str, source: &str, b: &Built) -> Result<()> {
    let put = || client.put_manifest(dest, b.manifest.0.as_str(), media::OCI_MANIFEST, &b.manifest.1);
    match put() {
        Err(tailor_oci::Error::Http { status: 400, message, .. }) if message.contains("BLOB_UNKNOWN") => {
            (opts.log)(&format!("{dest}@{}: the registry did not know a blob yet ({message}); again", b.manifest.0));
            std::thread::sleep(Duration::from_millis(200));
            for (digest, size) in b.base_layers.iter() {
                if client.blob_exists(dest, digest)?.is_none() {
                    put_base_layer(opts, client, dest, source, digest, *size)?;
                }
            }
            for l in &b.layers {
                if client.blob_exists(dest, &l.digest)?.is_none() {
                    client.put_blob(
                        dest,
                        &l.digest,
                        l.size(),
                        &BlobSource::Bytes(l.bytes()?),
                        opts.progress.as_ref(),
                    )?;
                }
            }
            let (digest, config) = &b.config;
            if client.blob_exists(dest, digest)?.is_none() {
                let source = BlobSource::Bytes(Arc::clone(config));
                client.put_blob(dest, digest, config.len() as u64, &source, opts.progress.as_ref())?;
            }
            put()?;
        }
        r => {
            r?;
        }
    }
    Ok(())
}

/// Makes a base layer that `dest` does not have available there: mounted from `source`, or
/// copied through us when the registry will not mount it. Whether bytes were copied.
fn put_base_layer(
    opts: &Options,
    client: &Client,
    dest: &str,
    source: &str,
    digest: &Digest,
    size: u64,
) -> Result<bool> {
    if dest != source && client.mount_blob(dest, source, digest)? {
        return Ok(false);
    }
    (opts.log)(&format!("base layer {digest} could not be mounted into {dest}: copying it"));
    let bytes = client.read_blob(source, digest, u64::MAX - 1)?;
    client.put_blob(dest, digest, size, &BlobSource::Bytes(bytes.into()), opts.progress.as_ref())?;
    Ok(true)
}

/// `statements`: what to attest about each platform manifest (provenance, SBOM) when
/// `opts.signer` is set, called then only. Signing runs alongside the image's push (whether
/// the registry takes referrers is asked, the statements are made, payloads, envelopes and
/// carrier configs go up); the carrier manifests wait until the image is in, and the tag
/// moves last.
#[allow(clippy::too_many_arguments)]
pub fn publish(
    opts: &Options,
    client: &Client,
    dest: &str,
    source: &str,
    built: &[Built],
    index: &[u8],
    tag: &str,
    statements: &(dyn Fn() -> Vec<Statement> + Sync),
) -> Result<Transferred> {
    let index_digest = Digest::of(index);
    let gate = Gate::closed();
    let (pushed, signed) = std::thread::scope(|s| {
        let signing = opts.signer.as_ref().map(|key| {
            s.spawn(|| {
                let (storage, statements) = std::thread::scope(|s| {
                    let storage = s.spawn(|| storage_of(client, dest, &index_digest));
                    let statements = statements();
                    let panicked = || Err(BuildError::Internal("referrers check thread panicked".into()));
                    (storage.join().unwrap_or_else(|_| panicked()), statements)
                });
                sign_and_attest(opts, key, client, dest, built, index, &statements, storage?, &gate)
            })
        });
        // Turns the signing away if the push ends early (an error, or a panic unwinding).
        let settle = Settle(&gate);
        let pushed = push_image(opts, client, dest, source, built, index);
        gate.release(pushed.is_ok());
        drop(settle);
        let panicked = || Err(BuildError::Internal("signing thread panicked".into()));
        (pushed, signing.map(|h| h.join().unwrap_or_else(|_| panicked())))
    });
    let mut t = pushed?;
    if let Some(signed) = signed {
        let written = signed?;
        t.signatures = written.signatures;
        t.attestations = written.attestations;
    }
    client.put_manifest(dest, tag, media::OCI_INDEX, index)?;
    Ok(t)
}

/// Releases a gate as "not pushed" when dropped before it was settled.
struct Settle<'a>(&'a Gate);

impl Drop for Settle<'_> {
    fn drop(&mut self) {
        self.0.release(false);
    }
}

/// Every blob, the platform manifests and the index by digest.
fn push_image(
    opts: &Options,
    client: &Client,
    dest: &str,
    source: &str,
    built: &[Built],
    index: &[u8],
) -> Result<Transferred> {
    let mut t = Transferred::default();
    // Base layers: never re-uploaded; present already (same repository) or mounted.
    let mut base: BTreeMap<&Digest, u64> = BTreeMap::new();
    for b in built {
        base.extend(b.base_layers.iter().map(|(d, s)| (d, *s)));
    }
    for (digest, size) in base {
        if client.blob_known(dest, digest)? || !put_base_layer(opts, client, dest, source, digest, size)? {
            t.reused += size;
        } else {
            t.uploaded += size;
        }
    }
    // New blobs: layers and configs, each once. A cached layer is read only to be uploaded. A
    // layer is asked about first (the builds of a fan-out share most of theirs, and then only the
    // first asks: `blob_known`); a config, small and new with every change of input, is sent.
    enum New<'a> {
        Layer(&'a Layer),
        Config(&'a Arc<[u8]>),
    }
    let mut blobs: BTreeMap<&Digest, New> = BTreeMap::new();
    for b in built {
        for l in &b.layers {
            blobs.insert(&l.digest, New::Layer(l));
        }
        blobs.insert(&b.config.0, New::Config(&b.config.1));
    }
    let results: Vec<Result<Transferred>> = std::thread::scope(|s| {
        let handles: Vec<_> = blobs
            .iter()
            .map(|(digest, new)| {
                s.spawn(move || {
                    let size = match new {
                        New::Layer(l) => l.size(),
                        New::Config(c) => c.len() as u64,
                    };
                    if let New::Layer(_) = new
                        && client.blob_known(dest, digest)?
                    {
                        return Ok(Transferred { uploaded: 0, reused: size, ..Transferred::default() });
                    }
                    let bytes = match new {
                        New::Layer(l) => l.bytes()?,
                        New::Config(c) => Arc::clone(c),
                    };
                    (opts.log)(&format!("uploading {digest} ({})", human(size)));
                    client.put_blob(dest, digest, size, &BlobSource::Bytes(bytes), opts.progress.as_ref())?;
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
        put_image_manifest(opts, client, dest, source, b)?;
    }
    client.put_manifest(dest, Digest::of(index).as_str(), media::OCI_INDEX, index)?;
    Ok(t)
}

pub fn human(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 20 => format!("{:.1} MiB", b as f64 / f64::from(1u32 << 20)),
        b if b >= 1 << 10 => format!("{:.1} KiB", b as f64 / 1024.0),
        b => format!("{b} B"),
    }
}
