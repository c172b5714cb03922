//! Reading an apk v2 package: concatenated gzip streams, as abuild writes them:
//!
//! 1. optional signature streams, each a tar of one `.SIGN.RSA[256|512].<key>.rsa.pub` file;
//! 2. the control stream: a tar of `.PKGINFO` and the install scripts (`.pre-install`, …);
//! 3. the data stream: a tar of the package's files.
//!
//! abuild cuts the tar end-of-archive blocks from the signature and control tars, so the tars
//! are read tolerant of a missing end marker. Each gzip stream is decoded on its own, so the
//! byte ranges of the parts are exact: the signatures cover the control stream (and the data
//! too when `.PKGINFO` has no `datahash`), `datahash` is the SHA-256 of the data stream as
//! stored, and the package's identity (`C:` in an `APKINDEX`) is the SHA-1 of the control stream.

use std::collections::BTreeMap;
use std::io::Read as _;
use std::ops::Range;

use sha1::{Digest as _, Sha1};

use super::checksum::Checksum;
use super::dependency::{Dependency, Provide, parse_dependencies, parse_provides};
use super::index::ValueProblem;
use super::version::Version;
use crate::archive::{ArchiveError, ArchiveProblem, Compression, MemberReader, tar_files};
use crate::deb::excerpt;
use crate::digest::{DigestError, Sha256Digest};

/// The install scripts an apk can ship, in apk-tools' order; tailor never runs them.
pub const APK_SCRIPTS: [&str; 7] =
    [".pre-install", ".post-install", ".pre-upgrade", ".post-upgrade", ".pre-deinstall", ".post-deinstall", ".trigger"];

/// A `.PKGINFO` that cannot be read, naming the line and key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PkgInfoError {
    #[error("line {line}: expected \"key = value\", found {text:?}")]
    BadLine { line: usize, text: String },
    #[error("missing {key} (the package's {what})")]
    MissingKey { key: &'static str, what: &'static str },
    #[error("line {line}: {key} appears twice")]
    DuplicateKey { line: usize, key: String },
    #[error("line {line}: {key}: {source}")]
    InvalidValue { line: usize, key: String, source: ValueProblem },
    #[error("line {line}: datahash: {source}")]
    DataHash { line: usize, source: DigestError },
}

/// The `.PKGINFO` of an apk: `key = value` lines written by abuild.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PkgInfo {
    /// `pkgname`
    pub name: String,
    /// `pkgver`
    pub version: Version,
    /// `pkgdesc`
    pub description: Option<String>,
    pub url: Option<String>,
    /// `builddate`: seconds since the Unix epoch.
    pub build_date: Option<u64>,
    pub packager: Option<String>,
    /// `size`: the installed size in bytes.
    pub installed_size: Option<u64>,
    pub arch: Option<String>,
    pub origin: Option<String>,
    pub commit: Option<String>,
    pub maintainer: Option<String>,
    pub license: Option<String>,
    /// `depend` (one or more atoms per line, lines accumulate).
    pub depends: Vec<Dependency>,
    pub provides: Vec<Provide>,
    pub install_if: Vec<Dependency>,
    pub replaces: Vec<Dependency>,
    /// `triggers`: the directories (globs) whose changes run `.trigger`.
    pub triggers: Vec<String>,
    pub provider_priority: Option<u64>,
    pub replaces_priority: Option<u64>,
    /// `datahash`: SHA-256 of the data stream as stored (compressed).
    pub datahash: Option<Sha256Digest>,
    /// Every `key = value` line in file order (unknown keys included), with its line number.
    pub fields: Vec<(usize, String, String)>,
}

/// Keys that hold lists; they may repeat.
const LIST_KEYS: &[&str] = &["depend", "provides", "install_if", "replaces", "triggers"];

