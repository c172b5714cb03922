//! What operating system a base image is and which packages it has installed, read from its
//! own files: `/etc/os-release` and the package database (dpkg's `status` and `status.d/`,
//! apk's `installed`). Parsing only; the base index (`crate::base`) supplies the bytes.

mod apk;
mod dpkg;
mod release;

use serde::{Deserialize, Serialize};
use tailor_oci::registry::percent_encode as encode;

pub use apk::parse_installed as parse_apk_installed;
pub use dpkg::{parse_status as parse_dpkg_status, parse_status_d};
pub use release::OsRelease;

pub const OS_RELEASE: &str = "etc/os-release";
pub const OS_RELEASE_USR: &str = "usr/lib/os-release";
pub const DPKG_STATUS: &str = "var/lib/dpkg/status";
pub const DPKG_STATUS_D: &str = "var/lib/dpkg/status.d/";
pub const APK_INSTALLED: &str = "lib/apk/db/installed";
pub const DPKG_FORMAT: &str = "var/lib/dpkg/info/format";
pub const APK_WORLD: &str = "etc/apk/world";

/// Whether the base index must keep the bytes of `path` (a file the OS facts are read from).
pub fn wanted(path: &str) -> bool {
    path == OS_RELEASE
        || path == OS_RELEASE_USR
        || path == DPKG_STATUS
        || path == APK_INSTALLED
        || path == DPKG_FORMAT
        || path == APK_WORLD
        || path.strip_prefix(DPKG_STATUS_D).is_some_and(|n| !n.contains('/') && !n.ends_with(".md5sums"))
}

/// The package manager a database belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PackageKind {
    Deb,
    Apk,
}

/// One installed OS package.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Package {
    pub kind: PackageKind,
    pub name: String,
    pub version: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arch: Option<String>,
    /// The source package (dpkg `Source`, apk `o:` origin) when it differs from the name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Declared license (apk `L:`; dpkg has none in its database).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub license: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maintainer: Option<String>,
}

/// Lines of `text` grouped into stanzas separated by blank lines; continuation lines (leading
/// space or tab) are joined to the field before them.
pub(crate) fn stanzas(text: &str) -> Vec<Vec<(String, String)>> {
    let mut out = Vec::new();
    let mut current: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        if line.trim().is_empty() {
            if !current.is_empty() {
                out.push(std::mem::take(&mut current));
            }
        } else if line.starts_with([' ', '\t']) {
            if let Some((_, v)) = current.last_mut() {
                v.push('\n');
                v.push_str(line.trim());
            }
        } else if let Some((k, v)) = line.split_once(':') {
            current.push((k.trim().to_string(), v.trim().to_string()));
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

pub(crate) fn field<'a>(stanza: &'a [(String, String)], name: &str) -> Option<&'a str> {
    stanza.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str()).filter(|v| !v.is_empty())
}

/// The package URL (purl) of `p` on `os`: `pkg:deb/debian/curl@7.88.1-10?arch=amd64&distro=debian-12`.
pub fn purl(p: &Package, os: Option<&OsRelease>) -> String {
    let (kind, default_ns) = match p.kind {
        PackageKind::Deb => ("deb", "debian"),
        PackageKind::Apk => ("apk", "alpine"),
    };
    let ns = os.map(|o| o.id.as_str()).filter(|i| !i.is_empty()).unwrap_or(default_ns);
    let mut out = format!("pkg:{kind}/{}/{}@{}", encode(ns), encode(&p.name), encode(&p.version));
    let mut qualifiers = Vec::new();
    if let Some(a) = &p.arch {
        qualifiers.push(format!("arch={}", encode(a)));
    }
    if let Some(o) = os.filter(|o| !o.version_id.is_empty()) {
        let distro = match p.kind {
            PackageKind::Deb => format!("{}-{}", o.id, o.version_id),
            PackageKind::Apk => o.version_id.clone(),
        };
        qualifiers.push(format!("distro={}", encode(&distro)));
    }
    if let Some(s) = &p.source {
        qualifiers.push(format!("upstream={}", encode(s)));
    }
    if !qualifiers.is_empty() {
        out.push('?');
        out.push_str(&qualifiers.join("&"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purls_encode_epochs_and_name_the_distribution() {
        let p = Package {
            kind: PackageKind::Deb,
            name: "libstdc++6".into(),
            version: "1:12.2.0-14".into(),
            arch: Some("amd64".into()),
            source: Some("gcc-12".into()),
            license: None,
            maintainer: None,
        };
        let os = OsRelease { id: "debian".into(), version_id: "12".into(), ..OsRelease::default() };
        assert_eq!(
            purl(&p, Some(&os)),
            "pkg:deb/debian/libstdc%2B%2B6@1%3A12.2.0-14?arch=amd64&distro=debian-12&upstream=gcc-12"
        );
        let a = Package { kind: PackageKind::Apk, name: "musl".into(), version: "1.2.5-r0".into(), ..p };
        let alpine = OsRelease { id: "alpine".into(), version_id: "3.20.3".into(), ..OsRelease::default() };
        assert_eq!(purl(&a, Some(&alpine)), "pkg:apk/alpine/musl@1.2.5-r0?arch=amd64&distro=3.20.3&upstream=gcc-12");
        assert!(purl(&a, None).starts_with("pkg:apk/alpine/musl@1.2.5-r0?arch=amd64"));
    }

    #[test]
    fn wanted_files() {
        assert!(wanted("var/lib/dpkg/status") && wanted("etc/os-release") && wanted("lib/apk/db/installed"));
        assert!(wanted("var/lib/dpkg/status.d/base-files"));
        assert!(!wanted("var/lib/dpkg/status.d/base-files.md5sums") && !wanted("var/lib/dpkg/status-old"));
    }
}
