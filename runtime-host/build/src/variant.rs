//! A base's OS variant (which package family and release it is, for which architecture) and
//! the catalog of what it can install: the newest version of every package its repositories
//! offer, for the UI's package picker (DESIGN.md §5).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use tailor_packages::fetch::{self, FetchError};

use crate::base::{FileIndex, PackageDb};
use crate::packages::PackageSource;

/// A base platform's OS variant.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct OsVariant {
    /// `debian:<codename>` or `alpine:<major>.<minor>`: what picks the repositories.
    pub variant: String,
    /// The family's name of the architecture (`amd64`, `x86_64`).
    pub arch: String,
}

/// Debian's name of the platform's architecture.
pub(crate) fn deb_arch(platform: &str) -> Option<&'static str> {
    Some(match platform {
        "linux/amd64" => "amd64",
        "linux/arm64" | "linux/arm64/v8" => "arm64",
        "linux/arm/v7" => "armhf",
        "linux/arm/v5" | "linux/arm/v6" => "armel",
        "linux/386" => "i386",
        "linux/ppc64le" => "ppc64el",
        "linux/s390x" => "s390x",
        "linux/riscv64" => "riscv64",
        _ => return None,
    })
}

/// Alpine's name of the platform's architecture.
pub(crate) fn apk_arch(platform: &str) -> Option<&'static str> {
    Some(match platform {
        "linux/amd64" => "x86_64",
        "linux/arm64" | "linux/arm64/v8" => "aarch64",
        "linux/arm/v7" => "armv7",
        "linux/arm/v6" => "armhf",
        "linux/386" => "x86",
        "linux/ppc64le" => "ppc64le",
        "linux/s390x" => "s390x",
        "linux/riscv64" => "riscv64",
        _ => return None,
    })
}

/// The variant of the base described by `index` on `platform`; None for a base without a
/// package database or an architecture the family has no packages for.
pub fn os_variant(index: &FileIndex, platform: &str) -> Option<OsVariant> {
    let os = index.os.as_ref();
    let (variant, arch) = match &index.db {
        PackageDb::Dpkg { .. } => (format!("debian:{}", os.map_or("", |o| o.codename.as_str())), deb_arch(platform)?),
        PackageDb::Apk { .. } => {
            let version = os.map_or("", |o| o.version_id.as_str());
            let minor: Vec<&str> = version.split('.').take(2).collect();
            (format!("alpine:{}", minor.join(".")), apk_arch(platform)?)
        }
        PackageDb::None => return None,
    };
    Some(OsVariant { variant, arch: arch.to_owned() })
}

/// The variant of each of `image`'s platforms that has one (what the package picker of an
/// image no build has read yet offers): the same base index a build computes, so the first
/// build from it finds it cached.
pub fn os_variants(
    client: &tailor_oci::Client,
    image: &crate::resolve::Image,
    cache: &crate::cache::Cache,
    limits: crate::tarfs::Limits,
) -> crate::Result<BTreeMap<String, OsVariant>> {
    let mut variants = BTreeMap::new();
    for (platform, digest) in &image.platforms {
        let (_, manifest) = crate::resolve::fetch_manifest_cached(client, cache, image, digest)?;
        let index = crate::base::file_index(client, &image.repo, &image.name, &manifest, cache, limits)?;
        if let Some(v) = os_variant(&index, platform) {
            variants.insert(platform.clone(), v);
        }
    }
    Ok(variants)
}

/// One installable package.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CatalogEntry {
    pub name: String,
    pub version: String,
    /// The first line of the description.
    pub summary: String,
}

/// Everything a variant can install.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Catalog {
    /// `sha256:<hex>` over the indexes read: changes whenever a repository publishes.
    pub digest: String,
    /// The newest version of each package, by name.
    pub packages: Vec<CatalogEntry>,
}

fn digest_of(files: &[String]) -> String {
    let mut h = Sha256::new();
    for f in files {
        h.update(f.as_bytes());
        h.update(b"\n");
    }
    format!("sha256:{}", hex::encode(h.finalize()))
}

fn summary(description: &str) -> String {
    description.lines().next().unwrap_or("").trim().to_owned()
}

