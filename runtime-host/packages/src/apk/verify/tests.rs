//! Tests with files built the way abuild builds them (`crate::apk::test_support`).

#![allow(clippy::unwrap_used)]

use super::*;
use crate::apk::test_support::{KEY_NAME, Keys, abuild_sign, gzip, tar};

const APKINDEX: &[u8] =
    b"C:Q1cmfv4lSjKxb3E0EhmRBx5J2Bqxo=\nP:musl\nV:1.2.5-r0\nA:x86_64\nS:411323\nI:650240\nT:the musl c library\n\n";

fn index_tar_gz() -> Vec<u8> {
    gzip(&tar(&[("DESCRIPTION", b"v3.20.0-1-gtest"), ("APKINDEX", APKINDEX)], false))
}

#[test]
fn an_abuild_signed_index_verifies() {
    let keys = Keys::new();
    let index = index_tar_gz();
    let (file, start) = abuild_sign(&keys, "RSA", "sha1", KEY_NAME, &index);
    let (verified, offset) = verify_signed(&file, &keys.apk_keys(&format!("/etc/apk/keys/{KEY_NAME}"))).unwrap();
    assert_eq!(verified, Verified { key_name: KEY_NAME.to_owned(), algorithm: Algorithm::RsaSha1 });
    assert_eq!(verified.to_string(), format!("key {KEY_NAME} (RSA)"));
    assert_eq!(offset, start);
    assert_eq!(&file[offset..], index.as_slice());
}

#[test]
fn sha256_and_sha512_signatures_and_pkcs1_keys_verify() {
    let keys = Keys::new();
    let index = index_tar_gz();
    let mut pkcs1 = ApkKeys::new();
    pkcs1.add(KEY_NAME, &keys.public_pkcs1()).unwrap();
    for (name, digest, algorithm) in
        [("RSA256", "sha256", Algorithm::RsaSha256), ("RSA512", "sha512", Algorithm::RsaSha512)]
    {
        let (file, start) = abuild_sign(&keys, name, digest, KEY_NAME, &index);
        for apk_keys in [keys.apk_keys(KEY_NAME), pkcs1.clone()] {
            let (verified, offset) = verify_signed(&file, &apk_keys).unwrap();
            assert_eq!(verified.algorithm, algorithm);
            assert_eq!(offset, start);
        }
    }
    // A SHA-1 signature named RSA256 does not verify.
    let (file, _) = abuild_sign(&keys, "RSA256", "sha1", KEY_NAME, &index);
    let err = verify_signed(&file, &keys.apk_keys(KEY_NAME)).unwrap_err();
    assert_eq!(err, VerifyError::BadSignature { key_name: KEY_NAME.to_owned(), algorithm: Algorithm::RsaSha256 });
}

#[test]
fn a_changed_byte_in_the_index_fails() {
    let keys = Keys::new();
    let (file, start) = abuild_sign(&keys, "RSA", "sha1", KEY_NAME, &index_tar_gz());
    let apk_keys = keys.apk_keys(KEY_NAME);
    for at in [start, start + 20, file.len() - 1] {
        let mut changed = file.clone();
        changed[at] ^= 0x01;
        let err = verify_signed(&changed, &apk_keys).unwrap_err();
        assert_eq!(err, VerifyError::BadSignature { key_name: KEY_NAME.to_owned(), algorithm: Algorithm::RsaSha1 });
        let message = err.to_string();
        assert!(message.starts_with(&format!("BAD signature (RSA) with key {KEY_NAME}: ")), "{message}");
        assert!(message.contains("fetch it again"), "{message}");
    }
    let err = verify_signed(&file[..start], &apk_keys).unwrap_err();
    assert_eq!(err, VerifyError::NoContent);
}

