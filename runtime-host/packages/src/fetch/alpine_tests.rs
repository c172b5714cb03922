#![allow(clippy::unwrap_used)]
//! Fetching from an apk repository on loopback, its index and package built and signed the way
//! abuild does (`crate::apk::test_support`: keys and signatures made by openssl).

use std::path::{Path, PathBuf};

use sha1::{Digest as _, Sha1};

use super::tests::Files;
use super::*;
use crate::apk::Checksum;
use crate::apk::test_support::{KEY_NAME, Keys, abuild_sign, gzip, tar};
use crate::repos::AlpineRepo;

/// A signed package `hello-<version>.apk`: (file bytes, the index's `C:` checksum).
fn package(keys: &Keys, version: &str) -> (Vec<u8>, Checksum) {
    let data = gzip(&tar(&[("usr/bin/hello", b"#!/bin/sh\necho hello\n")], false));
    let pkginfo =
        format!("pkgname = hello\npkgver = {version}\narch = x86_64\ndatahash = {}\n", Sha256Digest::of(&data));
    let control = gzip(&tar(&[(".PKGINFO", pkginfo.as_bytes())], true));
    let (mut file, _) = abuild_sign(keys, "RSA", "sha1", KEY_NAME, &control);
    file.extend_from_slice(&data);
    (file, Checksum::Sha1(Sha1::digest(&control).into()))
}

/// `root/v3.20/main/x86_64/` with a signed APKINDEX.tar.gz listing hello 1.0-r0.
fn repository(root: &Path, keys: &Keys) -> PathBuf {
    let dir = root.join("v3.20/main/x86_64");
    std::fs::create_dir_all(&dir).unwrap();
    let (apk, checksum) = package(keys, "1.0-r0");
    std::fs::write(dir.join("hello-1.0-r0.apk"), &apk).unwrap();
    let index = format!(
        "C:{checksum}\nP:hello\nV:1.0-r0\nA:x86_64\nS:{}\nI:1\nT:hello\nD:so:libc.musl-x86_64.so.1\n\n",
        apk.len()
    );
    let index_tar = gzip(&tar(&[("DESCRIPTION", b"v3.20.0"), ("APKINDEX", index.as_bytes())], false));
    let (signed, _) = abuild_sign(keys, "RSA", "sha1", KEY_NAME, &index_tar);
    std::fs::write(dir.join("APKINDEX.tar.gz"), signed).unwrap();
    dir
}

fn keys_dir(base: &Path, keys: &Keys, name: &str) -> PathBuf {
    let d = base.join(format!("keys-{name}"));
    std::fs::create_dir_all(&d).unwrap();
    std::fs::write(d.join(name), keys.public()).unwrap();
    d
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
    let index = alpine_index(&f, &[repo(keys_dir(tmp.path(), &keys, KEY_NAME))], "x86_64").unwrap();
    assert_eq!(index.packages.len(), 1);
    assert!(index.trusted[0].contains(KEY_NAME), "{:?}", index.trusted);
    let apk = download_apk(&f, &index, &index.packages[0]).unwrap();
    assert_eq!(apk, std::fs::read(dir.join("hello-1.0-r0.apk")).unwrap());
    assert_eq!(files.count(".apk"), 1);
    // Another package under the same name on the server: its control segment differs.
    let (other, _) = package(&keys, "1.0-r1");
    std::fs::write(dir.join("hello-1.0-r0.apk"), other).unwrap();
    let err = download_apk(&f, &index, &index.packages[0]).unwrap_err().to_string();
    assert!(err.contains("hello-1.0-r0.apk: SHA-256 is") || err.contains("the signed index says"), "{err}");
    // Signed by a key the repositories file does not give.
    let stranger = Keys::new();
    let err = alpine_index(&f, &[repo(keys_dir(tmp.path(), &stranger, "stranger.rsa.pub"))], "x86_64")
        .unwrap_err()
        .to_string();
    assert!(err.contains("APKINDEX.tar.gz") && err.contains(KEY_NAME), "{err}");
    let err = alpine_index(&f, &[repo(keys_dir(tmp.path(), &keys, KEY_NAME))], "aarch64").unwrap_err().to_string();
    assert!(err.contains("aarch64/APKINDEX.tar.gz: HTTP 404"), "{err}");
}
