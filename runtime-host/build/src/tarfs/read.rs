//! A strict streaming tar reader. Unlike a lenient extractor it refuses what a layer must not
//! contain: a missing end-of-archive marker (truncated layer), bad header checksums, paths
//! that escape the root, sparse and unknown entry types, and content past the size limit.

use std::io::{self, Read};
use std::sync::Arc;

use tar::{EntryType, Header, PaxExtensions};

use super::{Entry, Kind, empty, normalize_tar_path};

/// Caps that protect the builder from hostile layers.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Total uncompressed bytes of one layer.
    pub max_layer_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_layer_bytes: 8 << 30 }
    }
}

/// Reads entries one by one; [`TarReader::next_entry`] returns metadata, the content of regular
/// files is read only when asked for ([`TarReader::read_data`]) and skipped otherwise.
pub struct TarReader<R> {
    inner: Counting<R>,
    pending_data: u64,
    pending_pad: u64,
    ended: bool,
}

struct Counting<R> {
    inner: R,
    read: u64,
    limit: u64,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        if self.read > self.limit {
            return Err(io::Error::other(format!(
                "the layer decompresses to more than {} bytes (the size limit; a tar bomb?)",
                self.limit
            )));
        }
        Ok(n)
    }
}

fn bad(msg: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg.into())
}

