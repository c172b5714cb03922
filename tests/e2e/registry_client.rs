//! The registry client (`tailor_oci::Client::registry`) against a real Distribution registry,
//! checked with skopeo as an independent reader.

use std::io::Read;
use std::sync::{Arc, Mutex};

use serde_json::json;
use tailor_oci::{BlobSource, Client, Digest, Error, Progress, Quiet, RegistryConfig, Scope, media};

use crate::harness::{Registry, RegistryOptions, free_port, skopeo_inspect_config, skopeo_inspect_raw};

/// Records progress reports.
#[derive(Default)]
struct Recorder(Mutex<Vec<(String, u64, u64)>>);

impl Progress for Recorder {
    fn transfer(&self, what: &str, done: u64, total: u64) {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).push((what.to_string(), done, total));
    }
}

impl Recorder {
    fn reports(&self) -> Vec<(String, u64, u64)> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

fn client(config: RegistryConfig, read: &[&str], write: &[&str]) -> Client {
    Client::registry(config, Scope::new(read.iter().copied(), write.iter().copied())).expect("client")
}

/// Deterministic pseudo-random bytes (incompressible, distinct per seed).
fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.extend_from_slice(&x.to_le_bytes());
    }
    out.truncate(len);
    out
}

fn push(c: &Client, repo: &str, bytes: &[u8]) -> Digest {
    let digest = Digest::of(bytes);
    c.put_blob(repo, &digest, bytes.len() as u64, &BlobSource::Bytes(bytes.into()), &Quiet).expect("put_blob");
    digest
}

fn read_all(c: &Client, repo: &str, digest: &Digest, size: Option<u64>) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    c.open_blob(repo, digest, size).expect("open_blob").read_to_end(&mut out)?;
    Ok(out)
}

/// Push a one-layer OCI image to `repo:tag`; returns the manifest bytes.
fn push_image(c: &Client, repo: &str, tag: &str, seed: u64) -> Vec<u8> {
    let layer = noise(1000, seed);
    let layer_digest = push(c, repo, &layer);
    let config = serde_json::to_vec(&json!({
        "architecture": "amd64",
        "os": "linux",
        "config": { "Env": [format!("SEED={seed}")] },
        "rootfs": { "type": "layers", "diff_ids": [layer_digest.as_str()] },
    }))
    .expect("json");
    let config_digest = push(c, repo, &config);
    let manifest = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": media::OCI_MANIFEST,
        "config": { "mediaType": media::OCI_CONFIG, "digest": config_digest.as_str(), "size": config.len() },
        "layers": [{ "mediaType": media::OCI_LAYER_GZIP, "digest": layer_digest.as_str(), "size": layer.len() }],
    }))
    .expect("json");
    let d = c.put_manifest(repo, tag, media::OCI_MANIFEST, &manifest).expect("put_manifest");
    assert_eq!(d, Digest::of(&manifest));
    manifest
}

#[test]
fn registry_blobs_monolithic_and_chunked() {
    let reg = Registry::start();
    let c = client(reg.client_config(), &["acme"], &["acme/out"]);

    let small = noise(3000, 1);
    let small_digest = Digest::of(&small);
    assert_eq!(c.blob_exists("acme/out", &small_digest).unwrap(), None);
    let rec = Recorder::default();
    c.put_blob("acme/out", &small_digest, small.len() as u64, &BlobSource::Bytes(small.clone().into()), &rec).unwrap();
    assert_eq!(rec.reports(), vec![(small_digest.to_string(), 3000, 3000)]);
    assert_eq!(c.blob_exists("acme/out", &small_digest).unwrap(), Some(3000));
    assert_eq!(read_all(&c, "acme/out", &small_digest, Some(3000)).unwrap(), small);
    assert_eq!(c.read_blob("acme/out", &small_digest, 1 << 20).unwrap(), small);

    // 40 MiB from a file: three PATCH chunks (16 + 16 + 8 MiB) and a final PUT.
    let big = noise(40 << 20, 2);
    let big_digest = Digest::of(&big);
    let tmp = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(tmp.path(), &big).unwrap();
    let rec = Recorder::default();
    let size = big.len() as u64;
    c.put_blob("acme/out", &big_digest, size, &BlobSource::File(tmp.path().to_path_buf()), &rec).unwrap();
    let done: Vec<u64> = rec.reports().iter().map(|r| r.1).collect();
    assert_eq!(done, vec![16 << 20, 32 << 20, 40 << 20]);
    assert_eq!(c.blob_exists("acme/out", &big_digest).unwrap(), Some(size));
    assert!(read_all(&c, "acme/out", &big_digest, Some(size)).unwrap() == big);
    assert!(reg.open_uploads("acme/out").is_empty(), "upload sessions left: {:?}", reg.open_uploads("acme/out"));

    // Pushing again sends the bytes again (callers check `blob_exists` first); the registry
    // accepts it and keeps the one blob.
    let rec = Recorder::default();
    c.put_blob("acme/out", &big_digest, size, &BlobSource::Bytes(big.clone().into()), &rec).unwrap();
    assert_eq!(rec.reports().last().map(|r| (r.1, r.2)), Some((size, size)));
    assert_eq!(c.blob_exists("acme/out", &big_digest).unwrap(), Some(size));

    // A source that does not match its digest is refused before the registry stores it.
    let wrong = Digest::of(b"something else");
    let e = c.put_blob("acme/out", &wrong, 3000, &BlobSource::Bytes(small.into()), &Quiet).unwrap_err();
    assert!(matches!(e, Error::DigestMismatch { .. }), "{e}");
    assert_eq!(c.blob_exists("acme/out", &wrong).unwrap(), None);
    assert!(reg.open_uploads("acme/out").is_empty(), "upload sessions left: {:?}", reg.open_uploads("acme/out"));
}

