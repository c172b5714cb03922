#![allow(clippy::unwrap_used)]
//! Publishing against the in-memory conformance double (`tailor_oci::testing`): a whole
//! signed build on a registry with the OCI 1.1 referrers API (the Distribution registry of the
//! e2e tests has none, so there the tag scheme is what is tested) — signatures and
//! attestations become referrers, no fallback tag is written, everything verifies — and the
//! recovery from a manifest refused for a blob the registry does not know yet.

use std::sync::Arc;

use tailor_oci::testing::ReferrersRegistry;
use tailor_oci::{Client, RegistryConfig, Scope};
use tailor_sign::intoto::{SLSA_PROVENANCE_V1, SPDX_PREDICATE};
use tailor_sign::{Kind, PrivateKey, verify_attestations, verify_image};
use tailor_spec::{Customization, Platform};

use crate::scratch::push_directory;
use crate::{Options, build};

/// The conformance double holding `acme/base:1` (a small linux/amd64 image), and a client
/// that may read `acme/*` and write `acme/base`.
fn base_image() -> (ReferrersRegistry, Client) {
    let registry = ReferrersRegistry::start();
    let client = Client::registry(RegistryConfig::new(registry.url()), Scope::new(["acme"], ["acme/base"])).unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("etc")).unwrap();
    std::fs::write(dir.path().join("etc/passwd"), "root:x:0:0::/root:/bin/sh\n").unwrap();
    std::fs::write(dir.path().join("etc/os-release"), "ID=debian\nVERSION_ID=\"12\"\n").unwrap();
    let platforms = [Platform::parse("linux/amd64").unwrap()];
    push_directory(&client, dir.path(), "acme/base", "1", &platforms, 0, 0, 0, &Options::default()).unwrap();
    (registry, client)
}

#[test]
fn a_signed_build_writes_referrers_where_the_registry_has_the_api() {
    let (_registry, client) = base_image();

    let spec = Customization::from_yaml(
        "name: r\nsource: acme/base:1\ntag_suffix: r\nplatforms: [linux/amd64]\n\
         files:\n  - {path: /etc/app.conf, content: \"x=1\\n\"}\n",
    )
    .unwrap();
    let key = Arc::new(PrivateKey::generate().unwrap());
    let opts = Options { signer: Some(key.clone()), ..Options::default() };
    let report = build(&spec, &client, &opts).unwrap();
    let signatures = report.signatures.clone().unwrap();
    let attestations = report.attestations.clone().unwrap();
    assert_eq!(signatures.len(), 2, "index and manifest: {signatures:?}");
    assert_eq!(attestations.len(), 2, "provenance and SBOM: {attestations:?}");
    assert!(signatures.iter().chain(&attestations).all(|w| w.starts_with("acme/base@sha256:")), "{report:?}");
    assert!(
        client.list_tags("acme/base").unwrap().iter().all(|t| !t.ends_with(".sig") && !t.ends_with(".att")),
        "no fallback tags"
    );
    let manifest = &report.manifests["linux/amd64"];
    for d in [&report.index_digest, manifest] {
        verify_image(&client, "acme/base", d, &key.public()).unwrap();
    }
    let sigs = client.referrers("acme/base", manifest, Some(Kind::Signature.artifact_type())).unwrap().unwrap();
    assert_eq!(sigs.len(), 1);
    let prov = verify_attestations(&client, "acme/base", manifest, SLSA_PROVENANCE_V1, &key.public()).unwrap();
    assert_eq!(prov[0]["subject"][0]["digest"]["sha256"], manifest.hex());
    let sbom = verify_attestations(&client, "acme/base", manifest, SPDX_PREDICATE, &key.public()).unwrap();
    assert_eq!(sbom[0]["predicate"]["files"][0]["fileName"], "./etc/app.conf");
    // The tag moved only after all of it.
    assert_eq!(client.get_manifest("acme/base", "1_r").unwrap().digest, report.index_digest);
}

#[test]
fn a_manifest_refused_for_an_unknown_blob_is_pushed_again_once() {
    let (registry, client) = base_image();
    let spec = Customization::from_yaml(
        "name: r\nsource: acme/base:1\ntag_suffix: r\nplatforms: [linux/amd64]\nenvironment: {A: b}\n",
    )
    .unwrap();
    // What Distribution answers while another build's upload of the same blob is committed.
    registry.refuse_manifest_put(1, 400, "MANIFEST_BLOB_UNKNOWN", "blob unknown to registry");
    let report = build(&spec, &client, &Options::default()).unwrap();
    let manifest = &report.manifests["linux/amd64"];
    let puts = registry
        .requests()
        .iter()
        .filter(|r| r.starts_with(&format!("PUT /v2/acme/base/manifests/{manifest}")))
        .count();
    assert_eq!(puts, 2, "{:?}", registry.requests());
    assert_eq!(client.get_manifest("acme/base", "1_r").unwrap().digest, report.index_digest);
    // Refused twice: the build fails with the registry's answer (nothing tagged).
    let spec = Customization::from_yaml(
        "name: r\nsource: acme/base:1\ntag_suffix: r2\nplatforms: [linux/amd64]\nenvironment: {A: c}\n",
    )
    .unwrap();
    registry.refuse_manifest_put(1, 400, "MANIFEST_BLOB_UNKNOWN", "blob unknown to registry");
    registry.refuse_manifest_put(2, 400, "MANIFEST_BLOB_UNKNOWN", "blob unknown to registry");
    let err = build(&spec, &client, &Options::default()).unwrap_err().to_string();
    assert!(err.contains("MANIFEST_BLOB_UNKNOWN"), "{err}");
    assert!(client.get_manifest("acme/base", "1_r2").unwrap_err().is_not_found());
}

#[test]
fn a_refused_signature_fails_the_build_and_leaves_the_tag_where_it_was() {
    let (registry, client) = base_image();
    let key = Arc::new(PrivateKey::generate().unwrap());
    let opts = Options { signer: Some(key), ..Options::default() };
    let yaml = |env: &str| {
        Customization::from_yaml(&format!(
            "name: r\nsource: acme/base:1\ntag_suffix: s\nplatforms: [linux/amd64]\nenvironment: {{A: \"{env}\"}}\n"
        ))
        .unwrap()
    };
    let first = build(&yaml("1"), &client, &opts).unwrap();
    // The platform manifest and the index go up (pushes 1 and 2); the first signature or
    // attestation written after them (push 3) is refused for good.
    registry.refuse_manifest_put(3, 400, "DENIED", "no signatures here");
    let err = build(&yaml("2"), &client, &opts).unwrap_err();
    assert!(matches!(err, crate::BuildError::Sign { .. }), "{err:?}");
    let text = err.to_string();
    assert!((text.starts_with("signing") || text.starts_with("attesting")) && text.contains("DENIED"), "{text}");
    assert!(!err.is_transient(), "a refusal is not retried");
    assert_eq!(
        client.get_manifest("acme/base", "1_s").unwrap().digest,
        first.index_digest,
        "the tag still names the last good build"
    );
}
