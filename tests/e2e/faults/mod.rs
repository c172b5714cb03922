//! Registry faults (RELIABILITY.md): tailor builds and signs through a proxy in front of the
//! real registry that answers 5xx and 429 with Retry-After, cuts and resets answers in the
//! middle of their bodies and stalls. Transient faults are retried with backoff and the build
//! succeeds, signed; a fault that does not pass fails the build with a clear error. After
//! every run no tag in the registry points at a manifest or index whose manifests, blobs or
//! signatures are missing.

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::Value;

mod chart;
mod mirror;

use crate::build::fixtures::{stderr, tailor};
use crate::harness::faults::{Fault, FaultProxy};
use crate::harness::http;
use crate::harness::service::push_files;
use crate::harness::{Registry, run};

const ACCEPT: &str = "application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, \
                      application/vnd.docker.distribution.manifest.list.v2+json, \
                      application/vnd.docker.distribution.manifest.v2+json";

/// Every tag of every repository: its manifest (and an index's manifests) readable, every blob
/// they name present; every tag checked. The tags seen, as `repo:tag`.
pub fn check_every_tag(registry: &Registry) -> BTreeSet<String> {
    let host = registry.host();
    let catalog = http::request(&host, "GET", "/v2/_catalog?n=1000", &[], b"");
    assert_eq!(catalog.status, 200, "{}", catalog.text());
    let mut seen = BTreeSet::new();
    for repo in catalog.json()["repositories"].as_array().unwrap().iter().map(|r| r.as_str().unwrap().to_owned()) {
        let tags = http::request(&host, "GET", &format!("/v2/{repo}/tags/list"), &[], b"");
        let tags: Vec<String> = tags.json()["tags"]
            .as_array()
            .map(|t| t.iter().map(|t| t.as_str().unwrap().to_owned()).collect())
            .unwrap_or_default();
        for tag in tags {
            check_manifest(&host, &repo, &tag, &format!("{repo}:{tag}"));
            seen.insert(format!("{repo}:{tag}"));
        }
    }
    seen
}

fn check_manifest(host: &str, repo: &str, reference: &str, what: &str) {
    let r = http::request(host, "GET", &format!("/v2/{repo}/manifests/{reference}"), &[("accept", ACCEPT)], b"");
    assert_eq!(r.status, 200, "{what}: manifest {reference} is missing: {}", r.text());
    let m: Value = r.json();
    if let Some(children) = m["manifests"].as_array() {
        for child in children {
            check_manifest(host, repo, child["digest"].as_str().unwrap(), what);
        }
        return;
    }
    let mut blobs: Vec<&str> = vec![m["config"]["digest"].as_str().unwrap()];
    blobs.extend(m["layers"].as_array().unwrap().iter().map(|l| l["digest"].as_str().unwrap()));
    for digest in blobs {
        let b = http::request(host, "HEAD", &format!("/v2/{repo}/blobs/{digest}"), &[], b"");
        assert_eq!(b.status, 200, "{what}: blob {digest} of {reference} is missing");
    }
}

/// The cosign signature tags of `repo` and the digests they sign.
fn signature_tags(tags: &BTreeSet<String>, repo: &str) -> BTreeSet<String> {
    tags.iter()
        .filter_map(|t| t.strip_prefix(&format!("{repo}:")))
        .filter_map(|t| t.strip_suffix(".sig"))
        .map(|d| d.replacen('-', ":", 1))
        .collect()
}