impl PkgInfo {
    /// Parses `.PKGINFO`: `#` comments and blank lines skipped, `pkgname` and `pkgver`
    /// required, unknown keys kept in [`PkgInfo::fields`] only, as apk-tools ignores them.
    pub fn parse(text: &str) -> Result<PkgInfo, PkgInfoError> {
        let mut fields: Vec<(usize, String, String)> = Vec::new();
        for (index, raw) in text.lines().enumerate() {
            let line = index + 1;
            let content = raw.trim_end();
            if content.trim_start().is_empty() || content.starts_with('#') {
                continue;
            }
            let Some((key, value)) = content.split_once('=') else {
                return Err(PkgInfoError::BadLine { line, text: excerpt(content) });
            };
            let key = key.trim();
            if key.is_empty() || key.contains(char::is_whitespace) {
                return Err(PkgInfoError::BadLine { line, text: excerpt(content) });
            }
            if !LIST_KEYS.contains(&key) && fields.iter().any(|(_, k, _)| k == key) {
                return Err(PkgInfoError::DuplicateKey { line, key: key.to_owned() });
            }
            fields.push((line, key.to_owned(), value.trim().to_owned()));
        }
        let get = |key: &str| fields.iter().find(|(_, k, _)| k == key).map(|(line, _, value)| (*line, value.as_str()));
        let invalid = |line: usize, key: &str, source: ValueProblem| PkgInfoError::InvalidValue {
            line,
            key: key.to_owned(),
            source,
        };
        let text_of = |key: &str| get(key).map(|(_, value)| value.to_owned()).filter(|value| !value.is_empty());
        let number = |key: &str| -> Result<Option<u64>, PkgInfoError> {
            get(key)
                .map(|(line, value)| {
                    value.parse().map_err(|_| invalid(line, key, ValueProblem::Number(value.to_owned())))
                })
                .transpose()
        };
        let all =
            |key: &'static str| fields.iter().filter(move |(_, k, _)| k == key).map(|(line, _, value)| (*line, value));
        let dependencies = |key: &'static str| -> Result<Vec<Dependency>, PkgInfoError> {
            let mut out = Vec::new();
            for (line, value) in all(key) {
                out.extend(parse_dependencies(value).map_err(|err| invalid(line, key, err.into()))?);
            }
            Ok(out)
        };
        let mut provides = Vec::new();
        for (line, value) in all("provides") {
            provides.extend(parse_provides(value).map_err(|err| invalid(line, "provides", err.into()))?);
        }

        let name = match get("pkgname") {
            Some((_, name)) if !name.is_empty() => name.to_owned(),
            Some((line, _)) => return Err(invalid(line, "pkgname", ValueProblem::Empty)),
            None => return Err(PkgInfoError::MissingKey { key: "pkgname", what: "name" }),
        };
        let (line, version) = get("pkgver").ok_or(PkgInfoError::MissingKey { key: "pkgver", what: "version" })?;
        let version = Version::parse(version).map_err(|err| invalid(line, "pkgver", err.into()))?;
        let datahash = get("datahash")
            .map(|(line, value)| Sha256Digest::parse(value).map_err(|source| PkgInfoError::DataHash { line, source }))
            .transpose()?;
        Ok(PkgInfo {
            name,
            version,
            description: text_of("pkgdesc"),
            url: text_of("url"),
            build_date: number("builddate")?,
            packager: text_of("packager"),
            installed_size: number("size")?,
            arch: text_of("arch"),
            origin: text_of("origin"),
            commit: text_of("commit"),
            maintainer: text_of("maintainer"),
            license: text_of("license"),
            depends: dependencies("depend")?,
            provides,
            install_if: dependencies("install_if")?,
            replaces: dependencies("replaces")?,
            triggers: all("triggers").flat_map(|(_, value)| value.split_whitespace().map(str::to_owned)).collect(),
            provider_priority: number("provider_priority")?,
            replaces_priority: number("replaces_priority")?,
            datahash,
            fields,
        })
    }

    /// The value of the first `key` line.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.fields.iter().find(|(_, k, _)| k == key).map(|(_, _, value)| value.as_str())
    }
}

