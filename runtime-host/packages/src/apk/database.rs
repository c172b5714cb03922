//! apk's database after installing packages without running anything: `/lib/apk/db/installed`
//! (the base's entries kept byte for byte, each new package's index entry followed by its files
//! — `F:` directories, `R:` entries with `a:` ownership and mode when not the default and `Z:`
//! checksums, as apk-tools writes them) and `/etc/apk/world` (the requested names added, sorted).
//! Deterministic bytes.

use std::collections::{BTreeMap, BTreeSet};

use sha1::{Digest as _, Sha1};

use super::{Checksum, Package};

/// What one entry of a package's data is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileKind {
    Dir,
    File,
    /// A symlink with its target (apk checksums the target text).
    Symlink(String),
}

/// One entry of a package's data tar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApkFile {
    /// Relative path, no leading `/` (`usr/bin/curl`).
    pub path: String,
    pub kind: FileKind,
    pub mode: u32,
    pub uid: u64,
    pub gid: u64,
    /// SHA-1 of a regular file's content.
    pub sha1: Option<[u8; 20]>,
}

/// One package being installed: its index entry and its files.
#[derive(Debug, Clone)]
pub struct UnpackedApk<'a> {
    pub package: &'a Package,
    pub files: Vec<ApkFile>,
}

/// The database files to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApkDatabase {
    /// `/lib/apk/db/installed`.
    pub installed: String,
    /// `/etc/apk/world`.
    pub world: String,
}