/// Read exactly one 512-byte block; `Ok(false)` at a clean end of stream.
fn read_block<R: Read>(r: &mut R, block: &mut [u8; 512]) -> io::Result<bool> {
    let mut filled = 0;
    while filled < 512 {
        match r.read(&mut block[filled..]) {
            Ok(0) if filled == 0 => return Ok(false),
            Ok(0) => return Err(bad("the tar stream ends in the middle of a header block (truncated layer)")),
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(true)
}

fn skip<R: Read>(r: &mut R, n: u64) -> io::Result<()> {
    let copied = io::copy(&mut r.take(n), &mut io::sink())?;
    if copied != n {
        return Err(bad("the tar stream ends in the middle of an entry (truncated layer)"));
    }
    Ok(())
}

fn verify_checksum(block: &[u8; 512]) -> io::Result<()> {
    let stored = Header::from_byte_slice(block).cksum().map_err(|_| bad("tar header has an unreadable checksum"))?;
    let sum: u32 =
        block.iter().enumerate().map(|(i, b)| if (148..156).contains(&i) { 32 } else { u32::from(*b) }).sum();
    if sum != stored {
        return Err(bad("tar header checksum mismatch (corrupt layer)"));
    }
    Ok(())
}

fn utf8(bytes: &[u8], what: &str) -> io::Result<String> {
    let trimmed = bytes.split(|b| *b == 0).next().unwrap_or_default();
    String::from_utf8(trimmed.to_vec()).map_err(|_| bad(format!("{what} is not UTF-8 (not supported yet)")))
}

#[derive(Default)]
struct Extended {
    path: Option<String>,
    link: Option<String>,
    size: Option<u64>,
    uid: Option<u64>,
    gid: Option<u64>,
    mtime: Option<u64>,
    xattrs: Vec<(String, Vec<u8>)>,
}

impl Extended {
    fn apply_pax(&mut self, data: &[u8]) -> io::Result<()> {
        for ext in PaxExtensions::new(data) {
            let ext = ext.map_err(|_| bad("malformed PAX extended header"))?;
            let key = ext.key().map_err(|_| bad("PAX key is not UTF-8"))?;
            let value = ext.value_bytes();
            let num = || -> io::Result<u64> {
                let s = std::str::from_utf8(value).map_err(|_| bad("PAX value is not UTF-8"))?;
                let int = s.split('.').next().unwrap_or_default();
                int.parse().map_err(|_| bad(format!("PAX {key}={s} is not a number")))
            };
            match key {
                "path" => self.path = Some(utf8(value, "PAX path")?),
                "linkpath" => self.link = Some(utf8(value, "PAX linkpath")?),
                "size" => self.size = Some(num()?),
                "uid" => self.uid = Some(num()?),
                "gid" => self.gid = Some(num()?),
                "mtime" => self.mtime = Some(num()?),
                k if k.starts_with("SCHILY.xattr.") => {
                    self.xattrs.push((k["SCHILY.xattr.".len()..].to_string(), value.to_vec()));
                }
                _ => {}
            }
        }
        Ok(())
    }
}

impl<R: Read> TarReader<R> {
    pub fn new(inner: R, limits: Limits) -> Self {
        TarReader {
            inner: Counting { inner, read: 0, limit: limits.max_layer_bytes },
            pending_data: 0,
            pending_pad: 0,
            ended: false,
        }
    }

    /// Uncompressed bytes consumed so far.
    pub fn bytes_read(&self) -> u64 {
        self.inner.read
    }

    fn finish_pending(&mut self) -> io::Result<()> {
        let n = self.pending_data + self.pending_pad;
        self.pending_data = 0;
        self.pending_pad = 0;
        skip(&mut self.inner, n)
    }

    fn read_exact_data(&mut self, size: u64) -> io::Result<Vec<u8>> {
        let mut buf = Vec::with_capacity(size.min(64 << 20) as usize);
        (&mut self.inner).take(size).read_to_end(&mut buf)?;
        if buf.len() as u64 != size {
            return Err(bad("the tar stream ends in the middle of an entry (truncated layer)"));
        }
        skip(&mut self.inner, pad(size))?;
        Ok(buf)
    }

    /// The next entry (content not yet read), or `None` after the end-of-archive marker.
    /// A stream that ends without that marker is an error: the layer is truncated.
    pub fn next_entry(&mut self) -> io::Result<Option<Entry>> {
        if self.ended {
            return Ok(None);
        }
        self.finish_pending()?;
        let mut ext = Extended::default();
        let mut block = [0u8; 512];
        loop {
            if !read_block(&mut self.inner, &mut block)? {
                return Err(bad(
                    "the tar stream has no end-of-archive marker (truncated layer; umoci 0.4.7 `insert` writes such layers)",
                ));
            }
            if block.iter().all(|b| *b == 0) {
                self.ended = true;
                return Ok(None);
            }
            verify_checksum(&block)?;
            let header = Header::from_byte_slice(&block);
            let size = match ext.size {
                Some(s) => s,
                None => header.entry_size().map_err(|_| bad("tar header has an unreadable size"))?,
            };
            match header.entry_type() {
                EntryType::XHeader => {
                    let data = self.read_exact_data(size.min(1 << 20))?;
                    ext.apply_pax(&data)?;
                    continue;
                }
                EntryType::XGlobalHeader => {
                    self.read_exact_data(size.min(1 << 20))?;
                    continue;
                }
                EntryType::GNULongName => {
                    ext.path = Some(utf8(&self.read_exact_data(size.min(1 << 20))?, "GNU long name")?);
                    continue;
                }
                EntryType::GNULongLink => {
                    ext.link = Some(utf8(&self.read_exact_data(size.min(1 << 20))?, "GNU long link")?);
                    continue;
                }
                _ => {}
            }
            let raw_path = match ext.path.take() {
                Some(p) => p,
                None => utf8(&header.path_bytes(), "tar entry path")?,
            };
            let path = normalize_tar_path(&raw_path).map_err(|why| bad(format!("tar entry `{raw_path}` {why}")))?;
            let link = || -> io::Result<String> {
                match ext.link.clone() {
                    Some(l) => Ok(l),
                    None => utf8(&header.link_name_bytes().unwrap_or_default(), "tar link name"),
                }
            };
            let dev = || -> io::Result<(u32, u32)> {
                let major = header.device_major().ok().flatten().unwrap_or(0);
                let minor = header.device_minor().ok().flatten().unwrap_or(0);
                Ok((major, minor))
            };
            let kind = match header.entry_type() {
                EntryType::Regular | EntryType::Continuous => Kind::File,
                EntryType::Directory => Kind::Dir,
                EntryType::Symlink => Kind::Symlink(link()?),
                EntryType::Link => {
                    let raw = link()?;
                    let target = normalize_tar_path(&raw)
                        .map_err(|why| bad(format!("hard link `{raw_path}` → `{raw}`: target {why}")))?;
                    Kind::Hardlink(target)
                }
                EntryType::Char => {
                    let (a, b) = dev()?;
                    Kind::Char(a, b)
                }
                EntryType::Block => {
                    let (a, b) = dev()?;
                    Kind::Block(a, b)
                }
                EntryType::Fifo => Kind::Fifo,
                other => {
                    return Err(bad(format!("tar entry `{raw_path}` has type {other:?}, which is not supported yet")));
                }
            };
            if path.is_empty() && kind != Kind::Dir {
                return Err(bad(format!("tar entry `{raw_path}` names the layer root but is not a directory")));
            }
            if matches!(&kind, Kind::Hardlink(t) if t.is_empty()) {
                return Err(bad(format!("hard link `{raw_path}` points at the layer root")));
            }
            // A field left empty (all NUL or spaces) reads as 0, as Go's archive/tar does.
            let old = header.as_old();
            let field = |r: io::Result<u64>, raw: &[u8], name: &str| match r {
                Ok(v) => Ok(v),
                Err(_) if raw.iter().all(|b| *b == 0 || *b == b' ') => Ok(0),
                Err(_) => Err(bad(format!("tar entry `{raw_path}` has an unreadable {name}"))),
            };
            let mode = field(header.mode().map(u64::from), &old.mode, "mode")? as u32 & 0o7777;
            let uid = match ext.uid {
                Some(v) => v,
                None => field(header.uid(), &old.uid, "uid")?,
            };
            let gid = match ext.gid {
                Some(v) => v,
                None => field(header.gid(), &old.gid, "gid")?,
            };
            let mtime = match ext.mtime {
                Some(v) => v,
                None => field(header.mtime(), &old.mtime, "mtime")?,
            };
            let mut xattrs = std::mem::take(&mut ext.xattrs);
            xattrs.sort();
            // Only regular files carry content; for other kinds a size is skipped.
            self.pending_data = size;
            self.pending_pad = pad(size);
            if kind != Kind::File && size > 0 {
                self.finish_pending()?;
            }
            return Ok(Some(Entry { path, kind, mode, uid, gid, mtime, xattrs, data: empty() }));
        }
    }

    /// Size of the content of the entry last returned (before it is read).
    pub fn data_size(&self) -> u64 {
        self.pending_data
    }

    /// Content of the entry last returned (regular files only; empty otherwise).
    pub fn read_data(&mut self) -> io::Result<Arc<[u8]>> {
        let size = self.pending_data;
        self.pending_data = 0;
        let data = {
            let mut buf = Vec::with_capacity(size.min(256 << 20) as usize);
            (&mut self.inner).take(size).read_to_end(&mut buf)?;
            if buf.len() as u64 != size {
                return Err(bad("the tar stream ends in the middle of an entry (truncated layer)"));
            }
            buf
        };
        Ok(Arc::from(data))
    }

    /// Up to `len` bytes of the content of the entry last returned, from `offset` (the rest is
    /// skipped by the next [`TarReader::next_entry`]): a part of a large file without holding it.
    pub fn read_data_range(&mut self, offset: u64, len: u64) -> io::Result<Vec<u8>> {
        let size = self.pending_data;
        let start = offset.min(size);
        let skipped = io::copy(&mut (&mut self.inner).take(start), &mut io::sink())?;
        let n = len.min(size - start);
        let mut buf = Vec::with_capacity(n.min(16 << 20) as usize);
        (&mut self.inner).take(n).read_to_end(&mut buf)?;
        if skipped != start || buf.len() as u64 != n {
            return Err(bad("the tar stream ends in the middle of an entry (truncated layer)"));
        }
        self.pending_data = size - start - n;
        Ok(buf)
    }

    /// Consume whatever follows the end-of-archive marker (record padding), so that a
    /// verifying reader underneath sees the end of the blob and checks its digest.
    pub fn finish(mut self) -> io::Result<()> {
        io::copy(&mut self.inner, &mut io::sink())?;
        Ok(())
    }

    /// Read every entry with its content, then the rest of the stream.
    pub fn read_all(mut self) -> io::Result<Vec<Entry>> {
        let mut out = Vec::new();
        while let Some(mut e) = self.next_entry()? {
            if e.kind == Kind::File {
                e.data = self.read_data()?;
            }
            out.push(e);
        }
        self.finish()?;
        Ok(out)
    }
}

fn pad(size: u64) -> u64 {
    (512 - size % 512) % 512
}
