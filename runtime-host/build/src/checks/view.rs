//! [`LayeredView`]: an image as its stack of layers — the base's (read from the registry or
//! the cache) and those the build made (in memory) — merged with whiteouts applied, read only
//! when an extension asks. The base's part is kept by layer digests (memory and cache), so a
//! warm build pays only for its own layers. Paths are normalized; `..` is refused; symlinks
//! are followed inside the image only; reads are capped.

use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::sync::{Arc, LazyLock, Mutex, OnceLock};

use oci_spec::image::Descriptor;
use serde::{Deserialize, Serialize};
use tailor_oci::Client;

use super::{FileInfo, FileKind, ImageView, MAX_FILES_PER_CALL, MAX_READ};
use crate::cache::Cache;
use crate::compress::gunzip;
use crate::flatten::{OPAQUE, WHITEOUT_PREFIX};
use crate::layer::Layer;
use crate::resolve::open_layer;
use crate::tarfs::{Kind, Limits, TarReader};

/// One layer of the stack.
#[derive(Clone)]
pub enum Source {
    /// A layer of a registry image (the base, or an image checked as it is).
    Remote(Box<Descriptor>),
    /// A layer the build made.
    Made(Layer),
}

/// One path of the merged tree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Node {
    kind: char,
    mode: u32,
    uid: u32,
    gid: u32,
    size: u64,
    link: Option<String>,
    /// Which layer of the stack holds its content.
    layer: u32,
}

type Merged = BTreeMap<String, Node>;

/// Merged trees of remote layer stacks, by key, in this process (a few: builds of a base share one).
static MEMO: LazyLock<Mutex<HashMap<String, Arc<Merged>>>> = LazyLock::new(Default::default);
const MEMO_ENTRIES: usize = 4;

pub struct LayeredView<'c> {
    client: &'c Client,
    cache: Cache,
    limits: Limits,
    /// The image's repository (remote layers are read from it) and name (for messages).
    repo: String,
    name: String,
    layers: Vec<Source>,
    config: Arc<[u8]>,
    packages: Vec<(String, String)>,
    merged: OnceLock<Result<Arc<Merged>, String>>,
}

