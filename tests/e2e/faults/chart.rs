//! Chart customizations through faults: the fixture chart (packaged and pushed by real Helm)
//! customized and signed by `tailor chart build` through a fault proxy. Transient faults pass
//! on retries and the result verifies and renders; a fault that does not pass fails the
//! version with the registry's answer, and no tag points at missing content.

use serde_json::Value;

use super::check_every_tag;
use crate::build::fixtures::{stderr, tailor, tailor_bin};
use crate::chart::{package, push_targets, spec};
use crate::harness::faults::{Fault, FaultProxy};
use crate::harness::{Registry, helm, run};

#[test]
fn chart_builds_retry_faults_and_never_tag_missing_content() {
    let work = tempfile::tempdir().unwrap();
    let registry = Registry::start();
    push_targets(&registry, "1");
    helm::push(&package(work.path(), "1.0.0"), &format!("oci://{}/acme", registry.host()));
    let keys = work.path().join("keys");
    run(std::process::Command::new(tailor_bin()).args(["key", "generate", "--out"]).arg(&keys));
    let (key, public) = (keys.join("tailor.key"), keys.join("tailor.pub"));
    let proxy = FaultProxy::start(&registry.host());
    let build = |suffix: &str| {
        let file = work.path().join(format!("{suffix}.yaml"));
        std::fs::write(&file, spec(suffix)).unwrap();
        let o = tailor(
            &[
                "chart",
                "build",
                "-f",
                file.to_str().unwrap(),
                "--registry",
                &proxy.url(),
                "--key",
                key.to_str().unwrap(),
                "--output",
                "json",
                "-q",
            ],
            &[],
        );
        let v: Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", stderr(&o)));
        (o.status.code(), v)
    };

    proxy
        .on_times("GET", "/blobs/", Fault::Cut { after: 2_000 }, 1)
        .on_times("GET", "/manifests/", Fault::Reset { after: 100 }, 1)
        .on_times("GET", "/tags/list", Fault::Status(502), 1)
        .on_times("HEAD", "/manifests/", Fault::Status(503), 2)
        .on_times("POST", "/blobs/uploads/", Fault::TooMany { retry_after: 1 }, 1)
        .on_times("PUT", "/manifests/", Fault::Status(500), 1);
    let (code, v) = build("f");
    assert_eq!(code, Some(0), "{v:#}");
    assert_eq!(v["versions"][0]["status"], "built", "{v:#}");
    assert!(proxy.faults() >= 6, "{:?}", proxy.requests());
    let o =
        tailor(&["verify", "acme/web:1.0.0_f", "--key", public.to_str().unwrap(), "--registry", &registry.url()], &[]);
    assert!(o.status.success(), "the customized chart and its signature: {}", stderr(&o));
    let pulled = helm::pull(&format!("oci://{}/acme/web", registry.host()), "1.0.0+f", &work.path().join("pulled"));
    let images = crate::chart::rendered_images(&pulled, "{}");
    // Every mapped image is the org's, pinned (the fixture's debug tools are left unmapped).
    let mapped: Vec<&String> = images.iter().filter(|i| !i.starts_with("docker.io/library/alpine")).collect();
    assert_eq!(mapped.len(), 5, "{images:?}");
    assert!(mapped.iter().all(|i| i.starts_with(&proxy.host()) && i.contains("@sha256:")), "{images:?}");
    let tags = check_every_tag(&registry);

    // Every manifest upload fails: the version fails naming the answer, nothing is tagged.
    proxy.clear();
    proxy.on("PUT", "/manifests/", Fault::Status(503));
    let (code, v) = build("g");
    assert_eq!(code, Some(1), "{v:#}");
    let version = &v["versions"][0];
    assert_eq!(version["status"], "failed", "{v:#}");
    assert!(version["error"].as_str().unwrap().contains("503"), "{v:#}");
    assert_eq!(check_every_tag(&registry), tags, "a failed chart build changed the tags");

    // The faults gone, the same spec builds.
    proxy.clear();
    let (code, v) = build("g");
    assert_eq!(code, Some(0), "{v:#}");
    assert!(check_every_tag(&registry).contains("acme/web:1.0.0_g"));
}