#[test]
fn registry_manifests_tags_and_skopeo() {
    let reg = Registry::start();
    let c = client(reg.client_config(), &["acme"], &["acme/out"]);
    let manifest = push_image(&c, "acme/out", "3.13_custom", 7);
    let digest = Digest::of(&manifest);

    let by_tag = c.get_manifest("acme/out", "3.13_custom").unwrap();
    assert_eq!(by_tag.bytes, manifest);
    assert_eq!(by_tag.digest, digest);
    assert_eq!(by_tag.media_type, media::OCI_MANIFEST);
    let by_digest = c.get_manifest("acme/out", digest.as_str()).unwrap();
    assert_eq!(by_digest.bytes, manifest);

    let head = c.head_manifest("acme/out", "3.13_custom").unwrap().unwrap();
    assert_eq!(head.digest, digest);
    assert_eq!(head.media_type, media::OCI_MANIFEST);
    assert_eq!(head.size, manifest.len() as u64);

    // skopeo reads the very same bytes and the config.
    let image = format!("{}/acme/out:3.13_custom", reg.host());
    assert_eq!(skopeo_inspect_raw(&image, None), manifest);
    assert_eq!(skopeo_inspect_raw(&format!("{}/acme/out@{digest}", reg.host()), None), manifest);
    assert_eq!(skopeo_inspect_config(&image, None)["config"]["Env"], json!(["SEED=7"]));

    // Re-tagging and more tags; the list comes back sorted.
    for tag in ["latest", "1.0", "a-tag"] {
        c.put_manifest("acme/out", tag, media::OCI_MANIFEST, &manifest).unwrap();
    }
    assert_eq!(c.list_tags("acme/out").unwrap(), vec!["1.0", "3.13_custom", "a-tag", "latest"]);

    // Put by digest works too, and a wrong digest reference is refused locally.
    assert_eq!(c.put_manifest("acme/out", digest.as_str(), media::OCI_MANIFEST, &manifest).unwrap(), digest);
    let other = Digest::of(b"x");
    let e = c.put_manifest("acme/out", other.as_str(), media::OCI_MANIFEST, &manifest).unwrap_err();
    assert!(matches!(e, Error::DigestMismatch { .. }), "{e}");

    // An index listing the manifest.
    let index = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": media::OCI_INDEX,
        "manifests": [{ "mediaType": media::OCI_MANIFEST, "digest": digest.as_str(), "size": manifest.len(),
                        "platform": { "architecture": "amd64", "os": "linux" } }],
    }))
    .unwrap();
    c.put_manifest("acme/out", "multi", media::OCI_INDEX, &index).unwrap();
    let got = c.get_manifest("acme/out", "multi").unwrap();
    assert_eq!((got.media_type.as_str(), got.bytes), (media::OCI_INDEX, index));
}

