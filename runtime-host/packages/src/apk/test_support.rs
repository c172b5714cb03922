//! Files built the way abuild builds them, for tests (this crate's, and other crates' with
//! the `test-support` feature): RSA keys made by `openssl genrsa`, signatures by
//! `openssl dgst -sign`, signature tars cut like `abuild-tar --cut`, packages ([`ApkSpec`])
//! and signed `APKINDEX.tar.gz` files ([`write_repository`]).

#![allow(clippy::unwrap_used)]

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use flate2::Compression;
use flate2::write::GzEncoder;
use sha1::{Digest as _, Sha1};

use super::{ApkKeys, Checksum};
use crate::digest::Sha256Digest;

pub const KEY_NAME: &str = "tailor-test-6165ee59.rsa.pub";

/// A directory with an RSA key made by openssl.
pub struct Keys {
    dir: tempfile::TempDir,
}

pub fn openssl(args: &[&str]) -> Vec<u8> {
    let output = match Command::new("openssl").args(args).stdin(Stdio::null()).output() {
        Ok(output) => output,
        Err(err) => panic!("cannot run `openssl` ({err}): install it with `apt-get install openssl`"),
    };
    assert!(output.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&output.stderr));
    output.stdout
}

impl Keys {
    /// A new key (`openssl genrsa 2048`): each call makes another, so no `Default`.
    #[allow(clippy::new_without_default)]
    pub fn new() -> Keys {
        let dir = tempfile::tempdir().unwrap();
        let private = dir.path().join("key.pem");
        openssl(&["genrsa", "-out", private.to_str().unwrap(), "2048"]);
        Keys { dir }
    }

    pub fn private(&self) -> String {
        self.dir.path().join("key.pem").display().to_string()
    }

    /// The public key as Alpine publishes it (SubjectPublicKeyInfo PEM).
    pub fn public(&self) -> Vec<u8> {
        openssl(&["rsa", "-in", &self.private(), "-pubout"])
    }

    /// The public key in PKCS#1 PEM (`BEGIN RSA PUBLIC KEY`).
    pub fn public_pkcs1(&self) -> Vec<u8> {
        openssl(&["rsa", "-in", &self.private(), "-RSAPublicKey_out"])
    }

    /// A directory holding the public key as the file `name` (for a repository's `keys`).
    pub fn key_dir(&self, name: &str) -> PathBuf {
        let dir = self.dir.path().join(format!("keys-{name}"));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(name), self.public()).unwrap();
        dir
    }

    pub fn apk_keys(&self, name: &str) -> ApkKeys {
        let mut keys = ApkKeys::new();
        keys.add(name, &self.public()).unwrap();
        keys
    }

    /// `openssl dgst -<digest> -sign key` over `data`.
    pub fn sign(&self, digest: &str, data: &[u8]) -> Vec<u8> {
        let input = self.dir.path().join("to-sign");
        std::fs::write(&input, data).unwrap();
        openssl(&["dgst", &format!("-{digest}"), "-sign", &self.private(), input.to_str().unwrap()])
    }
}

pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::best());
    encoder.write_all(data).unwrap();
    encoder.finish().unwrap()
}

/// A tar of `entries`; with `cut`, without the two end-of-archive blocks (`abuild-tar --cut`).
pub fn tar(entries: &[(&str, &[u8])], cut: bool) -> Vec<u8> {
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
pub fn abuild_sign(keys: &Keys, algorithm: &str, digest: &str, key_name: &str, signed: &[u8]) -> (Vec<u8>, usize) {
    let signature = keys.sign(digest, signed);
    let entry = format!(".SIGN.{algorithm}.{key_name}");
    let mut file = gzip(&tar(&[(entry.as_str(), &signature)], true));
    let start = file.len();
    file.extend_from_slice(signed);
    (file, start)
}

/// One entry of a package's data.
pub enum Data<'a> {
    /// A directory and its mode.
    Dir(&'a str, u32),
    /// A regular file, its mode and content.
    File(&'a str, u32, &'a [u8]),
    /// A symlink and its target.
    Symlink(&'a str, &'a str),
}

/// A package to build for x86_64: its `.PKGINFO` (and index entry) fields, data and scripts.
#[derive(Default)]
pub struct ApkSpec<'a> {
    pub name: &'a str,
    pub version: &'a str,
    /// `depend` atoms (`D:`).
    pub depends: &'a [&'a str],
    /// `provides` entries (`p:`).
    pub provides: &'a [&'a str],
    pub data: &'a [Data<'a>],
    /// Control files such as `.post-install`, with their content.
    pub scripts: &'a [(&'a str, &'a [u8])],
}

/// A package built by [`ApkSpec::build`].
pub struct BuiltApk {
    /// `<name>-<version>.apk`.
    pub file_name: String,
    pub bytes: Vec<u8>,
    /// The `C:` checksum: SHA-1 of the control stream.
    pub checksum: Checksum,
    /// Its `APKINDEX` entry (ending in a newline, without the blank line after it).
    pub index_entry: String,
}

