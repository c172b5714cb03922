//! Mirrors (issue E) end to end: two real Distribution registries (a vendor's upstream and the
//! org's), images signed cosign-style with a key of the test, a Helm chart pushed by real Helm,
//! `tailor up` syncing through the API, the one-shot `tailor mirror copy`, notifications, the
//! cascade into customizations, and hostile upstreams.

mod bad_input;
mod cascade;
mod copy;
mod poll;
mod sync;

use std::time::Duration;

use serde_json::{Value, json};
use tailor_oci::{Client, Digest, RegistryConfig, Scope};
use tailor_sign::{Envelope, IN_TOTO_PAYLOAD_TYPE, PrivateKey, Storage, Subject};

use crate::harness::{Registry, Service};

/// Pushes `files` as `reference` (`vendor/x:tag`) to `registry` with `tailor artifact push`;
/// returns the index digest.
pub fn vendor_push(registry: &Registry, reference: &str, platforms: &str, files: &[(&str, &str)]) -> String {
    let files: Vec<(&str, &[u8])> = files.iter().map(|(p, c)| (*p, c.as_bytes())).collect();
    crate::harness::service::push_files(&registry.url(), reference, platforms, &files);
    digest_of(registry, reference)
}

/// The digest `repo:tag` has in `registry` (skopeo's view), or None.
pub fn digest_of(registry: &Registry, reference: &str) -> String {
    let raw = crate::harness::skopeo_inspect_raw(&format!("{}/{reference}", registry.host()), None);
    format!("sha256:{}", hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&raw)))
}

/// Signs `repo@digest` in `registry` the way `cosign sign --recursive` does (simple-signing
/// payloads in `.sig` carriers, for the index and each platform manifest) with `key`, and
/// attests a provenance statement on each platform manifest (`.att`), like `cosign attest`.
pub fn vendor_sign(registry: &Registry, repo: &str, digest: &str, key: &PrivateKey) {
    let client = Client::registry(RegistryConfig::new(registry.url()), Scope::new([repo], [repo])).unwrap();
    let raw = client.get_manifest(repo, digest).unwrap();
    let reference = format!("vendor.example/{repo}");
    let index: Value = serde_json::from_slice(&raw.bytes).unwrap();
    let mut subjects = vec![Subject::of(&raw.media_type, &raw.bytes)];
    for m in index["manifests"].as_array().into_iter().flatten() {
        let child = client.get_manifest(repo, m["digest"].as_str().unwrap()).unwrap();
        subjects.push(Subject::of(&child.media_type, &child.bytes));
    }
    for (i, subject) in subjects.iter().enumerate() {
        tailor_sign::sign_image(&client, repo, subject, &reference, key, Storage::Tags).unwrap();
        if i == 0 && subjects.len() > 1 {
            continue;
        }
        let d: &Digest = &subject.digest;
        let statement = serde_json::to_vec(&json!({
            "_type": "https://in-toto.io/Statement/v1",
            "subject": [{"name": reference, "digest": {"sha256": d.hex()}}],
            "predicateType": "https://slsa.dev/provenance/v1",
            "predicate": {"buildDefinition": {"buildType": "https://vendor.example/build"}},
        }))
        .unwrap();
        let envelope = Envelope::sign(key, IN_TOTO_PAYLOAD_TYPE, &statement);
        let attestation = [("https://slsa.dev/provenance/v1", envelope)];
        tailor_sign::attach_attestations(&client, repo, subject, &attestation, Storage::Tags).unwrap();
    }
}

/// A key pair of the test (the vendor's), with the public key written to `dir/NAME.pub`.
pub fn key(dir: &std::path::Path, name: &str) -> (PrivateKey, std::path::PathBuf, String) {
    let key = PrivateKey::generate().unwrap();
    let pem = key.public().to_pem().unwrap();
    let path = dir.join(format!("{name}.pub"));
    std::fs::write(&path, &pem).unwrap();
    (key, path, pem)
}

/// `POST /v1/orgs/acme/mirrors` as `token`; the created mirror (panics unless 201).
pub fn create_mirror(host: &Service, token: &str, body: &Value) -> Value {
    let r = host.post_json("/v1/orgs/acme/mirrors", token, body);
    assert_eq!(r.status, 201, "{}", r.text());
    r.json()
}

/// Waits until sync `number` of mirror `id` ended; returns it.
pub fn wait_sync(host: &Service, token: &str, id: &str, number: i64) -> Value {
    host.wait_for(&format!("sync {number} of {id}"), Duration::from_secs(120), || {
        let r = host.get(&format!("/v1/orgs/acme/mirrors/{id}/syncs/{number}"), token);
        let s = r.json();
        (r.status == 200 && !matches!(s["status"].as_str(), Some("queued" | "running"))).then_some(s)
    })
}

/// The action of `tag` in a sync.
pub fn action(sync: &Value, tag: &str) -> String {
    sync["tags"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["tag"] == tag)
        .unwrap_or_else(|| panic!("no tag {tag} in {sync:#}"))["action"]
        .as_str()
        .unwrap()
        .to_owned()
}
