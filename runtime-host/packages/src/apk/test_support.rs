//! Files built the way abuild builds them, for tests: RSA keys made by `openssl genrsa`,
//! signatures by `openssl dgst -sign`, signature tars cut like `abuild-tar --cut`.

#![allow(clippy::unwrap_used)]

use std::io::Write as _;
use std::process::{Command, Stdio};

use flate2::Compression;
use flate2::write::GzEncoder;

use super::ApkKeys;

pub(crate) const KEY_NAME: &str = "tailor-test-6165ee59.rsa.pub";

/// A directory with an RSA key made by openssl.
pub(crate) struct Keys {
    dir: tempfile::TempDir,
}

pub(crate) fn openssl(args: &[&str]) -> Vec<u8> {
    let output = match Command::new("openssl").args(args).stdin(Stdio::null()).output() {
        Ok(output) => output,
        Err(err) => panic!("cannot run `openssl` ({err}): install it with `apt-get install openssl`"),
    };
    assert!(output.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&output.stderr));
    output.stdout
}

impl Keys {
    pub(crate) fn new() -> Keys {
        let dir = tempfile::tempdir().unwrap();
        let private = dir.path().join("key.pem");
        openssl(&["genrsa", "-out", private.to_str().unwrap(), "2048"]);
        Keys { dir }
    }

    pub(crate) fn private(&self) -> String {
        self.dir.path().join("key.pem").display().to_string()
    }

    /// The public key as Alpine publishes it (SubjectPublicKeyInfo PEM).
    pub(crate) fn public(&self) -> Vec<u8> {
        openssl(&["rsa", "-in", &self.private(), "-pubout"])
    }

    /// The public key in PKCS#1 PEM (`BEGIN RSA PUBLIC KEY`).
    pub(crate) fn public_pkcs1(&self) -> Vec<u8> {
        openssl(&["rsa", "-in", &self.private(), "-RSAPublicKey_out"])
    }

    pub(crate) fn apk_keys(&self, name: &str) -> ApkKeys {
        let mut keys = ApkKeys::new();
        keys.add(name, &self.public()).unwrap();
        keys
    }

    /// `openssl dgst -<digest> -sign key` over `data`.
    pub(crate) fn sign(&self, digest: &str, data: &[u8]) -> Vec<u8> {
        let input = self.dir.path().join("to-sign");
        std::fs::write(&input, data).unwrap();
        openssl(&["dgst", &format!("-{digest}"), "-sign", &self.private(), input.to_str().unwrap()])
    }
}

pub(crate) fn gzip(data: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::best());
    encoder.write_all(data).unwrap();
    encoder.finish().unwrap()
}

/// A tar of `entries`; with `cut`, without the two end-of-archive blocks (`abuild-tar --cut`).
pub(crate) fn tar(entries: &[(&str, &[u8])], cut: bool) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for (name, content) in entries {
        let mut header = tar::Header::new_ustar();
        header.set_size(content.len() as u64);
        header.set_mode(0o644);
        header.set_mtime(1_700_000_000);
        header.set_uid(0);
        header.set_gid(0);
        builder.append_data(&mut header, name, *content).unwrap();
    }
    let mut bytes = builder.into_inner().unwrap();
    if cut {
        assert!(bytes[bytes.len() - 1024..].iter().all(|&byte| byte == 0));
        bytes.truncate(bytes.len() - 1024);
    }
    bytes
}

/// Signs `signed` as abuild-sign does: the signature stream, then `signed`.
pub(crate) fn abuild_sign(
    keys: &Keys,
    algorithm: &str,
    digest: &str,
    key_name: &str,
    signed: &[u8],
) -> (Vec<u8>, usize) {
    let signature = keys.sign(digest, signed);
    let entry = format!(".SIGN.{algorithm}.{key_name}");
    let mut file = gzip(&tar(&[(entry.as_str(), &signature)], true));
    let start = file.len();
    file.extend_from_slice(signed);
    (file, start)
}
