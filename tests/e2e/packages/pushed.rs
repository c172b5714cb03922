//! An image pushed but never built from: its notification makes a worker read its platforms
//! (the tags list shows them), and the package picker's first question makes it read the OS of
//! each platform and then that OS's catalog — no customization needed. An image without a
//! package database is told apart from one not read yet.

use std::time::Duration;

use super::{env_dir, repos_file, repository};
use crate::build::fixtures::{stderr, tailor};
use crate::harness::{Registry, RegistryOptions, Service, ServiceOptions, free_port};
use tailor_packages::deb::test_support::RepoServer;

#[test]
fn a_pushed_image_lists_its_platforms_and_packages_without_a_build() {
    let rootfs = env_dir("TAILOR_TEST_ROOTFS");
    let debs = env_dir("TAILOR_TEST_DEBS");
    let work = tempfile::tempdir().unwrap();
    let port = free_port();
    let registry = Registry::start_with(RegistryOptions::notifying(port));
    let root = work.path().join("repo");
    let key = repository(&root, &debs, "pushed");
    let server = RepoServer::start(&root);
    let repos = repos_file(work.path(), &server.1, &key.public);
    let host = Service::start(
        &work.path().join("data"),
        &ServiceOptions {
            poll_interval: Some("1h".into()),
            extra: vec!["--repositories".into(), repos.display().to_string()],
            ..ServiceOptions::notified_by(&registry, port)
        },
    );
    let token = host.token("acme", "owner");
    let url = registry.url();
    let push = |dir: &str, tag: &str, platforms: &str| {
        let o =
            tailor(&["artifact", "push", dir, "--tag", tag, "--platform", platforms, "--registry", &url, "-q"], &[]);
        assert!(o.status.success(), "{}", stderr(&o));
    };
    push(rootfs.to_str().unwrap(), "acme/fresh:1", "linux/amd64,linux/arm64");
    let files = work.path().join("files");
    std::fs::create_dir_all(files.join("opt/app")).unwrap();
    std::fs::write(files.join("opt/app/run"), "#!/bin/sh\n").unwrap();
    push(files.to_str().unwrap(), "acme/plain:1", "linux/amd64");

    // The push's notification: a worker reads the platforms, the tags list shows them.
    let tags = host.wait_for("the platforms of the pushed tag", Duration::from_secs(30), || {
        let t = host.get("/v1/orgs/acme/repositories/fresh/tags", &token).json();
        (t["tags"][0]["platforms"].as_array().is_some_and(|p| !p.is_empty())).then_some(t)
    });
    let platforms: Vec<&str> =
        tags["tags"][0]["platforms"].as_array().unwrap().iter().map(|p| p.as_str().unwrap()).collect();
    assert_eq!(platforms.len(), 2, "{tags}");
    assert_eq!(platforms[0], "linux/amd64");
    assert!(platforms[1].starts_with("linux/arm64"), "{tags}");
    assert_eq!(tags["tags"][0]["kind"], "image");
    // A Helm chart pushed by Helm: a chart, no platforms (not an image whose platforms are unknown).
    let archive = crate::chart::package(work.path(), "2.0.0");
    crate::harness::helm::push(&archive, &format!("oci://{}/acme", registry.host()));
    let chart = host.wait_for("the chart's kind", Duration::from_secs(30), || {
        let t = host.get("/v1/orgs/acme/repositories/web/tags", &token).json();
        t["tags"][0]["kind"].is_string().then_some(t)
    });
    assert_eq!(
        (chart["tags"][0]["kind"].as_str(), &chart["tags"][0]["platforms"]),
        (Some("chart"), &serde_json::json!([]))
    );

    // The package picker asks: not indexed yet (a worker reads the OS, then the catalog) …
    let first = host.get("/v1/orgs/acme/packages?source=acme/fresh:1&q=jq", &token);
    assert_eq!((first.status, first.code()), (404, "not_indexed".into()), "{}", first.text());
    assert_eq!(first.header("retry-after"), Some("1"));
    // … then the catalog of the variant it found, searchable, on either platform.
    let listed = host.wait_for("the packages of the pushed image", Duration::from_secs(60), || {
        let r = host.get("/v1/orgs/acme/packages?source=acme/fresh:1&q=jq", &token);
        (r.status == 200).then(|| r.json())
    });
    assert_eq!((listed["variant"].as_str(), listed["arch"].as_str()), (Some("debian:bookworm"), Some("amd64")));
    assert_eq!(listed["packages"][0]["name"], "jq", "{listed}");
    let builds = host.get("/v1/orgs/acme/customizations", &token).json();
    assert_eq!(builds["customizations"].as_array().map(Vec::len), Some(0), "no build was needed");

    // Files only, no dpkg or apk database: said so, not "wait" forever.
    let plain = host.wait_for("the OS of an image without packages", Duration::from_secs(30), || {
        let r = host.get("/v1/orgs/acme/packages?source=acme/plain:1", &token);
        (r.status != 404 || r.code() != "not_indexed").then_some(r)
    });
    assert_eq!(plain.status, 404, "{}", plain.text());
    assert_eq!(plain.code(), "no_package_database", "{}", plain.text());
    assert!(plain.text().contains("acme/plain:1"), "{}", plain.text());

    // A tag nobody pushed: not found, naming it.
    let none = host.get("/v1/orgs/acme/packages?source=acme/never:1", &token);
    assert_eq!((none.status, none.code()), (404, "not_found".into()), "{}", none.text());
    drop(server);
}
