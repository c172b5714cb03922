#![allow(clippy::unwrap_used)]
//! Signatures and attestations as OCI 1.1 referrers, against the in-memory conformance double
//! (`tailor_oci::testing`; the Distribution registry used elsewhere has no referrers API).

use serde_json::Value;
use tailor_oci::testing::ReferrersRegistry;
use tailor_oci::{BlobSource, Client, Quiet, RegistryConfig, Scope, media};

use crate::intoto::{SLSA_PROVENANCE_V1, SPDX_PREDICATE, statement};
use crate::*;

/// A client of the double and the subject of a real image manifest pushed there.
fn image(registry: &ReferrersRegistry, content: &[u8]) -> (Client, Subject) {
    let client = Client::registry(RegistryConfig::new(registry.url()), Scope::new(["acme"], ["acme/app"])).unwrap();
    let config = br#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"#;
    let cd = tailor_oci::Digest::of(config);
    client.put_blob("acme/app", &cd, config.len() as u64, &BlobSource::Bytes(config.to_vec().into()), &Quiet).unwrap();
    let manifest = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": media::OCI_MANIFEST,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "size": config.len(), "digest": cd.as_str()},
        "layers": [],
        "annotations": {"content": String::from_utf8_lossy(content)},
    }))
    .unwrap();
    let subject = Subject::of(media::OCI_MANIFEST, &manifest);
    client.put_manifest("acme/app", subject.digest.as_str(), media::OCI_MANIFEST, &manifest).unwrap();
    (client, subject)
}

#[test]
fn signatures_are_referrers_where_the_registry_has_the_api() {
    let registry = ReferrersRegistry::start();
    let (client, subject) = image(&registry, b"a");
    let storage = Storage::detect(&client, "acme/app", &subject.digest).unwrap();
    assert_eq!(storage, Storage::Referrers);
    let (k1, k2) = (PrivateKey::generate().unwrap(), PrivateKey::generate().unwrap());
    let first = sign_image(&client, "acme/app", &subject, "r/acme/app", &k1, storage).unwrap();
    assert!(first.starts_with("sha256:"), "a referrer digest: {first}");
    assert_eq!(sign_image(&client, "acme/app", &subject, "r/acme/app", &k1, storage).unwrap(), first);
    sign_image(&client, "acme/app", &subject, "r/acme/app", &k2, storage).unwrap();
    let listed = client.referrers("acme/app", &subject.digest, None).unwrap().unwrap();
    assert_eq!(listed.len(), 2, "one referrer per distinct signature: {listed:?}");
    let m: Value = serde_json::from_slice(&client.get_manifest("acme/app", &first).unwrap().bytes).unwrap();
    assert_eq!(m["artifactType"], Kind::Signature.artifact_type());
    assert_eq!(m["subject"]["digest"], subject.digest.as_str());
    assert_eq!(m["subject"]["size"], subject.size);
    assert_eq!(m["layers"][0]["mediaType"], SIMPLESIGNING_MEDIA_TYPE);
    assert!(client.list_tags("acme/app").unwrap().iter().all(|t| !t.ends_with(".sig")), "no fallback tag");
    for k in [&k1, &k2] {
        assert_eq!(
            verify_image(&client, "acme/app", &subject.digest, &k.public()).unwrap().manifest_digest,
            subject.digest.as_str()
        );
    }
    let stranger = PrivateKey::generate().unwrap().public();
    assert!(
        verify_image(&client, "acme/app", &subject.digest, &stranger)
            .unwrap_err()
            .to_string()
            .contains("no valid signature")
    );
    // A signature written under the tag scheme (before the registry had the API) still counts.
    let (_, other) = image(&registry, b"b");
    sign_image(&client, "acme/app", &other, "r/acme/app", &k1, Storage::Tags).unwrap();
    verify_image(&client, "acme/app", &other.digest, &k1.public()).unwrap();
}

#[test]
fn attestations_are_referrers_checked_against_their_subject() {
    let registry = ReferrersRegistry::start();
    let (client, a) = image(&registry, b"a");
    let (_, b) = image(&registry, b"b");
    let key = PrivateKey::generate().unwrap();
    let env = |about: &Subject, predicate: &str| {
        let s =
            statement("r/acme/app", about.digest.hex(), predicate, serde_json::json!({"about": about.digest.as_str()}));
        Envelope::sign(&key, IN_TOTO_PAYLOAD_TYPE, &serde_json::to_vec(&s).unwrap())
    };
    let written = attach_attestations(
        &client,
        "acme/app",
        &a,
        &[(SLSA_PROVENANCE_V1, env(&a, SLSA_PROVENANCE_V1)), (SPDX_PREDICATE, env(&a, SPDX_PREDICATE))],
        Storage::Referrers,
    )
    .unwrap();
    assert_eq!(written.len(), 2, "one referrer per statement: {written:?}");
    let listed = client.referrers("acme/app", &a.digest, Some(Kind::Attestation.artifact_type())).unwrap().unwrap();
    let types: Vec<&str> =
        listed.iter().filter_map(|r| r.annotations.get(PREDICATE_TYPE_ANNOTATION)).map(String::as_str).collect();
    assert!(types.contains(&SLSA_PROVENANCE_V1) && types.contains(&SPDX_PREDICATE), "{types:?}");
    for p in [SLSA_PROVENANCE_V1, SPDX_PREDICATE] {
        let found = verify_attestations(&client, "acme/app", &a.digest, p, &key.public()).unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0]["predicate"]["about"], a.digest.as_str());
    }
    // b's referrer carrying a statement about a: verifies cryptographically, refused by subject.
    attach_attestations(
        &client,
        "acme/app",
        &b,
        &[(SLSA_PROVENANCE_V1, env(&a, SLSA_PROVENANCE_V1))],
        Storage::Referrers,
    )
    .unwrap();
    let err =
        verify_attestations(&client, "acme/app", &b.digest, SLSA_PROVENANCE_V1, &key.public()).unwrap_err().to_string();
    assert!(err.contains("subject points at another digest") && err.contains(a.digest.hex()), "{err}");
    let err =
        verify_attestations(&client, "acme/app", &b.digest, SPDX_PREDICATE, &key.public()).unwrap_err().to_string();
    assert!(err.contains("has no https://spdx.dev/Document attestation"), "{err}");
    assert!(registry.requests().iter().any(|r| r.contains("/referrers/")), "{:?}", registry.requests());
}
