#![allow(clippy::unwrap_used)]
//! Keys, payloads and envelopes; signatures checked by openssl as an independent verifier.

use std::os::unix::fs::PermissionsExt;
use std::process::Command;

use base64::Engine;
use serde_json::{Map, Value};

use crate::*;

#[test]
fn pae_matches_the_dsse_specification() {
    assert_eq!(
        pae("http://example.com/HelloWorld", b"hello world"),
        b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
    );
    assert_eq!(pae("", b""), b"DSSEv1 0  0 ");
}

#[test]
fn keys_round_trip_and_signatures_verify_only_unchanged() {
    let key = PrivateKey::generate().unwrap();
    let again = PrivateKey::from_pem(&key.to_pem().unwrap(), "test").unwrap();
    let public = PublicKey::from_pem(&key.public().to_pem().unwrap(), "test").unwrap();
    assert_eq!(again.public(), public);
    let sig = key.sign(b"payload");
    assert_eq!(sig, again.sign(b"payload"), "RFC 6979: deterministic");
    public.verify(b"payload", &sig).unwrap();
    assert!(public.verify(b"payloaD", &sig).is_err());
    let other = PrivateKey::generate().unwrap().public();
    let err = other.verify(b"payload", &sig).unwrap_err().to_string();
    assert!(err.contains("does not verify") && err.contains(&other.fingerprint()), "{err}");
    assert!(public.verify_base64(b"payload", "not base64!").unwrap_err().to_string().contains("base64"));
    assert!(format!("{key:?}").starts_with("PrivateKey(P-256"), "Debug never shows the key");
}

#[test]
fn bad_key_text_is_named() {
    let err = PrivateKey::from_pem("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----", "cosign.key").unwrap_err();
    assert!(err.to_string().starts_with("cosign.key: an encrypted key"), "{err}");
    let err = PrivateKey::from_pem("hello", "k.pem").unwrap_err().to_string();
    assert!(err.contains("k.pem") && err.contains("PKCS#8"), "{err}");
    let err = PublicKey::from_pem("hello", "k.pub").unwrap_err().to_string();
    assert!(err.contains("k.pub") && err.contains("SPKI"), "{err}");
}

#[test]
fn the_simple_signing_payload_is_cosigns() {
    let digest = format!("sha256:{}", "ab".repeat(32));
    let p = payload("registry.example/acme/app", &digest, &Map::new());
    assert_eq!(
        String::from_utf8(p.clone()).unwrap(),
        format!(
            "{{\"critical\":{{\"identity\":{{\"docker-reference\":\"registry.example/acme/app\"}},\
             \"image\":{{\"docker-manifest-digest\":\"{digest}\"}},\"type\":\"cosign container image signature\"}},\
             \"optional\":null}}"
        )
    );
    let parsed = Payload::parse(&p).unwrap();
    assert_eq!(
        (parsed.docker_reference.as_str(), parsed.manifest_digest.as_str()),
        ("registry.example/acme/app", digest.as_str())
    );
    let mut notes = Map::new();
    notes.insert("tailor.build".into(), Value::from("7"));
    assert!(
        String::from_utf8(payload("a/b", &digest, &notes)).unwrap().ends_with("\"optional\":{\"tailor.build\":\"7\"}}")
    );
    let wrong = String::from_utf8(p).unwrap().replace("cosign container image signature", "something else");
    assert!(Payload::parse(wrong.as_bytes()).unwrap_err().to_string().contains("critical.type"));
    assert!(Payload::parse(b"{}").is_err());
}