impl<'c> LayeredView<'c> {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        client: &'c Client,
        cache: Cache,
        limits: Limits,
        repo: &str,
        name: &str,
        layers: Vec<Source>,
        config: Arc<[u8]>,
        packages: Vec<(String, String)>,
    ) -> LayeredView<'c> {
        LayeredView {
            client,
            cache,
            limits,
            repo: repo.into(),
            name: name.into(),
            layers,
            config,
            packages,
            merged: OnceLock::new(),
        }
    }

    fn reader(&self, i: usize) -> Result<TarReader<Box<dyn Read + Send>>, String> {
        match &self.layers[i] {
            Source::Remote(d) => {
                open_layer(self.client, &self.repo, d, self.limits, &self.name).map_err(|e| e.to_string())
            }
            Source::Made(l) => {
                let bytes = l.bytes().map_err(|e| e.to_string())?;
                let r: Box<dyn Read + Send> = Box::new(gunzip(std::io::Cursor::new(bytes)));
                Ok(TarReader::new(r, self.limits))
            }
        }
    }

    /// The entries of layer `i`: path, node, whiteouts as they are (applied by [`apply`]).
    fn layer_nodes(&self, i: usize) -> Result<Vec<(String, Node)>, String> {
        let what = |e: std::io::Error| format!("{} layer {i}: {e}", self.name);
        let mut r = self.reader(i)?;
        let mut out = Vec::new();
        while let Some(e) = r.next_entry().map_err(what)? {
            let (kind, link) = match &e.kind {
                Kind::File => ('f', None),
                Kind::Dir => ('d', None),
                Kind::Symlink(t) => ('l', Some(t.clone())),
                Kind::Hardlink(t) => ('h', Some(t.clone())),
                _ => ('o', None),
            };
            let size = if kind == 'f' { r.data_size() } else { 0 };
            let node = Node { kind, mode: e.mode, uid: e.uid as u32, gid: e.gid as u32, size, link, layer: i as u32 };
            out.push((e.path.clone(), node));
        }
        r.finish().map_err(what)?;
        Ok(out)
    }

    fn merged(&self) -> Result<Arc<Merged>, String> {
        self.merged.get_or_init(|| self.merge()).clone()
    }

    fn merge(&self) -> Result<Arc<Merged>, String> {
        // The remote prefix (the base) is shared by every build on it.
        let remote = self.layers.iter().take_while(|l| matches!(l, Source::Remote(_))).count();
        let key = std::iter::once("view-base/2".to_string())
            .chain(self.layers[..remote].iter().filter_map(|l| match l {
                Source::Remote(d) => Some(d.digest().to_string()),
                Source::Made(_) => None,
            }))
            .collect::<Vec<_>>()
            .join("\n");
        let key = crate::cache::key([key.as_str()]);
        let base = {
            let memo = MEMO.lock().unwrap_or_else(|p| p.into_inner()).get(&key).cloned();
            match memo {
                Some(m) => m,
                None => {
                    // Kept as a sorted list in binary: a map is built from it in bulk, not key by key.
                    let m = match self.cache.get_bin::<Vec<(String, Node)>>("view-base", &key) {
                        Some(sorted) => Arc::new(sorted.into_iter().collect::<Merged>()),
                        None => {
                            let mut m = Merged::new();
                            for i in 0..remote {
                                apply(&mut m, self.layer_nodes(i)?);
                            }
                            self.cache.put_bin("view-base", &key, &m.iter().collect::<Vec<_>>());
                            Arc::new(m)
                        }
                    };
                    let mut memo = MEMO.lock().unwrap_or_else(|p| p.into_inner());
                    if memo.len() >= MEMO_ENTRIES {
                        memo.clear();
                    }
                    memo.insert(key, m.clone());
                    m
                }
            }
        };
        if remote == self.layers.len() {
            return Ok(base);
        }
        let mut m = (*base).clone();
        for i in remote..self.layers.len() {
            apply(&mut m, self.made_nodes(i)?);
        }
        Ok(Arc::new(m))
    }

    /// The entries of made layer `i`, kept in the cache by the layer's digest: a warm build
    /// reuses most of its layers, and listing one means inflating all of it.
    fn made_nodes(&self, i: usize) -> Result<Vec<(String, Node)>, String> {
        let Source::Made(l) = &self.layers[i] else { return self.layer_nodes(i) };
        let key = crate::cache::key(["view-layer/1", l.digest.as_str()]);
        if let Some(mut nodes) = self.cache.get_bin::<Vec<(String, Node)>>("view-layer", &key) {
            for (_, n) in &mut nodes {
                n.layer = i as u32;
            }
            return Ok(nodes);
        }
        let nodes = self.layer_nodes(i)?;
        self.cache.put_bin("view-layer", &key, &nodes);
        Ok(nodes)
    }

    /// `path` with every symlink in it followed, inside the image: the merged tree's key of
    /// what it names (a hard link: of its target).
    fn resolve(&self, merged: &Merged, path: &str) -> Result<String, String> {
        let mut pending: Vec<String> = components(path)?.into_iter().rev().collect();
        let mut done: Vec<String> = Vec::new();
        let mut hops = 0;
        while let Some(c) = pending.pop() {
            match c.as_str() {
                "." => continue,
                ".." => {
                    done.pop(); // from a link target: clamped at the root, as in a chroot
                    continue;
                }
                _ => {}
            }
            done.push(c);
            let here = done.join("/");
            let Some(node) = merged.get(&here) else {
                if pending.is_empty() {
                    break;
                }
                return Err(format!("/{path}: no such directory /{here}"));
            };
            if node.kind == 'l' {
                hops += 1;
                if hops > 40 {
                    return Err(format!("/{path}: too many levels of symbolic links"));
                }
                let target = node.link.clone().unwrap_or_default();
                done.pop();
                if target.starts_with('/') {
                    done.clear();
                }
                pending.extend(target.split('/').filter(|s| !s.is_empty()).map(str::to_owned).rev());
            }
        }
        let mut key = done.join("/");
        for _ in 0..64 {
            match merged.get(&key) {
                Some(n) if n.kind == 'h' => key = n.link.clone().unwrap_or_default(),
                _ => break,
            }
        }
        Ok(key)
    }
}

