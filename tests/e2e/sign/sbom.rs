//! The SPDX SBOM attested with each platform manifest, checked independently of tailor: the
//! DSSE signature by openssl, the document by the SPDX project's own validator (`pyspdxtools`,
//! installed by tests/run.sh), the package list against `dpkg-query` reading the same
//! database, and the files' digests against the bytes pushed.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Command;

use base64::Engine;
use serde_json::Value;
use sha2::{Digest as _, Sha256};

use super::{openssl_verifies, push_dir};
use crate::build::fixtures::{build_json, stderr, tailor};
use crate::harness::{Registry, http};

/// The SPDX validator tests/run.sh installs (`TAILOR_PYSPDXTOOLS`), or one on PATH.
fn pyspdxtools() -> PathBuf {
    if let Some(p) = std::env::var_os("TAILOR_PYSPDXTOOLS") {
        return PathBuf::from(p);
    }
    let found = Command::new("sh").args(["-c", "command -v pyspdxtools"]).output().unwrap();
    assert!(
        found.status.success(),
        "pyspdxtools (PyPI spdx-tools) is needed: tests/run.sh installs it and sets TAILOR_PYSPDXTOOLS"
    );
    PathBuf::from(String::from_utf8_lossy(&found.stdout).trim())
}

fn spdx_valid(doc: &Value) -> (bool, String) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("sbom.spdx.json");
    std::fs::write(&file, serde_json::to_vec_pretty(doc).unwrap()).unwrap();
    let o = Command::new(pyspdxtools()).arg("-i").arg(&file).output().unwrap();
    (o.status.success(), format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr)))
}

/// (name, version, arch) of every installed package, as dpkg itself reads `status`.
fn dpkg_query(status: &[u8]) -> BTreeSet<(String, String, String)> {
    let admin = tempfile::tempdir().unwrap();
    std::fs::write(admin.path().join("status"), status).unwrap();
    for d in ["info", "updates", "triggers"] {
        std::fs::create_dir_all(admin.path().join(d)).unwrap();
    }
    let o = Command::new("dpkg-query")
        .arg(format!("--admindir={}", admin.path().display()))
        .args(["-W", "-f", "${db:Status-Abbrev}|${Package}|${Version}|${Architecture}\n"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split('|').collect();
            (f.len() == 4 && f[0].as_bytes().get(1) == Some(&b'i'))
                .then(|| (f[1].to_owned(), f[2].to_owned(), f[3].to_owned()))
        })
        .collect()
}

