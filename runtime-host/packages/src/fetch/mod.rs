//! Fetching from package repositories: HTTP with clear errors, and a cache on disk keyed by
//! content hash — an index or package whose SHA-256 is known (from a verified `Release` or a
//! verified index) is read from the cache when present and checked either way, so a warm
//! build fetches only what is unverifiable by hash: the signed `InRelease` or `APKINDEX`.
//!
//! Files: `debian` (apt repositories), `alpine` (apk repositories).

mod alpine;
mod debian;

use std::any::Any;
use std::collections::VecDeque;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sha2::{Digest as _, Sha256};

use crate::Sha256Digest;

pub use alpine::{AlpineIndex, alpine_index, download_apk, load_apk_keys};
pub use debian::{DebianIndex, debian_index, download_deb, load_keyring};

/// Why something could not be fetched or trusted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    #[error("{url}: the repository is unreachable ({reason}); check the URL in the repositories file and the network")]
    Unreachable { url: String, reason: String },
    #[error(
        "{url}: HTTP {status}; check the URL, suite or branch, components and architecture in the repositories file"
    )]
    Status { url: String, status: u16 },
    #[error("{url}: larger than {limit} bytes")]
    TooLarge { url: String, limit: u64 },
    #[error("{url}: SHA-256 is {actual}, the signed index says {expected} — a tampered or stale mirror")]
    HashMismatch { url: String, expected: String, actual: String },
    #[error("{what}: {problem}")]
    Untrusted { what: String, problem: String },
    #[error("{what}: {problem}")]
    Invalid { what: String, problem: String },
    #[error("{path}: {problem}")]
    Keys { path: String, problem: String },
}

/// HTTP client plus the content cache.
pub struct Fetcher {
    agent: ureq::Agent,
    cache: Option<PathBuf>,
    /// Indexes parsed lately, by the SHA-256 of the verified file (a warm build, the worker's
    /// "anything changed?" check and a fan-out of builds on one release parse each once).
    parsed: Mutex<VecDeque<(Sha256Digest, Arc<dyn Any + Send + Sync>)>>,
}

/// How many parsed indexes a fetcher keeps.
const PARSED: usize = 8;

/// Indexes and packages larger than this are refused.
pub const LIMIT: u64 = 1 << 30;

impl Fetcher {
    /// `cache`: a directory for content by hash (None: no cache).
    pub fn new(cache: Option<PathBuf>) -> Fetcher {
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .user_agent(concat!("tailor/", env!("CARGO_PKG_VERSION")))
            .accept_encoding("identity")
            .max_redirects(5)
            .timeout_connect(Some(Duration::from_secs(20)))
            .timeout_global(Some(Duration::from_secs(600)))
            .build();
        Fetcher { agent: config.into(), cache, parsed: Mutex::new(VecDeque::new()) }
    }

    /// What `parse` makes of the file whose SHA-256 is `key`, parsed once while kept.
    pub(crate) fn parsed<T: Any + Send + Sync>(
        &self,
        key: &Sha256Digest,
        parse: impl FnOnce() -> Result<T, FetchError>,
    ) -> Result<Arc<T>, FetchError> {
        let lock = || self.parsed.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(hit) = lock().iter().find(|(k, _)| k == key).and_then(|(_, v)| v.clone().downcast::<T>().ok()) {
            return Ok(hit);
        }
        let value = Arc::new(parse()?);
        let mut memo = lock();
        memo.push_front((*key, value.clone()));
        memo.truncate(PARSED);
        Ok(value)
    }

    /// The body of `url` (404 is an error).
    pub fn get(&self, url: &str) -> Result<Vec<u8>, FetchError> {
        self.get_optional(url)?.ok_or_else(|| FetchError::Status { url: url.to_owned(), status: 404 })
    }

