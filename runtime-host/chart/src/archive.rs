//! Chart archives (`.tgz`): read with limits — no absolute or `..` paths, no links or devices,
//! caps on entries, sizes and decompression — and written deterministically: the entries in
//! their order with their recorded modes and mtimes, owned by 0:0, fixed gzip settings and no
//! gzip timestamp. Same archive in, same bytes out.

use std::io::{Read, Write};

use flate2::Compression;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;

use crate::error::{ChartError, Result};

/// Caps on what one archive (nested subchart archives count on their own) may hold.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_entries: usize,
    /// Unpacked bytes of all entries.
    pub max_bytes: u64,
    /// Bytes of one file.
    pub max_file: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_entries: 10_000, max_bytes: 64 << 20, max_file: 16 << 20 }
    }
}

/// One file or directory of an archive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Normalized relative path (`web/templates/deployment.yaml`), no trailing slash.
    pub path: String,
    pub dir: bool,
    pub mode: u32,
    pub mtime: u64,
    pub data: Vec<u8>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Archive {
    pub entries: Vec<Entry>,
}

impl Archive {
    pub fn get(&self, path: &str) -> Option<&Entry> {
        self.entries.iter().find(|e| e.path == path && !e.dir)
    }

    pub fn get_mut(&mut self, path: &str) -> Option<&mut Entry> {
        self.entries.iter_mut().find(|e| e.path == path && !e.dir)
    }

    /// The top directory every chart archive has (`web/` of `web/Chart.yaml`).
    pub fn root(&self) -> Option<&str> {
        self.entries.first().map(|e| e.path.split('/').next().unwrap_or_default())
    }
}

/// `a/./b` → `a/b`; None for absolute paths, `..`, empty names or NUL.
fn normalize(raw: &str) -> Option<String> {
    if raw.starts_with('/') || raw.contains('\0') || raw.contains('\\') {
        return None;
    }
    let parts: Vec<&str> = raw.split('/').filter(|p| !p.is_empty() && *p != ".").collect();
    if parts.is_empty() || parts.contains(&"..") {
        return None;
    }
    Some(parts.join("/"))
}

/// Reads a chart archive; `what` names it in errors.
pub fn read(tgz: &[u8], what: &str, limits: Limits) -> Result<Archive> {
    let bad = |m: String| ChartError::BadArchive { archive: what.to_owned(), problem: m };
    if !tgz.starts_with(&[0x1f, 0x8b]) {
        return Err(bad("not a tar.gz archive (no gzip header)".to_owned()));
    }
    // Decompression is capped: a small archive may expand enormously.
    let cap = limits.max_bytes + limits.max_entries as u64 * 1024 + 1024 * 1024;
    let mut tar = tar::Archive::new(GzDecoder::new(tgz).take(cap));
    let mut archive = Archive::default();
    let mut total: u64 = 0;
    let entries = tar.entries().map_err(|e| bad(format!("not a tar.gz archive ({e})")))?;
    for entry in entries {
        let mut entry = entry.map_err(|e| bad(format!("unreadable entry ({e})")))?;
        let raw = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let kind = entry.header().entry_type();
        if kind.is_pax_global_extensions() || kind.is_pax_local_extensions() || kind.is_gnu_longname() {
            continue;
        }
        let path = normalize(&raw).ok_or_else(|| {
            bad(format!("entry {raw:?} has an absolute or `..` path: chart archives hold relative paths only"))
        })?;
        let dir = kind.is_dir();
        if kind.is_symlink() || kind.is_hard_link() {
            return Err(bad(format!("entry {path} is a link: links are not allowed in chart archives")));
        }
        if !dir && !kind.is_file() {
            return Err(bad(format!("entry {path} is not a file or directory ({kind:?})")));
        }
        if archive.entries.len() >= limits.max_entries {
            return Err(bad(format!("more than {} entries", limits.max_entries)));
        }
        let size = entry.header().size().unwrap_or(0);
        if size > limits.max_file {
            return Err(bad(format!("entry {path} has {size} bytes; at most {} per file", limits.max_file)));
        }
        total += size;
        if total > limits.max_bytes {
            return Err(bad(format!("more than {} bytes unpacked", limits.max_bytes)));
        }
        let mut data = Vec::with_capacity(size as usize);
        if !dir {
            entry.read_to_end(&mut data).map_err(|e| bad(format!("entry {path}: {e}")))?;
        }
        let mode = entry.header().mode().unwrap_or(0o644) & 0o7777;
        let mtime = entry.header().mtime().unwrap_or(0);
        if archive.entries.iter().any(|e| e.path == path) {
            return Err(bad(format!("entry {path} appears twice")));
        }
        archive.entries.push(Entry { path, dir, mode, mtime, data });
    }
    if archive.entries.is_empty() {
        return Err(bad("the archive is empty".to_owned()));
    }
    let root = archive.root().unwrap_or_default().to_owned();
    if let Some(e) = archive.entries.iter().find(|e| e.path.split('/').next() != Some(root.as_str())) {
        return Err(bad(format!("entry {} is outside the chart's directory {root}/", e.path)));
    }
    Ok(archive)
}