/// One signature file of an apk's signature streams.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApkSignature {
    /// `.SIGN.RSA.<key name>`, `.SIGN.RSA256.<key name>`, …
    pub file_name: String,
    pub data: Vec<u8>,
}

impl ApkSignature {
    /// `RSA` (SHA-1), `RSA256`, `RSA512`, … : the part between `.SIGN.` and the key name.
    pub fn algorithm(&self) -> &str {
        self.parts().0
    }

    /// The name of the signing key's file (like `alpine-devel@lists.alpinelinux.org-6165ee59.rsa.pub`).
    pub fn key_name(&self) -> &str {
        self.parts().1
    }

    fn parts(&self) -> (&str, &str) {
        let rest = self.file_name.strip_prefix(".SIGN.").unwrap_or(&self.file_name);
        rest.split_once('.').unwrap_or((rest, ""))
    }
}

/// An apk v2 package read from bytes in memory.
#[derive(Clone)]
pub struct ApkArchive<'a> {
    pub info: PkgInfo,
    /// The signature files, in file order (empty for an unsigned package).
    pub signatures: Vec<ApkSignature>,
    /// Every regular file of the control tar by name (`.PKGINFO`, `.post-install`, …).
    pub control_files: BTreeMap<String, Vec<u8>>,
    /// The scripts present, in [`APK_SCRIPTS`] order.
    pub scripts: Vec<&'static str>,
    /// The byte range of the control gzip stream.
    pub control_range: Range<usize>,
    /// The byte range of the data gzip stream(s): everything after the control stream.
    pub data_range: Range<usize>,
    name: String,
    bytes: &'a [u8],
    limit: u64,
}

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Decodes the gzip stream starting at `offset`: its content and the offset just past it.
fn gunzip_stream(
    archive: &str,
    bytes: &[u8],
    offset: usize,
    limit: u64,
    member: &str,
) -> Result<(Vec<u8>, usize), ArchiveError> {
    let error = |problem| ArchiveError::new(archive, problem);
    let input = bytes.get(offset..).unwrap_or_default();
    if !input.starts_with(&GZIP_MAGIC) {
        if GZIP_MAGIC.starts_with(input) {
            return Err(error(ArchiveProblem::Truncated { what: format!("{member} ends in its gzip header") }));
        }
        return Err(error(ArchiveProblem::NotGzip { offset }));
    }
    let mut decoder = flate2::bufread::GzDecoder::new(input);
    let mut out = Vec::new();
    if let Err(err) = (&mut decoder).take(limit.saturating_add(1)).read_to_end(&mut out) {
        let problem = if err.kind() == std::io::ErrorKind::UnexpectedEof {
            ArchiveProblem::Truncated { what: format!("{member} ends early") }
        } else {
            ArchiveProblem::Corrupt {
                member: member.to_owned(),
                compression: Compression::Gzip,
                message: err.to_string(),
            }
        };
        return Err(error(problem));
    }
    if out.len() as u64 > limit {
        return Err(error(ArchiveProblem::MemberTooLarge { member: member.to_owned(), limit }));
    }
    let rest = decoder.into_inner();
    Ok((out, bytes.len() - rest.len()))
}

/// Names and ranges rather than bytes.
impl std::fmt::Debug for ApkArchive<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApkArchive")
            .field("name", &self.name)
            .field("package", &self.info.name)
            .field("version", &self.info.version)
            .field("signatures", &self.signatures.iter().map(|s| s.file_name.as_str()).collect::<Vec<_>>())
            .field("control_files", &self.control_files.keys().collect::<Vec<_>>())
            .field("control_range", &self.control_range)
            .field("data_range", &self.data_range)
            .finish_non_exhaustive()
    }
}

