//! The package catalog and package-driven rebuilds through the service (`tailor up` with a
//! worker polling every second): the worker learns the base's OS variant from its first
//! build, reads the variant's catalog from the signed loopback repository (real .debs from
//! TAILOR_TEST_DEBS), the API searches it; a new version of an installed package published in
//! the repository (a real .deb rebuilt by `dpkg-deb` with a bumped version) rebuilds the
//! customization that installs it — and only that one — while an index change that moves none
//! of its versions is a skipped build.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use serde_json::{Value, json};

use super::{env_dir, out, publish, repos_file, repository};
use crate::build::fixtures::{stderr, tailor};
use crate::harness::{Registry, Service, ServiceOptions};
use crate::service::{builds, wait_idle};
use tailor_packages::deb::test_support::RepoServer;

fn create(host: &Service, token: &str, spec: &Value) -> String {
    let r = host.post_json("/v1/orgs/acme/customizations", token, spec);
    assert_eq!(r.status, 201, "{}", r.text());
    r.json()["id"].as_str().unwrap().to_owned()
}

/// The `.deb` in `pool` whose file name starts with `prefix`.
fn deb(pool: &Path, prefix: &str) -> std::path::PathBuf {
    std::fs::read_dir(pool)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.file_name().unwrap().to_string_lossy().starts_with(prefix))
        .unwrap_or_else(|| panic!("no {prefix}*.deb in {}", pool.display()))
}

/// A real package's version, as its control file says.
fn version_of(deb: &Path) -> String {
    out(Command::new("dpkg-deb").args(["--field"]).arg(deb).arg("Version")).trim().to_owned()
}

#[test]
fn the_catalog_lists_the_variant_and_a_new_package_version_rebuilds() {
    let rootfs = env_dir("TAILOR_TEST_ROOTFS");
    let debs = env_dir("TAILOR_TEST_DEBS");
    let work = tempfile::tempdir().unwrap();
    let registry = Registry::start();
    let url = registry.url();
    let push = ["artifact", "push", rootfs.to_str().unwrap(), "--tag", "acme/debian:12", "--platform", "linux/amd64"];
    let o = tailor(&[&push[..], &["--registry", &url, "-q"]].concat(), &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let root = work.path().join("repo");
    let key = repository(&root, &debs, "catalog");
    let server = RepoServer::start(&root);
    let repos = repos_file(work.path(), &server.1, &key.public);
    let host = Service::start(
        &work.path().join("data"),
        &ServiceOptions {
            registry: Some(registry.url()),
            poll_interval: Some("1s".into()),
            extra: vec!["--repositories".into(), repos.display().to_string()],
            ..ServiceOptions::default()
        },
    );
    let token = host.token("acme", "owner");

    let pool = root.join("pool");
    let hello = version_of(&deb(&pool, "hello_"));
    let spec = |name: &str, packages: &[&str]| {
        json!({"name": name, "source": "acme/debian:12", "tag_suffix": name, "platforms": ["linux/amd64"],
               "contents": {"packages": packages}})
    };
    let id = create(&host, &token, &spec("hi", &["hello"]));
    let plain = create(&host, &token, &spec("plain", &[]));
    let first = wait_idle(&host, &token, &id);
    assert_eq!(first[0]["status"], "succeeded", "{first:#?}\n{}", host.log());
    assert_eq!(first[0]["inputs"]["packages"], json!({"linux/amd64": [format!("hello={hello}")]}));
    assert_eq!(wait_idle(&host, &token, &plain)[0]["status"], "succeeded");

    // The catalog of the base's variant, searchable.
    let listed = host.wait_for("the package catalog", Duration::from_secs(60), || {
        let r = host.get("/v1/orgs/acme/packages?source=acme/debian:12&q=jq", &token);
        (r.status == 200).then(|| r.json())
    });
    assert_eq!((listed["variant"].as_str(), listed["arch"].as_str()), (Some("debian:bookworm"), Some("amd64")));
    let names: Vec<&str> = listed["packages"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["jq", "libjq1"], "{listed}");
    assert_eq!(listed["packages"][0]["version"], version_of(&deb(&pool, "jq_")).as_str());
    assert_eq!(listed["packages"][0]["summary"], "lightweight and flexible command-line JSON processor");
    assert_eq!(listed["index"]["packages"], 5, "hello jq libjq1 libonig5 zstd");

    // A new version of hello in the repository: the poll rebuilds the customization with it.
    let unpacked = work.path().join("hello-src");
    out(Command::new("dpkg-deb").arg("-R").arg(deb(&pool, "hello_")).arg(&unpacked));
    let control = unpacked.join("DEBIAN/control");
    let text = std::fs::read_to_string(&control).unwrap();
    let newer = format!("{hello}+tailor1");
    std::fs::write(&control, text.replace(&format!("Version: {hello}\n"), &format!("Version: {newer}\n"))).unwrap();
    out(Command::new("dpkg-deb")
        .args(["--root-owner-group", "-Zxz", "-b"])
        .arg(&unpacked)
        .arg(pool.join(format!("hello_{newer}_amd64.deb"))));
    publish(&root, &key);
    let rebuilt = host.wait_for("a rebuild with the new hello", Duration::from_secs(60), || {
        let b = builds(&host, &token, &id);
        (b.len() == 2 && b[0]["status"] != "queued" && b[0]["status"] != "running").then_some(b)
    });
    assert_eq!(rebuilt[0]["status"], "succeeded", "{rebuilt:#?}\n{}", host.log());
    assert_eq!(rebuilt[0]["reason"], "package repositories of debian:bookworm (amd64) published");
    assert_eq!(rebuilt[0]["inputs"]["packages"], json!({"linux/amd64": [format!("hello={newer}")]}));
    assert_ne!(rebuilt[0]["fingerprint"], rebuilt[1]["fingerprint"]);
    let hello_now = host.get("/v1/orgs/acme/packages?source=acme/debian:12&q=hello", &token).json();
    assert_eq!(hello_now["packages"][0]["version"], newer.as_str(), "{hello_now}");

    // The repository changes again, but not what the customization installs: skipped.
    std::fs::remove_file(deb(&pool, "zstd_")).unwrap();
    publish(&root, &key);
    let checked = host.wait_for("the check after an unrelated change", Duration::from_secs(60), || {
        let b = builds(&host, &token, &id);
        (b.len() == 3 && b[0]["status"] != "queued" && b[0]["status"] != "running").then_some(b)
    });
    assert_eq!(checked[0]["status"], "skipped", "{checked:#?}\n{}", host.log());
    assert_eq!(checked[0]["fingerprint"], rebuilt[0]["fingerprint"]);
    assert_eq!(builds(&host, &token, &plain).len(), 1, "a customization without packages is not rebuilt");
    drop(server);
}
