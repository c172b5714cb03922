//! A `FROM scratch`-style image made from a directory: one deterministic layer (sorted
//! entries, owners as given, fixed mtime), the same layer for every platform, and an index.

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

use serde::Serialize;
use serde_json::json;
use tailor_oci::{BlobSource, Client, Digest, media};
use tailor_spec::Platform;

use crate::layer::Layer;
use crate::manifest::{self, IndexEntry};
use crate::tarfs::{Entry, Kind};
use crate::{BuildError, Options, Result};

#[derive(Debug, Clone, Serialize)]
pub struct PushReport {
    pub tag: String,
    pub index_digest: Digest,
    pub manifests: BTreeMap<String, Digest>,
    pub bytes_uploaded: u64,
}

/// Entries of `dir` (relative paths, sorted), owned by `uid:gid`, with mtime `mtime`.
/// Hard-linked files become one file and links to it; sockets and devices are refused.
pub fn entries_of(dir: &Path, uid: u64, gid: u64, mtime: u64) -> Result<Vec<Entry>> {
    let mut out = Vec::new();
    let mut inodes: BTreeMap<(u64, u64), String> = BTreeMap::new();
    walk(dir, dir, uid, gid, mtime, &mut out, &mut inodes)?;
    out.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(out)
}

fn walk(
    root: &Path,
    dir: &Path,
    uid: u64,
    gid: u64,
    mtime: u64,
    out: &mut Vec<Entry>,
    inodes: &mut BTreeMap<(u64, u64), String>,
) -> Result<()> {
    let io = |p: &Path, e: std::io::Error| BuildError::bad_input(p.display().to_string(), e);
    let mut names: Vec<_> =
        fs::read_dir(dir).map_err(|e| io(dir, e))?.collect::<std::io::Result<Vec<_>>>().map_err(|e| io(dir, e))?;
    names.sort_by_key(|e| e.file_name());
    for ent in names {
        let path = ent.path();
        let rel = path.strip_prefix(root).unwrap_or(&path);
        let rel = rel
            .to_str()
            .ok_or_else(|| BuildError::bad_input(path.display().to_string(), "file name is not UTF-8"))?
            .to_string();
        let meta = fs::symlink_metadata(&path).map_err(|e| io(&path, e))?;
        let mode = meta.permissions().mode() & 0o7777;
        let ft = meta.file_type();
        let mut e = Entry::dir(&rel, mode, uid, gid, mtime);
        if ft.is_dir() {
            out.push(e);
            walk(root, &path, uid, gid, mtime, out, inodes)?;
            continue;
        } else if ft.is_symlink() {
            let target = fs::read_link(&path).map_err(|e| io(&path, e))?;
            e.kind = Kind::Symlink(target.to_string_lossy().into_owned());
        } else if ft.is_file() {
            if meta.nlink() > 1 {
                if let Some(first) = inodes.get(&(meta.dev(), meta.ino())) {
                    e.kind = Kind::Hardlink(first.clone());
                    out.push(e);
                    continue;
                }
                inodes.insert((meta.dev(), meta.ino()), rel.clone());
            }
            e.kind = Kind::File;
            e.data = fs::read(&path).map_err(|e| io(&path, e))?.into();
        } else {
            return Err(BuildError::bad_input(
                path.display().to_string(),
                "sockets, devices and FIFOs cannot go into an artifact",
            ));
        }
        out.push(e);
    }
    Ok(())
}

/// Build the image of `dir` for `platforms` and push it to `repo:tag`.
#[allow(clippy::too_many_arguments)]
pub fn push_directory(
    client: &Client,
    dir: &Path,
    repo: &str,
    tag: &str,
    platforms: &[Platform],
    uid: u64,
    gid: u64,
    mtime: u64,
    opts: &Options,
) -> Result<PushReport> {
    let each: Vec<(Platform, &Path)> = platforms.iter().map(|p| (p.clone(), dir)).collect();
    push_directories(client, &each, repo, tag, uid, gid, mtime, opts)
}

