//! tailor's own image, built by tailor with packaging/image/build.sh from the Debian base the
//! tests use (TAILOR_TEST_ROOTFS): unpacked with umoci, its `tailor --version` runs under
//! chroot, its config runs it as the `tailor` user with /data its own, `tailor verify`
//! accepts its signatures, provenance and SBOM, and building it again gives the same digest.

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

use crate::build::fixtures::{stat, stderr, tailor, tailor_bin, unpack};
use crate::harness::service::root;
use crate::harness::{Registry, run, skopeo_inspect_config};

fn build(registry: &Registry, key: &std::path::Path, rootfs: &std::path::Path) -> Value {
    let o = Command::new(root().join("packaging/image/build.sh"))
        .args(["--registry", &registry.url(), "--key", key.to_str().unwrap(), "--repository", "acme/tailor"])
        .args(["--rootfs", rootfs.to_str().unwrap(), "--output", "json"])
        .env("TAILOR", tailor_bin())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&o.stdout)))
}

#[test]
fn tailors_own_image_is_built_by_tailor_signed_and_reproducible() {
    let rootfs = PathBuf::from(std::env::var("TAILOR_TEST_ROOTFS").expect("TAILOR_TEST_ROOTFS: run tests/run.sh"));
    let work = tempfile::tempdir().unwrap();
    let registry = Registry::start();
    let keys = work.path().join("keys");
    let o = tailor(&["key", "generate", "--out", keys.to_str().unwrap()], &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let key = keys.join("tailor.key");

    let first = build(&registry, &key, &rootfs);
    let digest = first["index_digest"].as_str().unwrap().to_owned();
    let tag = first["tag"].as_str().unwrap().to_owned();
    assert!(tag.ends_with("acme/tailor:0.1.0_debian12"), "{tag}");
    // Again, from scratch (base and binary pushed again): the same bytes.
    let again = build(&registry, &key, &rootfs);
    assert_eq!(again["index_digest"].as_str(), Some(digest.as_str()), "a rebuild gives the same index");

    let image = format!("{}/acme/tailor:0.1.0_debian12", registry.host());
    let config = skopeo_inspect_config(&image, None);
    let c = &config["config"];
    // run_as names the user; the config holds its ids (what runtimes check for non-root).
    assert_eq!(c["User"], "10001:10001", "{c:#}");
    assert_eq!(c["Entrypoint"], serde_json::json!(["/usr/local/bin/tailor", "up"]));
    let labels = &c["Labels"];
    assert_eq!(labels["org.opencontainers.image.version"], "0.1.0");
    let said = String::from_utf8(Command::new(tailor_bin()).arg("--version").output().unwrap().stdout).unwrap();
    let revision = labels["org.opencontainers.image.revision"].as_str().unwrap();
    assert!(!revision.is_empty() && said.contains(revision), "{said} / {revision}");
    assert!(labels["org.opencontainers.image.source"].is_string());

    // Unpacked: the binary runs (under chroot), the user and /data are there.
    let r = unpack(&format!("docker://{image}"), "amd64", work.path(), "tailor");
    let out = run(Command::new("chroot").arg(&r).args(["/usr/local/bin/tailor", "--version"]));
    assert_eq!(String::from_utf8_lossy(&out.stdout), said);
    let passwd = std::fs::read_to_string(r.join("etc/passwd")).unwrap();
    assert!(passwd.contains("tailor:x:10001:10001::/data:/usr/sbin/nologin"), "{passwd}");
    assert_eq!(stat(&r, "data"), (0o755, 10001, 10001));
    let bundle: Value =
        serde_json::from_slice(&std::fs::read(r.parent().unwrap().join("config.json")).unwrap()).unwrap();
    assert_eq!(bundle["process"]["user"]["uid"], 10001, "umoci's runtime config runs it as tailor");

    // Signed, attested: tailor verify with the key's public half.
    let public = keys.join("tailor.pub");
    for kind in [None, Some("slsaprovenance1"), Some("spdx")] {
        let mut args = vec!["verify", &image[image.find('/').unwrap() + 1..], "--key", public.to_str().unwrap()];
        let url = registry.url();
        args.extend(["--registry", url.as_str()]);
        if let Some(k) = kind {
            args.extend(["--type", k]);
        }
        let o = tailor(&args, &[]);
        assert!(o.status.success(), "verify {kind:?}: {}", stderr(&o));
    }
}

/// A multi-architecture base: `tailor artifact push --platform P=DIR,…` gives each platform
/// its own directory; a platform without one is refused, naming it.
#[test]
fn artifact_push_takes_a_directory_per_platform() {
    let work = tempfile::tempdir().unwrap();
    let (amd, arm) = (work.path().join("amd64"), work.path().join("arm64"));
    for (d, text) in [(&amd, "x86-64"), (&arm, "aarch64")] {
        std::fs::create_dir_all(d.join("etc")).unwrap();
        std::fs::write(d.join("etc/arch"), text).unwrap();
    }
    let layout = work.path().join("layout");
    let platforms = format!("linux/amd64={},linux/arm64/v8={}", amd.display(), arm.display());
    let args = ["artifact", "push", "--tag", "acme/base:2", "--platform", &platforms, "--output", "json"];
    let o = tailor(&[&args[..], &["--layout", layout.to_str().unwrap()]].concat(), &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let report: Value = serde_json::from_slice(&o.stdout).unwrap();
    let manifests = report["manifests"].as_object().cloned().unwrap_or_default();
    assert_eq!(manifests.len(), 2, "{report:#}");
    let mut rootfs = Vec::new();
    for arch in ["amd64", "arm64"] {
        let r = unpack(
            &format!("oci:{}:2", layout.join("acme/base").display()),
            arch,
            work.path(),
            &format!("multi-{arch}"),
        );
        rootfs.push(std::fs::read_to_string(r.join("etc/arch")).unwrap());
    }
    assert_eq!(rootfs, ["x86-64", "aarch64"]);

    let o = tailor(
        &[
            "artifact",
            "push",
            "--tag",
            "acme/base:3",
            "--platform",
            "linux/arm64",
            "--layout",
            layout.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--platform linux/arm64: no directory"), "{}", stderr(&o));
}
