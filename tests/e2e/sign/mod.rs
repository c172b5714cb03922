//! Signed builds (issue C): `tailor build --key` signs the index and every platform manifest
//! cosign-style before the tag moves; the signatures are checked independently of tailor, by
//! fetching them over plain HTTP and verifying with openssl.

use std::path::Path;
use std::process::Command;

use base64::Engine;
use serde_json::Value;

use crate::build::fixtures::{build_json, stderr, tailor};
use crate::harness::http;
use crate::harness::{Registry, run};

mod sbom;

fn push_dir(registry: &Registry, reference: &str, platforms: &str, files: &[(&str, &str)]) {
    let files: Vec<(&str, &[u8])> = files.iter().map(|(p, c)| (*p, c.as_bytes())).collect();
    crate::harness::service::push_files(&registry.url(), reference, platforms, &files);
}

/// The signature stored for `digest`: (payload bytes, DER signature), read with plain HTTP.
pub(crate) fn fetch_signature(registry: &Registry, repo: &str, digest: &str) -> Vec<(Vec<u8>, Vec<u8>)> {
    let tag = format!("{}.sig", digest.replace(':', "-"));
    let accept = [("accept", "application/vnd.oci.image.manifest.v1+json")];
    let r = http::request(&registry.host(), "GET", &format!("/v2/{repo}/manifests/{tag}"), &accept, b"");
    assert_eq!(r.status, 200, "{tag}: {}", r.text());
    let manifest = r.json();
    manifest["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|layer| {
            assert_eq!(layer["mediaType"], "application/vnd.dev.cosign.simplesigning.v1+json");
            let blob = http::request(
                &registry.host(),
                "GET",
                &format!("/v2/{repo}/blobs/{}", layer["digest"].as_str().unwrap()),
                &[],
                b"",
            );
            assert_eq!(blob.status, 200);
            let sig = layer["annotations"]["dev.cosignproject.cosign/signature"].as_str().unwrap();
            (blob.body, base64::engine::general_purpose::STANDARD.decode(sig).unwrap())
        })
        .collect()
}

/// openssl's verdict on a DER ECDSA signature of `message` with the SPKI PEM key `public`.
pub(crate) fn openssl_verifies(public: &Path, message: &[u8], der: &[u8]) -> bool {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("payload"), message).unwrap();
    std::fs::write(dir.path().join("sig.der"), der).unwrap();
    let out = Command::new("openssl")
        .args(["dgst", "-sha256", "-verify"])
        .arg(public)
        .arg("-signature")
        .arg(dir.path().join("sig.der"))
        .arg(dir.path().join("payload"))
        .output()
        .expect("openssl (Debian package openssl, installed by tests/run.sh)");
    out.status.success() && String::from_utf8_lossy(&out.stdout).contains("Verified OK")
}