#[test]
fn an_unknown_key_fails_naming_it() {
    let keys = Keys::new();
    let (file, _) = abuild_sign(&keys, "RSA", "sha1", KEY_NAME, &index_tar_gz());
    let other = keys.apk_keys("alpine-devel@lists.alpinelinux.org-6165ee59.rsa.pub");
    let err = verify_signed(&file, &other).unwrap_err();
    assert_eq!(
        err,
        VerifyError::UnknownKey {
            key_names: vec![KEY_NAME.to_owned()],
            known: vec!["alpine-devel@lists.alpinelinux.org-6165ee59.rsa.pub".to_owned()],
        }
    );
    let message = err.to_string();
    assert!(message.starts_with(&format!("signed with key {KEY_NAME}, which is not among the keys given")));
    assert!(message.ends_with(&format!("add the repository's key file named {KEY_NAME}")), "{message}");
    assert_eq!(verify_signed(&file, &ApkKeys::new()).unwrap_err(), VerifyError::NoKeys);
}

#[test]
fn a_different_key_with_the_same_name_fails() {
    let keys = Keys::new();
    let (file, _) = abuild_sign(&keys, "RSA", "sha1", KEY_NAME, &index_tar_gz());
    let impostor = Keys::new().apk_keys(KEY_NAME);
    let err = verify_signed(&file, &impostor).unwrap_err();
    assert!(matches!(err, VerifyError::BadSignature { .. }), "{err}");
}

#[test]
fn the_first_known_key_of_several_signatures_is_used() {
    let keys = Keys::new();
    let index = index_tar_gz();
    let good = keys.sign("sha256", &index);
    let mut file = gzip(&tar(
        &[
            (".SIGN.DSA.old.pub", b"xx"),
            (".SIGN.RSA.unknown.rsa.pub", b"yy"),
            (&format!(".SIGN.RSA256.{KEY_NAME}"), &good),
        ],
        true,
    ));
    file.extend_from_slice(&index);
    let (verified, _) = verify_signed(&file, &keys.apk_keys(KEY_NAME)).unwrap();
    assert_eq!(verified.algorithm, Algorithm::RsaSha256);

    let mut dsa_only = gzip(&tar(&[(".SIGN.DSA.old.pub", b"xx")], true));
    dsa_only.extend_from_slice(&index);
    let err = verify_signed(&dsa_only, &keys.apk_keys(KEY_NAME)).unwrap_err();
    assert_eq!(err, VerifyError::UnsupportedSignature { entries: vec![".SIGN.DSA.old.pub".to_owned()] });
}

#[test]
fn unsigned_and_damaged_files_are_explained() {
    let keys = Keys::new().apk_keys(KEY_NAME);
    let err = verify_signed(&index_tar_gz(), &keys).unwrap_err();
    assert_eq!(err, VerifyError::Unsigned { first: Some("DESCRIPTION".to_owned()) });
    assert!(err.to_string().contains("holds \"DESCRIPTION\" instead of a .SIGN.RSA.<key name> entry"), "{err}");
    // A large unsigned index: the first entry is still named.
    let big = vec![b'x'; 3 << 20];
    let err = verify_signed(&gzip(&tar(&[("APKINDEX", &big)], false)), &keys).unwrap_err();
    assert_eq!(err, VerifyError::Unsigned { first: Some("APKINDEX".to_owned()) });

    let err = verify_signed(b"", &keys).unwrap_err();
    assert!(matches!(err, VerifyError::BadGzip { .. }), "{err}");
    let err = verify_signed(b"not gzip at all", &keys).unwrap_err();
    assert!(matches!(err, VerifyError::BadGzip { part: "signature stream", .. }), "{err}");
    let signed = gzip(&tar(&[(".SIGN.RSA.k", b"sig")], true));
    let err = verify_signed(&signed[..signed.len() - 4], &keys).unwrap_err();
    assert!(matches!(err, VerifyError::BadGzip { .. }), "{err}");
    let err = verify_signed(&gzip(b"not a tar"), &keys).unwrap_err();
    assert!(matches!(err, VerifyError::BadTar { .. }), "{err}");
}

