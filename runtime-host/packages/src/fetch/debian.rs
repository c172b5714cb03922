//! An apt repository's packages for one architecture, trusted through its signed `InRelease`
//! (or `Release` + `Release.gpg`): every `Packages` index is fetched by the SHA-256 the signed
//! file gives, and every `.deb` by the SHA-256 its verified index gives.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::{FetchError, Fetcher, listed, read_keys};
use crate::archive::{Compression, MemberReader};
use crate::deb::{Keyring, Package, Release, parse_packages_parallel, verify_inrelease, verify_release};
use crate::repos::DebianRepo;

/// The packages of a set of repositories, each remembered with where to download it.
#[derive(Debug, Default)]
pub struct DebianIndex {
    /// Each index's packages as parsed (shared with the fetcher's memo, not copied), with the
    /// root of the repository its `Filename`s are relative to.
    lists: Vec<(String, Arc<Vec<Package>>)>,
    /// One line per repository: which key signed it.
    pub trusted: Vec<String>,
    /// Each `Packages` index read, `URL sha256:<hex>`: the index's identity (it changes when
    /// the repository publishes anything new).
    pub files: Vec<String>,
}

impl DebianIndex {
    /// Every package of every index, in repository order.
    pub fn packages(&self) -> impl Iterator<Item = &Package> {
        self.lists.iter().flat_map(|(_, l)| l.iter())
    }

    /// Where `p` is downloaded from: the repository whose index holds it (by identity, else
    /// by file: one `.deb` may sit at different paths of several archives, as a point release
    /// in `debian/pool/main/…` and `debian-security/pool/updates/main/…`).
    pub fn url_of(&self, p: &Package) -> Option<String> {
        let holds = |l: &Arc<Vec<Package>>| l.as_ptr_range().contains(&std::ptr::from_ref(p));
        let root = self.lists.iter().find(|(_, l)| holds(l)).or_else(|| {
            self.lists.iter().find(|(_, l)| l.iter().any(|q| q.sha256 == p.sha256 && q.filename == p.filename))
        })?;
        Some(format!("{}/{}", root.0, p.filename.trim_start_matches("./")))
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
    // Repositories usually share their keys (Debian's three): each key set is read once.
    let mut keyrings: Vec<(&[PathBuf], Keyring)> = Vec::new();
    for repo in repos {
        let at = match keyrings.iter().position(|(paths, _)| *paths == repo.keys.as_slice()) {
            Some(at) => at,
            None => {
                keyrings.push((&repo.keys, load_keyring(&repo.keys)?));
                keyrings.len() - 1
            }
        };
        let (release, trusted) = release(f, repo, &keyrings[at].1)?;
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
            let listed = release.packages_indexes(&d);
            let Some(file) = listed.first().copied() else {
                return Err(FetchError::Invalid {
                    what: format!("{dir} ({})", if d.is_empty() { "flat" } else { &d }),
                    problem:
                        "the signed release lists no Packages index here: check the suite, components and architecture"
                            .into(),
                });
            };
            // The uncompressed index the release also lists (mirrors seldom serve it): kept in the
            // cache under its signed SHA-256 once decompressed, so a warm build skips the xz.
            let plain = listed.iter().find(|f| f.path.ends_with("Packages")).copied();
            let url = format!("{dir}/{}", file.path);
            let packages = f.parsed(&file.sha256, || {
                let invalid = |problem: String| FetchError::Invalid { what: url.clone(), problem };
                let text = match plain.and_then(|p| f.cached(&p.sha256)) {
                    Some(text) => text,
                    None => {
                        let bytes = f.get_by_hash(&url, &file.sha256)?;
                        let ext = file.path.rsplit_once('.').map_or("", |(_, e)| e);
                        let compression = Compression::from_extension(ext).unwrap_or(Compression::None);
                        let text = MemberReader::new(&url, &file.path, compression, &bytes, super::LIMIT)
                            .read_all()
                            .map_err(|e| invalid(e.to_string()))?;
                        if let Some(p) = plain.filter(|p| p.sha256 != file.sha256) {
                            super::check_hash(&format!("{url} (decompressed)"), &text, &p.sha256)?;
                            f.keep(&p.sha256, &text);
                        }
                        text
                    }
                };
                let text = String::from_utf8(text).map_err(|_| invalid("not UTF-8 text".into()))?;
                let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
                parse_packages_parallel(&text, threads).map_err(|e| invalid(e.to_string()))
            })?;
            index.files.push(format!("{url} sha256:{}", file.sha256.to_hex()));
            index.lists.push((repo.url.trim_end_matches('/').to_owned(), packages));
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
