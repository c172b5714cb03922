#![allow(clippy::unwrap_used)]
//! Fetching from a real apt repository on loopback: real Debian `.deb`s (tests/run.sh
//! downloads them into TAILOR_TEST_DEBS), `Packages`/`Release` made by `apt-ftparchive`,
//! `InRelease` clearsigned by `gpg` with a key made here, served by a static file server.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use super::*;
use crate::deb::test_support::{RepoKey, add_debs, publish};
use crate::deb::{DebArchive, Package};
use crate::repos::DebianRepo;

/// Serves the files under a directory over HTTP/1.1 (GET only), counting requests.
pub(super) struct Files {
    pub(super) url: String,
    served: Arc<Mutex<Vec<String>>>,
}

impl Files {
    pub(super) fn serve(root: &Path) -> Files {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let served = Arc::new(Mutex::new(Vec::new()));
        let (root, log) = (root.to_path_buf(), served.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 {
                    continue;
                }
                loop {
                    let mut h = String::new();
                    if reader.read_line(&mut h).unwrap_or(0) == 0 || h.trim().is_empty() {
                        break;
                    }
                }
                let path = line.split_whitespace().nth(1).unwrap_or("/").to_owned();
                log.lock().unwrap().push(path.clone());
                let file = root.join(path.trim_start_matches('/'));
                let mut stream = stream;
                let answer = match std::fs::read(&file) {
                    Ok(body) if file.is_file() => {
                        let mut a =
                            format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len())
                                .into_bytes();
                        a.extend(body);
                        a
                    }
                    _ => b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_vec(),
                };
                let _ = stream.write_all(&answer);
            }
        });
        Files { url, served }
    }

    pub(super) fn count(&self, suffix: &str) -> usize {
        self.served.lock().unwrap().iter().filter(|p| p.ends_with(suffix)).count()
    }
}

static KEYS: AtomicUsize = AtomicUsize::new(0);

/// A new signing key under `dir`.
fn gpg_key(dir: &Path) -> RepoKey {
    RepoKey::new(dir, &format!("key{}", KEYS.fetch_add(1, Ordering::SeqCst)))
}

/// A repository `root` with the real .debs (TAILOR_TEST_DEBS) under `pool/main`, signed by
/// `key`; the package names.
fn repository(root: &Path, key: &RepoKey) -> Vec<String> {
    repository_at(root, key, "pool/main")
}

/// Like [`repository`], the .debs under `pool` (a path below `root` starting with `pool/`).
fn repository_at(root: &Path, key: &RepoKey, pool: &str) -> Vec<String> {
    let debs = std::env::var("TAILOR_TEST_DEBS").unwrap_or_default();
    let added = add_debs(root, pool, Path::new(&debs));
    publish(root, key);
    added.iter().map(|d| d.file_name().unwrap().to_string_lossy().split('_').next().unwrap().to_owned()).collect()
}

fn repo(url: &str, key: &Path) -> DebianRepo {
    DebianRepo {
        url: url.to_owned(),
        suite: "stable".into(),
        components: vec!["main".into()],
        keys: vec![key.to_path_buf()],
    }
}

#[test]
fn a_signed_repository_gives_verified_packages_cached_by_hash() {
    let dir = tempfile::tempdir().unwrap();
    let key = gpg_key(dir.path());
    let public = key.public.clone();
    let root = dir.path().join("repo");
    let names = repository(&root, &key);
    let files = Files::serve(&root);
    let cache = dir.path().join("cache");
    let f = Fetcher::new(Some(cache.clone()));
    let index = debian_index(&f, &[repo(&files.url, &public)], "amd64").unwrap();
    let mut listed: Vec<&str> = index.packages().map(|p| p.package.as_str()).collect();
    listed.sort();
    let mut expected: Vec<&str> = names.iter().map(String::as_str).collect();
    expected.sort();
    assert_eq!(listed, expected);
    assert!(index.trusted[0].contains("InRelease: signed by"), "{:?}", index.trusted);
    assert_eq!(files.count("Packages.xz"), 1, "the best compression is fetched");
    let p = index.packages().next().unwrap();
    let deb = download_deb(&f, &index, p).unwrap();
    let archive = DebArchive::parse(&p.filename, &deb, LIMIT).unwrap();
    assert_eq!(archive.control.package, p.package);
    // Warm: the index and the package come from the cache; only InRelease is asked again.
    let again = debian_index(&f, &[repo(&files.url, &public)], "amd64").unwrap();
    download_deb(&f, &again, again.packages().next().unwrap()).unwrap();
    assert_eq!(files.count("Packages.xz"), 1);
    assert_eq!(files.count(".deb"), 1);
    assert_eq!(files.count("InRelease"), 2);
    // Another process on the same cache reads the decompressed index kept under its signed
    // SHA-256 (the compressed one is not needed any more).
    for e in std::fs::read_dir(cache.join("sha256")).unwrap().flatten() {
        let bytes = std::fs::read(e.path()).unwrap();
        if bytes.starts_with(&[0xfd, b'7', b'z', b'X', b'Z']) {
            std::fs::remove_file(e.path()).unwrap();
        }
    }
    let fresh = Fetcher::new(Some(cache.clone()));
    let warm = debian_index(&fresh, &[repo(&files.url, &public)], "amd64").unwrap();
    assert!(warm.packages().eq(index.packages()));
    assert_eq!((files.count("Packages.xz"), files.count("/Packages")), (1, 0), "no index fetched again");
    // A tampered package on the server (and not in the cache) is refused.
    let other = index.packages().find(|q| q.filename != p.filename).unwrap();
    let path = root.join(&other.filename);
    let mut bytes = std::fs::read(&path).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    std::fs::write(&path, bytes).unwrap();
    let err = download_deb(&f, &index, other).unwrap_err().to_string();
    assert!(err.contains("SHA-256 is") && err.contains("tampered"), "{err}");
}