#[test]
fn signed_builds_verify_with_openssl() {
    let work = tempfile::tempdir().unwrap();
    let registry = Registry::start();
    push_dir(&registry, "acme/base:1", "linux/amd64,linux/arm64", &[("/etc/passwd", "root:x:0:0::/root:/bin/sh\n")]);
    push_dir(&registry, "acme/tools:1", "linux/amd64,linux/arm64", &[("/opt/tools/run", "#!/bin/sh\n")]);
    let keys = work.path().join("keys");
    let o = tailor(&["key", "generate", "--out", keys.to_str().unwrap()], &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let public = keys.join("tailor.pub");
    let spec = work.path().join("c.yaml");
    std::fs::write(
        &spec,
        "name: signed\nsource: acme/base:1\ntag_suffix: signed\nplatforms: [linux/amd64, linux/arm64]\n\
         contents:\n  artifacts:\n    - {reference: acme/tools:1, includes: [/opt/tools]}\n",
    )
    .unwrap();
    let key = keys.join("tailor.key");
    let store = ["--registry", &registry.url(), "--key", key.to_str().unwrap()];
    let report = build_json(&spec, &store, &[]);
    let index = report["index_digest"].as_str().unwrap().to_owned();
    let signatures: Vec<&str> = report["signatures"].as_array().unwrap().iter().map(|s| s.as_str().unwrap()).collect();
    assert_eq!(signatures.len(), 3, "the index and two platform manifests: {report}");
    assert!(signatures.contains(&format!("acme/base:{}.sig", index.replace(':', "-")).as_str()), "{signatures:?}");

    let mut digests = vec![index.clone()];
    digests.extend(report["manifests"].as_object().unwrap().values().map(|d| d.as_str().unwrap().to_owned()));
    for digest in &digests {
        let found = fetch_signature(&registry, "acme/base", digest);
        assert_eq!(found.len(), 1);
        let (payload, der) = &found[0];
        assert!(openssl_verifies(&public, payload, der), "openssl rejects the signature of {digest}");
        let p: Value = serde_json::from_slice(payload).unwrap();
        assert_eq!(p["critical"]["image"]["docker-manifest-digest"], digest.as_str());
        assert_eq!(p["critical"]["identity"]["docker-reference"], format!("{}/acme/base", registry.host()));
        assert_eq!(p["critical"]["type"], "cosign container image signature");
        let mut tampered = payload.clone();
        tampered[10] ^= 1;
        assert!(!openssl_verifies(&public, &tampered, der), "a changed byte must not verify");
    }

    // Provenance: one DSSE envelope per platform manifest, PAE signature checked by openssl,
    // its subject the platform manifest, its dependencies the digests the build read.
    assert_eq!(report["attestations"].as_array().unwrap().len(), 2, "{report}");
    let platform_digest = |image: &str, arch: &str| -> String {
        let raw = crate::harness::skopeo_inspect_raw(&format!("{}/{image}", registry.host()), None);
        let index: Value = serde_json::from_slice(&raw).unwrap();
        let m = index["manifests"].as_array().unwrap().iter().find(|m| m["platform"]["architecture"] == arch).unwrap();
        m["digest"].as_str().unwrap().to_owned()
    };
    for (platform, digest) in report["manifests"].as_object().unwrap() {
        let arch = platform.split('/').nth(1).unwrap();
        let tag = format!("{}.att", digest.as_str().unwrap().replace(':', "-"));
        let accept = [("accept", "application/vnd.oci.image.manifest.v1+json")];
        let m = http::request(&registry.host(), "GET", &format!("/v2/acme/base/manifests/{tag}"), &accept, b"").json();
        let layers = m["layers"].as_array().unwrap();
        assert_eq!(layers.len(), 2, "provenance and SBOM: {m}");
        let layer =
            layers.iter().find(|l| l["annotations"]["predicateType"] == "https://slsa.dev/provenance/v1").unwrap();
        assert_eq!(layer["mediaType"], "application/vnd.dsse.envelope.v1+json");
        let path = format!("/v2/acme/base/blobs/{}", layer["digest"].as_str().unwrap());
        let envelope = http::request(&registry.host(), "GET", &path, &[], b"").json();
        let b64 = base64::engine::general_purpose::STANDARD;
        let body = b64.decode(envelope["payload"].as_str().unwrap()).unwrap();
        let sig = b64.decode(envelope["signatures"][0]["sig"].as_str().unwrap()).unwrap();
        let pae = [format!("DSSEv1 28 application/vnd.in-toto+json {} ", body.len()).as_bytes(), &body].concat();
        assert!(openssl_verifies(&public, &pae, &sig), "openssl rejects the provenance of {platform}");
        let statement: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(statement["subject"][0]["digest"]["sha256"], &digest.as_str().unwrap()[7..]);
        let deps = statement["predicate"]["buildDefinition"]["resolvedDependencies"].as_array().unwrap().clone();
        let digest_of = |name: &str| {
            deps.iter()
                .find(|d| d["name"] == name)
                .map(|d| format!("sha256:{}", d["digest"]["sha256"].as_str().unwrap()))
        };
        assert_eq!(digest_of("acme/base:1"), Some(platform_digest("acme/base:1", arch)), "{deps:?}");
        assert_eq!(digest_of("acme/tools:1"), Some(platform_digest("acme/tools:1", arch)), "{deps:?}");
        assert_eq!(statement["predicate"]["buildDefinition"]["externalParameters"]["customization"]["name"], "signed");
    }
    let o = tailor(
        &[
            "verify",
            "acme/base:1_signed",
            "--key",
            public.to_str().unwrap(),
            "--type",
            "slsaprovenance1",
            "--registry",
            &registry.url(),
        ],
        &[],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let text = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(text.contains("provenance") && text.contains(&platform_digest("acme/base:1", "arm64")[7..]), "{text}");

    // A rebuild of unchanged inputs: the same image, and its one signature still verifies.
    let again = build_json(&spec, &store, &[]);
    assert_eq!(again["index_digest"], index.as_str());
    let found = fetch_signature(&registry, "acme/base", &index);
    assert_eq!(found.len(), 1, "the same key's signature is not stored twice");
    assert!(openssl_verifies(&public, &found[0].0, &found[0].1));

    // The key from the environment (PEM text): another key's signature joins the first.
    let other = work.path().join("other");
    run(Command::new(crate::build::fixtures::tailor_bin()).args(["key", "generate", "--out"]).arg(&other));
    let pem = std::fs::read_to_string(other.join("tailor.key")).unwrap();
    let third = build_json(&spec, &["--registry", &registry.url()], &[("TAILOR_SIGNING_KEY", &pem)]);
    assert_eq!(third["index_digest"], index.as_str());
    let found = fetch_signature(&registry, "acme/base", &index);
    assert_eq!(found.len(), 2, "re-signing with another key adds a signature");
    assert!(found.iter().any(|(p, s)| openssl_verifies(&other.join("tailor.pub"), p, s)));
    assert!(found.iter().any(|(p, s)| openssl_verifies(&public, p, s)));

    // No key: no "signatures" in the report.
    let unsigned = build_json(&spec, &["--registry", &registry.url()], &[]);
    assert!(unsigned.get("signatures").is_none(), "{unsigned}");

    // A bad key file: a clear error naming --key, nothing tagged anew.
    let bad = work.path().join("bad.key");
    std::fs::write(&bad, "not a key").unwrap();
    let o = tailor(
        &["build", "-f", spec.to_str().unwrap(), "--registry", &registry.url(), "--key", bad.to_str().unwrap()],
        &[],
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("--key") && stderr(&o).contains("PKCS#8"), "{}", stderr(&o));

    // A key other users may read: refused, saying how to fix it, for a build and for the
    // service's own key at start.
    use std::os::unix::fs::PermissionsExt;
    let exposed = work.path().join("exposed");
    run(Command::new(crate::build::fixtures::tailor_bin()).args(["key", "generate", "--out"]).arg(&exposed));
    let exposed_key = exposed.join("tailor.key");
    std::fs::set_permissions(&exposed_key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let o = tailor(
        &["build", "-f", spec.to_str().unwrap(), "--registry", &registry.url(), "--key", exposed_key.to_str().unwrap()],
        &[],
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let want = format!("may be read or written by other users (mode 0644): run `chmod 600 {}`", exposed_key.display());
    assert!(stderr(&o).contains(&want), "{}", stderr(&o));
    let data = work.path().join("data");
    std::fs::create_dir_all(data.join("keys")).unwrap();
    std::fs::copy(&exposed_key, data.join("keys/tailor.key")).unwrap();
    std::fs::set_permissions(data.join("keys/tailor.key"), std::fs::Permissions::from_mode(0o640)).unwrap();
    // (Under `timeout`: were the key taken, the service would run on.)
    let o = Command::new("timeout")
        .arg("60")
        .arg(crate::build::fixtures::tailor_bin())
        .args(["up", "--listen", "127.0.0.1:0", "--workers", "1", "--data"])
        .arg(&data)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("(mode 0640): run `chmod 600"), "{}", stderr(&o));
}

fn verify(registry: &Registry, reference: &str, public: &Path) -> std::process::Output {
    tailor(
        &["verify", reference, "--key", public.to_str().unwrap(), "--registry", &registry.url(), "--output", "json"],
        &[],
    )
}

#[test]
fn verify_accepts_the_signed_image_and_names_each_kind_of_tampering() {
    use tailor_oci::{BlobSource, Client, Digest, Quiet, Scope, media};
    let work = tempfile::tempdir().unwrap();
    let registry = Registry::start();
    push_dir(&registry, "acme/base:1", "linux/amd64", &[("/etc/passwd", "root:x:0:0::/root:/bin/sh\n")]);
    push_dir(&registry, "acme/base:2", "linux/amd64", &[("/etc/passwd", "root:x:0:0::/root:/bin/bash\n")]);
    let keys = work.path().join("keys");
    assert!(tailor(&["key", "generate", "--out", keys.to_str().unwrap()], &[]).status.success());
    let (key, public) = (keys.join("tailor.key"), keys.join("tailor.pub"));
    let spec = |tag: &str| {
        let p = work.path().join(format!("{tag}.yaml"));
        std::fs::write(&p, format!("name: s\nsource: acme/base:{tag}\ntag_suffix: s\nplatforms: [linux/amd64]\n"))
            .unwrap();
        p
    };
    let store = ["--registry", &registry.url(), "--key", key.to_str().unwrap()];
    let one = build_json(&spec("1"), &store, &[]);
    let two = build_json(&spec("2"), &store, &[]);

    let o = verify(&registry, "acme/base:1_s", &public);
    assert!(o.status.success(), "{}", stderr(&o));
    let report: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(report["digest"], one["index_digest"]);
    assert_eq!(report["verified"].as_array().unwrap().len(), 2, "index and one platform manifest: {report}");

    // Another key.
    let other = work.path().join("other");
    assert!(tailor(&["key", "generate", "--out", other.to_str().unwrap()], &[]).status.success());
    let o = verify(&registry, "acme/base:1_s", &other.join("tailor.pub"));
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("no valid signature with key") && stderr(&o).contains("does not verify"),
        "{}",
        stderr(&o)
    );
    let failed: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(failed["verified"], false);

    let client = Client::registry(registry.client_config(), Scope::new(["acme"], ["acme/base"])).unwrap();
    let sig_tag = |d: &str| format!("{}.sig", d.replace(':', "-"));
    let (index1, index2) = (one["index_digest"].as_str().unwrap(), two["index_digest"].as_str().unwrap());

    // Image 2's signature moved onto image 1: it verifies, but for another image.
    let original = client.get_manifest("acme/base", &sig_tag(index1)).unwrap();
    let moved = client.get_manifest("acme/base", &sig_tag(index2)).unwrap();
    client.put_manifest("acme/base", &sig_tag(index1), media::OCI_MANIFEST, &moved.bytes).unwrap();
    let o = verify(&registry, "acme/base:1_s", &public);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("another image") && stderr(&o).contains(index2), "{}", stderr(&o));

    // One byte of the payload changed (the signature kept).
    let mut manifest: Value = serde_json::from_slice(&original.bytes).unwrap();
    let layer = manifest["layers"][0].clone();
    let payload = client.read_blob("acme/base", &layer["digest"].as_str().unwrap().parse().unwrap(), 1 << 20).unwrap();
    let tampered = String::from_utf8(payload).unwrap().replace("\"optional\":null", "\"optional\":{}").into_bytes();
    let d = Digest::of(&tampered);
    client
        .put_blob("acme/base", &d, tampered.len() as u64, &BlobSource::Bytes(tampered.clone().into()), &Quiet)
        .unwrap();
    manifest["layers"][0]["digest"] = Value::from(d.as_str());
    manifest["layers"][0]["size"] = Value::from(tampered.len());
    client
        .put_manifest("acme/base", &sig_tag(index1), media::OCI_MANIFEST, &serde_json::to_vec(&manifest).unwrap())
        .unwrap();
    let o = verify(&registry, "acme/base:1_s", &public);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("does not verify"), "{}", stderr(&o));

    // Image 2's provenance moved onto image 1's platform manifest: signed, but about another image.
    let m1 = one["manifests"]["linux/amd64"].as_str().unwrap();
    let m2 = two["manifests"]["linux/amd64"].as_str().unwrap();
    let att = |d: &str| format!("{}.att", d.replace(':', "-"));
    let moved = client.get_manifest("acme/base", &att(m2)).unwrap();
    client.put_manifest("acme/base", &att(m1), media::OCI_MANIFEST, &moved.bytes).unwrap();
    client.put_manifest("acme/base", &sig_tag(index1), media::OCI_MANIFEST, &original.bytes).unwrap();
    let args = ["verify", "acme/base:1_s", "--key", public.to_str().unwrap(), "--type", "slsaprovenance1"];
    let o = tailor(&[&args[..], &["--registry", &registry.url()]].concat(), &[]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("subject points at another digest") && stderr(&o).contains(&m2[7..]), "{}", stderr(&o));

    // No signature at all.
    let o = verify(&registry, "acme/base:1", &public);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("has no signature"), "{}", stderr(&o));

    // The SBOM of an untampered image verifies.
    let args = ["verify", "acme/base:2_s", "--key", public.to_str().unwrap(), "--type", "spdx"];
    let o = tailor(&[&args[..], &["--registry", &registry.url()]].concat(), &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("SBOM (SPDX-2.3)"), "{}", String::from_utf8_lossy(&o.stdout));
}