#[test]
fn bad_keys_are_named() {
    let mut keys = ApkKeys::new();
    let err = keys.add("/etc/apk/keys/x.rsa.pub", b"hello").unwrap_err();
    assert!(err.to_string().starts_with("key /etc/apk/keys/x.rsa.pub: not an RSA public key in PEM"), "{err}");
    let err = keys.add("x.rsa.pub", b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n").unwrap_err();
    assert!(matches!(err, VerifyError::BadKey { .. }), "{err}");
    let err = keys.add("/etc/apk/keys/", &Keys::new().public()).unwrap_err();
    assert!(matches!(err, VerifyError::BadKeyName { .. }), "{err}");
    assert!(keys.is_empty());
}

/// A v2 package: signature over the control stream, whose `.PKGINFO` has the data's datahash.
fn package(keys: &Keys, with_datahash: bool) -> (Vec<u8>, Range<usize>, Range<usize>) {
    let data = gzip(&tar(&[("usr/bin/hello", b"#!/bin/sh\necho hello\n")], false));
    let mut pkginfo = "pkgname = hello\npkgver = 1.0-r0\narch = x86_64\n".to_owned();
    if with_datahash {
        pkginfo.push_str(&format!("datahash = {}\n", Sha256Digest::of(&data)));
    }
    let control = gzip(&tar(&[(".PKGINFO", pkginfo.as_bytes())], true));
    // Without datahash, abuild signs control and data together.
    let signed = if with_datahash { control.clone() } else { [control.clone(), data.clone()].concat() };
    let mut file = gzip(&tar(&[(&format!(".SIGN.RSA.{KEY_NAME}"), &keys.sign("sha1", &signed))], true));
    let control_range = file.len()..file.len() + control.len();
    file.extend_from_slice(&control);
    file.extend_from_slice(&data);
    let data_range = control_range.end..file.len();
    (file, control_range, data_range)
}

#[test]
fn a_signed_package_verifies_with_its_datahash() {
    let keys = Keys::new();
    let apk_keys = keys.apk_keys(KEY_NAME);
    let (file, control, data) = package(&keys, true);
    let verified = verify_package(&file, &apk_keys).unwrap();
    assert_eq!(verified.verified.key_name, KEY_NAME);
    assert_eq!(verified.control, control);
    assert_eq!(verified.data, data);
    assert_eq!(verified.data_hash, Some(Sha256Digest::of(&file[data.clone()])));
    // verify_signed is for indexes: over a package it covers control and data, which the
    // signature does not.
    assert!(matches!(verify_signed(&file, &apk_keys).unwrap_err(), VerifyError::BadSignature { .. }));

    let mut changed = file.clone();
    changed[data.end - 1] ^= 0x01;
    let err = verify_package(&changed, &apk_keys).unwrap_err();
    assert!(matches!(err, VerifyError::DataHashMismatch { .. }), "{err}");
    assert!(err.to_string().contains("does not match the datahash"), "{err}");

    let mut changed = file.clone();
    changed[control.end - 1] ^= 0x01;
    let err = verify_package(&changed, &apk_keys).unwrap_err();
    assert!(matches!(err, VerifyError::BadGzip { part: "control stream", .. }), "{err}");
}

#[test]
fn a_package_without_datahash_is_signed_over_control_and_data() {
    let keys = Keys::new();
    let apk_keys = keys.apk_keys(KEY_NAME);
    let (file, control, data) = package(&keys, false);
    let verified = verify_package(&file, &apk_keys).unwrap();
    assert_eq!((verified.control, verified.data, verified.data_hash), (control, data.clone(), None));
    let mut changed = file.clone();
    changed[data.end - 1] ^= 0x01;
    let err = verify_package(&changed, &apk_keys).unwrap_err();
    assert!(matches!(err, VerifyError::BadSignature { .. }), "{err}");
}

#[test]
fn the_first_gzip_member_ends_exactly() {
    let first = gzip(b"first");
    for second in [gzip(b"second"), b"\x1f\x8b trailing garbage".to_vec(), Vec::new()] {
        let bytes = [first.as_slice(), &second].concat();
        let member = gzip_member(&bytes, 100, "test").unwrap();
        assert_eq!(member.content, b"first");
        assert_eq!(member.len, Some(first.len()));
    }
    let member = gzip_member(&first, 3, "test").unwrap();
    assert_eq!((member.content.as_slice(), member.len), (&b"fir"[..], None));
}