/// Build one image whose platforms each have their own directory (a multi-architecture
/// base: a root filesystem per architecture) and push it to `repo:tag`.
#[allow(clippy::too_many_arguments)]
pub fn push_directories(
    client: &Client,
    platforms: &[(Platform, &Path)],
    repo: &str,
    tag: &str,
    uid: u64,
    gid: u64,
    mtime: u64,
    opts: &Options,
) -> Result<PushReport> {
    if platforms.is_empty() {
        return Err(BuildError::invalid("--platform", "give at least one platform, e.g. linux/amd64"));
    }
    let mut uploaded = 0;
    let mut put = |digest: &Digest, bytes: std::sync::Arc<[u8]>| -> Result<()> {
        if client.blob_exists(repo, digest)?.is_none() {
            let size = bytes.len() as u64;
            client.put_blob(repo, digest, size, &BlobSource::Bytes(bytes), opts.progress.as_ref())?;
            uploaded += size;
        }
        Ok(())
    };
    // One layer per directory (platforms sharing a directory share it).
    let mut layers: Vec<(&Path, Option<Layer>)> = Vec::new();
    for (_, dir) in platforms {
        if layers.iter().any(|(d, _)| d == dir) {
            continue;
        }
        let meta = fs::metadata(dir).map_err(|e| BuildError::bad_input(dir.display().to_string(), e))?;
        if !meta.is_dir() {
            return Err(BuildError::bad_input(dir.display().to_string(), "not a directory"));
        }
        let entries = entries_of(dir, uid, gid, mtime)?;
        let layer = Layer::from_entries(&entries, opts.threads).map_err(|e| BuildError::Internal(e.to_string()))?;
        if let Some(l) = &layer {
            put(&l.digest, l.bytes()?)?;
        }
        layers.push((dir, layer));
    }
    let mut built = Vec::new();
    for (p, dir) in platforms {
        let layer = layers.iter().find(|(d, _)| d == dir).and_then(|(_, l)| l.as_ref());
        let mut cfg = json!({
            "architecture": p.architecture,
            "os": p.os,
            "config": {},
            "rootfs": { "type": "layers", "diff_ids": layer.iter().map(|l| l.diff_id.to_string()).collect::<Vec<_>>() },
            "history": [{ "created_by": "tailor artifact push", "comment": "tailor", "empty_layer": layer.is_none() }],
        });
        if let Some(v) = &p.variant {
            cfg["variant"] = json!(v);
        }
        let cfg = manifest::canonical(&cfg);
        let cfg_digest = Digest::of(&cfg);
        put(&cfg_digest, cfg.clone().into())?;
        let layers = layer.iter().map(|l| manifest::layer(&l.digest, l.size())).collect();
        let m = manifest::image_manifest(&cfg_digest, cfg.len() as u64, layers, &BTreeMap::new());
        let d = client.put_manifest(repo, Digest::of(&m).as_str(), media::OCI_MANIFEST, &m)?;
        built.push((p, d, m.len() as u64));
    }
    let entries: Vec<IndexEntry> = built
        .iter()
        .map(|(p, d, size)| IndexEntry {
            digest: d,
            size: *size,
            os: &p.os,
            architecture: &p.architecture,
            variant: p.variant.as_deref(),
        })
        .collect();
    let index = manifest::index(&entries, &BTreeMap::new());
    let index_digest = client.put_manifest(repo, Digest::of(&index).as_str(), media::OCI_INDEX, &index)?;
    client.put_manifest(repo, tag, media::OCI_INDEX, &index)?;
    Ok(PushReport {
        tag: format!("{repo}:{tag}"),
        index_digest,
        manifests: built.iter().map(|(p, d, _)| (p.to_string(), d.clone())).collect(),
        bytes_uploaded: uploaded,
    })
}
