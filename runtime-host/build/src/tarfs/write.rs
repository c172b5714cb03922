//! Deterministic tar writing: entries in the order given, GNU headers, no user/group names,
//! GNU long-name records for long paths, PAX records only for extended attributes.

use std::io::{self, Read};
use std::path::Path;

use tar::{Builder, EntryType, Header};

use super::{Entry, Kind};

/// Write `entries` (already in their final order) as a complete tar archive.
pub fn write_tar(entries: &[Entry]) -> io::Result<Vec<u8>> {
    let cap = entries.iter().map(|e| 1024 + e.data.len().div_ceil(512) * 512).sum::<usize>() + 1024;
    let mut b = Builder::new(Vec::with_capacity(cap));
    for e in entries {
        if !e.xattrs.is_empty() {
            let records: Vec<(String, &[u8])> =
                e.xattrs.iter().map(|(k, v)| (format!("SCHILY.xattr.{k}"), v.as_slice())).collect();
            b.append_pax_extensions(records.iter().map(|(k, v)| (k.as_str(), *v)))?;
        }
        let mut h = Header::new_gnu();
        h.set_mode(e.mode & 0o7777);
        h.set_uid(e.uid);
        h.set_gid(e.gid);
        h.set_mtime(e.mtime);
        h.set_size(0);
        let path = Path::new(&e.path);
        match &e.kind {
            Kind::File => {
                h.set_entry_type(EntryType::Regular);
                h.set_size(e.data.len() as u64);
                b.append_data(&mut h, path, &e.data[..])?;
            }
            // The layer root (`./`), which the tar crate will not name: written by hand.
            Kind::Dir if e.path.is_empty() => {
                h.set_entry_type(EntryType::Directory);
                h.as_old_mut().name[..2].copy_from_slice(b"./");
                h.set_cksum();
                b.append(&h, io::empty())?;
            }
            Kind::Dir => {
                h.set_entry_type(EntryType::Directory);
                b.append_data(&mut h, path, io::empty())?;
            }
            // Written exactly as read (`./x`, `a//b` and a trailing `/` included): the tar
            // crate would normalize the target.
            Kind::Symlink(target) => {
                h.set_entry_type(EntryType::Symlink);
                let bytes = target.as_bytes();
                let field = h.as_old().linkname.len();
                if bytes.len() > field {
                    let mut long = Header::new_gnu();
                    long.as_old_mut().name[..13].copy_from_slice(b"././@LongLink");
                    long.set_mode(0o644);
                    long.set_entry_type(EntryType::GNULongLink);
                    long.set_size(bytes.len() as u64 + 1);
                    long.set_cksum();
                    b.append(&long, bytes.chain(&[0u8][..]))?;
                }
                h.set_link_name_literal(&bytes[..bytes.len().min(field)])?;
                b.append_data(&mut h, path, io::empty())?;
            }
            Kind::Hardlink(target) => {
                h.set_entry_type(EntryType::Link);
                b.append_link(&mut h, path, target)?;
            }
            Kind::Char(major, minor) | Kind::Block(major, minor) => {
                h.set_entry_type(if matches!(e.kind, Kind::Char(..)) { EntryType::Char } else { EntryType::Block });
                h.set_device_major(*major)?;
                h.set_device_minor(*minor)?;
                b.append_data(&mut h, path, io::empty())?;
            }
            Kind::Fifo => {
                h.set_entry_type(EntryType::Fifo);
                b.append_data(&mut h, path, io::empty())?;
            }
        }
    }
    b.into_inner()
}

#[cfg(test)]
mod tests {
    use super::super::{Limits, TarReader};
    use super::*;

    fn sample() -> Vec<Entry> {
        let long = format!("opt/{}/file", "d".repeat(150));
        let mut x = Entry::file("usr/bin/tool", b"#!/bin/sh\n".to_vec(), 0o4755, 0, 50, 1_700_000_000);
        x.xattrs = vec![("security.capability".into(), vec![1, 2, 3])];
        vec![
            Entry::dir("etc", 0o755, 0, 0, 1),
            Entry::file("etc/hosts", b"127.0.0.1 localhost\n".to_vec(), 0o644, 0, 0, 1),
            x,
            Entry { kind: Kind::Symlink("../hosts".into()), ..Entry::file("etc/alias", Vec::new(), 0o777, 0, 0, 1) },
            // Found by fuzzing: symlink targets are written as read, not normalized.
            Entry { kind: Kind::Symlink(".././b//c/".into()), ..Entry::file("etc/odd", Vec::new(), 0o777, 0, 0, 1) },
            Entry {
                kind: Kind::Symlink(format!("./{}/x", "t".repeat(120))),
                ..Entry::file("etc/far", Vec::new(), 0o777, 0, 0, 1)
            },
            Entry { kind: Kind::Hardlink("etc/hosts".into()), ..Entry::file("etc/hosts2", Vec::new(), 0o644, 0, 0, 1) },
            Entry::file(&long, b"x".to_vec(), 0o600, 3_000_000, 3_000_000, 1),
            Entry { kind: Kind::Char(1, 3), ..Entry::file("dev/null", Vec::new(), 0o666, 0, 0, 1) },
        ]
    }