impl<'a> ApkArchive<'a> {
    /// Reads an apk v2 package. `name` names it in errors (its file name, say); `limit` bounds
    /// the package's size and the decompressed size of each stream, in bytes. The control part
    /// is read now; the data part is checked against `datahash` when `.PKGINFO` has one and
    /// decompressed only when asked for.
    pub fn parse(name: &str, bytes: &'a [u8], limit: u64) -> Result<ApkArchive<'a>, ArchiveError> {
        let error = |problem| ArchiveError::new(name, problem);
        if bytes.len() as u64 > limit {
            return Err(error(ArchiveProblem::ArchiveTooLarge { size: bytes.len() as u64, limit }));
        }
        if bytes.starts_with(b"ADB") {
            return Err(error(ArchiveProblem::ApkV3));
        }
        let mut signatures = Vec::new();
        let mut offset = 0;
        let (control_files, control_range, control_member) = loop {
            if offset == bytes.len() {
                return Err(error(ArchiveProblem::Truncated {
                    what: format!("the package ends at byte {offset}, before its control part"),
                }));
            }
            let member = format!("gzip stream at byte {offset}");
            let (tar, end) = gunzip_stream(name, bytes, offset, limit, &member)?;
            let files = tar_files(name, &member, &tar)?;
            if !files.is_empty() && files.iter().all(|file| file.path.starts_with(".SIGN.")) {
                signatures.extend(files.into_iter().map(|file| ApkSignature { file_name: file.path, data: file.data }));
                offset = end;
                continue;
            }
            break (files, offset..end, member);
        };

        let mut files = BTreeMap::new();
        for file in control_files {
            if file.path.is_empty() || file.path.contains('/') {
                continue;
            }
            if files.contains_key(&file.path) {
                return Err(error(ArchiveProblem::DuplicateFile { member: control_member, file: file.path }));
            }
            files.insert(file.path, file.data);
        }
        let Some(pkginfo) = files.get(".PKGINFO") else {
            return Err(error(ArchiveProblem::MissingFile { member: control_member, file: ".PKGINFO" }));
        };
        let pkginfo = std::str::from_utf8(pkginfo).map_err(|_| {
            error(ArchiveProblem::NotUtf8 { member: control_member.clone(), file: ".PKGINFO".to_owned() })
        })?;
        let info = PkgInfo::parse(pkginfo).map_err(|err| error(err.into()))?;

        let data_range = control_range.end..bytes.len();
        if data_range.is_empty() {
            return Err(error(ArchiveProblem::MissingData { offset: control_range.end }));
        }
        if let Some(expected) = info.datahash {
            let actual = Sha256Digest::of(&bytes[data_range.clone()]);
            if actual != expected {
                return Err(error(ArchiveProblem::DataHash { expected, actual }));
            }
        }
        let scripts = APK_SCRIPTS.into_iter().filter(|script| files.contains_key(*script)).collect();
        Ok(ApkArchive {
            info,
            signatures,
            control_files: files,
            scripts,
            control_range,
            data_range,
            name: name.to_owned(),
            bytes,
            limit,
        })
    }

    /// The name the package was read under.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The control gzip stream as stored.
    pub fn control_stream(&self) -> &'a [u8] {
        &self.bytes[self.control_range.clone()]
    }

