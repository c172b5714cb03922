//! An apt repository's packages for one architecture, trusted through its signed `InRelease`
//! (or `Release` + `Release.gpg`): every `Packages` index is fetched by the SHA-256 the signed
//! file gives, and every `.deb` by the SHA-256 its verified index gives.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::{FetchError, Fetcher, listed, read_keys};
use crate::Sha256Digest;
use crate::archive::{Compression, MemberReader};
use crate::deb::{Keyring, Package, Release, parse_packages, verify_inrelease, verify_release};
use crate::repos::DebianRepo;

/// The packages of a set of repositories, each remembered with where to download it.
#[derive(Debug, Default)]
pub struct DebianIndex {
    pub packages: Vec<Package>,
    /// (`.deb` SHA-256, `Filename`) → the repository root that path is relative to. Keyed by
    /// file too: one `.deb` may sit at different paths of several archives (a point
    /// release in `debian/pool/main/…` and `debian-security/pool/updates/main/…`).
    roots: HashMap<(Sha256Digest, String), String>,
    /// One line per repository: which key signed it.
    pub trusted: Vec<String>,
    /// Each `Packages` index read, `URL sha256:<hex>`: the index's identity (it changes when
    /// the repository publishes anything new).
    pub files: Vec<String>,
}

impl DebianIndex {
    /// Where `p` is downloaded from.
    pub fn url_of(&self, p: &Package) -> Option<String> {
        self.roots
            .get(&(p.sha256, p.filename.clone()))
            .map(|root| format!("{root}/{}", p.filename.trim_start_matches("./")))
    }
}

/// The keys of `paths`: keyring files, or directories of `*.gpg` / `*.asc` files.
pub fn load_keyring(paths: &[PathBuf]) -> Result<Keyring, FetchError> {
    let mut keyring = Keyring::new();
    let openpgp = |p: &Path| p.extension().is_some_and(|x| x == "gpg" || x == "asc");
    read_keys(paths, openpgp, |file, bytes| {
        keyring.add(&file.display().to_string(), bytes).map(|_| ()).map_err(|e| e.to_string())
    })?;
    if keyring.is_empty() {
        return Err(FetchError::Keys { path: listed(paths), problem: "no OpenPGP key found".into() });
    }
    Ok(keyring)
}

/// The signed release file of `repo`: `InRelease`, else `Release` + `Release.gpg`.
fn release(f: &Fetcher, repo: &DebianRepo, keyring: &Keyring) -> Result<(Release, String), FetchError> {
    let dir = repo.release_dir();
    let untrusted = |url: &str, e: String| FetchError::Untrusted { what: url.to_owned(), problem: e };
    let in_release = format!("{dir}/InRelease");
    if let Some(bytes) = f.get_optional(&in_release)? {
        let text = String::from_utf8(bytes).map_err(|_| untrusted(&in_release, "not UTF-8 text".into()))?;
        let (release, verified) =
            verify_inrelease(&text, keyring).map_err(|e| untrusted(&in_release, e.to_string()))?;
        return Ok((release, format!("{in_release}: signed by {verified}")));
    }
    let url = format!("{dir}/Release");
    let body = f.get(&url)?;
    let sig = f.get(&format!("{url}.gpg"))?;
    let (release, verified) = verify_release(&body, &sig, keyring).map_err(|e| untrusted(&url, e.to_string()))?;
    Ok((release, format!("{url}: signed by {verified}")))
}

/// Every package of `repos` for `arch` (and `all`).
pub fn debian_index(f: &Fetcher, repos: &[DebianRepo], arch: &str) -> Result<DebianIndex, FetchError> {
    let mut index = DebianIndex::default();
    for repo in repos {
        let keyring = load_keyring(&repo.keys)?;
        let (release, trusted) = release(f, repo, &keyring)?;
        let dir = repo.release_dir();
        if !repo.is_flat() {
            let names = [release.suite.as_deref(), release.codename.as_deref()];
            if !names.contains(&Some(repo.suite.as_str())) {
                return Err(FetchError::Untrusted {
                    what: format!("{dir}/InRelease"),
                    problem: format!(
                        "signed for suite {} (codename {}), not {}: refusing a substituted release",
                        release.suite.as_deref().unwrap_or("?"),
                        release.codename.as_deref().unwrap_or("?"),
                        repo.suite
                    ),
                });
            }
        }
        let dirs: Vec<String> = if repo.is_flat() {
            vec![String::new()]
        } else {
            repo.components.iter().map(|c| format!("{c}/binary-{arch}")).collect()
        };
        for d in dirs {
            let Some(file) = release.packages_indexes(&d).into_iter().next() else {
                return Err(FetchError::Invalid {
                    what: format!("{dir} ({})", if d.is_empty() { "flat" } else { &d }),
                    problem:
                        "the signed release lists no Packages index here: check the suite, components and architecture"
                            .into(),
                });
            };
            let url = format!("{dir}/{}", file.path);
            let packages = f.parsed(&file.sha256, || {
                let bytes = f.get_by_hash(&url, &file.sha256)?;
                let ext = file.path.rsplit_once('.').map_or("", |(_, e)| e);
                let compression = Compression::from_extension(ext).unwrap_or(Compression::None);
                let invalid = |problem: String| FetchError::Invalid { what: url.clone(), problem };
                let text = MemberReader::new(&url, &file.path, compression, &bytes, super::LIMIT)
                    .read_all()
                    .map_err(|e| invalid(e.to_string()))?;
                let text = String::from_utf8(text).map_err(|_| invalid("not UTF-8 text".into()))?;
                parse_packages(&text).map_err(|e| invalid(e.to_string()))
            })?;
            index.files.push(format!("{url} sha256:{}", file.sha256.to_hex()));
            let root = repo.url.trim_end_matches('/').to_owned();
            for p in packages.iter() {
                index.roots.insert((p.sha256, p.filename.clone()), root.clone());
                index.packages.push(p.clone());
            }
        }
        index.trusted.push(trusted);
    }
    Ok(index)
}

/// The `.deb` of `p`, checked against its index's SHA-256 and size (from the cache when there).
pub fn download_deb(f: &Fetcher, index: &DebianIndex, p: &Package) -> Result<Vec<u8>, FetchError> {
    let url = index.url_of(p).ok_or_else(|| FetchError::Invalid {
        what: format!("{} {}", p.package, p.version.as_str()),
        problem: "not from these repositories".into(),
    })?;
    let bytes = f.get_by_hash(&url, &p.sha256)?;
    if bytes.len() as u64 != p.size {
        return Err(FetchError::Invalid {
            what: url,
            problem: format!("{} bytes, the index says {}", bytes.len(), p.size),
        });
    }
    Ok(bytes)
}