/// Like Debian's point releases: the same .deb in two archives at different paths
/// (`debian/pool/main/…`, `debian-security/pool/updates/main/…`); each copy downloads from
/// the archive that lists it at that path.
#[test]
fn the_same_package_at_different_paths_of_two_archives() {
    let dir = tempfile::tempdir().unwrap();
    let key = gpg_key(dir.path());
    let public = key.public.clone();
    repository_at(&dir.path().join("debian"), &key, "pool/main");
    repository_at(&dir.path().join("security"), &key, "pool/updates/main");
    let files = Files::serve(dir.path());
    let repos = [repo(&format!("{}/debian", files.url), &public), repo(&format!("{}/security", files.url), &public)];
    let f = Fetcher::new(None);
    let index = debian_index(&f, &repos, "amd64").unwrap();
    let hello: Vec<&Package> = index.packages().filter(|p| p.package == "hello").collect();
    assert_eq!(hello.len(), 2, "listed by both");
    assert_eq!(hello[0].sha256, hello[1].sha256);
    for p in hello {
        let url = index.url_of(p).unwrap();
        let archive = if p.filename.starts_with("pool/updates/") { "security" } else { "debian" };
        assert_eq!(url, format!("{}/{archive}/{}", files.url, p.filename));
        download_deb(&f, &index, p).unwrap();
    }
}

#[test]
fn untrusted_or_unreachable_repositories_fail_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let key = gpg_key(dir.path());
    let public = key.public.clone();
    let stranger = gpg_key(dir.path()).public;
    let root = dir.path().join("repo");
    repository(&root, &key);
    let files = Files::serve(&root);
    let f = Fetcher::new(None);
    let err = debian_index(&f, &[repo(&files.url, &stranger)], "amd64").unwrap_err().to_string();
    assert!(err.contains("InRelease") && err.contains(&stranger.display().to_string()), "another key: {err}");
    let mut wrong_suite = repo(&files.url, &public);
    wrong_suite.suite = "testing".into();
    std::fs::create_dir_all(root.join("dists/testing")).unwrap();
    std::fs::copy(root.join("dists/stable/InRelease"), root.join("dists/testing/InRelease")).unwrap();
    let err = debian_index(&f, &[wrong_suite], "amd64").unwrap_err().to_string();
    assert!(err.contains("signed for suite stable") && err.contains("not testing"), "{err}");
    let mut no_component = repo(&files.url, &public);
    no_component.components = vec!["contrib".into()];
    let err = debian_index(&f, &[no_component], "amd64").unwrap_err().to_string();
    assert!(err.contains("contrib/binary-amd64") && err.contains("lists no Packages index"), "{err}");
    // Changed after signing: the index no longer matches the signed hash.
    let packages = root.join("dists/stable/main/binary-amd64/Packages.xz");
    let mut bytes = std::fs::read(&packages).unwrap();
    bytes.push(0);
    std::fs::write(&packages, bytes).unwrap();
    let err = debian_index(&f, &[repo(&files.url, &public)], "amd64").unwrap_err().to_string();
    assert!(err.contains("Packages.xz: SHA-256 is"), "{err}");
    let closed = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let err = debian_index(&f, &[repo(&format!("http://{closed}"), &public)], "amd64").unwrap_err().to_string();
    assert!(err.contains("the repository is unreachable"), "{err}");
    let err = load_keyring(&[dir.path().join("missing.gpg")]).unwrap_err().to_string();
    assert!(err.contains("missing.gpg: cannot read the key file"), "{err}");
}

#[test]
fn an_index_is_parsed_once_while_kept_and_errors_are_not_kept() {
    let f = Fetcher::new(None);
    let calls = std::cell::Cell::new(0);
    let key = |n: u8| Sha256Digest::of(&[n]);
    let parse = |v: u32| {
        calls.set(calls.get() + 1);
        Ok::<_, FetchError>(v)
    };
    let a = f.parsed(&key(0), || parse(7)).unwrap();
    let b = f.parsed(&key(0), || parse(8)).unwrap();
    assert!(Arc::ptr_eq(&a, &b) && *b == 7 && calls.get() == 1);
    let failed = f.parsed::<u32>(&key(1), || Err(FetchError::Invalid { what: "x".into(), problem: "bad".into() }));
    assert!(failed.is_err());
    assert_eq!(*f.parsed(&key(1), || parse(9)).unwrap(), 9, "a failure is parsed again");
    for n in 2..=PARSED as u8 + 1 {
        f.parsed(&key(n), || parse(u32::from(n))).unwrap();
    }
    let before = calls.get();
    assert_eq!(*f.parsed(&key(0), || parse(10)).unwrap(), 10, "the oldest was let go");
    assert_eq!(calls.get(), before + 1);
}