    /// The data gzip stream(s) as stored (what `datahash` covers).
    pub fn data_stream(&self) -> &'a [u8] {
        &self.bytes[self.data_range.clone()]
    }

    /// Everything after the signature streams: the control and data streams.
    pub fn control_and_data(&self) -> &'a [u8] {
        &self.bytes[self.control_range.start..]
    }

    /// What the signatures sign, as apk-tools checks them: the control stream when `.PKGINFO`
    /// has a `datahash` (which then vouches for the data), else the control and data streams.
    pub fn signed_bytes(&self) -> &'a [u8] {
        if self.info.datahash.is_some() { self.control_stream() } else { self.control_and_data() }
    }

    /// The package's identity as an `APKINDEX` `C:` line has it: `Q1` + the SHA-1 of the
    /// control stream.
    pub fn checksum(&self) -> Checksum {
        Checksum::Sha1(Sha1::digest(self.control_stream()).into())
    }

    /// The data tar, decompressed as it is read (bounded by the limit given to
    /// [`ApkArchive::parse`]; its errors carry an [`ArchiveError`]).
    pub fn data_reader(&self) -> MemberReader<'a> {
        let member = format!("data gzip stream at byte {}", self.data_range.start);
        MemberReader::new(&self.name, &member, Compression::Gzip, self.data_stream(), self.limit)
    }

    /// The whole data tar, decompressed.
    pub fn data_tar(&self) -> Result<Vec<u8>, ArchiveError> {
        self.data_reader().read_all()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::io::Write as _;
    use std::process::Command;

    use super::*;
    use crate::archive::testing::{mangle, run, tar_listing};

    const LIMIT: u64 = 16 << 20;

    /// A tar of the files; `cut` drops the end-of-archive blocks as `abuild-tar --cut` does.
    fn tar(files: &[(&str, &[u8])], cut: bool) -> Vec<u8> {
        let mut builder = tar::Builder::new(Vec::new());
        for (path, data) in files {
            let mut header = tar::Header::new_ustar();
            header.set_size(data.len() as u64);
            header.set_mode(if path.starts_with(".p") { 0o755 } else { 0o644 });
            header.set_mtime(1_700_000_000);
            builder.append_data(&mut header, path, *data).unwrap();
        }
        let mut out = builder.into_inner().unwrap();
        if cut {
            assert!(out.ends_with(&[0; 1024]));
            out.truncate(out.len() - 1024);
        }
        out
    }

    /// The data tar: a directory, a file with apk-tools' SHA-1 PAX record, a symlink.
    fn data_tar() -> Vec<u8> {
        let mut builder = tar::Builder::new(Vec::new());
        let mut dir = tar::Header::new_ustar();
        dir.set_entry_type(tar::EntryType::Directory);
        dir.set_mode(0o755);
        dir.set_size(0);
        builder.append_data(&mut dir, "usr/bin/", std::io::empty()).unwrap();
        let hello = b"#!/bin/sh\necho hello\n";
        let sha1 = hex::encode(Sha1::digest(hello));
        builder.append_pax_extensions([("APK-TOOLS.checksum.SHA1", sha1.as_bytes())]).unwrap();
        let mut file = tar::Header::new_ustar();
        file.set_mode(0o755);
        file.set_size(hello.len() as u64);
        builder.append_data(&mut file, "usr/bin/hello", hello.as_slice()).unwrap();
        let mut link = tar::Header::new_ustar();
        link.set_entry_type(tar::EntryType::Symlink);
        link.set_size(0);
        builder.append_link(&mut link, "usr/bin/hi", "hello").unwrap();
        let zeros = [0u8; 64 << 10];
        let mut big = tar::Header::new_ustar();
        big.set_mode(0o644);
        big.set_size(zeros.len() as u64);
        builder.append_data(&mut big, "usr/share/hello/zeros", zeros.as_slice()).unwrap();
        builder.into_inner().unwrap()
    }

    /// `gzip -n -9`, as abuild compresses each part.
    fn gzip(data: &[u8]) -> Vec<u8> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("part.tar");
        std::fs::write(&path, data).unwrap();
        run(Command::new("gzip").args(["-n", "-9", "-c"]).arg(&path), "gzip").stdout
    }

    fn pkginfo(datahash: Option<&Sha256Digest>) -> String {
        let mut text = "\
# Generated by abuild 3.13.0-r3
# using fakeroot version 1.32.1
# Thu Nov 14 12:00:00 UTC 2024
pkgname = hello
pkgver = 2.12.1-r0
pkgdesc = A friendly greeting
url = https://www.gnu.org/software/hello/
builddate = 1731585600
packager = Buildozer <alpine-devel@lists.alpinelinux.org>
size = 12345
arch = x86_64
origin = hello
commit = 0123456789abcdef0123456789abcdef01234567
maintainer = Tailor Tests <tests@example.org>
license = GPL-3.0-or-later
depend = so:libc.musl-x86_64.so.1
depend = busybox>=1.36
provides = cmd:hello=2.12.1-r0
install_if = docs hello=2.12.1-r0
triggers = /usr/share/hello/*
"
        .to_owned();
        if let Some(hash) = datahash {
            text.push_str(&format!("datahash = {hash}\n"));
        }
        text
    }

    struct Built {
        apk: Vec<u8>,
        signature: Vec<u8>,
        control: Vec<u8>,
        data: Vec<u8>,
    }

    /// A package as abuild builds it: data.tar.gz, its hash in .PKGINFO, control.tar.gz with
    /// .PKGINFO and .post-install, a signature stream in front.
    fn build_apk(with_datahash: bool) -> Built {
        let data = gzip(&data_tar());
        let hash = Sha256Digest::of(&data);
        let info = pkginfo(with_datahash.then_some(&hash));
        let control =
            gzip(&tar(&[(".PKGINFO", info.as_bytes()), (".post-install", b"#!/bin/sh\necho installed\n")], true));
        let signature = gzip(&tar(&[(".SIGN.RSA256.tests@example.org-1.rsa.pub", b"not a real signature")], true));
        let apk = [signature.as_slice(), &control, &data].concat();
        Built { apk, signature, control, data }
    }

    #[test]
    fn abuild_style_package_reads_back() {
        let built = build_apk(true);
        let apk = ApkArchive::parse("hello-2.12.1-r0.apk", &built.apk, LIMIT).unwrap();
        let info = &apk.info;
        assert_eq!((info.name.as_str(), info.version.as_str()), ("hello", "2.12.1-r0"));
        assert_eq!(info.description.as_deref(), Some("A friendly greeting"));
        assert_eq!(info.arch.as_deref(), Some("x86_64"));
        assert_eq!((info.build_date, info.installed_size), (Some(1731585600), Some(12345)));
        assert_eq!(info.license.as_deref(), Some("GPL-3.0-or-later"));
        let depends: Vec<String> = info.depends.iter().map(ToString::to_string).collect();
        assert_eq!(depends, ["so:libc.musl-x86_64.so.1", "busybox>=1.36"]);
        assert_eq!(info.provides[0].to_string(), "cmd:hello=2.12.1-r0");
        assert_eq!(info.install_if.len(), 2);
        assert_eq!(info.triggers, ["/usr/share/hello/*"]);
        assert_eq!(info.datahash, Some(Sha256Digest::of(&built.data)));
        assert_eq!(info.get("packager"), Some("Buildozer <alpine-devel@lists.alpinelinux.org>"));

        assert_eq!(apk.scripts, [".post-install"]);
        assert_eq!(apk.control_files.keys().collect::<Vec<_>>(), [".PKGINFO", ".post-install"]);
        assert_eq!(apk.signatures.len(), 1);
        assert_eq!(apk.signatures[0].algorithm(), "RSA256");
        assert_eq!(apk.signatures[0].key_name(), "tests@example.org-1.rsa.pub");
        assert_eq!(apk.signatures[0].data, b"not a real signature");

        let start = built.signature.len();
        assert_eq!(apk.control_range, start..start + built.control.len());
        assert_eq!(apk.control_stream(), built.control);
        assert_eq!(apk.data_stream(), built.data);
        assert_eq!(apk.control_and_data(), [built.control.as_slice(), &built.data].concat());
        assert_eq!(apk.signed_bytes(), built.control, "with a datahash, the signature covers the control stream");
        assert_eq!(apk.checksum(), Checksum::Sha1(Sha1::digest(&built.control).into()));

        let tar = apk.data_tar().unwrap();
        assert_eq!(tar, data_tar());
        let listing = tar_listing(&tar);
        let names: Vec<&str> = listing.iter().map(|(name, _, _)| name.as_str()).collect();
        assert_eq!(names, ["usr/bin/", "usr/bin/hello", "usr/bin/hi", "usr/share/hello/zeros"]);
        assert_eq!(listing[2].1, tar::EntryType::Symlink);
    }

    #[test]
    fn unsigned_and_legacy_packages() {
        let built = build_apk(false);
        let unsigned = &built.apk[built.signature.len()..];
        let apk = ApkArchive::parse("hello.apk", unsigned, LIMIT).unwrap();
        assert!(apk.signatures.is_empty());
        assert_eq!(apk.control_range, 0..built.control.len());
        assert_eq!(apk.info.datahash, None);
        assert_eq!(apk.signed_bytes(), unsigned, "without a datahash, the signature covers control and data");

        // Two signature streams (abuild-sign with two keys), data in two gzip streams, written
        // with flate2 and control tars that keep their end-of-archive blocks.
        let flate = |data: &[u8]| {
            let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            encoder.write_all(data).unwrap();
            encoder.finish().unwrap()
        };
        let data_tar = data_tar();
        let (first, second) = data_tar.split_at(512);
        let data = [flate(first), flate(second)].concat();
        let info = pkginfo(Some(&Sha256Digest::of(&data)));
        let apk_bytes = [
            flate(&tar(&[(".SIGN.RSA.first.rsa.pub", b"one")], false)),
            flate(&tar(&[(".SIGN.RSA.second.rsa.pub", b"two")], true)),
            flate(&tar(&[(".PKGINFO", info.as_bytes()), (".trigger", b""), (".pre-install", b"")], false)),
            data.clone(),
        ]
        .concat();
        let apk = ApkArchive::parse("two.apk", &apk_bytes, LIMIT).unwrap();
        let keys: Vec<&str> = apk.signatures.iter().map(ApkSignature::key_name).collect();
        assert_eq!(keys, ["first.rsa.pub", "second.rsa.pub"]);
        assert_eq!(apk.scripts, [".pre-install", ".trigger"]);
        assert_eq!(apk.data_stream(), data);
        assert_eq!(apk.data_tar().unwrap(), data_tar);
    }

    #[test]
    fn wrong_datahash_fails() {
        let built = build_apk(true);
        let other = gzip(&tar(&[("etc/motd", b"changed")], false));
        let tampered = [built.signature.as_slice(), &built.control, &other].concat();
        let err = ApkArchive::parse("hello.apk", &tampered, LIMIT).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "hello.apk: bad datahash: .PKGINFO says {}, the data part hashes to {}",
                Sha256Digest::of(&built.data),
                Sha256Digest::of(&other)
            )
        );
        assert!(matches!(err.problem, ArchiveProblem::DataHash { .. }));
        // Extra bytes after the data stream change the hash too.
        let appended = [built.apk.as_slice(), b"x"].concat();
        assert!(matches!(
            ApkArchive::parse("hello.apk", &appended, LIMIT).unwrap_err().problem,
            ArchiveProblem::DataHash { .. }
        ));
    }

    #[test]
    fn package_errors_name_the_package() {
        let built = build_apk(true);
        let control_only = [built.signature.as_slice(), &built.control].concat();
        let no_pkginfo = gzip(&tar(&[(".post-install", b"")], true));
        let bad_pkginfo = gzip(&tar(&[(".PKGINFO", b"pkgname = a\npkgver = 1.0-r\n")], true));
        let cases: Vec<(Vec<u8>, String)> = vec![
            (b"ADBd\x00\x00".to_vec(), "x.apk: apk v3 (ADB) packages are not supported yet".to_owned()),
            (b"PK\x03\x04".to_vec(), "x.apk: byte 0 does not start a gzip stream".to_owned()),
            (Vec::new(), "x.apk: truncated: the package ends at byte 0, before its control part".to_owned()),
            (built.signature.clone(), "before its control part".to_owned()),
            (
                control_only,
                format!(
                    "x.apk: no data part after the control part (which ends at byte {})",
                    built.apk.len() - built.data.len()
                ),
            ),
            (
                [built.signature.as_slice(), b"garbage"].concat(),
                format!("x.apk: byte {} does not start", built.signature.len()),
            ),
            (
                [no_pkginfo.as_slice(), &built.data].concat(),
                "x.apk: member gzip stream at byte 0: missing .PKGINFO".to_owned(),
            ),
            (
                [bad_pkginfo.as_slice(), &built.data].concat(),
                "x.apk: .PKGINFO: line 2: pkgver: invalid apk version".to_owned(),
            ),
            (
                [gzip(b"not a tar, certainly not one").as_slice(), &built.data].concat(),
                "x.apk: member gzip stream at byte 0: not a valid tar archive".to_owned(),
            ),
        ];
        for (bytes, message) in cases {
            let err = ApkArchive::parse("x.apk", &bytes, LIMIT).unwrap_err().to_string();
            assert!(err.contains(&message), "expected {message:?} in {err:?}");
        }
        let err = ApkArchive::parse("x.apk", &built.apk, 100).unwrap_err().to_string();
        assert_eq!(
            err,
            format!("x.apk: the archive is {} bytes, larger than the size limit of 100 bytes", built.apk.len())
        );
        let limit = 32 << 10;
        assert!(built.apk.len() < limit as usize);
        let apk = ApkArchive::parse("x.apk", &built.apk, limit).unwrap();
        let err = apk.data_tar().unwrap_err().to_string();
        assert_eq!(
            err,
            format!(
                "x.apk: data gzip stream at byte {} decompresses to more than the size limit of {limit} bytes",
                apk.data_range.start
            )
        );
    }

    #[test]
    fn pkginfo_lines_and_errors() {
        let info = PkgInfo::parse("pkgname = a\npkgver = 1.0-r0\nfuture = x = y\nreplaces = b c>1\n\n  \n").unwrap();
        assert_eq!(info.get("future"), Some("x = y"));
        assert_eq!(info.replaces.len(), 2);
        assert_eq!(info.fields.len(), 4);
        assert_eq!(info.description, None);
        let cases = [
            ("pkgname = a\nno equals sign\n", "line 2: expected \"key = value\", found \"no equals sign\""),
            ("pkgver = 1\n", "missing pkgname (the package's name)"),
            ("pkgname = a\n", "missing pkgver (the package's version)"),
            ("pkgname =\npkgver = 1\n", "line 1: pkgname: value is empty"),
            ("pkgname = a\npkgname = b\n", "line 2: pkgname appears twice"),
            ("pkgname = a\npkgver = 1\nsize = big\n", "line 3: size: \"big\" is not a number"),
            ("pkgname = a\npkgver = 1\ndepend = b>=\n", "line 3: depend: \"b>=\": missing version after \">=\""),
            (
                "pkgname = a\npkgver = 1\ndatahash = abc\n",
                "line 3: datahash: \"abc\" is not a SHA-256 digest (64 hex digits)",
            ),
            ("pkgname = a\nbad key = 1\n", "line 2: expected \"key = value\", found \"bad key = 1\""),
        ];
        for (text, message) in cases {
            let err = PkgInfo::parse(text).unwrap_err().to_string();
            assert_eq!(err, message, "{text:?}");
        }
    }

    #[test]
    fn truncated_and_corrupted_packages_fail_without_panicking() {
        let built = build_apk(true);
        let mut accepted = 0;
        mangle(&built.apk, true, |input| match ApkArchive::parse("m.apk", input, LIMIT) {
            Ok(apk) => {
                let ok = apk.data_tar().is_ok();
                accepted += usize::from(ok);
                ok
            }
            Err(err) => {
                assert!(err.to_string().starts_with("m.apk: "), "{err}");
                false
            }
        });
        assert!(accepted < built.apk.len() / 4, "{accepted} corruptions accepted");
    }
}
