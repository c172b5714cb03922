//! Layer filesystems as lists of tar entries: a strict reader, a deterministic writer.

mod read;
mod write;

use std::sync::Arc;

pub use read::{Limits, TarReader};
pub use write::write_tar;

/// What kind of filesystem object an entry is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    File,
    Dir,
    /// Target exactly as written in the archive.
    Symlink(String),
    /// Normalized path (like [`Entry::path`]) of the entry this one is a hard link to.
    Hardlink(String),
    Char(u32, u32),
    Block(u32, u32),
    Fifo,
}

/// One filesystem entry of a layer. `path` is relative and normalized: no leading `/` or
/// `./`, no trailing `/`, no `.`/`..` or empty segments (`etc/ssl/certs`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub path: String,
    pub kind: Kind,
    /// Permission bits, including setuid/setgid/sticky (`& 0o7777`).
    pub mode: u32,
    pub uid: u64,
    pub gid: u64,
    pub mtime: u64,
    /// Extended attributes (PAX `SCHILY.xattr.*`), sorted by name.
    pub xattrs: Vec<(String, Vec<u8>)>,
    /// Content of regular files; empty for every other kind.
    pub data: Arc<[u8]>,
}

impl Entry {
    pub fn dir(path: &str, mode: u32, uid: u64, gid: u64, mtime: u64) -> Entry {
        Entry { path: path.to_string(), kind: Kind::Dir, mode, uid, gid, mtime, xattrs: Vec::new(), data: empty() }
    }

    pub fn file(path: &str, data: impl Into<Arc<[u8]>>, mode: u32, uid: u64, gid: u64, mtime: u64) -> Entry {
        Entry { path: path.to_string(), kind: Kind::File, mode, uid, gid, mtime, xattrs: Vec::new(), data: data.into() }
    }

    pub fn is_dir(&self) -> bool {
        self.kind == Kind::Dir
    }
}

pub(crate) fn empty() -> Arc<[u8]> {
    Arc::from(Vec::new())
}

/// Normalize a path found in a tar header. `Err` names the problem (escapes, NUL).
pub fn normalize_tar_path(raw: &str) -> Result<String, String> {
    if raw.contains('\0') {
        return Err("contains a NUL byte".into());
    }
    let mut parts = Vec::new();
    for seg in raw.split('/') {
        match seg {
            "" | "." => {}
            ".." => return Err("has a `..` segment (escapes the layer root)".into()),
            s => parts.push(s),
        }
    }
    Ok(parts.join("/"))
}

/// Whether `path` equals `ancestor` or lies below it (whole segments). `""` is the root.
pub fn is_under(path: &str, ancestor: &str) -> bool {
    ancestor.is_empty()
        || path == ancestor
        || (path.len() > ancestor.len() && path.starts_with(ancestor) && path.as_bytes()[ancestor.len()] == b'/')
}

/// Every proper ancestor of `path`, outermost first (`a/b/c` → `a`, `a/b`).
pub fn ancestors(path: &str) -> impl Iterator<Item = &str> {
    path.match_indices('/').map(move |(i, _)| &path[..i])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_and_rejects_escapes() {
        assert_eq!(normalize_tar_path("./etc//passwd").unwrap(), "etc/passwd");
        assert_eq!(normalize_tar_path("/usr/bin/").unwrap(), "usr/bin");
        assert_eq!(normalize_tar_path("./").unwrap(), "");
        assert!(normalize_tar_path("a/../../etc/shadow").unwrap_err().contains(".."));
    }

    #[test]
    fn under_is_by_segment() {
        assert!(is_under("opt/app/x", "opt/app"));
        assert!(is_under("opt/app", "opt/app"));
        assert!(!is_under("opt/apple", "opt/app"));
        assert!(is_under("anything", ""));
        assert_eq!(ancestors("a/b/c").collect::<Vec<_>>(), vec!["a", "a/b"]);
    }
}