#[test]
fn registry_not_found() {
    let reg = Registry::start();
    let c = client(reg.client_config(), &["acme"], &["acme/out"]);
    push_image(&c, "acme/out", "v1", 1);

    let e = c.get_manifest("acme/out", "nope").unwrap_err();
    assert!(e.is_not_found(), "{e}");
    assert!(e.to_string().contains("manifest acme/out:nope in http://127.0.0.1:"), "{e}");
    assert_eq!(c.head_manifest("acme/out", "nope").unwrap(), None);
    assert!(c.get_manifest("acme/missing", "v1").unwrap_err().is_not_found());
    let e = c.list_tags("acme/missing").unwrap_err();
    assert!(e.is_not_found(), "{e}");
    let unknown = Digest::of(b"never pushed");
    assert_eq!(c.blob_exists("acme/out", &unknown).unwrap(), None);
    let e = c.open_blob("acme/out", &unknown, None).err().expect("open_blob of an unknown blob fails");
    assert!(e.is_not_found(), "{e}");
    // Invalid names never reach the registry.
    let e = c.get_manifest("acme/out", "bad tag").unwrap_err();
    assert!(e.to_string().contains("not a valid tag"), "{e}");
}

#[test]
fn registry_cross_repo_mount() {
    let reg = Registry::start();
    let c = client(reg.client_config(), &["acme"], &["acme/base", "acme/out"]);
    let blob = noise(5000, 3);
    let digest = push(&c, "acme/base", &blob);

    assert!(c.mount_blob("acme/out", "acme/base", &digest).unwrap());
    assert_eq!(c.blob_exists("acme/out", &digest).unwrap(), Some(5000));
    assert_eq!(read_all(&c, "acme/out", &digest, Some(5000)).unwrap(), blob);

    let unknown = Digest::of(b"not in acme/base");
    assert!(!c.mount_blob("acme/out", "acme/base", &unknown).unwrap());
    assert_eq!(c.blob_exists("acme/out", &unknown).unwrap(), None);
    assert!(reg.open_uploads("acme/out").is_empty(), "upload sessions left: {:?}", reg.open_uploads("acme/out"));
}

#[test]
fn registry_scope_refused_before_any_io() {
    // Nothing listens here: an in-scope call fails to connect, an out-of-scope one never tries.
    let url = format!("http://127.0.0.1:{}", free_port());
    let c = client(RegistryConfig::new(url), &["acme"], &["acme/out"]);
    let d = Digest::of(b"x");
    let source = BlobSource::Bytes(Arc::from(&b"x"[..]));
    let refused = |e: Error| assert!(matches!(e, Error::OutOfScope { .. }), "expected OutOfScope, got {e}");

    refused(c.put_blob("acme/base", &d, 1, &source, &Quiet).unwrap_err());
    refused(c.put_manifest("acme/base", "v1", media::OCI_MANIFEST, b"{}").unwrap_err());
    refused(c.get_manifest("other/x", "v1").unwrap_err());
    refused(c.head_manifest("acmecorp/x", "v1").unwrap_err());
    refused(c.list_tags("other/x").unwrap_err());
    refused(c.blob_exists("other/x", &d).unwrap_err());
    refused(c.open_blob("other/x", &d, None).err().expect("refused"));
    refused(c.mount_blob("acme/out", "other/x", &d).unwrap_err());
    refused(c.mount_blob("acme/base", "acme/x", &d).unwrap_err());

    let e = c.get_manifest("acme/x", "v1").unwrap_err();
    assert!(matches!(e, Error::Transport { .. }), "{e}");
    assert!(e.to_string().contains("GET http://127.0.0.1:"), "{e}");
}

#[test]
fn registry_basic_auth() {
    let reg = Registry::start_with(RegistryOptions {
        htpasswd: Some(("alice".into(), "s3cret".into())),
        ..RegistryOptions::default()
    });
    let c = client(reg.client_config(), &["acme"], &["acme/out"]);
    let manifest = push_image(&c, "acme/out", "v1", 4);
    assert_eq!(c.get_manifest("acme/out", "v1").unwrap().bytes, manifest);
    assert_eq!(c.list_tags("acme/out").unwrap(), vec!["v1"]);
    assert_eq!(skopeo_inspect_raw(&format!("{}/acme/out:v1", reg.host()), Some(("alice", "s3cret"))), manifest);

    let wrong = client(RegistryConfig::new(reg.url()).with_credentials("alice", "wrong"), &["acme"], &["acme/out"]);
    let e = wrong.get_manifest("acme/out", "v1").unwrap_err();
    assert!(matches!(e, Error::Unauthorized { .. }), "{e}");
    let msg = e.to_string();
    assert!(msg.contains(&reg.url()) && msg.contains("user `alice`") && !msg.contains("wrong"), "{msg}");

    // No credentials given (and, in a clean environment, none found).
    let anonymous = client(RegistryConfig::new(reg.url()), &["acme"], &["acme/out"]);
    let e = anonymous.list_tags("acme/out").unwrap_err();
    assert!(matches!(e, Error::Unauthorized { .. }), "{e}");
    assert!(e.to_string().contains("TAILOR_REGISTRY_USER"), "{e}");
}

