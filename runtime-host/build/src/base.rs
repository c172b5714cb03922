//! The base image's file index: every path of its merged filesystem with its kind, the
//! contents of /etc/passwd and /etc/group, its OS release and installed packages (for the
//! SBOM). Read once per base (streamed, nothing stored but this summary) and cached by the
//! base's layer digests.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, LazyLock, Mutex};

use oci_spec::image::ImageManifest;
use serde::{Deserialize, Serialize};
use tailor_oci::Client;

use crate::cache::{Cache, key};
use crate::flatten::Tree;
use crate::os::{self, OsRelease, Package};
use crate::resolve::open_layer;
use crate::tarfs::{Entry, Kind, Limits};
use crate::{BuildError, Result};

pub const PASSWD: &str = "etc/passwd";
pub const GROUP: &str = "etc/group";

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct FileIndex {
    /// path → kind letter: `d` directory, `f` file, `l` symlink, `h` hard link, `o` other.
    pub kinds: BTreeMap<String, char>,
    pub passwd: Option<String>,
    pub group: Option<String>,
    /// `/etc/os-release` (or `/usr/lib/os-release`), when the base has one.
    #[serde(default)]
    pub os: Option<OsRelease>,
    /// Installed packages from the base's package database (dpkg or apk), sorted.
    #[serde(default)]
    pub packages: Vec<Package>,
    /// The package database as it is, for installing packages on top: dpkg's `status`
    /// (with whether `info/format` says multiarch) or apk's `installed` and `world`.
    #[serde(default)]
    pub db: PackageDb,
    /// Symlinks to directories (`lib` → `usr/lib` on merged-/usr systems), path → target:
    /// packages unpack through them, as dpkg does, rather than replace them.
    #[serde(default)]
    pub dir_links: BTreeMap<String, String>,
}

/// `target` of a symlink at `path`, as a normalized path from the root (None: outside it).
pub fn resolve_link(path: &str, target: &str) -> Option<String> {
    let mut parts: Vec<&str> = if target.starts_with('/') {
        Vec::new()
    } else {
        path.rsplit_once('/').map_or(Vec::new(), |(dir, _)| dir.split('/').collect())
    };
    for c in target.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            c => parts.push(c),
        }
    }
    Some(parts.join("/"))
}

/// The base's package database, verbatim.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub enum PackageDb {
    #[default]
    None,
    Dpkg {
        status: String,
        multiarch: bool,
    },
    Apk {
        installed: String,
        world: String,
    },
}

pub fn kind_letter(k: &Kind) -> char {
    match k {
        Kind::Dir => 'd',
        Kind::File => 'f',
        Kind::Symlink(_) => 'l',
        Kind::Hardlink(_) => 'h',
        _ => 'o',
    }
}

impl FileIndex {
    pub fn is_dir(&self, path: &str) -> bool {
        path.is_empty() || self.kinds.get(path) == Some(&'d')
    }

    pub fn from_tree(tree: &Tree) -> FileIndex {
        let text = |p: &str| {
            tree.get(p).filter(|e| e.kind == Kind::File).map(|e| String::from_utf8_lossy(&e.data).into_owned())
        };
        let os = text(os::OS_RELEASE).or_else(|| text(os::OS_RELEASE_USR)).and_then(|t| OsRelease::parse(&t));
        let mut packages = text(os::DPKG_STATUS).map(|t| os::parse_dpkg_status(&t)).unwrap_or_default();
        let status_d: Vec<String> = tree
            .entries
            .keys()
            .filter(|p| p.starts_with(os::DPKG_STATUS_D) && os::wanted(p))
            .filter_map(|p| text(p))
            .collect();
        packages.extend(os::parse_status_d(status_d.iter().map(String::as_str)));
        packages.extend(text(os::APK_INSTALLED).map(|t| os::parse_apk_installed(&t)).unwrap_or_default());
        packages.sort();
        packages.dedup();
        let db = match (text(os::DPKG_STATUS), text(os::APK_INSTALLED)) {
            (Some(status), _) => {
                PackageDb::Dpkg { status, multiarch: text(os::DPKG_FORMAT).is_some_and(|f| f.trim() == "1") }
            }
            (None, Some(installed)) => PackageDb::Apk { installed, world: text(os::APK_WORLD).unwrap_or_default() },
            (None, None) => PackageDb::None,
        };
        let dir_links = tree
            .entries
            .iter()
            .filter_map(|(p, e)| match &e.kind {
                Kind::Symlink(t) => resolve_link(p, t)
                    .filter(|r| tree.get(r).is_some_and(|d| d.kind == Kind::Dir))
                    .map(|r| (p.clone(), r)),
                _ => None,
            })
            .collect();
        FileIndex {
            dir_links,
            kinds: tree.entries.iter().map(|(p, e)| (p.clone(), kind_letter(&e.kind))).collect(),
            passwd: text(PASSWD),
            group: text(GROUP),
            os,
            packages,
            db,
        }
    }
}

type Slot = Arc<Mutex<Option<Arc<FileIndex>>>>;

/// Indexes of this process, by key: builds of many customizations on one base (a fan-out
/// after the base was pushed) share one index, computed once (the others wait for it).
static MEMO: LazyLock<Mutex<HashMap<String, Slot>>> = LazyLock::new(Default::default);
const MEMO_ENTRIES: usize = 8;

/// The file index of `manifest`'s layers: from memory, the cache, or by streaming the layers
/// once (one computation per base even when many builds ask at the same time).
pub fn file_index(
    client: &Client,
    repo: &str,
    name: &str,
    manifest: &ImageManifest,
    cache: &Cache,
    limits: Limits,
) -> Result<Arc<FileIndex>> {
    let k = key(
        std::iter::once("base-index/4".to_string()).chain(manifest.layers().iter().map(|l| l.digest().to_string()))
    );
    let slot = {
        let mut memo = MEMO.lock().unwrap_or_else(|p| p.into_inner());
        if memo.len() >= MEMO_ENTRIES && !memo.contains_key(&k) {
            memo.retain(|_, s| Arc::strong_count(s) > 1); // keep only those in use
        }
        memo.entry(k.clone()).or_default().clone()
    };
    let mut done = slot.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(ix) = done.as_ref() {
        return Ok(ix.clone());
    }
    let ix = Arc::new(compute(client, repo, name, manifest, cache, limits, &k)?);
    *done = Some(ix.clone());
    Ok(ix)
}

fn compute(
    client: &Client,
    repo: &str,
    name: &str,
    manifest: &ImageManifest,
    cache: &Cache,
    limits: Limits,
    k: &str,
) -> Result<FileIndex> {
    if let Some(ix) = cache.get_json::<FileIndex>("base-index", k) {
        return Ok(ix);
    }
    let mut tree = Tree::default();
    for layer in manifest.layers() {
        let input = format!("{name} layer {}", layer.digest());
        let bad = |e: std::io::Error| BuildError::bad_input(&input, e);
        let mut reader = open_layer(client, repo, layer, limits, name)?;
        let mut entries: Vec<Entry> = Vec::new();
        while let Some(mut e) = reader.next_entry().map_err(bad)? {
            if e.kind == Kind::File && (e.path == PASSWD || e.path == GROUP || os::wanted(&e.path)) {
                e.data = reader.read_data().map_err(bad)?;
            }
            entries.push(e);
        }
        reader.finish().map_err(bad)?;
        tree.apply_layer(entries);
    }
    let ix = FileIndex::from_tree(&tree);
    cache.put_json("base-index", k, &ix);
    Ok(ix)
}
