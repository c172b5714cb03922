//! `tailor build` against the real Distribution registry.

use std::process::Command;

use serde_json::Value;

use super::fixtures::*;
use crate::harness::{Registry, run, skopeo_inspect_config, skopeo_inspect_raw};

/// Push the umoci-made base and two-layer artifact to `reg` (base: one platform, amd64).
fn push_inputs(reg: &Registry, work: &std::path::Path, creds: Option<(&str, &str)>) {
    let base = umoci_image(work, "base", "amd64", &[&base_layer]);
    let art = umoci_image(work, "art", "amd64", &[&artifact_layer1, &artifact_layer2]);
    skopeo_copy(&format!("oci:{base}"), &format!("docker://{}/acme/base:1", reg.host()), creds);
    skopeo_copy(&format!("oci:{art}"), &format!("docker://{}/acme/tools:2", reg.host()), creds);
}

#[test]
fn build_pushes_a_correct_reproducible_image() {
    let reg = Registry::start();
    let work = tempfile::tempdir().unwrap();
    push_inputs(&reg, work.path(), None);
    let spec = full_spec(work.path(), "acme/base:1", "acme/tools:2", "linux/amd64");
    let cache = work.path().join("cache");
    let store = ["--registry", &reg.url(), "--cache", cache.to_str().unwrap()];
    let report = build_json(&spec, &store, &[]);
    assert_eq!(report["tag"], "acme/base:1_custom");
    let index_digest = report["index_digest"].as_str().unwrap().to_string();

    // skopeo reads exactly what tailor reported.
    let image = format!("docker://{}/acme/base:1_custom", reg.host());
    let raw = skopeo_inspect_raw(&image, None);
    assert_eq!(format!("sha256:{}", sha256_hex(&raw)), index_digest);
    let index: Value = serde_json::from_slice(&raw).unwrap();
    assert_eq!(index["mediaType"], "application/vnd.oci.image.index.v1+json");
    assert_eq!(index["manifests"].as_array().unwrap().len(), 1);
    assert_eq!(index["manifests"][0]["platform"]["architecture"], "amd64");
    assert_eq!(index["manifests"][0]["digest"], report["manifests"]["linux/amd64"]);
    assert_eq!(index["annotations"]["org.opencontainers.image.vendor"], "Acme");
    let base_index = skopeo_inspect_raw(&format!("docker://{}/acme/base:1", reg.host()), None);
    assert_eq!(
        index["annotations"]["org.opencontainers.image.base.digest"],
        format!("sha256:{}", sha256_hex(&base_index))
    );
    assert_eq!(index["annotations"]["org.opencontainers.image.base.name"], format!("{}/acme/base:1", reg.host()));

    // The platform manifest: base layers reused by digest, then artifact, files, accounts.
    let manifest: Value = serde_json::from_slice(&skopeo_inspect_raw(
        &format!("docker://{}/acme/base@{}", reg.host(), report["manifests"]["linux/amd64"].as_str().unwrap()),
        None,
    ))
    .unwrap();
    let base_manifest: Value = serde_json::from_slice(&base_index).unwrap();
    let layers = manifest["layers"].as_array().unwrap();
    assert_eq!(layers.len(), base_manifest["layers"].as_array().unwrap().len() + 3);
    assert_eq!(layers[0]["digest"], base_manifest["layers"][0]["digest"]);
    assert_eq!(
        manifest["annotations"]["org.opencontainers.image.base.digest"],
        format!("sha256:{}", sha256_hex(&base_index))
    );
    check_config(&skopeo_inspect_config(&image, None));
    assert!(report["bytes_reused"].as_u64().unwrap() > 0);
    assert_eq!(report["overridden_base_paths"], serde_json::json!([]));

    // umoci, as root, sees every file with its content, mode and owner.
    check_rootfs(&unpack(&image, "amd64", work.path(), "reg"));

    // Same inputs, another process, no cache: the same bytes.
    let again = build_json(&spec, &["--registry", &reg.url(), "--no-cache"], &[]);
    assert_eq!(again["index_digest"], report["index_digest"]);
    // Every layer was present; the config is sent without asking (small, and new whenever an
    // input changed): its bytes only.
    assert_eq!(again["bytes_uploaded"], manifest["config"]["size"], "everything but the config already present");
    // Warm cache: same digest again.
    assert_eq!(build_json(&spec, &store, &[])["index_digest"], report["index_digest"]);
}

