#![allow(clippy::unwrap_used)]
//! Fetching from an apk repository on loopback, its index and package built and signed the way
//! abuild does (`crate::apk::test_support`: keys and signatures made by openssl).

use std::path::{Path, PathBuf};

use super::tests::Files;
use super::*;
use crate::apk::test_support::{ApkSpec, BuiltApk, Data, KEY_NAME, Keys, write_repository};
use crate::repos::AlpineRepo;

/// A signed package `hello-<version>.apk`.
fn package(keys: &Keys, version: &str) -> BuiltApk {
    ApkSpec {
        name: "hello",
        version,
        depends: &["so:libc.musl-x86_64.so.1"],
        data: &[Data::File("usr/bin/hello", 0o755, b"#!/bin/sh\necho hello\n")],
        ..ApkSpec::default()
    }
    .build(keys)
}

/// `root/v3.20/main/x86_64/` with a signed APKINDEX.tar.gz listing hello 1.0-r0.
fn repository(root: &Path, keys: &Keys) -> PathBuf {
    let dir = root.join("v3.20/main/x86_64");
    write_repository(&dir, keys, &[&package(keys, "1.0-r0")]);
    dir
}

#[test]
fn a_signed_apk_repository_gives_packages_checked_against_the_index() {
    let tmp = tempfile::tempdir().unwrap();
    let keys = Keys::new();
    let root = tmp.path().join("alpine");
    let dir = repository(&root, &keys);
    let files = Files::serve(&root);
    let repo = |keys_path: PathBuf| AlpineRepo {
        url: files.url.clone(),
        branch: "v3.20".into(),
        repository: "main".into(),
        keys: vec![keys_path],
    };
    let f = Fetcher::new(None);
    let index = alpine_index(&f, &[repo(keys.key_dir(KEY_NAME))], "x86_64").unwrap();
    assert_eq!(index.packages.len(), 1);
    assert!(index.trusted[0].contains(KEY_NAME), "{:?}", index.trusted);
    let apk = download_apk(&f, &index, &index.packages[0]).unwrap();
    assert_eq!(apk, std::fs::read(dir.join("hello-1.0-r0.apk")).unwrap());
    assert_eq!(files.count(".apk"), 1);
    // Another package under the same name on the server: its control segment differs.
    std::fs::write(dir.join("hello-1.0-r0.apk"), package(&keys, "1.0-r1").bytes).unwrap();
    let err = download_apk(&f, &index, &index.packages[0]).unwrap_err().to_string();
    assert!(err.contains("hello-1.0-r0.apk: SHA-256 is") || err.contains("the signed index says"), "{err}");
    // Signed by a key the repositories file does not give.
    let stranger = Keys::new();
    let err = alpine_index(&f, &[repo(stranger.key_dir("stranger.rsa.pub"))], "x86_64").unwrap_err().to_string();
    assert!(err.contains("APKINDEX.tar.gz") && err.contains(KEY_NAME), "{err}");
    let err = alpine_index(&f, &[repo(keys.key_dir(KEY_NAME))], "aarch64").unwrap_err().to_string();
    assert!(err.contains("aarch64/APKINDEX.tar.gz: HTTP 404"), "{err}");
}
