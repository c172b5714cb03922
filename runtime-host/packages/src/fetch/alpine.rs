//! An apk repository's packages for one architecture, trusted through the RSA signature of
//! its `APKINDEX.tar.gz`; each `.apk` is checked against the control checksum the verified
//! index gives (as apk-tools does).

use std::collections::HashMap;
use std::io::Read;
use std::path::PathBuf;

use super::{FetchError, Fetcher, listed, read_keys};
use crate::apk::{ApkArchive, ApkKeys, Package, parse_index, verify_signed};
use crate::repos::AlpineRepo;

/// The packages of a set of repositories, each remembered with where to download it.
#[derive(Debug, Default)]
pub struct AlpineIndex {
    pub packages: Vec<Package>,
    /// `C:` checksum → the repository directory holding the `.apk`.
    dirs: HashMap<String, String>,
    pub trusted: Vec<String>,
    /// Each `APKINDEX.tar.gz` read, `URL sha256:<hex>`: the index's identity.
    pub files: Vec<String>,
}

impl AlpineIndex {
    pub fn url_of(&self, p: &Package) -> Option<String> {
        self.dirs.get(&p.checksum.to_string()).map(|d| format!("{d}/{}", p.file_name()))
    }
}

/// The keys of `paths`: `.rsa.pub` files (named as signatures name them), or directories of them.
pub fn load_apk_keys(paths: &[PathBuf]) -> Result<ApkKeys, FetchError> {
    let mut keys = ApkKeys::new();
    read_keys(paths, |_| true, |file, bytes| keys.add(&file.display().to_string(), bytes).map_err(|e| e.to_string()))?;
    if keys.is_empty() {
        return Err(FetchError::Keys { path: listed(paths), problem: "no RSA public key found".into() });
    }
    Ok(keys)
}

/// Every package of `repos` for `arch`.
pub fn alpine_index(f: &Fetcher, repos: &[AlpineRepo], arch: &str) -> Result<AlpineIndex, FetchError> {
    let mut index = AlpineIndex::default();
    for repo in repos {
        let keys = load_apk_keys(&repo.keys)?;
        let url = repo.index_url(arch);
        let bytes = f.get(&url)?;
        let (verified, offset) = verify_signed(&bytes, &keys)
            .map_err(|e| FetchError::Untrusted { what: url.clone(), problem: e.to_string() })?;
        let invalid = |problem: String| FetchError::Invalid { what: url.clone(), problem };
        let signed = bytes.get(offset..).ok_or_else(|| invalid("nothing after the signature".into()))?;
        let key = crate::Sha256Digest::of(&bytes);
        let packages = f.parsed(&key, || {
            let mut tar = tar::Archive::new(flate2::read::MultiGzDecoder::new(signed));
            let mut text = None;
            for entry in tar.entries().map_err(|e| invalid(e.to_string()))? {
                let mut entry = entry.map_err(|e| invalid(e.to_string()))?;
                if entry.path().map_err(|e| invalid(e.to_string()))?.as_os_str() == "APKINDEX" {
                    let mut s = String::new();
                    entry.by_ref().take(super::LIMIT).read_to_string(&mut s).map_err(|e| invalid(e.to_string()))?;
                    text = Some(s);
                    break;
                }
            }
            let text = text.ok_or_else(|| invalid("no APKINDEX file in the archive".into()))?;
            parse_index(&text).map_err(|e| invalid(e.to_string()))
        })?;
        index.files.push(format!("{url} sha256:{}", key.to_hex()));
        let dir = url.trim_end_matches("/APKINDEX.tar.gz").to_owned();
        for p in packages.iter() {
            index.dirs.insert(p.checksum.to_string(), dir.clone());
            index.packages.push(p.clone());
        }
        index.trusted.push(format!("{url}: signed by {verified}"));
    }
    Ok(index)
}

/// The `.apk` of `p`, whose control segment must have the checksum the verified index gives.
pub fn download_apk(f: &Fetcher, index: &AlpineIndex, p: &Package) -> Result<Vec<u8>, FetchError> {
    let url = index.url_of(p).ok_or_else(|| FetchError::Invalid {
        what: format!("{} {}", p.name, p.version),
        problem: "not from these repositories".into(),
    })?;
    let bytes = f.get(&url)?;
    let archive = ApkArchive::parse(&url, &bytes, super::LIMIT)
        .map_err(|e| FetchError::Invalid { what: url.clone(), problem: e.to_string() })?;
    if archive.checksum() != p.checksum {
        return Err(FetchError::Untrusted {
            what: url,
            problem: format!(
                "its control checksum is {}, the signed index says {} — a tampered or stale mirror",
                archive.checksum(),
                p.checksum
            ),
        });
    }
    Ok(bytes)
}