#[test]
fn registry_bearer_token_auth() {
    let reg = Registry::start_with(RegistryOptions {
        htpasswd: Some(("bob".into(), "t0ken-pass".into())),
        token_auth: true,
        ..RegistryOptions::default()
    });
    let c = client(reg.client_config(), &["acme"], &["acme/out", "acme/base"]);
    let manifest = push_image(&c, "acme/out", "v1", 5);
    assert_eq!(c.get_manifest("acme/out", "v1").unwrap().bytes, manifest);
    assert_eq!(c.list_tags("acme/out").unwrap(), vec!["v1"]);
    let big = noise(20 << 20, 6); // chunked upload through tokens
    let big_digest = push(&c, "acme/base", &big);
    assert!(read_all(&c, "acme/base", &big_digest, None).unwrap() == big);
    assert!(c.mount_blob("acme/out", "acme/base", &big_digest).unwrap());

    let requests = reg.token_requests();
    assert!(requests.iter().all(|r| r.granted && r.user.as_deref() == Some("bob")), "{requests:?}");
    assert!(requests.iter().all(|r| r.service.as_deref() == Some("tailor-e2e-registry")), "{requests:?}");
    // Tokens are cached per scope: one request per distinct scope set.
    let scopes: Vec<Vec<String>> = requests.iter().map(|r| r.scopes.clone()).collect();
    assert_eq!(
        scopes,
        vec![
            vec!["repository:acme/out:pull,push".to_string()],
            vec!["repository:acme/base:pull,push".to_string()],
            vec!["repository:acme/out:pull,push".to_string(), "repository:acme/base:pull".to_string()],
        ]
    );
    assert_eq!(skopeo_inspect_raw(&format!("{}/acme/out:v1", reg.host()), Some(("bob", "t0ken-pass"))), manifest);

    // A read-only client asks for pull only.
    let reader = client(reg.client_config(), &["acme"], &[]);
    assert_eq!(reader.get_manifest("acme/out", "v1").unwrap().bytes, manifest);
    let last = reg.token_requests().pop().unwrap();
    assert_eq!(last.scopes, vec!["repository:acme/out:pull"]);

    for config in [RegistryConfig::new(reg.url()).with_credentials("bob", "nope"), RegistryConfig::new(reg.url())] {
        let c = client(config, &["acme"], &["acme/out"]);
        let e = c.get_manifest("acme/out", "v1").unwrap_err();
        assert!(matches!(e, Error::Unauthorized { .. }), "{e}");
        let msg = e.to_string();
        assert!(msg.contains("token server") && msg.contains("TAILOR_REGISTRY_PASSWORD"), "{msg}");
    }
}

#[test]
fn registry_tampered_blob_fails_verification() {
    let reg = Registry::start();
    let c = client(reg.client_config(), &["acme"], &["acme/out"]);
    let blob = noise(10_000, 8);
    let digest = push(&c, "acme/out", &blob);

    // Same size, one byte changed, behind the registry's back.
    let path = reg.blob_data_path(digest.as_str());
    let mut stored = std::fs::read(&path).expect("the blob's data file");
    assert_eq!(stored, blob);
    stored[5000] ^= 0xff;
    std::fs::write(&path, &stored).unwrap();

    let e = read_all(&c, "acme/out", &digest, Some(10_000)).unwrap_err();
    assert_eq!(e.kind(), std::io::ErrorKind::InvalidData);
    assert!(e.to_string().contains("does not match its digest"), "{e}");
    let e = c.read_blob("acme/out", &digest, 1 << 20).unwrap_err();
    assert!(e.to_string().contains("does not match its digest"), "{e}");
}