#[test]
fn envelopes_verify_and_refuse_tampering() {
    let key = PrivateKey::generate().unwrap();
    let env = Envelope::sign(&key, IN_TOTO_PAYLOAD_TYPE, b"{\"_type\":\"https://in-toto.io/Statement/v1\"}");
    let json = serde_json::to_string(&env).unwrap();
    assert!(json.contains("\"payloadType\":\"application/vnd.in-toto+json\""), "{json}");
    let back: Envelope = serde_json::from_str(&json).unwrap();
    assert_eq!(back.verify(&key.public()).unwrap(), b"{\"_type\":\"https://in-toto.io/Statement/v1\"}");
    let mut tampered = back.clone();
    tampered.payload = base64::engine::general_purpose::STANDARD.encode(b"{\"_type\":\"other\"}");
    assert!(tampered.verify(&key.public()).is_err());
    let mut retyped = back.clone();
    retyped.payload_type = "text/plain".into();
    assert!(retyped.verify(&key.public()).is_err(), "the type is signed too");
    assert!(back.verify(&PrivateKey::generate().unwrap().public()).is_err());
    let mut unsigned = back;
    unsigned.signatures.clear();
    assert!(unsigned.verify(&key.public()).unwrap_err().to_string().contains("no signature"));
}

/// The envelope's signature is over the PAE hashed in parts: byte for byte the signature of the
/// PAE as one message (ECDSA here is deterministic, RFC 6979), and its JSON is serde's.
#[test]
fn envelope_signatures_are_those_of_the_whole_pae() {
    let key = PrivateKey::generate().unwrap();
    let body = "{\"predicate\":\"ünï \\\" x\"}".repeat(500);
    let env = Envelope::sign(&key, IN_TOTO_PAYLOAD_TYPE, body.as_bytes());
    assert_eq!(env.signatures[0].sig, key.sign_base64(&pae(IN_TOTO_PAYLOAD_TYPE, body.as_bytes())));
    assert_eq!(env.to_json(), serde_json::to_vec(&env).unwrap());
    assert_eq!(env.verify(&key.public()).unwrap(), body.as_bytes());
}

#[test]
fn key_files_are_private_and_not_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    let key = PrivateKey::generate().unwrap();
    let (private, public) = write_key_pair(&key, dir.path(), false).unwrap();
    assert_eq!(std::fs::metadata(&private).unwrap().permissions().mode() & 0o777, 0o600);
    assert_eq!(PrivateKey::from_file(&private).unwrap().public(), PublicKey::from_file(&public).unwrap());
    let err = write_key_pair(&PrivateKey::generate().unwrap(), dir.path(), false).unwrap_err().to_string();
    assert!(err.contains("--force"), "{err}");
    assert_eq!(PrivateKey::from_file(&private).unwrap().public(), key.public(), "unchanged");
    let other = PrivateKey::generate().unwrap();
    write_key_pair(&other, dir.path(), true).unwrap();
    assert_eq!(PublicKey::from_file(&public).unwrap(), other.public());
}

/// `openssl dgst -sha256 -verify pub.pem -signature sig.der file`: true when openssl says "Verified OK".
fn openssl_verifies(public: &PublicKey, message: &[u8], der: &[u8]) -> bool {
    let dir = tempfile::tempdir().unwrap();
    let (p, s, m) = (dir.path().join("pub.pem"), dir.path().join("sig.der"), dir.path().join("message"));
    std::fs::write(&p, public.to_pem().unwrap()).unwrap();
    std::fs::write(&s, der).unwrap();
    std::fs::write(&m, message).unwrap();
    let out = Command::new("openssl")
        .args(["dgst", "-sha256", "-verify"])
        .arg(&p)
        .arg("-signature")
        .arg(&s)
        .arg(&m)
        .output()
        .unwrap_or_else(|e| panic!("openssl is needed (Debian package openssl; tests/run.sh installs it): {e}"));
    out.status.success() && String::from_utf8_lossy(&out.stdout).contains("Verified OK")
}

#[test]
fn openssl_verifies_signatures_and_envelopes() {
    let key = PrivateKey::generate().unwrap();
    let p = payload("acme/app", &format!("sha256:{}", "01".repeat(32)), &Map::new());
    let sig = base64::engine::general_purpose::STANDARD.decode(key.sign_base64(&p)).unwrap();
    assert!(openssl_verifies(&key.public(), &p, &sig));
    assert!(!openssl_verifies(&key.public(), b"another payload", &sig), "openssl must be able to say no");
    let env = Envelope::sign(&key, IN_TOTO_PAYLOAD_TYPE, b"statement");
    let der = base64::engine::general_purpose::STANDARD.decode(&env.signatures[0].sig).unwrap();
    assert!(openssl_verifies(&key.public(), &pae(IN_TOTO_PAYLOAD_TYPE, b"statement"), &der));
}

