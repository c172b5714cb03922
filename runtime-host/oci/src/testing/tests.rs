//! The real registry client against the test double.

use std::sync::Arc;

use serde_json::json;

use super::ReferrersRegistry;
use crate::media::{OCI_CONFIG, OCI_MANIFEST};
use crate::{BlobSource, Client, Digest, Quiet, RegistryConfig, Scope};

const SIG: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";
const SBOM: &str = "application/spdx+json";

fn client(r: &ReferrersRegistry) -> Client {
    let config = RegistryConfig::new(r.url()).with_credentials("nobody", "unused");
    Client::registry(config, Scope::new(["acme"], ["acme/app"])).unwrap()
}

fn push_blob(c: &Client, bytes: &[u8]) -> Digest {
    let d = Digest::of(bytes);
    c.put_blob("acme/app", &d, bytes.len() as u64, &BlobSource::Bytes(Arc::from(bytes)), &Quiet).unwrap();
    d
}

/// An OCI manifest with one config blob, optionally an artifact referring to `subject`.
fn manifest(config: &Digest, config_type: &str, artifact: Option<(&str, &Digest, u64)>) -> Vec<u8> {
    let mut m = json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": config_type, "digest": config.as_str(), "size": 2},
        "layers": [],
    });
    if let Some((artifact_type, subject, size)) = artifact {
        m["artifactType"] = json!(artifact_type);
        m["subject"] = json!({"mediaType": OCI_MANIFEST, "digest": subject.as_str(), "size": size});
        m["annotations"] = json!({"org.opencontainers.image.created": "2025-01-01T00:00:00Z"});
    }
    serde_json::to_vec(&m).unwrap()
}

#[test]
fn lists_referrers_pushed_by_digest() {
    let r = ReferrersRegistry::start();
    let c = client(&r);
    let config = push_blob(&c, b"{}");
    assert_eq!(c.blob_exists("acme/app", &config).unwrap(), Some(2));
    let subject_bytes = manifest(&config, OCI_CONFIG, None);
    let subject = c.put_manifest("acme/app", "1.0", OCI_MANIFEST, &subject_bytes).unwrap();
    let size = subject_bytes.len() as u64;
    let sig_bytes = manifest(&config, "application/vnd.oci.empty.v1+json", Some((SIG, &subject, size)));
    let sbom_bytes = manifest(&config, "application/vnd.oci.empty.v1+json", Some((SBOM, &subject, size)));
    let sig = c.put_manifest("acme/app", Digest::of(&sig_bytes).as_str(), OCI_MANIFEST, &sig_bytes).unwrap();
    let sbom = c.put_manifest("acme/app", Digest::of(&sbom_bytes).as_str(), OCI_MANIFEST, &sbom_bytes).unwrap();

    let mut all = c.referrers("acme/app", &subject, None).unwrap().unwrap();
    all.sort_by(|a, b| a.digest.cmp(&b.digest));
    let mut want = vec![(sig.clone(), SIG, sig_bytes.len()), (sbom.clone(), SBOM, sbom_bytes.len())];
    want.sort();
    let got: Vec<_> =
        all.iter().map(|x| (x.digest.clone(), x.artifact_type.as_deref().unwrap(), x.size as usize)).collect();
    assert_eq!(got, want);
    assert!(all.iter().all(|x| x.media_type == OCI_MANIFEST));
    assert_eq!(all[0].annotations["org.opencontainers.image.created"], "2025-01-01T00:00:00Z");

    let sboms = c.referrers("acme/app", &subject, Some(SBOM)).unwrap().unwrap();
    assert_eq!(sboms.iter().map(|x| &x.digest).collect::<Vec<_>>(), vec![&sbom]);
    assert_eq!(c.referrers("acme/app", &sig, None).unwrap(), Some(vec![]));
    assert_eq!(c.referrers("acme/other", &subject, None).unwrap(), Some(vec![]));

    // The manifests read back byte for byte, by tag and by digest.
    assert_eq!(c.get_manifest("acme/app", "1.0").unwrap().bytes, subject_bytes);
    assert_eq!(c.get_manifest("acme/app", sig.as_str()).unwrap().bytes, sig_bytes);
    let head = c.head_manifest("acme/app", sbom.as_str()).unwrap().unwrap();
    assert_eq!((head.digest, head.size), (sbom, sbom_bytes.len() as u64));
    assert_eq!(c.list_tags("acme/app").unwrap(), vec!["1.0"]);

    let seen = r.requests();
    let filtered = format!("GET /v2/acme/app/referrers/{subject}?artifactType=application%2Fspdx%2Bjson");
    assert!(seen.contains(&filtered), "{seen:?}");
    assert!(seen.iter().any(|l| l.starts_with("PUT /v2/acme/app/blobs/uploads/1?digest=sha256%3A")), "{seen:?}");
}

