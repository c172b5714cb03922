//! `Packages` indexes (the `dists/<suite>/<component>/binary-<arch>/Packages` files, or a flat
//! repository's `Packages`).

use serde::{Deserialize, Serialize};

use super::control::{Stanza, Stanzas};
use super::fields::{MultiArch, PackageError, Reader, non_empty, number};
use super::lazy::Lazy;
use super::relation::{Dependency, Relation};
use super::version::Version;
use crate::digest::Sha256Digest;

/// One entry of a `Packages` index.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Package {
    pub package: String,
    pub version: Version,
    /// `amd64`, `arm64`, `all`, …
    pub architecture: String,
    pub multi_arch: MultiArch,
    /// `Essential: yes`.
    pub essential: bool,
    pub priority: Option<String>,
    pub section: Option<String>,
    /// `Source`, as written: `name` or `name (version)`.
    pub source: Option<String>,
    /// `Installed-Size`, in KiB.
    pub installed_size: Option<u64>,
    /// `Depends`, `Pre-Depends`, `Conflicts` and `Breaks` as written, parsed when read
    /// ([`Package::depends`] …): a build follows the relations of a few dozen entries.
    depends: Lazy<Vec<Dependency>>,
    pre_depends: Lazy<Vec<Dependency>>,
    /// Parsed up front: every entry's is needed to find what provides a virtual name.
    pub provides: Vec<Relation>,
    conflicts: Lazy<Vec<Relation>>,
    breaks: Lazy<Vec<Relation>>,
    /// Path of the `.deb` relative to the repository root.
    pub filename: String,
    /// Size of the `.deb` in bytes.
    pub size: u64,
    pub sha256: Sha256Digest,
    /// The first line of `Description` (empty when the index has none).
    pub description: String,
}

impl Package {
    /// Reads an entry; `Package`, `Version`, `Architecture`, `Filename`, `Size` and `SHA256` are
    /// required.
    pub fn from_stanza(stanza: &Stanza<'_>) -> Result<Package, PackageError> {
        let fields = Reader::new(stanza)?;
        Ok(Package {
            package: fields.package().to_owned(),
            version: fields.version()?.ok_or_else(|| PackageError::MissingField {
                line: stanza.line,
                package: fields.package().to_owned(),
                field: "Version",
            })?,
            architecture: fields.required("Architecture", non_empty)?,
            multi_arch: fields.multi_arch()?,
            essential: fields.yes_no("Essential")?,
            priority: fields.text("Priority")?,
            section: fields.text("Section")?,
            source: fields.text("Source")?,
            installed_size: fields.optional("Installed-Size", number)?,
            depends: fields.lazy("Depends"),
            pre_depends: fields.lazy("Pre-Depends"),
            provides: fields.provides()?,
            conflicts: fields.lazy("Conflicts"),
            breaks: fields.lazy("Breaks"),
            filename: fields.required("Filename", non_empty)?,
            size: fields.required("Size", number)?,
            sha256: fields.required("SHA256", |value| Ok(Sha256Digest::parse(value.trim())?))?,
            description: fields.synopsis(),
        })
    }

    /// `Depends` (empty when the entry has none); a malformed field is an error naming it.
    pub fn depends(&self) -> Result<&[Dependency], PackageError> {
        self.depends.get(&self.package, "Depends").map(Vec::as_slice)
    }

    /// `Pre-Depends`.
    pub fn pre_depends(&self) -> Result<&[Dependency], PackageError> {
        self.pre_depends.get(&self.package, "Pre-Depends").map(Vec::as_slice)
    }

    /// `Conflicts`.
    pub fn conflicts(&self) -> Result<&[Relation], PackageError> {
        self.conflicts.get(&self.package, "Conflicts").map(Vec::as_slice)
    }

    /// `Breaks`.
    pub fn breaks(&self) -> Result<&[Relation], PackageError> {
        self.breaks.get(&self.package, "Breaks").map(Vec::as_slice)
    }

    /// The source package's name (`Source` without its version), or the package's own name.
    pub fn source_name(&self) -> &str {
        self.source.as_deref().and_then(|source| source.split_whitespace().next()).unwrap_or(&self.package)
    }
}

/// Parses a whole `Packages` file, entries in file order.
pub fn parse_packages(text: &str) -> Result<Vec<Package>, PackageError> {
    Stanzas::new(text).map(|stanza| Package::from_stanza(&stanza?)).collect()
}