fn layout() -> (tempfile::TempDir, tailor_oci::Client) {
    let dir = tempfile::tempdir().unwrap();
    let client = tailor_oci::Client::layout(dir.path(), tailor_oci::Scope::new(["acme"], ["acme/app"]));
    (dir, client)
}

#[test]
fn signatures_are_stored_cosign_style_and_accumulate() {
    let (_dir, client) = layout();
    let digest = tailor_oci::Digest::of(b"an image manifest");
    let (k1, k2) = (PrivateKey::generate().unwrap(), PrivateKey::generate().unwrap());
    let tag = sign_image(&client, "acme/app", &subject(&digest), "acme/app", &k1, Storage::Tags).unwrap();
    assert_eq!(tag, format!("sha256-{}.sig", &digest.as_str()[7..]));
    assert_eq!(sign_image(&client, "acme/app", &subject(&digest), "acme/app", &k1, Storage::Tags).unwrap(), tag);
    assert_eq!(signatures(&client, "acme/app", &digest).unwrap().len(), 1, "the same signature is not added twice");
    sign_image(&client, "acme/app", &subject(&digest), "acme/app", &k2, Storage::Tags).unwrap();
    let found = signatures(&client, "acme/app", &digest).unwrap();
    assert_eq!(found.len(), 2, "another key's signature joins the first");
    let raw = client.get_manifest("acme/app", &tag).unwrap();
    let m: Value = serde_json::from_slice(&raw.bytes).unwrap();
    assert_eq!(m["layers"][0]["mediaType"], SIMPLESIGNING_MEDIA_TYPE);
    assert!(m["layers"][1]["annotations"][SIGNATURE_ANNOTATION].is_string());
    for k in [&k1, &k2] {
        let p = verify_image(&client, "acme/app", &digest, &k.public()).unwrap();
        assert_eq!(p.manifest_digest, digest.as_str());
    }
    let stranger = PrivateKey::generate().unwrap().public();
    let err = verify_image(&client, "acme/app", &digest, &stranger).unwrap_err().to_string();
    assert!(err.contains("no valid signature") && err.contains(&stranger.fingerprint()), "{err}");
    let unsigned = tailor_oci::Digest::of(b"another image");
    assert!(
        verify_image(&client, "acme/app", &unsigned, &k1.public())
            .unwrap_err()
            .to_string()
            .contains("has no signature")
    );
}

#[test]
fn a_signature_moved_to_another_image_is_refused() {
    let (_dir, client) = layout();
    let (a, b) = (tailor_oci::Digest::of(b"image a"), tailor_oci::Digest::of(b"image b"));
    let key = PrivateKey::generate().unwrap();
    sign_image(&client, "acme/app", &subject(&a), "acme/app", &key, Storage::Tags).unwrap();
    // Copy a's signature manifest to b's tag: it verifies cryptographically but names a.
    let raw = client.get_manifest("acme/app", &signature_tag(&a)).unwrap();
    client.put_manifest("acme/app", &signature_tag(&b), tailor_oci::media::OCI_MANIFEST, &raw.bytes).unwrap();
    let err = verify_image(&client, "acme/app", &b, &key.public()).unwrap_err().to_string();
    assert!(err.contains("another image") && err.contains(a.as_str()), "{err}");
}