    #[test]
    fn round_trips_every_kind() {
        let entries = sample();
        let bytes = write_tar(&entries).unwrap();
        let back = TarReader::new(&bytes[..], Limits::default()).read_all().unwrap();
        assert_eq!(back, entries);
        assert_eq!(bytes, write_tar(&entries).unwrap(), "writing is deterministic");
    }

    #[test]
    fn refuses_truncated_and_corrupt_archives() {
        let bytes = write_tar(&sample()).unwrap();
        // No end-of-archive blocks (what umoci 0.4.7 `insert` writes).
        let cut = &bytes[..bytes.len() - 1024];
        let err = TarReader::new(cut, Limits::default()).read_all().unwrap_err();
        assert!(err.to_string().contains("no end-of-archive marker"), "{err}");
        let err = TarReader::new(&bytes[..700], Limits::default()).read_all().unwrap_err();
        assert!(err.to_string().contains("truncated"), "{err}");
        let mut corrupt = bytes.clone();
        corrupt[3] ^= 0x20;
        let err = TarReader::new(&corrupt[..], Limits::default()).read_all().unwrap_err();
        assert!(err.to_string().contains("checksum"), "{err}");
        let err = TarReader::new(&bytes[..], Limits { max_layer_bytes: 2048 }).read_all().unwrap_err();
        assert!(err.to_string().contains("size limit"), "{err}");
    }

    #[test]
    fn refuses_dotdot_paths() {
        let mut h = Header::new_gnu();
        h.set_size(1);
        h.set_entry_type(EntryType::Regular);
        // Bypass the builder's own `..` check by writing the name bytes directly.
        h.as_old_mut().name[..12].copy_from_slice(b"../etc/evil\0");
        h.set_cksum();
        let mut bytes = h.as_bytes().to_vec();
        bytes.extend_from_slice(&[b'x'; 512]);
        bytes.extend_from_slice(&[0; 1024]);
        let err = TarReader::new(&bytes[..], Limits::default()).read_all().unwrap_err();
        assert!(err.to_string().contains("`..`"), "{err}");
    }

    fn one(name: &[u8], kind: EntryType, link: &[u8]) -> Vec<u8> {
        let mut h = Header::new_gnu();
        h.set_size(0);
        h.set_entry_type(kind);
        h.as_old_mut().name[..name.len()].copy_from_slice(name);
        h.as_old_mut().linkname[..link.len()].copy_from_slice(link);
        h.set_cksum();
        let mut bytes = h.as_bytes().to_vec();
        bytes.extend_from_slice(&[0; 1024]);
        bytes
    }

    // Found by fuzzing (fuzz/regressions/layer): a `./` entry read as the root could not be
    // written back.
    #[test]
    fn the_layer_root_round_trips_as_dot_slash() {
        let entries = vec![Entry::dir("", 0o755, 0, 0, 1), Entry::dir("etc", 0o755, 0, 0, 1)];
        let bytes = write_tar(&entries).unwrap();
        assert_eq!(&bytes[..3], b"./\0");
        assert_eq!(TarReader::new(&bytes[..], Limits::default()).read_all().unwrap(), entries);
    }

    #[test]
    fn refuses_a_root_that_is_not_a_directory_and_hard_links_to_the_root() {
        let err = TarReader::new(&one(b"./", EntryType::Regular, b"")[..], Limits::default()).read_all().unwrap_err();
        assert!(err.to_string().contains("names the layer root but is not a directory"), "{err}");
        let err = TarReader::new(&one(b"x", EntryType::Link, b"./")[..], Limits::default()).read_all().unwrap_err();
        assert!(err.to_string().contains("points at the layer root"), "{err}");
    }
}