#[test]
fn chunked_uploads_and_refusals() {
    let r = ReferrersRegistry::start();
    let c = client(&r);
    // Larger than one chunk of the client (16 MiB): POST, two PATCHes, PUT.
    let big = vec![7u8; (16 << 20) + 5];
    let d = push_blob(&c, &big);
    assert_eq!(c.read_blob("acme/app", &d, 32 << 20).unwrap().len(), big.len());
    let patches = r.requests().iter().filter(|l| l.starts_with("PATCH /v2/acme/app/blobs/uploads/")).count();
    assert_eq!(patches, 2, "{:?}", r.requests());
    // A mount is answered with a plain session, which the client cancels.
    assert!(!c.mount_blob("acme/app", "acme/base", &d).unwrap());
    assert!(r.requests().iter().any(|l| l.starts_with("DELETE /v2/acme/app/blobs/uploads/")));
    // A manifest under another digest is refused; unknown things are 404s.
    let m = manifest(&d, OCI_CONFIG, None);
    let e = c.put_manifest("acme/app", Digest::of(b"x").as_str(), OCI_MANIFEST, &m).unwrap_err();
    assert!(e.to_string().contains("expected"), "{e}");
    assert!(c.get_manifest("acme/app", "nope").unwrap_err().is_not_found());
    assert_eq!(c.blob_exists("acme/app", &Digest::of(b"absent")).unwrap(), None);
    assert!(c.list_tags("acme/none").unwrap_err().is_not_found());
}

#[test]
fn the_double_checks_digests_itself() {
    let r = ReferrersRegistry::start();
    let agent = ureq::Agent::new_with_defaults();
    let url = r.url();
    let post = agent.post(format!("{url}/v2/acme/app/blobs/uploads/")).send_empty().unwrap();
    assert_eq!(post.status(), 202);
    let location = post.headers()["location"].to_str().unwrap().to_string();
    let wrong = Digest::of(b"other");
    let put = agent
        .put(format!("{url}{location}?digest={wrong}"))
        .config()
        .http_status_as_error(false)
        .build()
        .send(&b"data"[..])
        .unwrap();
    assert_eq!(put.status(), 400);
    assert!(put.into_body().read_to_string().unwrap().contains("DIGEST_INVALID"));
    let referrers = agent
        .get(format!("{url}/v2/acme/app/referrers/sha256:nope"))
        .config()
        .http_status_as_error(false)
        .build()
        .call()
        .unwrap();
    assert_eq!(referrers.status(), 400);
    let m = br#"{"schemaVersion":2,"subject":{"digest":"sha256:abc"}}"#;
    let put = agent.put(format!("{url}/v2/acme/app/manifests/t")).content_type(OCI_MANIFEST).send(&m[..]).unwrap();
    assert_eq!(put.headers()["oci-subject"], "sha256:abc");
    assert_eq!(put.headers()["docker-content-digest"], Digest::of(m).as_str());
}