    /// The body of `url`, or None on 404.
    pub fn get_optional(&self, url: &str) -> Result<Option<Vec<u8>>, FetchError> {
        let resp = self
            .agent
            .get(url)
            .call()
            .map_err(|e| FetchError::Unreachable { url: url.to_owned(), reason: e.to_string() })?;
        match resp.status().as_u16() {
            200 => {}
            404 => return Ok(None),
            status => return Err(FetchError::Status { url: url.to_owned(), status }),
        }
        let mut out = Vec::new();
        resp.into_body()
            .into_reader()
            .take(LIMIT + 1)
            .read_to_end(&mut out)
            .map_err(|e| FetchError::Unreachable { url: url.to_owned(), reason: e.to_string() })?;
        if out.len() as u64 > LIMIT {
            return Err(FetchError::TooLarge { url: url.to_owned(), limit: LIMIT });
        }
        Ok(Some(out))
    }

    fn cache_path(&self, sha256: &Sha256Digest) -> Option<PathBuf> {
        self.cache.as_ref().map(|c| c.join("sha256").join(sha256.to_hex()))
    }

    /// `url`'s content, which must hash to `sha256`: from the cache when there, else fetched,
    /// checked and cached.
    pub fn get_by_hash(&self, url: &str, sha256: &Sha256Digest) -> Result<Vec<u8>, FetchError> {
        if let Some(bytes) = self.cached(sha256) {
            return Ok(bytes);
        }
        let bytes = self.get(url)?;
        check_hash(url, &bytes, sha256)?;
        self.keep(sha256, &bytes);
        Ok(bytes)
    }

    /// The cached content whose SHA-256 is `sha256` (checked; a corrupt file is dropped).
    pub(crate) fn cached(&self, sha256: &Sha256Digest) -> Option<Vec<u8>> {
        let path = self.cache_path(sha256)?;
        let bytes = std::fs::read(&path).ok()?;
        if Sha256Digest::of(&bytes) == *sha256 {
            return Some(bytes);
        }
        let _ = std::fs::remove_file(&path);
        None
    }

    /// Caches `bytes`, whose SHA-256 the caller checked to be `sha256`.
    pub(crate) fn keep(&self, sha256: &Sha256Digest, bytes: &[u8]) {
        if let Some(path) = self.cache_path(sha256) {
            write_atomic(&path, bytes);
        }
    }
}

pub(crate) fn check_hash(url: &str, bytes: &[u8], sha256: &Sha256Digest) -> Result<(), FetchError> {
    let actual = Sha256Digest::of(bytes);
    if actual != *sha256 {
        return Err(FetchError::HashMismatch {
            url: url.to_owned(),
            expected: sha256.to_hex(),
            actual: actual.to_hex(),
        });
    }
    Ok(())
}

/// Best effort: a cache that cannot be written just does not cache.
fn write_atomic(path: &Path, bytes: &[u8]) {
    let Some(dir) = path.parent() else { return };
    if std::fs::create_dir_all(dir).is_err() {
        return;
    }
    let tmp = dir.join(format!(".tmp-{}-{}", std::process::id(), hex::encode(&Sha256::digest(bytes)[..8])));
    if std::fs::write(&tmp, bytes).is_ok() {
        let _ = std::fs::rename(&tmp, path);
    }
}

/// Each key file of `paths` (a file, or the files of a directory that `keep` accepts, sorted)
/// with its bytes, handed to `add`; an error names the file and what to do.
pub(crate) fn read_keys(
    paths: &[PathBuf],
    keep: impl Fn(&Path) -> bool,
    mut add: impl FnMut(&Path, &[u8]) -> Result<(), String>,
) -> Result<(), FetchError> {
    let bad = |p: &Path, problem: String| FetchError::Keys { path: p.display().to_string(), problem };
    for path in paths {
        let files: Vec<PathBuf> = if path.is_dir() {
            let mut v: Vec<PathBuf> = std::fs::read_dir(path)
                .map_err(|e| bad(path, format!("cannot list the key directory: {e}")))?
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.is_file() && keep(p))
                .collect();
            v.sort();
            v
        } else {
            vec![path.clone()]
        };
        for file in files {
            let bytes = std::fs::read(&file).map_err(|e| {
                bad(&file, format!("cannot read the key file: {e}; check the keys of the repositories file"))
            })?;
            add(&file, &bytes).map_err(|problem| bad(&file, problem))?;
        }
    }
    Ok(())
}

/// The `paths` of a repository, for "no key found" errors.
pub(crate) fn listed(paths: &[PathBuf]) -> String {
    paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod alpine_tests;
#[cfg(test)]
mod tests;