#[test]
fn builds_retry_registry_faults_and_no_tag_ever_points_at_missing_content() {
    let work = tempfile::tempdir().unwrap();
    let registry = Registry::start();
    let files: &[(&str, &[u8])] =
        &[("/etc/passwd", b"root:x:0:0::/root:/bin/sh\n"), ("/usr/bin/tool", &[7u8; 300_000])];
    push_files(&registry.url(), "acme/base:1", "linux/amd64,linux/arm64", files);
    push_files(&registry.url(), "acme/tools:1", "linux/amd64,linux/arm64", &[("/opt/tools/run", b"#!/bin/sh\n")]);
    let keys = work.path().join("keys");
    run(std::process::Command::new(crate::build::fixtures::tailor_bin()).args(["key", "generate", "--out"]).arg(&keys));
    let key = keys.join("tailor.key");
    let spec = |suffix: &str| {
        let path = work.path().join(format!("{suffix}.yaml"));
        std::fs::write(
            &path,
            format!(
                "name: f\nsource: acme/base:1\ntag_suffix: {suffix}\nplatforms: [linux/amd64, linux/arm64]\n\
                 contents:\n  artifacts:\n    - {{reference: acme/tools:1, includes: [/opt/tools]}}\n\
                 files:\n  - {{path: /etc/motd, content: \"{suffix}\\n\"}}\n"
            ),
        )
        .unwrap();
        path
    };
    let proxy = FaultProxy::start(&registry.host());
    let build = |suffix: &str| {
        let spec = spec(suffix);
        tailor(
            &[
                "build",
                "-f",
                spec.to_str().unwrap(),
                "--no-cache",
                "--registry",
                &proxy.url(),
                "--key",
                key.to_str().unwrap(),
            ],
            &[],
        )
    };

    // Transient faults on every kind of request a signed build makes: each passes on a retry.
    proxy
        .on_times("GET", "/blobs/", Fault::Reset { after: 700 }, 1)
        .on_times("GET", "/blobs/", Fault::Cut { after: 600 }, 1)
        .on_times("GET", "/manifests/", Fault::Cut { after: 300 }, 1)
        .on_times("HEAD", "/blobs/", Fault::Status(502), 2)
        .on_times("POST", "/blobs/uploads/", Fault::Status(500), 1)
        .on_times("PUT", "/manifests/", Fault::TooMany { retry_after: 1 }, 1)
        .on_times("PUT", "/manifests/", Fault::Status(503), 1)
        .on_times("GET", "/v2/", Fault::Stall(Duration::from_secs(2)), 1);
    let o = build("t");
    assert!(o.status.success(), "a build through transient faults fails: {}", stderr(&o));
    // Every rule met (the stall on a later GET): 9 faults.
    assert_eq!(proxy.faults(), 9, "the faults were met: {:?}", proxy.requests());
    let public = keys.join("tailor.pub");
    let v = tailor(&["verify", "acme/base:1_t", "--key", public.to_str().unwrap(), "--registry", &registry.url()], &[]);
    assert!(v.status.success(), "the result does not verify: {}", stderr(&v));
    let tags = check_every_tag(&registry);
    assert!(tags.contains("acme/base:1_t"), "{tags:?}");
    assert_eq!(signature_tags(&tags, "acme/base").len(), 3, "the index and both platforms are signed: {tags:?}");

    // A fault that does not pass: the manifest uploads of the next build always fail. The
    // build fails saying what the registry answered, and its tag is not created.
    proxy.clear();
    proxy.on("PUT", "/manifests/", Fault::Status(503));
    let o = build("u");
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(e.contains("503") && e.contains("acme/base"), "the error says what failed: {e}");
    let after = check_every_tag(&registry);
    assert!(!after.contains("acme/base:1_u"), "a failed build tagged: {after:?}");
    assert_eq!(after, tags, "a failed build changed the tags");

    // Answers cut or reset every time on blob reads: the build fails clearly, nothing tagged.
    proxy.clear();
    proxy.on("GET", "/blobs/", Fault::Reset { after: 400 });
    let o = build("v");
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(!stderr(&o).is_empty());
    assert_eq!(check_every_tag(&registry), tags, "a failed build changed the tags");

    // And the faults gone, the same spec builds.
    proxy.clear();
    let o = build("u");
    assert!(o.status.success(), "{}", stderr(&o));
    let last = check_every_tag(&registry);
    assert!(last.contains("acme/base:1_u"));
}
