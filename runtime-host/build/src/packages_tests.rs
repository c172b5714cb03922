#![allow(clippy::unwrap_used)]
//! A Debian base (this machine's real dpkg database and os-release) takes `hello` from a real
//! signed apt repository on loopback (real .debs from TAILOR_TEST_DEBS, `apt-ftparchive`,
//! `gpg --clearsign`, served by `python3 -m http.server`), pushed to the conformance double.

use std::path::Path;
use std::sync::Arc;

use tailor_oci::testing::ReferrersRegistry;
use tailor_oci::{Client, RegistryConfig, Scope};
use tailor_packages::deb::test_support::{RepoKey, add_debs, publish};
use tailor_packages::fetch::Fetcher;
use tailor_packages::repos::{DebianRepo, Repositories};
use tailor_spec::{Customization, Platform};

use super::PackageSource;
use crate::scratch::push_directory;
use crate::test_support::{Server, layer};
use crate::{Options, build};

/// A signed repository of the real .debs (TAILOR_TEST_DEBS) under `root/pool`; the armored
/// public key file.
fn repository(root: &Path) -> std::path::PathBuf {
    let debs = std::env::var("TAILOR_TEST_DEBS").unwrap_or_default();
    add_debs(root, "pool", Path::new(&debs));
    let key = RepoKey::new(root.parent().unwrap(), "repo");
    publish(root, &key);
    key.public
}

fn spec(packages: &str) -> Customization {
    Customization::from_yaml(&format!(
        "name: p\nsource: acme/debian:12\ntag_suffix: p\nplatforms: [linux/amd64]\ncontents:\n  packages: [{packages}]\n"
    ))
    .unwrap()
}