/// Writes `archive` as a deterministic `.tgz`.
pub fn write(archive: &Archive) -> Result<Vec<u8>> {
    let io = |e: std::io::Error| ChartError::Internal(format!("writing a chart archive: {e}"));
    let gz = GzEncoder::new(Vec::new(), Compression::new(9));
    let mut tar = tar::Builder::new(gz);
    tar.mode(tar::HeaderMode::Deterministic);
    for e in &archive.entries {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(if e.dir { tar::EntryType::Directory } else { tar::EntryType::Regular });
        h.set_mode(e.mode);
        h.set_mtime(e.mtime);
        h.set_uid(0);
        h.set_gid(0);
        h.set_size(if e.dir { 0 } else { e.data.len() as u64 });
        let path = if e.dir { format!("{}/", e.path) } else { e.path.clone() };
        tar.append_data(&mut h, &path, e.data.as_slice()).map_err(io)?;
    }
    let gz = tar.into_inner().map_err(io)?;
    let mut out = gz.finish().map_err(io)?;
    out.flush().map_err(io)?;
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    type Files<'a> = &'a [(&'a str, tar::EntryType, &'a [u8])];

    fn tgz(entries: Files) -> Vec<u8> {
        let mut tar = tar::Builder::new(GzEncoder::new(Vec::new(), Compression::default()));
        for (path, kind, data) in entries {
            let mut h = tar::Header::new_gnu();
            h.set_entry_type(*kind);
            h.set_size(data.len() as u64);
            h.set_mode(0o644);
            if *kind == tar::EntryType::Symlink {
                h.set_link_name("../../etc/passwd").unwrap();
            }
            // Bypass the builder's path checks: hostile archives carry any bytes.
            let name = path.as_bytes();
            h.as_old_mut().name[..name.len()].copy_from_slice(name);
            h.set_cksum();
            tar.append(&h, *data).unwrap();
        }
        tar.into_inner().unwrap().finish().unwrap()
    }

    #[test]
    fn round_trips_deterministically() {
        let src = tgz(&[
            ("web/Chart.yaml", tar::EntryType::Regular, b"name: web\nversion: 1.0.0\n"),
            ("web/templates/a.yaml", tar::EntryType::Regular, b"kind: X\n"),
            ("./web/values.yaml", tar::EntryType::Regular, b"image: a:1\n"),
        ]);
        let a = read(&src, "web-1.0.0.tgz", Limits::default()).unwrap();
        assert_eq!(a.root(), Some("web"));
        assert_eq!(a.get("web/values.yaml").unwrap().data, b"image: a:1\n");
        let out = write(&a).unwrap();
        assert_eq!(out, write(&a).unwrap(), "same archive, same bytes");
        assert_eq!(read(&out, "x", Limits::default()).unwrap(), a);
    }

    #[test]
    fn hostile_archives_are_refused_by_name() {
        let cases: [(Files, &str); 6] = [
            (&[("web/../../etc/passwd", tar::EntryType::Regular, b"x")], "`..` path"),
            (&[("/etc/passwd", tar::EntryType::Regular, b"x")], "absolute"),
            (&[("web/link", tar::EntryType::Symlink, b"")], "is a link"),
            (&[("web/fifo", tar::EntryType::Fifo, b"")], "not a file or directory"),
            (
                &[("web/a", tar::EntryType::Regular, b"x"), ("other/b", tar::EntryType::Regular, b"y")],
                "outside the chart",
            ),
            (&[("web/a", tar::EntryType::Regular, b"x"), ("web/a", tar::EntryType::Regular, b"y")], "twice"),
        ];
        for (entries, expected) in cases {
            let e = read(&tgz(entries), "bad.tgz", Limits::default()).unwrap_err().to_string();
            assert!(e.contains("bad.tgz") && e.contains(expected), "{expected}: {e}");
        }
        assert!(read(b"not gzip", "x.tgz", Limits::default()).unwrap_err().to_string().contains("x.tgz"));
        // A bomb: 64 MiB of zeros in a tiny archive, over a 1 MiB cap.
        let big = vec![0u8; 64 << 20];
        let bomb = tgz(&[("web/zeros", tar::EntryType::Regular, &big)]);
        assert!(bomb.len() < 200_000);
        let limits = Limits { max_file: 1 << 20, ..Limits::default() };
        assert!(read(&bomb, "bomb.tgz", limits).unwrap_err().to_string().contains("at most 1048576 per file"));
        let many: Vec<(String, tar::EntryType, &[u8])> =
            (0..20).map(|i| (format!("web/f{i}"), tar::EntryType::Regular, &b"x"[..])).collect();
        let many: Vec<(&str, tar::EntryType, &[u8])> = many.iter().map(|(p, k, d)| (p.as_str(), *k, *d)).collect();
        let limits = Limits { max_entries: 10, ..Limits::default() };
        assert!(read(&tgz(&many), "many.tgz", limits).unwrap_err().to_string().contains("more than 10 entries"));
    }
}
