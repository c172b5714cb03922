//! `tailor build --layout DIR`: the same build into OCI image layouts, read by skopeo and umoci.

use super::fixtures::*;

#[test]
fn build_into_layouts_matches_the_registry_build_semantics() {
    let work = tempfile::tempdir().unwrap();
    let store = work.path().join("store");
    std::fs::create_dir_all(store.join("acme")).unwrap();
    let base = umoci_image(work.path(), "base", "amd64", &[&base_layer]);
    let art = umoci_image(work.path(), "art", "amd64", &[&artifact_layer1, &artifact_layer2]);
    skopeo_copy(&format!("oci:{base}"), &format!("oci:{}/acme/base:1", store.display()), None);
    skopeo_copy(&format!("oci:{art}"), &format!("oci:{}/acme/tools:2", store.display()), None);
    let spec = full_spec(work.path(), "acme/base:1", "acme/tools:2", "linux/amd64");
    let args = ["--layout", store.to_str().unwrap(), "--no-cache"];
    let report = build_json(&spec, &args, &[]);
    let image = format!("oci:{}/acme/base:1_custom", store.display());
    let raw = crate::harness::run(std::process::Command::new("skopeo").args(["inspect", "--raw", &image])).stdout;
    assert_eq!(format!("sha256:{}", super::registry::sha256_hex(&raw)), report["index_digest"].as_str().unwrap());
    check_rootfs(&unpack(&image, "amd64", work.path(), "layout"));
    let cfg: serde_json::Value = serde_json::from_slice(
        &crate::harness::run(std::process::Command::new("skopeo").args(["inspect", "--config", &image])).stdout,
    )
    .unwrap();
    check_config(&cfg);
    // Reproducible in another process.
    assert_eq!(build_json(&spec, &args, &[])["index_digest"], report["index_digest"]);
}

#[test]
fn the_readme_example_builds_into_a_layout() {
    let work = tempfile::tempdir().unwrap();
    let store = work.path().join("store");
    let examples = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples");
    for (dir, tag) in [("base", "acme/base:1"), ("rootca", "acme/rootca:1")] {
        let o = tailor(
            &[
                "artifact",
                "push",
                examples.join(dir).to_str().unwrap(),
                "--tag",
                tag,
                "--platform",
                "linux/amd64,linux/arm64",
                "--layout",
                store.to_str().unwrap(),
            ],
            &[],
        );
        assert!(o.status.success(), "{}", stderr(&o));
    }
    let report = build_json(
        &examples.join("python-rootca.yaml"),
        &["--layout", store.to_str().unwrap()],
        &[("XDG_CACHE_HOME", work.path().join("c").to_str().unwrap())],
    );
    assert_eq!(report["tag"], "acme/base:1_custom");
    let r = unpack(&format!("oci:{}/acme/base:1_custom", store.display()), "arm64", work.path(), "example");
    assert!(r.join("etc/ssl/certs/acme-root.crt").is_file());
    assert!(!r.join("usr/share/doc/rootca/README").exists());
}