#[test]
fn destination_in_another_repository_mounts_base_layers() {
    let reg = Registry::start();
    let work = tempfile::tempdir().unwrap();
    push_inputs(&reg, work.path(), None);
    let spec = full_spec(work.path(), "acme/base:1", "acme/tools:2", "linux/amd64");
    let text = std::fs::read_to_string(&spec)
        .unwrap()
        .replace("tag_suffix: custom", "tag_suffix: custom\ndestination: acme/base-custom");
    std::fs::write(&spec, text).unwrap();
    let report = build_json(&spec, &["--registry", &reg.url(), "--no-cache"], &[]);
    assert_eq!(report["tag"], "acme/base-custom:1_custom");
    let base_layer_size: u64 = {
        let m: Value =
            serde_json::from_slice(&skopeo_inspect_raw(&format!("docker://{}/acme/base:1", reg.host()), None)).unwrap();
        m["layers"].as_array().unwrap().iter().map(|l| l["size"].as_u64().unwrap()).sum()
    };
    assert!(report["bytes_reused"].as_u64().unwrap() >= base_layer_size, "{report}");
    assert!(reg.log().contains("mount"), "a cross-repository mount was used");
    check_rootfs(&unpack(&format!("docker://{}/acme/base-custom:1_custom", reg.host()), "amd64", work.path(), "mnt"));
}