/// A path's components, normalized: no leading `/`, no empty or `.` parts; `..` refused.
fn components(path: &str) -> Result<Vec<String>, String> {
    if path.contains('\0') {
        return Err("a path has no NUL bytes".into());
    }
    let mut out = Vec::new();
    for c in path.split('/') {
        match c {
            "" | "." => {}
            ".." => return Err(format!("{path}: `..` is not allowed: name paths from the image's root")),
            c => out.push(c.to_owned()),
        }
    }
    Ok(out)
}

/// Applies one layer's nodes on `m`: whiteouts and opaque markers act on what is below, then
/// the layer's paths replace what they name (a non-directory replaces a whole subtree).
fn apply(m: &mut Merged, layer: Vec<(String, Node)>) {
    let mut adds = Vec::with_capacity(layer.len());
    for (path, node) in layer {
        let (dir, name) = path.rsplit_once('/').unwrap_or(("", path.as_str()));
        if name == OPAQUE {
            remove_below(m, dir);
        } else if let Some(victim) = name.strip_prefix(WHITEOUT_PREFIX) {
            let victim = if dir.is_empty() { victim.to_owned() } else { format!("{dir}/{victim}") };
            m.remove(&victim);
            remove_below(m, &victim);
        } else if !path.is_empty() {
            adds.push((path, node));
        }
    }
    for (path, node) in adds {
        if node.kind != 'd' {
            remove_below(m, &path);
        }
        m.insert(path, node);
    }
}

fn remove_below(m: &mut Merged, path: &str) {
    let doomed: Vec<String> = if path.is_empty() {
        m.keys().cloned().collect()
    } else {
        let start = format!("{path}/");
        m.range(start.clone()..).take_while(|(k, _)| k.starts_with(&start)).map(|(k, _)| k.clone()).collect()
    };
    for k in doomed {
        m.remove(&k);
    }
}

fn info(path: &str, n: &Node) -> FileInfo {
    let kind = match n.kind {
        'f' => FileKind::File,
        'd' => FileKind::Directory,
        'l' => FileKind::Symlink,
        'h' => FileKind::Hardlink,
        _ => FileKind::Other,
    };
    FileInfo {
        path: path.to_owned(),
        kind,
        mode: n.mode,
        uid: n.uid,
        gid: n.gid,
        size: n.size,
        link_target: n.link.clone(),
    }
}

impl ImageView for LayeredView<'_> {
    fn config_json(&self) -> String {
        String::from_utf8_lossy(&self.config).into_owned()
    }

    fn packages(&self) -> Vec<(String, String)> {
        self.packages.clone()
    }

    fn files(&self, prefix: &str, after: Option<&str>, limit: u32) -> Result<Vec<FileInfo>, String> {
        let merged = self.merged()?;
        let prefix = components(prefix)?.join("/");
        let limit = limit.min(MAX_FILES_PER_CALL) as usize;
        let under = |p: &str| prefix.is_empty() || p == prefix || p.starts_with(&format!("{prefix}/"));
        let start = match after {
            Some(a) => {
                let a = components(a)?.join("/");
                merged.range::<String, _>((std::ops::Bound::Excluded(a), std::ops::Bound::Unbounded))
            }
            None => merged.range::<String, _>(prefix.clone()..),
        };
        Ok(start
            .skip_while(|(p, _)| !under(p) && p.as_str() < prefix.as_str())
            .take_while(|(p, _)| under(p) || p.as_str() < prefix.as_str())
            .filter(|(p, _)| under(p))
            .take(limit)
            .map(|(p, n)| info(p, n))
            .collect())
    }

    fn read(&self, path: &str, offset: u64, length: u32) -> Result<Vec<u8>, String> {
        let merged = self.merged()?;
        let key = self.resolve(&merged, path)?;
        let node = merged.get(&key).ok_or_else(|| format!("/{path}: no such file"))?;
        if node.kind != 'f' {
            return Err(format!("/{path}: not a regular file"));
        }
        let length = length.min(MAX_READ) as u64;
        if offset >= node.size || length == 0 {
            return Ok(Vec::new());
        }
        let mut r = self.reader(node.layer as usize)?;
        let what = |e: std::io::Error| format!("/{path}: {e}");
        while let Some(e) = r.next_entry().map_err(what)? {
            if e.path == key && e.kind == Kind::File {
                return r.read_data_range(offset, length).map_err(what);
            }
        }
        Err(format!("/{path}: not found in its layer"))
    }
}

#[cfg(test)]
mod tests;