/// The base's `installed` and `world` with `new` installed and `requested` added to the world.
pub fn install_apk(base_installed: &str, base_world: &str, new: &[UnpackedApk<'_>], requested: &[&str]) -> ApkDatabase {
    let mut installed = base_installed.trim_end_matches('\n').to_owned();
    for u in new {
        if !installed.is_empty() {
            installed.push_str("\n\n");
        }
        installed.push_str(&entry(u));
    }
    if !installed.is_empty() {
        installed.push_str("\n\n");
    }
    let world: BTreeSet<&str> =
        base_world.split_whitespace().chain(requested.iter().copied()).filter(|w| !w.is_empty()).collect();
    let mut world_text = world.into_iter().collect::<Vec<_>>().join("\n");
    world_text.push('\n');
    ApkDatabase { installed, world: world_text }
}

fn line(out: &mut String, key: char, value: impl std::fmt::Display) {
    let value = value.to_string();
    if !value.is_empty() {
        out.push(key);
        out.push(':');
        out.push_str(&value);
        out.push('\n');
    }
}

fn joined<T: std::fmt::Display>(items: &[T]) -> String {
    items.iter().map(ToString::to_string).collect::<Vec<_>>().join(" ")
}

/// One package's stanza (without the blank line after it).
fn entry(u: &UnpackedApk<'_>) -> String {
    let p = u.package;
    let mut out = String::new();
    line(&mut out, 'C', p.checksum);
    line(&mut out, 'P', &p.name);
    line(&mut out, 'V', &p.version);
    line(&mut out, 'A', p.arch.as_deref().unwrap_or(""));
    line(&mut out, 'S', p.size.map(|s| s.to_string()).unwrap_or_default());
    line(&mut out, 'I', p.installed_size.map(|s| s.to_string()).unwrap_or_default());
    line(&mut out, 'T', &p.description);
    line(&mut out, 'U', p.url.as_deref().unwrap_or(""));
    line(&mut out, 'L', p.license.as_deref().unwrap_or(""));
    line(&mut out, 'o', p.origin.as_deref().unwrap_or(""));
    line(&mut out, 'm', p.maintainer.as_deref().unwrap_or(""));
    line(&mut out, 't', p.build_time.map(|s| s.to_string()).unwrap_or_default());
    line(&mut out, 'c', p.commit.as_deref().unwrap_or(""));
    line(&mut out, 'k', p.provider_priority.map(|s| s.to_string()).unwrap_or_default());
    line(&mut out, 'D', joined(&p.depends));
    line(&mut out, 'p', joined(&p.provides));
    line(&mut out, 'i', joined(&p.install_if));
    // Files grouped under their directory, directories in path order.
    let mut dirs: BTreeMap<&str, (Option<&ApkFile>, Vec<&ApkFile>)> = BTreeMap::new();
    for f in &u.files {
        match f.kind {
            FileKind::Dir => dirs.entry(f.path.trim_end_matches('/')).or_default().0 = Some(f),
            _ => {
                let dir = f.path.rsplit_once('/').map_or("", |(d, _)| d);
                dirs.entry(dir).or_default().1.push(f);
            }
        }
    }
    for (dir, (meta, files)) in dirs {
        out.push_str(&format!("F:{dir}\n"));
        if let Some(d) = meta.filter(|d| (d.uid, d.gid, d.mode & 0o7777) != (0, 0, 0o755)) {
            out.push_str(&format!("M:{}:{}:{:o}\n", d.uid, d.gid, d.mode & 0o7777));
        }
        let mut files = files;
        files.sort_by(|a, b| a.path.cmp(&b.path));
        for f in files {
            let name = f.path.rsplit_once('/').map_or(f.path.as_str(), |(_, n)| n);
            out.push_str(&format!("R:{name}\n"));
            let default_mode = if matches!(f.kind, FileKind::Symlink(_)) { 0o777 } else { 0o644 };
            if (f.uid, f.gid, f.mode & 0o7777) != (0, 0, default_mode) {
                out.push_str(&format!("a:{}:{}:{:o}\n", f.uid, f.gid, f.mode & 0o7777));
            }
            let sum = match &f.kind {
                FileKind::Symlink(target) => Some(Sha1::digest(target.as_bytes()).into()),
                _ => f.sha1,
            };
            if let Some(s) = sum {
                out.push_str(&format!("Z:{}\n", Checksum::Sha1(s)));
            }
        }
    }
    out.trim_end_matches('\n').to_owned()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::apk::parse_index;

    #[test]
    fn entries_files_and_world() {
        let index = parse_index(
            "C:Q1AAAAAAAAAAAAAAAAAAAAAAAAAAA=\nP:curl\nV:8.9.1-r0\nA:x86_64\nS:10\nI:20\nT:URL retrieval utility\n\
             L:curl\no:curl\nD:so:libcurl.so.4 so:libc.musl-x86_64.so.1\np:cmd:curl=8.9.1-r0\n\n",
        )
        .unwrap();
        let files = vec![
            ApkFile { path: "usr".into(), kind: FileKind::Dir, mode: 0o755, uid: 0, gid: 0, sha1: None },
            ApkFile { path: "usr/bin".into(), kind: FileKind::Dir, mode: 0o755, uid: 0, gid: 0, sha1: None },
            ApkFile {
                path: "usr/bin/curl".into(),
                kind: FileKind::File,
                mode: 0o755,
                uid: 0,
                gid: 0,
                sha1: Some(Sha1::digest(b"curl binary").into()),
            },
            ApkFile {
                path: "usr/bin/curl-config".into(),
                kind: FileKind::Symlink("curl".into()),
                mode: 0o777,
                uid: 0,
                gid: 0,
                sha1: None,
            },
            ApkFile { path: "var/cache/curl".into(), kind: FileKind::Dir, mode: 0o700, uid: 100, gid: 101, sha1: None },
        ];
        let base = "C:Q1AAAAAAAAAAAAAAAAAAAAAAAAAAE=\nP:musl\nV:1.2.5-r0\nF:lib\nR:ld-musl-x86_64.so.1\n\n";
        let db =
            install_apk(base, "alpine-baselayout\nbusybox\n", &[UnpackedApk { package: &index[0], files }], &["curl"]);
        assert!(db.installed.starts_with(base), "the base's entries stay as they were");
        let curl = &db.installed[base.len()..];
        assert!(
            curl.starts_with("C:Q1AAAAAAAAAAAAAAAAAAAAAAAAAAA=\nP:curl\nV:8.9.1-r0\nA:x86_64\nS:10\nI:20\n"),
            "{curl}"
        );
        assert!(curl.contains("D:so:libcurl.so.4 so:libc.musl-x86_64.so.1\np:cmd:curl=8.9.1-r0\n"), "{curl}");
        assert!(curl.contains("F:usr\nF:usr/bin\nR:curl\na:0:0:755\nZ:Q1"), "{curl}");
        assert!(curl.contains("R:curl-config\nZ:Q1"), "a symlink has no a: line at 0777: {curl}");
        assert!(curl.contains("F:var/cache/curl\nM:100:101:700\n"), "{curl}");
        assert!(db.installed.ends_with("\n\n"));
        assert_eq!(db.world, "alpine-baselayout\nbusybox\ncurl\n");
        // What was written is an index apk-tools' format reads back: both packages.
        let back = parse_index(&db.installed).unwrap();
        assert_eq!(back.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(), ["musl", "curl"]);
        assert_eq!(back[1].provides, index[0].provides);
    }
}