#[test]
fn multi_platform_build_against_the_registry() {
    let reg = Registry::start();
    let work = tempfile::tempdir().unwrap();
    let base_dir = work.path().join("base");
    base_layer(&base_dir);
    let art_dir = work.path().join("art");
    artifact_layer1(&art_dir);
    std::fs::remove_file(art_dir.join("opt/app/old")).unwrap();
    put(&art_dir, "opt/app/new", b"added in layer 2", 0o640, 1000, 1000);
    for (dir, tag) in [(&base_dir, "acme/base:1"), (&art_dir, "acme/tools:2")] {
        let o = tailor(
            &[
                "artifact",
                "push",
                dir.to_str().unwrap(),
                "--tag",
                tag,
                "--platform",
                "linux/amd64,linux/arm64",
                "--registry",
                &reg.url(),
            ],
            &[],
        );
        assert!(o.status.success(), "{}", stderr(&o));
    }
    let spec = full_spec(work.path(), "acme/base:1", "acme/tools:2", "linux/amd64, linux/arm64");
    let report = build_json(&spec, &["--registry", &reg.url(), "--no-cache"], &[]);
    let image = format!("docker://{}/acme/base:1_custom", reg.host());
    let index: Value = serde_json::from_slice(&skopeo_inspect_raw(&image, None)).unwrap();
    let archs: Vec<&str> = index["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["platform"]["architecture"].as_str().unwrap())
        .collect();
    assert_eq!(archs, vec!["amd64", "arm64"]);
    assert_eq!(report["manifests"].as_object().unwrap().len(), 2);
    let arm = run(Command::new("skopeo").args([
        "inspect",
        "--tls-verify=false",
        "--override-arch",
        "arm64",
        "--config",
        &image,
    ]));
    let arm: Value = serde_json::from_slice(&arm.stdout).unwrap();
    assert_eq!(arm["architecture"], "arm64");
    check_config(&arm_config_with_base_cmd(arm));
    let r = unpack(&image, "arm64", work.path(), "arm");
    // The artifact push made everything root-owned; the rest as in the full check.
    assert_eq!(std::fs::read(r.join("opt/app/new")).unwrap(), b"added in layer 2");
    assert_eq!(stat(&r, "docker-entrypoint.d/10-init.sh"), (0o750, 1000, 1000));
    assert!(std::fs::read_to_string(r.join("etc/passwd")).unwrap().contains("app:x:1000:1000"));
}

/// `artifact push` images have no Cmd of their own: compare with the spec's alone.
fn arm_config_with_base_cmd(mut cfg: Value) -> Value {
    let cmd = cfg["config"]["Cmd"].as_array().cloned().unwrap_or_default();
    assert_eq!(cmd, vec![Value::from("serve")]);
    cfg["config"]["Cmd"] = serde_json::json!(["/usr/bin/tool", "serve"]);
    let env = cfg["config"]["Env"].as_array().cloned().unwrap_or_default();
    assert_eq!(env, vec![Value::from("PATH=/opt/app:/usr/bin:/bin"), Value::from("TZ=UTC")]);
    cfg
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    hex::encode(sha2::Sha256::digest(bytes))
}

/// A base large enough to be read ahead (a layer over 1 MiB) is still being indexed while the
/// artifact's layer is compressed ahead, on the guess that the base has every parent directory
/// the artifact adds. Without /opt and /etc/ssl/certs the guess is wrong and the added parents
/// must be in the layer; with them it holds and the base's directories keep their modes. Cold
/// (`--no-cache`) and warm builds give the same image.
#[test]
fn a_large_base_gives_the_same_image_whether_its_parents_were_guessed_or_known() {
    use std::io::Read;
    let reg = Registry::start();
    let work = tempfile::tempdir().unwrap();
    let mut big = vec![0u8; 6 << 20];
    std::fs::File::open("/dev/urandom").unwrap().read_exact(&mut big).unwrap();
    let art = umoci_image(work.path(), "art", "amd64", &[&artifact_layer1, &artifact_layer2]);
    skopeo_copy(&format!("oci:{art}"), &format!("docker://{}/acme/tools:2", reg.host()), None);
    for (n, has_opt) in [(1, false), (2, true)] {
        let layer = |r: &std::path::Path| {
            base_layer(r);
            put(r, "usr/lib/big.bin", &big, 0o644, 0, 0);
            if has_opt {
                mkdir(r, "opt", 0o711);
                mkdir(r, "etc/ssl/certs", 0o751);
            }
        };
        let base = umoci_image(work.path(), &format!("big{n}"), "amd64", &[&layer]);
        skopeo_copy(&format!("oci:{base}"), &format!("docker://{}/acme/big:{n}", reg.host()), None);
        let dir = work.path().join(format!("spec{n}"));
        std::fs::create_dir_all(&dir).unwrap();
        let spec = full_spec(&dir, &format!("acme/big:{n}"), "acme/tools:2", "linux/amd64");
        let cold = build_json(&spec, &["--registry", &reg.url(), "--no-cache"], &[]);
        let image = format!("docker://{}/acme/big:{n}_custom", reg.host());
        let root = unpack(&image, "amd64", work.path(), &format!("big{n}"));
        check_rootfs(&root);
        let (opt, certs) = if has_opt { (0o711, 0o751) } else { (0o755, 0o755) };
        assert_eq!(stat(&root, "opt"), (opt, 0, 0), "/opt of base {n} (has /opt: {has_opt})");
        assert_eq!(stat(&root, "etc/ssl/certs"), (certs, 0, 0), "/etc/ssl/certs of base {n}");
        assert_eq!(std::fs::read(root.join("usr/lib/big.bin")).unwrap(), big);
        let cache = dir.join("cache");
        let warm = ["--registry", &reg.url(), "--cache", cache.to_str().unwrap()];
        build_json(&spec, &warm, &[]);
        assert_eq!(build_json(&spec, &warm, &[])["index_digest"], cold["index_digest"], "base {n}");
    }
}