/// [`parse_packages`] shared by up to `threads` threads, cut between stanzas (Debian's `main`
/// lists some 60,000 packages): the same packages in the same order. On an error the file is
/// parsed again in one piece, so the error and its line are the same too.
pub fn parse_packages_parallel(text: &str, threads: usize) -> Result<Vec<Package>, PackageError> {
    let bytes = text.as_bytes();
    let mut cuts = vec![0];
    for i in 1..threads.max(1) {
        let from = (bytes.len() * i / threads).max(*cuts.last().unwrap_or(&0));
        // Right after a blank line: the start of a stanza, and a character boundary.
        match bytes[from..].windows(2).position(|w| w == b"\n\n") {
            Some(at) if from + at + 2 < bytes.len() => cuts.push(from + at + 2),
            _ => break,
        }
    }
    cuts.push(bytes.len());
    if cuts.len() <= 2 || text.len() < (1 << 20) {
        return parse_packages(text);
    }
    let parts: Vec<Result<Vec<Package>, PackageError>> = std::thread::scope(|s| {
        let handles: Vec<_> = cuts.windows(2).map(|w| s.spawn(move || parse_packages(&text[w[0]..w[1]]))).collect();
        handles.into_iter().map(|h| h.join().unwrap_or_else(|_| parse_packages(text))).collect()
    });
    let mut out = Vec::new();
    for part in parts {
        match part {
            Ok(mut p) => out.append(&mut p),
            Err(_) => return parse_packages(text),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::deb::relation::Op;

    #[test]
    fn parallel_parsing_gives_the_same_packages_and_errors() {
        let big: String = (0..20_000)
            .map(|i| format!("Package: p{i}\nVersion: 1.{i}\nArchitecture: amd64\nDepends: p{}\nFilename: pool/p{i}.deb\nSize: 1\nSHA256: {}\nDescription: package {i}\n\n", i + 1, "ab".repeat(32)))
            .collect();
        assert!(big.len() > 1 << 20);
        let one = parse_packages(&big).unwrap();
        for threads in [1, 2, 3, 8] {
            assert_eq!(parse_packages_parallel(&big, threads).unwrap(), one, "{threads} threads");
        }
        let broken = big.replacen("Version: 1.15000\n", "Version: :bad\n", 1);
        let expected = parse_packages(&broken).unwrap_err().to_string();
        assert!(expected.contains("p15000"), "{expected}");
        assert_eq!(parse_packages_parallel(&broken, 4).unwrap_err().to_string(), expected);
    }

    /// Excerpt of Debian bookworm's `main/binary-amd64/Packages` (bookworm-updates/security).
    const BOOKWORM_PACKAGES: &str = "\
Package: curl
Version: 7.88.1-10+deb12u12
Installed-Size: 500
Maintainer: Alessandro Ghedini <ghedo@debian.org>
Architecture: amd64
Depends: libc6 (>= 2.34), libcurl4 (= 7.88.1-10+deb12u12), zlib1g (>= 1:1.1.4)
Description: command line tool for transferring data with URL syntax
Homepage: https://curl.se/
Description-md5: 0d4f3cf1ab7c8d7a9b1c5a6a3e7d1a94
Tag: implemented-in::c, interface::commandline, network::client,
 protocol::ftp, protocol::http, protocol::ssl, role::program, use::downloading
Section: web
Priority: optional
Filename: pool/main/c/curl/curl_7.88.1-10+deb12u12_amd64.deb
Size: 315476
MD5sum: 5a1d1b3e0c7e6f0b5c3b3e9bb1f8a7a2
SHA256: 4a2fb8a6c2ad3ff1b0c26a7e59e24c8f9f24a7d0a26ec4f24bd3b1f6a5d1c9e2

Package: libcurl4
Source: curl
Version: 7.88.1-10+deb12u12
Installed-Size: 831
Maintainer: Alessandro Ghedini <ghedo@debian.org>
Architecture: amd64
Multi-Arch: same
Depends: libbrotli1 (>= 0.6.0), libc6 (>= 2.34), libgnutls30 (>= 3.7.0) | libssl3 (>= 3.0.0),
 libgssapi-krb5-2 (>= 1.17), libidn2-0 (>= 0.6), libldap-2.5-0 (>= 2.5.4), libnghttp2-14 (>= 1.50.0),
 libpsl5 (>= 0.16.0), librtmp1 (>= 2.4+20131018.git79459a2-3~), libssh2-1 (>= 1.7.0), libzstd1 (>= 1.5.2),
 zlib1g (>= 1:1.1.4)
Recommends: ca-certificates
Conflicts: libcurl4-gnutls-dev (<< 7.16.0)
Breaks: libcurl3 (<< 7.58.0-2~)
Provides: libcurl-ssl (= 7.88.1-10+deb12u12)
Description: easy-to-use client-side URL transfer library (OpenSSL flavour)
Section: libs
Priority: optional
Filename: pool/main/c/curl/libcurl4_7.88.1-10+deb12u12_amd64.deb
Size: 390740
SHA256: 9d4b0f2a6e1d0e2f3c4b5a69788796a5b4c3d2e1f00112233445566778899aab

Package: libc6
Source: glibc
Version: 2.36-9+deb12u10
Installed-Size: 12990
Maintainer: GNU Libc Maintainers <debian-glibc@lists.debian.org>
Architecture: amd64
Multi-Arch: same
Pre-Depends: libgcc-s1
Depends: libgcc-s1
Recommends: libidn2-0 (>= 2.0.5~)
Suggests: glibc-doc, debconf | debconf-2.0, libc-l10n, locales, libnss-nis, libnss-nisplus
Breaks: aide (<< 0.17.3-4+b3), busybox (<< 1.30.1-6), chrony (<< 4.2-3~), fakechroot (<< 2.19-3.5),
 valgrind (<< 1:3.19.0-1~)
Description: GNU C Library: Shared libraries
Section: libs
Priority: optional
Filename: pool/main/g/glibc/libc6_2.36-9+deb12u10_amd64.deb
Size: 2757936
SHA256: 0b1e4a7d3c6f2d2a1e5b8c9d0e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f

Package: base-files
Essential: yes
Priority: required
Section: admin
Architecture: amd64
Multi-Arch: foreign
Version: 12.4+deb12u10
Provides: base
Filename: pool/main/b/base-files/base-files_12.4+deb12u10_amd64.deb
Size: 70952
SHA256: 1c3a5e7d9b2f4a6c8e0d1f3b5a7c9e1d3f5b7a9c1e3d5f7b9a1c3e5d7f9b1a3c
Description: Debian base system miscellaneous files
";

    #[test]
    fn packages_index_entries() {
        let packages = parse_packages(BOOKWORM_PACKAGES).unwrap();
        let names: Vec<&str> = packages.iter().map(|p| p.package.as_str()).collect();
        assert_eq!(names, ["curl", "libcurl4", "libc6", "base-files"]);

        let curl = &packages[0];
        assert_eq!(curl.version.as_str(), "7.88.1-10+deb12u12");
        assert_eq!(curl.architecture, "amd64");
        assert_eq!(curl.multi_arch, MultiArch::No);
        assert_eq!(curl.filename, "pool/main/c/curl/curl_7.88.1-10+deb12u12_amd64.deb");
        assert_eq!(curl.size, 315476);
        assert_eq!(curl.sha256.to_string(), "4a2fb8a6c2ad3ff1b0c26a7e59e24c8f9f24a7d0a26ec4f24bd3b1f6a5d1c9e2");
        assert_eq!(curl.description, "command line tool for transferring data with URL syntax");
        assert_eq!((curl.priority.as_deref(), curl.section.as_deref()), (Some("optional"), Some("web")));
        assert_eq!(curl.installed_size, Some(500));
        assert_eq!(curl.depends().unwrap().len(), 3);
        assert_eq!(curl.source_name(), "curl");
        let libcurl_dep = &curl.depends().unwrap()[1].alternatives[0];
        assert_eq!(libcurl_dep.constraint.as_ref().unwrap().op, Op::Equal);

        let libcurl = &packages[1];
        assert_eq!(libcurl.multi_arch, MultiArch::Same);
        assert_eq!(libcurl.depends().unwrap().len(), 12);
        assert_eq!(libcurl.depends().unwrap()[2].to_string(), "libgnutls30 (>= 3.7.0) | libssl3 (>= 3.0.0)");
        assert!(libcurl_dep.satisfied_by(&libcurl.version));
        assert_eq!(libcurl.provides[0].to_string(), "libcurl-ssl (= 7.88.1-10+deb12u12)");
        assert_eq!(libcurl.conflicts().unwrap()[0].name, "libcurl4-gnutls-dev");
        assert_eq!(libcurl.breaks().unwrap()[0].constraint.as_ref().unwrap().version.as_str(), "7.58.0-2~");

        let libc6 = &packages[2];
        assert_eq!(libc6.source_name(), "glibc");
        assert_eq!(libc6.pre_depends().unwrap()[0].alternatives[0].name, "libgcc-s1");
        assert_eq!(libc6.breaks().unwrap().len(), 5);
        assert!(curl.depends().unwrap()[0].alternatives[0].satisfied_by(&libc6.version));

        let base_files = &packages[3];
        assert!(base_files.essential);
        assert_eq!(base_files.multi_arch, MultiArch::Foreign);
        assert_eq!(base_files.provides[0].name, "base");
    }

    #[test]
    fn packages_serialize_for_the_catalog() {
        let packages = parse_packages(BOOKWORM_PACKAGES).unwrap();
        let json = serde_json::to_value(&packages[0]).unwrap();
        assert_eq!(json["version"], "7.88.1-10+deb12u12");
        assert_eq!(json["multi_arch"], "no");
        let back: Package = serde_json::from_value(json).unwrap();
        assert_eq!(back, packages[0]);
    }

    /// The error of parsing `text` or, for the relation fields checked when read, of reading them.
    fn error(text: &str) -> String {
        let read = |p: &Package| {
            p.depends().map(drop).and(p.pre_depends().map(drop)).and(p.conflicts().map(drop)).and(p.breaks().map(drop))
        };
        match parse_packages(text) {
            Err(e) => e.to_string(),
            Ok(packages) => packages.iter().find_map(|p| read(p).err()).expect("an error").to_string(),
        }
    }

    const SHA: &str = "SHA256: 1c3a5e7d9b2f4a6c8e0d1f3b5a7c9e1d3f5b7a9c1e3d5f7b9a1c3e5d7f9b1a3c";

    #[test]
    fn packages_missing_fields_name_the_stanza_line_and_package() {
        let entry = |skip: &str| {
            let lines = [
                "Package: jq",
                "Version: 1.6-2.1",
                "Architecture: amd64",
                "Filename: pool/main/j/jq/jq_1.6-2.1_amd64.deb",
                "Size: 64764",
                SHA,
            ];
            let kept: Vec<&str> = lines.into_iter().filter(|line| !line.starts_with(skip)).collect();
            format!(
                "Package: ok\nVersion: 1\nArchitecture: all\nFilename: ok.deb\nSize: 1\n{SHA}\n\n{}\n",
                kept.join("\n")
            )
        };
        assert_eq!(error(&entry("Package:")), "stanza at line 8: missing field Package");
        for field in ["Version", "Architecture", "Filename", "Size", "SHA256"] {
            assert_eq!(
                error(&entry(&format!("{field}:"))),
                format!("stanza at line 8 (package jq): missing field {field}")
            );
        }
    }

    #[test]
    fn packages_invalid_fields_name_the_line_package_and_field() {
        let cases = [
            ("Version: 1.0-", "line 2 (package jq): field Version: version \"1.0-\": revision is empty"),
            ("Size: big", "line 2 (package jq): field Size: \"big\" is not a number"),
            ("SHA256: abc", "line 2 (package jq): field SHA256: \"abc\" is not a SHA-256 digest"),
            ("Multi-Arch: sometimes", "line 2 (package jq): field Multi-Arch: \"sometimes\" is not one of"),
            ("Essential: maybe", "line 2 (package jq): field Essential: \"maybe\" is not yes or no"),
            ("Depends: libc6 (>= 2.34", "line 2 (package jq): field Depends: \"libc6 (>= 2.34\": '(' without"),
            ("Pre-Depends: a, | b", "field Pre-Depends: \"| b\": empty alternative"),
            ("Provides: jq-any (>= 1)", "field Provides: \"jq-any (>= 1)\": Provides allows only an exact version"),
            ("Conflicts: a | b", "field Conflicts: \"a | b\": alternatives"),
            ("Breaks: a (<< )", "field Breaks: \"a (<< )\": missing version after '<<'"),
            ("Architecture:", "line 2 (package jq): field Architecture: value is empty"),
        ];
        let base = ["Version: 1.6-2.1", "Architecture: amd64", "Filename: jq.deb", "Size: 1", SHA];
        for (line, message) in cases {
            let name = line.split(':').next().unwrap();
            let rest: Vec<&str> = base.into_iter().filter(|l| !l.starts_with(&format!("{name}:"))).collect();
            let text = format!("Package: jq\n{line}\n{}\n", rest.join("\n"));
            let err = error(&text);
            assert!(err.contains(message), "{line}: {err}");
        }
        assert_eq!(
            error("Package: Bad/Name\nVersion: 1\n"),
            "line 1 (package Bad/Name): field Package: \"Bad/Name\" is not a valid package name"
        );
        assert!(error("Package: a\nbroken\n").starts_with("line 2: expected"));
    }
}