#[test]
fn provenance_statements_say_what_the_build_used() {
    use crate::intoto::*;
    let mut annotations = Map::new();
    annotations.insert("includes".into(), serde_json::json!(["/opt/app"]));
    let p = Provenance {
        build_type: crate::intoto::BUILD_TYPE,
        spec: serde_json::json!({"name": "app", "source": "acme/base:1"}),
        revision: Some(3),
        internal: Map::from_iter([("platform".to_string(), Value::from("linux/amd64"))]),
        dependencies: vec![Dependency {
            uri: format!("oci://r/acme/art@sha256:{}", "c".repeat(64)),
            name: "acme/art:1".into(),
            sha256_hex: "c".repeat(64),
            annotations,
        }],
        builder_id: "https://tailor.dev/builder/host".into(),
        builder_version: "0.1.0".into(),
        invocation_id: "cus_1/builds/4".into(),
        started_on: "2026-11-26T17:00:00Z".into(),
        finished_on: "2026-11-26T17:00:01Z".into(),
    };
    let s = statement("r/acme/base", &"a".repeat(64), SLSA_PROVENANCE_V1, p.predicate());
    assert_eq!(s["_type"], STATEMENT_TYPE);
    assert_eq!(s["subject"][0]["digest"]["sha256"], "a".repeat(64));
    let def = &s["predicate"]["buildDefinition"];
    assert_eq!(def["buildType"], BUILD_TYPE);
    assert_eq!(def["externalParameters"]["revision"], 3);
    assert_eq!(def["externalParameters"]["customization"]["source"], "acme/base:1");
    assert_eq!(def["resolvedDependencies"][0]["digest"]["sha256"], "c".repeat(64));
    assert_eq!(def["resolvedDependencies"][0]["annotations"]["includes"][0], "/opt/app");
    assert_eq!(s["predicate"]["runDetails"]["metadata"]["invocationId"], "cus_1/builds/4");
    // Signed as a DSSE envelope, verified back to the same statement.
    let key = PrivateKey::generate().unwrap();
    let body = serde_json::to_vec(&s).unwrap();
    let env = Envelope::sign(&key, IN_TOTO_PAYLOAD_TYPE, &body);
    let back: Value = serde_json::from_slice(&env.verify(&key.public()).unwrap()).unwrap();
    assert_eq!(back, s);
    assert_eq!(
        serde_json::to_vec(&statement("r/acme/base", &"a".repeat(64), SLSA_PROVENANCE_V1, p.predicate())).unwrap(),
        body,
        "reproducible bytes"
    );
}

#[test]
fn attestations_are_stored_replaced_by_type_and_checked_against_their_subject() {
    use crate::intoto::{SLSA_PROVENANCE_V1, statement};
    let (_dir, client) = layout();
    let key = PrivateKey::generate().unwrap();
    let (a, b) = (tailor_oci::Digest::of(b"image a"), tailor_oci::Digest::of(b"image b"));
    let env = |d: &tailor_oci::Digest, n: i64| {
        let s = statement("acme/app", d.hex(), SLSA_PROVENANCE_V1, serde_json::json!({"n": n}));
        Envelope::sign(&key, IN_TOTO_PAYLOAD_TYPE, &serde_json::to_vec(&s).unwrap())
    };
    let tag =
        &attach_attestations(&client, "acme/app", &subject(&a), &[(SLSA_PROVENANCE_V1, env(&a, 1))], Storage::Tags)
            .unwrap()[0];
    assert_eq!(tag, &format!("sha256-{}.att", a.hex()));
    attach_attestations(&client, "acme/app", &subject(&a), &[("https://spdx.dev/Document", env(&a, 9))], Storage::Tags)
        .unwrap();
    attach_attestations(&client, "acme/app", &subject(&a), &[(SLSA_PROVENANCE_V1, env(&a, 2))], Storage::Tags).unwrap();
    let m: Value = serde_json::from_slice(&client.get_manifest("acme/app", tag).unwrap().bytes).unwrap();
    assert_eq!(m["layers"].as_array().unwrap().len(), 2, "one per predicate type: {m}");
    assert_eq!(m["layers"][1]["mediaType"], DSSE_MEDIA_TYPE);
    let found = verify_attestations(&client, "acme/app", &a, SLSA_PROVENANCE_V1, &key.public()).unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0]["predicate"]["n"], 2, "the newer provenance replaced the older");
    // Another key; and an attestation whose subject is another image.
    let err =
        verify_attestations(&client, "acme/app", &a, SLSA_PROVENANCE_V1, &PrivateKey::generate().unwrap().public())
            .unwrap_err()
            .to_string();
    assert!(err.contains("does not verify"), "{err}");
    attach_attestations(&client, "acme/app", &subject(&b), &[(SLSA_PROVENANCE_V1, env(&a, 3))], Storage::Tags).unwrap();
    let err = verify_attestations(&client, "acme/app", &b, SLSA_PROVENANCE_V1, &key.public()).unwrap_err().to_string();
    assert!(err.contains("subject points at another digest") && err.contains(a.hex()), "{err}");
    let none = tailor_oci::Digest::of(b"unattested");
    let err =
        verify_attestations(&client, "acme/app", &none, SLSA_PROVENANCE_V1, &key.public()).unwrap_err().to_string();
    assert!(err.contains("has no https://slsa.dev/provenance/v1 attestation"), "{err}");
}