#[test]
fn a_debian_base_takes_packages_from_a_signed_repository() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("repo");
    let key = repository(&root);
    let server = Server::start(&root);
    let registry = ReferrersRegistry::start();
    let client = Client::registry(RegistryConfig::new(registry.url()), Scope::new(["acme"], ["acme/debian"])).unwrap();
    let base = tmp.path().join("base");
    std::fs::create_dir_all(base.join("var/lib/dpkg/info")).unwrap();
    std::fs::create_dir_all(base.join("etc")).unwrap();
    std::fs::copy("/var/lib/dpkg/status", base.join("var/lib/dpkg/status")).unwrap();
    std::fs::write(base.join("var/lib/dpkg/info/format"), "1\n").unwrap();
    std::fs::write(base.join("etc/os-release"), "ID=debian\nVERSION_ID=\"12\"\nVERSION_CODENAME=bookworm\n").unwrap();
    let platforms = [Platform::parse("linux/amd64").unwrap()];
    push_directory(&client, &base, "acme/debian", "12", &platforms, 0, 0, 0, &Options::default()).unwrap();
    let repos = Repositories {
        debian: vec![DebianRepo {
            url: server.1.clone(),
            suite: "stable".into(),
            components: vec!["main".into()],
            keys: vec![key],
        }],
        alpine: vec![],
    };
    let source = Arc::new(PackageSource { repositories: repos, fetcher: Fetcher::new(Some(tmp.path().join("cache"))) });
    let key = Arc::new(tailor_sign::PrivateKey::generate().unwrap());
    let opts = Options { packages: Some(source.clone()), signer: Some(key.clone()), ..Options::default() };

    let report = build(&spec("hello, jq"), &client, &opts).unwrap();
    assert_eq!(report.packages, ["hello=2.10-3"], "jq is in the base already: {report:?}");
    let entries = layer(&client, "acme/debian", &report.manifests["linux/amd64"], 1);
    let names: Vec<&str> = entries.iter().map(|e| e.path.as_str()).collect();
    assert!(names.contains(&"usr/bin/hello"), "{names:?}");
    assert!(
        names.contains(&"var/lib/dpkg/info/hello.list") && names.contains(&"var/lib/dpkg/info/hello.md5sums"),
        "{names:?}"
    );
    let status = &entries.iter().find(|e| e.path == "var/lib/dpkg/status").unwrap().data;
    let status = String::from_utf8_lossy(status);
    assert!(status.contains("Package: hello\nStatus: install ok installed\n"), "hello recorded installed");
    assert!(status.contains("Package: jq\n"), "the base's entries stay");
    // The SBOM lists it, the provenance names the .deb by its SHA-256.
    let manifest = &report.manifests["linux/amd64"];
    let pk = key.public();
    let sbom =
        tailor_sign::verify_attestations(&client, "acme/debian", manifest, tailor_sign::intoto::SPDX_PREDICATE, &pk)
            .unwrap();
    let hello =
        sbom[0]["predicate"]["packages"].as_array().unwrap().iter().find(|p| p["name"] == "hello").unwrap().clone();
    assert_eq!(hello["versionInfo"], "2.10-3");
    assert_eq!(hello["comment"], "installed by tailor (packages layer)");
    let prov = tailor_sign::verify_attestations(
        &client,
        "acme/debian",
        manifest,
        tailor_sign::intoto::SLSA_PROVENANCE_V1,
        &pk,
    )
    .unwrap();
    let deps = prov[0]["predicate"]["buildDefinition"]["resolvedDependencies"].as_array().unwrap().clone();
    let dep = deps.iter().find(|d| d["name"] == "hello=2.10-3").unwrap();
    let deb = std::fs::read(root.join("pool/hello_2.10-3_amd64.deb")).unwrap();
    assert_eq!(dep["digest"]["sha256"], hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&deb)));
    assert!(dep["uri"].as_str().unwrap().ends_with("pool/hello_2.10-3_amd64.deb"), "{dep}");

    // With a build cache, a second build takes the packages layer from it: the .debs are
    // neither fetched nor unpacked (they are gone from the server and the fetch cache), the
    // indexes are still read, and the image is the same.
    let cached = Options { cache: crate::cache::Cache::at(tmp.path().join("build-cache")), ..opts.clone() };
    let first = build(&spec("hello, jq"), &client, &cached).unwrap();
    assert_eq!(first.manifests, report.manifests, "the cache changes no byte");
    std::fs::rename(root.join("pool"), root.join("pool.away")).unwrap();
    std::fs::remove_dir_all(tmp.path().join("cache")).unwrap();
    let second = build(&spec("hello, jq"), &client, &cached).unwrap();
    assert_eq!((&second.manifests, &second.packages), (&first.manifests, &first.packages));
    let err = build(&spec("hello"), &client, &cached).unwrap_err().to_string();
    assert!(err.contains("hello_2.10-3_amd64.deb") && err.contains("404"), "other requests, another layer: {err}");
    std::fs::rename(root.join("pool.away"), root.join("pool")).unwrap();

    // Bad requests and bases, each a clear failed build.
    let err = build(&spec("helo"), &client, &opts).unwrap_err().to_string();
    assert!(err.contains("contents.packages[0]") && err.contains("did you mean hello"), "{err}");
    let bare = tmp.path().join("bare");
    std::fs::create_dir_all(bare.join("etc")).unwrap();
    std::fs::write(bare.join("etc/passwd"), "root:x:0:0::/root:/bin/sh\n").unwrap();
    push_directory(&client, &bare, "acme/debian", "12", &platforms, 0, 0, 0, &Options::default()).unwrap();
    let err = build(&spec("hello"), &client, &opts).unwrap_err().to_string();
    assert!(err.contains("has no package database"), "{err}");
    drop(server);
    push_directory(&client, &base, "acme/debian", "12", &platforms, 0, 0, 0, &Options::default()).unwrap();
    let err = build(&spec("hello"), &client, &opts).unwrap_err().to_string();
    assert!(err.contains("repositories") && err.contains("unreachable"), "{err}");
}

#[test]
fn paths_go_through_the_base_directory_links() {
    let links: std::collections::BTreeMap<String, String> =
        [("lib".to_string(), "usr/lib".to_string()), ("usr/lib/alt".to_string(), "opt/alt".to_string())].into();
    assert_eq!(super::through_links("lib/x86_64-linux-gnu/libz.so.1", &links), "usr/lib/x86_64-linux-gnu/libz.so.1");
    assert_eq!(super::through_links("lib/alt/x", &links), "opt/alt/x", "links after links");
    assert_eq!(super::through_links("lib", &links), "lib", "the link itself is not a prefix of more");
    assert_eq!(super::through_links("usr/bin/curl", &links), "usr/bin/curl");
    assert_eq!(crate::base::resolve_link("lib64", "usr/lib64").as_deref(), Some("usr/lib64"));
    assert_eq!(crate::base::resolve_link("usr/lib/a", "../../opt").as_deref(), Some("opt"));
    assert_eq!(crate::base::resolve_link("a", "../../x"), None);
}
