#![allow(clippy::unwrap_used)]
//! Variants and package catalogs over a real (in-memory) SQLite.

use tailor_spec::Customization as Spec;

use crate::*;

fn db() -> NativeDb {
    crate::test_db::fresh()
}

fn spec(name: &str, source: &str, packages: &[&str]) -> Spec {
    let mut yaml = format!("name: {name}\nsource: {source}\ntag_suffix: custom\nplatforms: [linux/amd64]\n");
    if !packages.is_empty() {
        yaml.push_str(&format!("contents:\n  packages: [{}]\n", packages.join(", ")));
    }
    Spec::parse_yaml(&yaml).unwrap()
}

fn package(name: &str, version: &str, summary: &str) -> CatalogPackage {
    CatalogPackage { name: name.into(), version: version.into(), summary: summary.into() }
}

fn amd64(variant: &str, arch: &str) -> ImageVariant {
    ImageVariant { platform: "linux/amd64".into(), variant: variant.into(), arch: arch.into() }
}

#[test]
fn variants_are_recorded_per_tag_and_platform() {
    let db = db();
    block_on(record_variant(&db, "acme/debian", "12", &amd64("debian:bookworm", "amd64"), 1)).unwrap();
    let arm = ImageVariant { platform: "linux/arm64".into(), variant: "debian:bookworm".into(), arch: "arm64".into() };
    block_on(record_variant(&db, "acme/debian", "12", &arm, 1)).unwrap();
    block_on(record_variant(&db, "acme/alpine", "3", &amd64("alpine:3.19", "x86_64"), 1)).unwrap();
    block_on(record_variant(&db, "acme/alpine", "3", &amd64("alpine:3.20", "x86_64"), 2)).unwrap();
    assert_eq!(block_on(variants_of(&db, "acme/debian", "12")).unwrap(), [amd64("debian:bookworm", "amd64"), arm]);
    assert_eq!(block_on(variants_of(&db, "acme/alpine", "3")).unwrap(), [amd64("alpine:3.20", "x86_64")]);
    assert!(block_on(variants_of(&db, "acme/alpine", "4")).unwrap().is_empty());
    let known = block_on(known_variants(&db)).unwrap();
    let known: Vec<(&str, &str)> = known.iter().map(|(v, a)| (v.as_str(), a.as_str())).collect();
    assert_eq!(known, [("alpine:3.20", "x86_64"), ("debian:bookworm", "amd64"), ("debian:bookworm", "arm64")]);
}

#[test]
fn a_new_index_replaces_the_catalog_and_queues_the_customizations_that_install_packages() {
    let db = db();
    block_on(create_customization(&db, "acme", "with", &spec("a", "acme/debian:12", &["curl"]), 0)).unwrap();
    block_on(create_customization(&db, "acme", "without", &spec("b", "acme/debian:12", &[]), 0)).unwrap();
    block_on(create_customization(&db, "acme", "other", &spec("c", "acme/alpine:3", &["curl"]), 0)).unwrap();
    block_on(record_variant(&db, "acme/debian", "12", &amd64("debian:bookworm", "amd64"), 1)).unwrap();
    block_on(record_variant(&db, "acme/alpine", "3", &amd64("alpine:3.20", "x86_64"), 1)).unwrap();
    // The creations queued build 1 of each; finish them so a new request is a new build.
    while let Some(c) = block_on(claim(&db, "w", 2, 1000, 3)).unwrap() {
        block_on(finish(&db, &c.customization_id, c.build, "w", BuildStatus::Succeeded, &Outcome::default(), "", 3))
            .unwrap();
    }

    let first = [package("curl", "7.88.1-10", "command line tool for transferring data with URL syntax")];
    let u = block_on(replace_packages(&db, "debian:bookworm", "amd64", "sha256:1", &first, 10, 0)).unwrap();
    assert_eq!(u, CatalogUpdate { previous: None, changed: true, builds: vec![] }, "a first catalog queues nothing");
    let same = block_on(replace_packages(&db, "debian:bookworm", "amd64", "sha256:1", &first, 11, 0)).unwrap();
    assert!(!same.changed && same.builds.is_empty());
    assert_eq!(
        block_on(package_index(&db, "debian:bookworm", "amd64")).unwrap(),
        Some(PackageIndex { digest: "sha256:1".into(), packages: 1, updated_at: 11 })
    );

    let second = [package("curl", "7.88.1-10+deb12u1", "command line tool"), package("jq", "1.6-2.1", "JSON")];
    let u = block_on(replace_packages(&db, "debian:bookworm", "amd64", "sha256:2", &second, 12, 0)).unwrap();
    assert_eq!(u.previous.as_deref(), Some("sha256:1"));
    assert_eq!(u.builds, [("with".to_string(), 2)], "only the Debian customization that installs packages");
    let b = block_on(get_build(&db, "with", 2)).unwrap().unwrap();
    assert_eq!(b.reason, "package repositories of debian:bookworm (amd64) published");
    let all = block_on(search_packages(&db, "debian:bookworm", "amd64", "", 50, 0)).unwrap();
    assert_eq!(all.packages, second, "the old catalog is gone");
    assert!(block_on(search_packages(&db, "debian:bookworm", "arm64", "", 50, 0)).unwrap().packages.is_empty());
}

#[test]
fn search_matches_name_or_summary_exact_name_first() {
    let db = db();
    let catalog = [
        package("curl", "8", "command line tool for transferring data"),
        package("libcurl4", "8", "easy-to-use client-side URL transfer library"),
        package("python3-pycurl", "7", "Python bindings to libcurl"),
        package("wget", "1", "retrieves files from the web"),
        package("100%_sure", "1", "a name with LIKE wildcards"),
    ];
    block_on(replace_packages(&db, "debian:bookworm", "amd64", "sha256:1", &catalog, 1, 0)).unwrap();
    let names = |q: &str, limit: i64, offset: i64| {
        let m = block_on(search_packages(&db, "debian:bookworm", "amd64", q, limit, offset)).unwrap();
        (m.packages.into_iter().map(|p| p.name).collect::<Vec<_>>(), m.total)
    };
    assert_eq!(names("CURL", 50, 0), (vec!["curl".into(), "libcurl4".into(), "python3-pycurl".into()], 3));
    assert_eq!(names("lib", 50, 0), (vec!["libcurl4".into(), "python3-pycurl".into()], 2), "prefix, then summary");
    assert_eq!(names("curl", 1, 1), (vec!["libcurl4".into()], 3), "pages keep the total");
    assert_eq!(names("%_", 50, 0), (vec!["100%_sure".into()], 1), "wildcards are literal");
    assert_eq!(names("", 50, 0).1, 5);
}
