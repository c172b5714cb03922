//! Automatic rebuilds end to end: the real Distribution registry notifies `tailor up` (bearer
//! secret header); pushes made with skopeo rebuild the customization exactly when an input
//! digest changed, bursts coalesce, and a deleted customization rebuilds nothing.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use serde_json::{Value, json};

use super::{builds, wait_idle};
use crate::build::fixtures::tailor;
use crate::harness::service::{Service, ServiceOptions};
use crate::harness::{Registry, RegistryOptions, free_port, run, skopeo_inspect_raw};

/// Pushes directory content as `acme/<name>:<tag>` through an OCI layout and `skopeo copy`.
pub(super) fn skopeo_push(work: &Path, registry: &Registry, name: &str, tag: &str, files: &[(&str, String)]) -> String {
    let src = tempfile::tempdir_in(work).unwrap();
    for (path, content) in files {
        let p = src.path().join(path.trim_start_matches('/'));
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, content).unwrap();
    }
    let layout = tempfile::tempdir_in(work).unwrap();
    let reference = format!("acme/{name}:{tag}");
    let o = tailor(
        &[
            "artifact",
            "push",
            src.path().to_str().unwrap(),
            "--tag",
            &reference,
            "--layout",
            layout.path().to_str().unwrap(),
            "-q",
        ],
        &[],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    run(Command::new("skopeo").args([
        "copy",
        "--all",
        "--quiet",
        "--dest-tls-verify=false",
        "--dest-no-creds",
        &format!("oci:{}/acme/{name}:{tag}", layout.path().display()),
        &format!("docker://{}/{reference}", registry.host()),
    ]));
    digest_of(registry, &reference)
}

pub(super) fn digest_of(registry: &Registry, reference: &str) -> String {
    let raw = skopeo_inspect_raw(&format!("{}/{reference}", registry.host()), None);
    format!("sha256:{}", hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&raw)))
}

pub(super) fn base_files(version: &str) -> Vec<(&'static str, String)> {
    vec![
        ("/etc/passwd", "root:x:0:0:root:/root:/bin/sh\n".into()),
        ("/etc/group", "root:x:0:\n".into()),
        ("/etc/os-release", format!("ID=testos\nVERSION_ID={version}\n")),
    ]
}

/// Creates customization `spec` in acme and waits for its first build, which must succeed: its
/// id and builds.
pub(super) fn create_and_build(host: &Service, token: &str, spec: &Value) -> (String, Vec<Value>) {
    let r = host.post_json("/v1/orgs/acme/customizations", token, spec);
    assert_eq!(r.status, 201, "{}", r.text());
    let id = r.json()["id"].as_str().unwrap().to_owned();
    let first = wait_idle(host, token, &id);
    assert_eq!(first[0]["status"], "succeeded", "{first:#?}");
    (id, first)
}

#[test]
fn pushes_rebuild_exactly_when_an_input_changed() {
    let work = tempfile::tempdir().unwrap();
    let port = free_port();
    let registry = Registry::start_with(RegistryOptions::notifying(port));
    let host = Service::start(
        &work.path().join("data"),
        &ServiceOptions {
            extra: vec!["--debounce".into(), "1s".into()],
            ..ServiceOptions::notified_by(&registry, port)
        },
    );
    let token = host.token("acme", "owner");
    // The inputs exist (and their notifications arrived) before the customization does.
    skopeo_push(work.path(), &registry, "base", "1", &base_files("1"));
    skopeo_push(work.path(), &registry, "art", "1", &[("/opt/app/bin/app", "v1".into())]);
    host.wait_for("the registry's notifications", Duration::from_secs(30), || {
        let r = host.get("/v1/orgs/acme/repositories", &token);
        let repos = r.json()["repositories"].as_array().cloned().unwrap_or_default();
        (repos.len() == 2).then_some(())
    });
    let spec = json!({
        "name": "app", "source": "acme/base:1", "tag_suffix": "custom", "platforms": ["linux/amd64"],
        "contents": {"artifacts": [{"reference": "acme/art:1", "includes": ["/opt/app"]}]},
        "environment": {"APP": "1"}
    });
    let (id, first) = create_and_build(&host, &token, &spec);
    let tag = "acme/base:1_custom";
    let result1 = digest_of(&registry, tag);
    assert_eq!(first[0]["outputs"]["index_digest"], result1.as_str());

    // A new base: rebuilt, and the tag moves to the new index, made from the new base.
    let base2 = skopeo_push(work.path(), &registry, "base", "1", &base_files("2"));
    let after = host.wait_for("a rebuild after the base push", Duration::from_secs(60), || {
        let b = builds(&host, &token, &id);
        (b.len() == 2 && b[0]["status"] == "succeeded").then_some(b)
    });
    assert!(after[0]["reason"].as_str().unwrap().contains("push of acme/base:1"), "{after:#?}");
    assert_eq!(after[0]["inputs"]["source"]["digest"], base2.as_str());
    let result2 = digest_of(&registry, tag);
    assert_ne!(result1, result2);
    let index: Value =
        serde_json::from_slice(&skopeo_inspect_raw(&format!("{}/{tag}", registry.host()), None)).unwrap();
    assert_eq!(index["annotations"]["org.opencontainers.image.base.digest"], base2.as_str());

    // The same base again (same digest): nothing to do.
    skopeo_push(work.path(), &registry, "base", "1", &base_files("2"));
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(builds(&host, &token, &id).len(), 2, "no build for an unchanged digest");

    // A new artifact: rebuilt.
    skopeo_push(work.path(), &registry, "art", "1", &[("/opt/app/bin/app", "v2".into())]);
    let after = host.wait_for("a rebuild after the artifact push", Duration::from_secs(60), || {
        let b = builds(&host, &token, &id);
        (b.len() == 3 && b[0]["status"] == "succeeded").then_some(b)
    });
    assert!(after[0]["reason"].as_str().unwrap().contains("push of acme/art:1"), "{after:#?}");

    // Ten pushes in a burst: one or two builds, never ten.
    let mut last = String::new();
    for i in 0..10 {
        last = skopeo_push(work.path(), &registry, "base", "1", &base_files(&format!("burst-{i}")));
    }
    let settled = host.wait_for("the burst to be built", Duration::from_secs(120), || {
        let b = builds(&host, &token, &id);
        (b[0]["status"] == "succeeded" && b[0]["inputs"]["source"]["digest"] == last.as_str()).then_some(b)
    });
    let burst_builds = settled.len() - 3;
    assert!((1..=2).contains(&burst_builds), "{burst_builds} builds for a burst of 10 pushes: {settled:#?}");
    let index: Value =
        serde_json::from_slice(&skopeo_inspect_raw(&format!("{}/{tag}", registry.host()), None)).unwrap();
    assert_eq!(index["annotations"]["org.opencontainers.image.base.digest"], last.as_str());

    // Deleted: later pushes rebuild nothing.
    let r = host.request("DELETE", &format!("/v1/orgs/acme/customizations/{id}"), Some(&token), &[], b"");
    assert_eq!(r.status, 204, "{}", r.text());
    let before = digest_of(&registry, tag);
    skopeo_push(work.path(), &registry, "base", "1", &base_files("after-delete"));
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(digest_of(&registry, tag), before, "a deleted customization is not rebuilt");
    assert!(!host.log().contains("panicked"), "{}", host.log());
}