/// The data tar as abuild writes it: an `APK-TOOLS.checksum.SHA1` PAX record before each file.
fn data_tar(data: &[Data<'_>]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for entry in data {
        let mut header = tar::Header::new_ustar();
        header.set_mtime(1_700_000_000);
        header.set_uid(0);
        header.set_gid(0);
        header.set_size(0);
        match *entry {
            Data::Dir(path, mode) => {
                header.set_entry_type(tar::EntryType::Directory);
                header.set_mode(mode);
                builder.append_data(&mut header, path, std::io::empty()).unwrap();
            }
            Data::File(path, mode, content) => {
                let sha1 = hex::encode(Sha1::digest(content));
                builder.append_pax_extensions([("APK-TOOLS.checksum.SHA1", sha1.as_bytes())]).unwrap();
                header.set_mode(mode);
                header.set_size(content.len() as u64);
                builder.append_data(&mut header, path, content).unwrap();
            }
            Data::Symlink(path, target) => {
                header.set_entry_type(tar::EntryType::Symlink);
                header.set_mode(0o777);
                builder.append_link(&mut header, path, target).unwrap();
            }
        }
    }
    builder.into_inner().unwrap()
}

impl ApkSpec<'_> {
    /// The `.apk` as abuild builds it: a signature stream (RSA, SHA-1, key [`KEY_NAME`]) over
    /// the control stream (`.PKGINFO` with `datahash`, then the scripts), then the data stream.
    pub fn build(&self, keys: &Keys) -> BuiltApk {
        let data = gzip(&data_tar(self.data));
        let size: usize = self.data.iter().map(|d| if let Data::File(_, _, c) = d { c.len() } else { 0 }).sum();
        let (name, version) = (self.name, self.version);
        let mut pkginfo = format!(
            "# Generated by abuild 3.13.0-r3\npkgname = {name}\npkgver = {version}\npkgdesc = {name} for tests\n\
             url = https://example.org/{name}\nbuilddate = 1700000000\nsize = {size}\narch = x86_64\n\
             origin = {name}\nmaintainer = Tailor Tests <tests@example.org>\nlicense = MIT\n"
        );
        for d in self.depends {
            pkginfo.push_str(&format!("depend = {d}\n"));
        }
        for p in self.provides {
            pkginfo.push_str(&format!("provides = {p}\n"));
        }
        pkginfo.push_str(&format!("datahash = {}\n", Sha256Digest::of(&data)));
        let mut control_files: Vec<(&str, &[u8])> = vec![(".PKGINFO", pkginfo.as_bytes())];
        control_files.extend(self.scripts.iter().copied());
        let control = gzip(&tar(&control_files, true));
        let (mut bytes, _) = abuild_sign(keys, "RSA", "sha1", KEY_NAME, &control);
        bytes.extend_from_slice(&data);
        let checksum = Checksum::Sha1(Sha1::digest(&control).into());
        let mut index_entry = format!(
            "C:{checksum}\nP:{name}\nV:{version}\nA:x86_64\nS:{}\nI:{size}\nT:{name} for tests\n\
             U:https://example.org/{name}\nL:MIT\no:{name}\nm:Tailor Tests <tests@example.org>\nt:1700000000\n",
            bytes.len()
        );
        if !self.depends.is_empty() {
            index_entry.push_str(&format!("D:{}\n", self.depends.join(" ")));
        }
        if !self.provides.is_empty() {
            index_entry.push_str(&format!("p:{}\n", self.provides.join(" ")));
        }
        BuiltApk { file_name: format!("{name}-{version}.apk"), bytes, checksum, index_entry }
    }
}

/// An `APKINDEX.tar.gz` listing `apks`, signed by `keys` as `key_name` (RSA, SHA-1).
pub fn signed_index(keys: &Keys, key_name: &str, apks: &[&BuiltApk]) -> Vec<u8> {
    let index: String = apks.iter().map(|a| format!("{}\n", a.index_entry)).collect();
    let index_tar = gzip(&tar(&[("DESCRIPTION", b"v3.20.0-tailor-tests"), ("APKINDEX", index.as_bytes())], false));
    abuild_sign(keys, "RSA", "sha1", key_name, &index_tar).0
}

/// `dir` (a repository's `<url>/<branch>/<repository>/<arch>`) holding `apks` and their index
/// signed by `keys` as [`KEY_NAME`].
pub fn write_repository(dir: &Path, keys: &Keys, apks: &[&BuiltApk]) {
    std::fs::create_dir_all(dir).unwrap();
    for apk in apks {
        std::fs::write(dir.join(&apk.file_name), &apk.bytes).unwrap();
    }
    std::fs::write(dir.join("APKINDEX.tar.gz"), signed_index(keys, KEY_NAME, apks)).unwrap();
}