/// The catalog of `v` from `source`'s repositories (indexes verified as for a build).
pub fn catalog(source: &PackageSource, v: &OsVariant) -> Result<Catalog, FetchError> {
    let mut newest: BTreeMap<String, CatalogEntry> = BTreeMap::new();
    let digest = match v.variant.split_once(':') {
        Some(("debian", codename)) => {
            let index = fetch::debian_index(&source.fetcher, &source.repositories.debian_for(codename), &v.arch)?;
            let mut best: BTreeMap<&str, &tailor_packages::deb::Package> = BTreeMap::new();
            for p in index.packages().filter(|p| p.architecture == v.arch || p.architecture == "all") {
                let slot = best.entry(p.package.as_str()).or_insert(p);
                if p.version > slot.version {
                    *slot = p;
                }
            }
            for (name, p) in best {
                let entry = CatalogEntry {
                    name: name.to_owned(),
                    version: p.version.as_str().to_owned(),
                    summary: summary(&p.description),
                };
                newest.insert(name.to_owned(), entry);
            }
            digest_of(&index.files)
        }
        Some(("alpine", release)) => {
            let index = fetch::alpine_index(&source.fetcher, &source.repositories.alpine_for(release), &v.arch)?;
            let mut best: BTreeMap<&str, &tailor_packages::apk::Package> = BTreeMap::new();
            for p in &index.packages {
                let slot = best.entry(p.name.as_str()).or_insert(p);
                if p.version > slot.version {
                    *slot = p;
                }
            }
            for (name, p) in best {
                let entry = CatalogEntry {
                    name: name.to_owned(),
                    version: p.version.to_string(),
                    summary: summary(&p.description),
                };
                newest.insert(name.to_owned(), entry);
            }
            digest_of(&index.files)
        }
        _ => {
            return Err(FetchError::Invalid {
                what: v.variant.clone(),
                problem: "not a known OS variant (debian:<codename> or alpine:<major>.<minor>)".into(),
            });
        }
    };
    Ok(Catalog { digest, packages: newest.into_values().collect() })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::os::OsRelease;

    fn index(db: PackageDb, id: &str, version: &str, codename: &str) -> FileIndex {
        FileIndex {
            db,
            os: Some(OsRelease {
                id: id.into(),
                version_id: version.into(),
                codename: codename.into(),
                pretty_name: String::new(),
            }),
            ..FileIndex::default()
        }
    }

    #[test]
    fn variants_name_the_family_release_and_architecture() {
        let deb = index(PackageDb::Dpkg { status: String::new(), multiarch: false }, "debian", "12", "bookworm");
        assert_eq!(
            os_variant(&deb, "linux/arm64"),
            Some(OsVariant { variant: "debian:bookworm".into(), arch: "arm64".into() })
        );
        let apk = index(PackageDb::Apk { installed: String::new(), world: String::new() }, "alpine", "3.20.3", "");
        assert_eq!(
            os_variant(&apk, "linux/amd64"),
            Some(OsVariant { variant: "alpine:3.20".into(), arch: "x86_64".into() })
        );
        assert_eq!(os_variant(&apk, "windows/amd64"), None);
        assert_eq!(os_variant(&index(PackageDb::None, "debian", "12", "bookworm"), "linux/amd64"), None);
    }

    #[test]
    fn an_unknown_variant_is_refused_by_name() {
        let v = OsVariant { variant: "fedora:40".into(), arch: "x86_64".into() };
        let e = catalog(&PackageSource::defaults(), &v).unwrap_err().to_string();
        assert!(e.contains("fedora:40") && e.contains("not a known OS variant"), "{e}");
    }

    #[test]
    fn the_digest_covers_every_index() {
        let a = digest_of(&["u1 sha256:aa".into(), "u2 sha256:bb".into()]);
        assert_ne!(a, digest_of(&["u1 sha256:aa".into(), "u2 sha256:bc".into()]));
        assert_ne!(a, digest_of(&["u1 sha256:aa".into()]));
        assert!(a.starts_with("sha256:") && a.len() == 71);
    }
}