/// A subject for a made-up digest (the layout store does not check subjects).
fn subject(digest: &tailor_oci::Digest) -> Subject {
    Subject { digest: digest.clone(), media_type: tailor_oci::media::OCI_MANIFEST.into(), size: 2 }
}

#[test]
fn carriers_wait_for_their_image_and_are_not_written_without_it() {
    use crate::intoto::{SLSA_PROVENANCE_V1, statement};
    let (_dir, client) = layout();
    let key = PrivateKey::generate().unwrap();
    let digest = tailor_oci::Digest::of(b"an image still going up");
    let s = statement("acme/app", digest.hex(), SLSA_PROVENANCE_V1, serde_json::json!({}));
    let envelope = Envelope::sign(&key, IN_TOTO_PAYLOAD_TYPE, &serde_json::to_vec(&s).unwrap());
    let visible = |tag: &str| client.get_manifest("acme/app", tag).is_ok();
    let gate = Gate::closed();
    std::thread::scope(|s| {
        let signing = s
            .spawn(|| sign_image_gated(&client, "acme/app", &subject(&digest), "acme/app", &key, Storage::Tags, &gate));
        let attesting = s.spawn(|| {
            let envelopes = [(SLSA_PROVENANCE_V1, envelope.clone())];
            attach_attestations_gated(&client, "acme/app", &subject(&digest), &envelopes, Storage::Tags, &gate)
        });
        std::thread::sleep(std::time::Duration::from_millis(100));
        assert!(!signing.is_finished() && !attesting.is_finished(), "both wait at the gate");
        assert!(!visible(&signature_tag(&digest)) && !visible(&attestation_tag(&digest)), "nothing shown yet");
        gate.release(true);
        gate.release(false); // only the first settling counts
        signing.join().unwrap().unwrap();
        attesting.join().unwrap().unwrap();
    });
    verify_image(&client, "acme/app", &digest, &key.public()).unwrap();
    verify_attestations(&client, "acme/app", &digest, SLSA_PROVENANCE_V1, &key.public()).unwrap();

    // The image did not go up: nothing is shown, and the caller is told why.
    let other = tailor_oci::Digest::of(b"an image that failed to go up");
    let gate = Gate::closed();
    gate.release(false);
    let err = sign_image_gated(&client, "acme/app", &subject(&other), "acme/app", &key, Storage::Tags, &gate)
        .unwrap_err()
        .to_string();
    assert!(err.contains("not pushed"), "{err}");
    let envelopes = [(SLSA_PROVENANCE_V1, envelope)];
    assert!(
        attach_attestations_gated(&client, "acme/app", &subject(&other), &envelopes, Storage::Tags, &gate).is_err()
    );
    let referrers = Storage::Referrers;
    assert!(sign_image_gated(&client, "acme/app", &subject(&other), "acme/app", &key, referrers, &gate).is_err());
    assert!(!visible(&signature_tag(&other)) && !visible(&attestation_tag(&other)));
}
