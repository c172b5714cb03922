//! What the web UI browses: an artifact's file tree per platform and a chart version's image
//! references, read by the worker when the API is first asked (404 `not_indexed` until then).

use std::time::Duration;

use serde_json::Value;

use crate::harness::service::{Service, ServiceOptions, push_files};
use crate::harness::{Registry, helm};

fn ready(host: &Service, token: &str, path: &str) -> Value {
    host.wait_for(path, Duration::from_secs(60), || {
        let r = host.get(path, token);
        match r.status {
            200 => Some(r.json()),
            404 if r.code() == "not_indexed" => None,
            _ => panic!("{path}: {} {}", r.status, r.text()),
        }
    })
}

#[test]
fn file_trees_and_chart_references_are_read_when_asked_for() {
    let work = tempfile::tempdir().unwrap();
    let registry = Registry::start();
    push_files(
        &registry.url(),
        "acme/tools:1",
        "linux/amd64,linux/arm64",
        &[
            ("/opt/tools/bin/run", b"#!/bin/sh\n"),
            ("/opt/tools/share/doc/README", b"read me\n"),
            ("/etc/tools.conf", b"x=1\n"),
        ],
    );
    let host = Service::start(
        &work.path().join("data"),
        &ServiceOptions { registry: Some(registry.url()), ..ServiceOptions::default() },
    );
    let token = host.token("acme", "member");
    // The catalog learns tags from notifications, polls and builds; this test has none of those,
    // so a customization's first build tells it about acme/tools:1.
    let spec =
        serde_json::json!({"name": "t", "source": "acme/tools:1", "tag_suffix": "t", "platforms": ["linux/amd64"]});
    let owner = host.token("acme", "owner");
    assert_eq!(host.post_json("/v1/orgs/acme/customizations", &owner, &spec).status, 201);
    host.wait_for("the tag in the catalog", Duration::from_secs(60), || {
        (host.get("/v1/orgs/acme/repositories/tools/tags", &token).status == 200).then_some(())
    });

    let first = host.get("/v1/orgs/acme/repositories/tools/tags/1/files", &token);
    assert_eq!((first.status, first.code()), (404, "not_indexed".into()), "{}", first.text());
    let root = ready(&host, &token, "/v1/orgs/acme/repositories/tools/tags/1/files");
    assert_eq!(root["platform"], "linux/amd64");
    let names: Vec<&str> = root["entries"].as_array().unwrap().iter().map(|e| e["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["etc", "opt"], "directories first: {root:#}");
    let opt = ready(&host, &token, "/v1/orgs/acme/repositories/tools/tags/1/files?path=/opt/tools/bin");
    assert_eq!(opt["entries"][0]["path"], "/opt/tools/bin/run");
    assert_eq!((opt["entries"][0]["kind"].as_str(), opt["entries"][0]["size"].as_u64()), (Some("file"), Some(10)));
    let arm = ready(&host, &token, "/v1/orgs/acme/repositories/tools/tags/1/files?platform=linux/arm64&path=/etc");
    assert_eq!(arm["entries"][0]["name"], "tools.conf");
    for (query, code) in
        [("?path=../etc", 400), ("?path=/opt/../etc", 400), ("?platform=linux/s390x", 404), ("?platform=nope", 400)]
    {
        assert_eq!(
            host.get(&format!("/v1/orgs/acme/repositories/tools/tags/1/files{query}"), &token).status,
            code,
            "{query}"
        );
    }
    assert_eq!(host.get("/v1/orgs/acme/repositories/tools/tags/2/files", &token).code(), "not_found");
    let other = host.token("zeta", "owner");
    assert_eq!(host.get("/v1/orgs/acme/repositories/tools/tags/1/files", &other).status, 404);

    // A chart version's references (the fixture chart, pushed by Helm; the catalog learns the
    // tag from a chart customization's poll of its source).
    let archive = crate::chart::package(work.path(), "1.4.2+build.7");
    helm::push(&archive, &format!("oci://{}/acme", registry.host()));
    let chart = crate::chart::spec("custom");
    let r = host.request(
        "POST",
        "/v1/orgs/acme/chart-customizations",
        Some(&owner),
        &[("content-type", "application/yaml")],
        chart.as_bytes(),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    host.wait_for("the chart version in the catalog", Duration::from_secs(60), || {
        (host.get("/v1/orgs/acme/repositories/web/tags", &token).status == 200).then_some(())
    });
    let tags = host.get("/v1/orgs/acme/repositories/web/tags", &token).json();
    assert_eq!(
        (tags["tags"][0]["kind"].as_str(), &tags["tags"][0]["platforms"]),
        (Some("chart"), &serde_json::json!([]))
    );
    let refs = ready(&host, &token, "/v1/orgs/acme/repositories/web/tags/1.4.2_build.7/references");
    let found: Vec<&str> =
        refs["references"].as_array().unwrap().iter().map(|r| r["reference"].as_str().unwrap()).collect();
    for expected in [
        "docker.io/dhi/nginx:1.25",
        "busybox:1.36",
        "dhi/redis:7.2",
        "registry.vendor.example:5000/prom/redis-exporter:v1.5",
        "quay.io/debug/toolbox:2.0",
    ] {
        assert!(found.contains(&expected), "{expected} not in {found:?}");
    }
    assert_eq!(refs["literal_template_images"][0]["reference"], "docker.io/library/alpine:3.20");
}