#[test]
fn the_sbom_lists_the_base_packages_and_added_files_and_validates() {
    let work = tempfile::tempdir().unwrap();
    let registry = Registry::start();
    // A base carrying this machine's real Debian package database and os-release.
    let status = std::fs::read("/var/lib/dpkg/status").unwrap();
    let os_release = std::fs::read_to_string("/etc/os-release").unwrap();
    let files: Vec<(&str, &[u8])> = vec![
        ("/etc/os-release", os_release.as_bytes()),
        ("/var/lib/dpkg/status", &status),
        ("/etc/passwd", b"root:x:0:0::/root:/bin/sh\n"),
    ];
    crate::harness::service::push_files(&registry.url(), "acme/deb:12", "linux/amd64", &files);
    push_dir(
        &registry,
        "acme/tools:1",
        "linux/amd64",
        &[("/opt/tools/run", "#!/bin/sh\necho run\n"), ("/opt/tools/README", "tools\n")],
    );
    let keys = work.path().join("keys");
    assert!(tailor(&["key", "generate", "--out", keys.to_str().unwrap()], &[]).status.success());
    let spec = work.path().join("c.yaml");
    std::fs::write(
        &spec,
        "name: sbom\nsource: acme/deb:12\ntag_suffix: s\nplatforms: [linux/amd64]\n\
         contents:\n  artifacts:\n    - {reference: acme/tools:1, includes: [/opt/tools], excludes: [/opt/tools/README]}\n\
         files:\n  - {path: /etc/app.conf, content: \"level=debug\\n\"}\n",
    )
    .unwrap();
    let key = keys.join("tailor.key");
    let report = build_json(&spec, &["--registry", &registry.url(), "--key", key.to_str().unwrap()], &[]);
    let manifest = report["manifests"]["linux/amd64"].as_str().unwrap().to_owned();

    // The envelope, read with plain HTTP; its PAE signature checked by openssl.
    let tag = format!("{}.att", manifest.replace(':', "-"));
    let accept = [("accept", "application/vnd.oci.image.manifest.v1+json")];
    let m = http::request(&registry.host(), "GET", &format!("/v2/acme/deb/manifests/{tag}"), &accept, b"").json();
    let layers = m["layers"].as_array().unwrap();
    assert_eq!(layers.len(), 2, "provenance and SBOM: {m}");
    let layer = layers.iter().find(|l| l["annotations"]["predicateType"] == "https://spdx.dev/Document").unwrap();
    let path = format!("/v2/acme/deb/blobs/{}", layer["digest"].as_str().unwrap());
    let envelope = http::request(&registry.host(), "GET", &path, &[], b"").json();
    let b64 = base64::engine::general_purpose::STANDARD;
    let body = b64.decode(envelope["payload"].as_str().unwrap()).unwrap();
    let sig = b64.decode(envelope["signatures"][0]["sig"].as_str().unwrap()).unwrap();
    let pae = [format!("DSSEv1 28 application/vnd.in-toto+json {} ", body.len()).as_bytes(), &body].concat();
    assert!(openssl_verifies(&keys.join("tailor.pub"), &pae, &sig), "openssl rejects the SBOM envelope");
    let statement: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(statement["predicateType"], "https://spdx.dev/Document");
    assert_eq!(statement["subject"][0]["digest"]["sha256"], &manifest[7..]);
    let doc = statement["predicate"].clone();

    // The SPDX project's validator accepts it — and can say no.
    let (ok, out) = spdx_valid(&doc);
    assert!(ok, "pyspdxtools rejects the SBOM: {out}");
    let mut broken = doc.clone();
    broken["packages"][2].as_object_mut().unwrap().remove("SPDXID");
    assert!(!spdx_valid(&broken).0, "the validator must be able to fail");

    // Packages: exactly what dpkg reads from the same database.
    let listed: BTreeSet<(String, String, String)> = doc["packages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["SPDXID"].as_str().unwrap().starts_with("SPDXRef-Package-"))
        .map(|p| {
            let purl = p["externalRefs"][0]["referenceLocator"].as_str().unwrap();
            let arch = purl.split("arch=").nth(1).unwrap_or("").split('&').next().unwrap().to_owned();
            (p["name"].as_str().unwrap().to_owned(), p["versionInfo"].as_str().unwrap().to_owned(), arch)
        })
        .collect();
    let expected = dpkg_query(&status);
    assert!(expected.len() > 50, "this machine's dpkg database: {}", expected.len());
    assert_eq!(listed, expected);
    let purls: Vec<&str> = doc["packages"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p["externalRefs"][0]["referenceLocator"].as_str())
        .collect();
    let id = os_release.lines().find_map(|l| l.strip_prefix("ID=")).unwrap().trim_matches('"');
    assert!(purls.iter().any(|p| p.starts_with(&format!("pkg:deb/{id}/base-files@"))), "{purls:?}");

    // Files: the artifact's (minus the excluded one) and the spec's, with their digests.
    let files: Vec<(&str, &str)> = doc["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["fileName"].as_str().unwrap(), f["checksums"][1]["checksumValue"].as_str().unwrap()))
        .collect();
    let sha = |b: &[u8]| hex::encode(Sha256::digest(b));
    assert_eq!(
        files,
        [
            ("./etc/app.conf", sha(b"level=debug\n").as_str()),
            ("./opt/tools/run", sha(b"#!/bin/sh\necho run\n").as_str()),
        ]
    );

    // tailor verify --type spdx checks it and prints a summary; JSON carries the document.
    let public = keys.join("tailor.pub");
    let args = ["verify", "acme/deb:12_s", "--key", public.to_str().unwrap(), "--type", "spdx", "--registry"];
    let o = tailor(&[&args[..], &[&registry.url()]].concat(), &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(text.contains(&format!("SBOM (SPDX-2.3): {} OS package(s), 2 file(s) added", expected.len())), "{text}");
    let o = tailor(&[&args[..], &[&registry.url(), "--output", "json"]].concat(), &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["attestations"][0]["sbom"], doc);
}
