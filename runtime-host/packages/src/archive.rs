//! What the package archive readers ([`crate::deb::DebArchive`], [`crate::apk::ApkArchive`])
//! share: the error naming the archive, the compressions of their members, size-limited
//! decompression and a tar reader tolerant of a missing end-of-archive marker.
//!
//! Everything works on bytes in memory; nothing here touches the file system or the network.

use std::fmt;
use std::io::{self, Read};

use ruzstd::decoding::errors::{FrameDecoderError, ReadFrameHeaderError};
use ruzstd::decoding::{BlockDecodingStrategy, FrameDecoder};

use crate::Sha256Digest;
use crate::apk::PkgInfoError;
use crate::deb::PackageError;

/// A package archive that cannot be read: the archive (by the name the caller gave, like its
/// file name) and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{archive}: {problem}")]
pub struct ArchiveError {
    pub archive: String,
    pub problem: ArchiveProblem,
}

/// What is wrong with a package archive.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ArchiveProblem {
    #[error("the archive is {size} bytes, larger than the size limit of {limit} bytes")]
    ArchiveTooLarge { size: u64, limit: u64 },
    #[error("{member} decompresses to more than the size limit of {limit} bytes")]
    MemberTooLarge { member: String, limit: u64 },
    #[error("not a Debian package: it does not start with the ar magic \"!<arch>\\n\"")]
    NotAr,
    #[error("truncated: {what}")]
    Truncated { what: String },
    #[error("bad ar member header at byte {offset}: {reason}")]
    BadArHeader { offset: usize, reason: String },
    #[error("the first member is {found:?}, not debian-binary")]
    NotDebianBinary { found: String },
    #[error("debian-binary holds {found:?}, not a format version 2.x")]
    BadFormatVersion { found: String },
    #[error("unexpected member {member:?} {place}")]
    UnexpectedMember { member: String, place: &'static str },
    #[error("missing member {member}")]
    MissingMember { member: &'static str },
    #[error("member {member}: unknown compression (expected {expected})")]
    UnknownCompression { member: String, expected: &'static str },
    #[error("member {member}: {compression} compression is not supported yet")]
    UnsupportedCompression { member: String, compression: Compression },
    #[error("member {member}: corrupt {compression} data: {message}")]
    Corrupt { member: String, compression: Compression, message: String },
    #[error("member {member}: not a valid tar archive: {message}")]
    BadTar { member: String, message: String },
    #[error("member {member}: {file} appears twice")]
    DuplicateFile { member: String, file: String },
    #[error("member {member}: missing {file}")]
    MissingFile { member: String, file: &'static str },
    #[error("member {member}: {file} is not UTF-8 text")]
    NotUtf8 { member: String, file: String },
    #[error("control: {0}")]
    Control(#[from] PackageError),
    #[error("control: expected one stanza, found {count}")]
    ControlStanzas { count: usize },
    #[error("apk v3 (ADB) packages are not supported yet")]
    ApkV3,
    #[error("byte {offset} does not start a gzip stream (an apk v2 package is concatenated gzip streams)")]
    NotGzip { offset: usize },
    #[error("no data part after the control part (which ends at byte {offset})")]
    MissingData { offset: usize },
    #[error(".PKGINFO: {0}")]
    PkgInfo(#[from] PkgInfoError),
    #[error("bad datahash: .PKGINFO says {expected}, the data part hashes to {actual}")]
    DataHash { expected: Sha256Digest, actual: Sha256Digest },
    #[error("reading failed: {message}")]
    Read { message: String },
}

impl ArchiveError {
    pub(crate) fn new(archive: &str, problem: ArchiveProblem) -> Self {
        ArchiveError { archive: archive.to_owned(), problem }
    }

    /// The archive error carried by an `io::Error` of a [`MemberReader`], or the I/O error
    /// itself (for errors of a reader the caller stacked on top).
    pub fn from_io(archive: &str, err: io::Error) -> ArchiveError {
        if err.get_ref().is_some_and(|inner| inner.is::<ArchiveError>()) {
            if let Some(inner) = err.into_inner()
                && let Ok(archive_error) = inner.downcast::<ArchiveError>()
            {
                return *archive_error;
            }
            return ArchiveError::new(archive, ArchiveProblem::Read { message: "unreadable error".to_owned() });
        }
        ArchiveError::new(archive, ArchiveProblem::Read { message: err.to_string() })
    }
}

impl From<ArchiveError> for io::Error {
    fn from(err: ArchiveError) -> io::Error {
        io::Error::new(io::ErrorKind::InvalidData, err)
    }
}

/// How a member of a package archive is compressed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Compression {
    None,
    Gzip,
    Xz,
    Zstd,
    /// `.bz2`: dpkg reads it, tailor does not yet.
    Bzip2,
    /// `.lzma` (legacy): dpkg reads it, tailor does not yet.
    Lzma,
}

impl Compression {
    /// The compression a file name extension stands for: `""` (no extension), `gz`, `xz`,
    /// `zst`, `bz2`, `lzma`.
    pub fn from_extension(extension: &str) -> Option<Compression> {
        Some(match extension {
            "" => Compression::None,
            "gz" => Compression::Gzip,
            "xz" => Compression::Xz,
            "zst" => Compression::Zstd,
            "bz2" => Compression::Bzip2,
            "lzma" => Compression::Lzma,
            _ => return None,
        })
    }

    /// The file name extension, without the dot (empty for [`Compression::None`]).
    pub fn extension(self) -> &'static str {
        match self {
            Compression::None => "",
            Compression::Gzip => "gz",
            Compression::Xz => "xz",
            Compression::Zstd => "zst",
            Compression::Bzip2 => "bz2",
            Compression::Lzma => "lzma",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Compression::None => "no",
            Compression::Gzip => "gzip",
            Compression::Xz => "xz",
            Compression::Zstd => "zstd",
            Compression::Bzip2 => "bzip2",
            Compression::Lzma => "lzma",
        }
    }

    /// Whether tailor can decompress it.
    pub fn is_supported(self) -> bool {
        matches!(self, Compression::None | Compression::Gzip | Compression::Xz | Compression::Zstd)
    }
}

impl fmt::Display for Compression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The decoder's memory limit for xz (KiB): `xz -9` needs 65 MiB.
const XZ_MEMORY_LIMIT_KIB: u32 = 256 * 1024;

enum Decoder<'a> {
    Plain(&'a [u8]),
    Gzip(Box<flate2::read::MultiGzDecoder<&'a [u8]>>),
    Xz(Box<lzma_rust2::XzReader<&'a [u8]>>),
    Zstd(Box<ZstdFrames<'a>>),
    Unsupported(Compression),
}

impl Read for Decoder<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Decoder::Plain(data) => data.read(buf),
            Decoder::Gzip(decoder) => decoder.read(buf),
            Decoder::Xz(decoder) => decoder.read(buf),
            Decoder::Zstd(decoder) => decoder.read(buf),
            Decoder::Unsupported(compression) => {
                Err(io::Error::other(format!("{compression} compression is not supported yet")))
            }
        }
    }
}

/// The decompressed content of one archive member, read on demand. It refuses to produce more
/// than its size limit; its errors are `io::Error`s of kind `InvalidData` that carry an
/// [`ArchiveError`] ([`ArchiveError::from_io`] gets it back).
pub struct MemberReader<'a> {
    decoder: Decoder<'a>,
    archive: String,
    member: String,
    compression: Compression,
    produced: u64,
    limit: u64,
    failed: Option<ArchiveError>,
}

impl<'a> MemberReader<'a> {
    pub(crate) fn new(archive: &str, member: &str, compression: Compression, data: &'a [u8], limit: u64) -> Self {
        let decoder = match compression {
            Compression::None => Decoder::Plain(data),
            Compression::Gzip => Decoder::Gzip(Box::new(flate2::read::MultiGzDecoder::new(data))),
            Compression::Xz => {
                Decoder::Xz(Box::new(lzma_rust2::XzReader::new_mem_limit(data, true, XZ_MEMORY_LIMIT_KIB)))
            }
            Compression::Zstd => Decoder::Zstd(Box::new(ZstdFrames::new(data))),
            Compression::Bzip2 | Compression::Lzma => Decoder::Unsupported(compression),
        };
        MemberReader {
            decoder,
            archive: archive.to_owned(),
            member: member.to_owned(),
            compression,
            produced: 0,
            limit,
            failed: None,
        }
    }

    /// The member's name (like `data.tar.xz`).
    pub fn member(&self) -> &str {
        &self.member
    }

    pub fn compression(&self) -> Compression {
        self.compression
    }

    fn fail(&mut self, problem: ArchiveProblem) -> io::Error {
        let err = ArchiveError::new(&self.archive, problem);
        self.failed = Some(err.clone());
        err.into()
    }

    /// Reads everything, as bytes.
    pub(crate) fn read_all(mut self) -> Result<Vec<u8>, ArchiveError> {
        let mut out = Vec::new();
        match self.read_to_end(&mut out) {
            Ok(_) => Ok(out),
            Err(err) => Err(ArchiveError::from_io(&self.archive, err)),
        }
    }
}

impl Read for MemberReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if let Some(err) = &self.failed {
            return Err(err.clone().into());
        }
        let n = match self.decoder.read(buf) {
            Ok(n) => n,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => return Err(err),
            Err(err) => {
                let problem = match self.compression {
                    Compression::Bzip2 | Compression::Lzma => ArchiveProblem::UnsupportedCompression {
                        member: self.member.clone(),
                        compression: self.compression,
                    },
                    _ if err.kind() == io::ErrorKind::UnexpectedEof => ArchiveProblem::Truncated {
                        what: format!("the {} data of member {} ends early", self.compression, self.member),
                    },
                    _ => ArchiveProblem::Corrupt {
                        member: self.member.clone(),
                        compression: self.compression,
                        message: err.to_string(),
                    },
                };
                return Err(self.fail(problem));
            }
        };
        self.produced = self.produced.saturating_add(n as u64);
        if self.produced > self.limit {
            let problem = ArchiveProblem::MemberTooLarge { member: self.member.clone(), limit: self.limit };
            return Err(self.fail(problem));
        }
        Ok(n)
    }
}

/// Decodes every zstd frame of the input in turn (skippable frames skipped), checking each
/// frame's content checksum when it has one. ruzstd's `StreamingDecoder` reads only one frame.
struct ZstdFrames<'a> {
    input: &'a [u8],
    decoder: FrameDecoder,
    in_frame: bool,
}

impl<'a> ZstdFrames<'a> {
    fn new(input: &'a [u8]) -> Self {
        ZstdFrames { input, decoder: FrameDecoder::new(), in_frame: false }
    }

    fn finish_frame(&mut self) -> io::Result<()> {
        self.in_frame = false;
        if let (Some(stored), Some(computed)) =
            (self.decoder.get_checksum_from_data(), self.decoder.get_calculated_checksum())
            && stored != computed
        {
            return Err(io::Error::other(format!(
                "content checksum mismatch (frame says {stored:08x}, content hashes to {computed:08x})"
            )));
        }
        Ok(())
    }
}

impl Read for ZstdFrames<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            if !self.in_frame {
                if self.input.is_empty() {
                    return Ok(0);
                }
                match self.decoder.reset(&mut self.input) {
                    Ok(()) => self.in_frame = true,
                    Err(FrameDecoderError::ReadFrameHeaderError(ReadFrameHeaderError::SkipFrame {
                        length, ..
                    })) => {
                        let length = usize::try_from(length).unwrap_or(usize::MAX);
                        let Some(rest) = self.input.get(length..) else {
                            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "skippable frame ends early"));
                        };
                        self.input = rest;
                    }
                    Err(err) => return Err(zstd_error(err)),
                }
                continue;
            }
            if self.decoder.can_collect() > 0 {
                return self.decoder.read(buf);
            }
            if self.decoder.is_finished() {
                self.finish_frame()?;
                continue;
            }
            let before = (self.input.len(), self.decoder.blocks_decoded());
            self.decoder.decode_blocks(&mut self.input, BlockDecodingStrategy::UptoBlocks(1)).map_err(zstd_error)?;
            if (self.input.len(), self.decoder.blocks_decoded()) == before
                && self.decoder.can_collect() == 0
                && !self.decoder.is_finished()
            {
                return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "zstd frame ends early"));
            }
        }
    }
}

fn zstd_error(err: FrameDecoderError) -> io::Error {
    let text = err.to_string();
    // ruzstd reports a short input as a failed read deep inside its error; call it truncation.
    let mut source: Option<&dyn std::error::Error> = Some(&err);
    while let Some(current) = source {
        if let Some(io) = current.downcast_ref::<io::Error>()
            && io.kind() == io::ErrorKind::UnexpectedEof
        {
            return io::Error::new(io::ErrorKind::UnexpectedEof, text);
        }
        source = current.source();
    }
    io::Error::other(text)
}

/// One regular file of a tar member.
pub(crate) struct TarFile {
    /// The path without a leading `./` or `/`.
    pub(crate) path: String,
    pub(crate) data: Vec<u8>,
}

/// The regular files of a tar archive in order (other entry types skipped). A missing
/// end-of-archive marker is accepted (abuild cuts it from the signature and control parts).
pub(crate) fn tar_files(archive: &str, member: &str, tar: &[u8]) -> Result<Vec<TarFile>, ArchiveError> {
    let bad =
        |message: String| ArchiveError::new(archive, ArchiveProblem::BadTar { member: member.to_owned(), message });
    let mut reader = tar::Archive::new(tar);
    let mut files = Vec::new();
    for entry in reader.entries().map_err(|err| bad(err.to_string()))? {
        let mut entry = entry.map_err(|err| bad(err.to_string()))?;
        let kind = entry.header().entry_type();
        if !(kind.is_file() || kind.is_contiguous()) {
            continue;
        }
        let raw = entry.path_bytes();
        let Ok(path) = std::str::from_utf8(&raw) else {
            return Err(bad(format!("file name {:?} is not UTF-8", String::from_utf8_lossy(&raw))));
        };
        let path = normalize(path).to_owned();
        let mut data = Vec::new();
        entry.read_to_end(&mut data).map_err(|err| bad(format!("{path}: {err}")))?;
        files.push(TarFile { path, data });
    }
    Ok(files)
}

/// A tar path without its leading `./` and `/` (so `./control` and `control` are one name).
fn normalize(mut path: &str) -> &str {
    loop {
        if let Some(rest) = path.strip_prefix("./") {
            path = rest;
        } else if let Some(rest) = path.strip_prefix('/') {
            path = rest;
        } else {
            return path;
        }
    }
}

/// Test helpers shared by the deb and apk archive tests.
#[cfg(test)]
pub(crate) mod testing {
    #![allow(clippy::unwrap_used)]
    use std::process::Command;

    /// Runs a tool; a missing tool fails the test naming the Debian package that has it.
    pub(crate) fn run(command: &mut Command, debian_package: &str) -> std::process::Output {
        let program = command.get_program().to_string_lossy().into_owned();
        let output = command.output().unwrap_or_else(|err| {
            panic!("cannot run {program} ({err}): install the Debian package {debian_package} (tests/run.sh does)")
        });
        assert!(
            output.status.success(),
            "{program} failed: {}\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
        output
    }

    /// The names of a tar's entries, in order, with their types and link targets.
    pub(crate) fn tar_listing(tar: &[u8]) -> Vec<(String, tar::EntryType, Option<String>)> {
        let mut archive = tar::Archive::new(tar);
        archive
            .entries()
            .unwrap()
            .map(|entry| {
                let entry = entry.unwrap();
                let path = String::from_utf8(entry.path_bytes().into_owned()).unwrap();
                let link = entry.link_name_bytes().map(|link| String::from_utf8(link.into_owned()).unwrap());
                (path, entry.header().entry_type(), link)
            })
            .collect()
    }

    /// Every prefix of `bytes`, and two one-byte corruptions at every offset, go through `check`
    /// (which must not panic; its result is ignored, except that no prefix may be read
    /// successfully when `prefixes_fail`).
    pub(crate) fn mangle(bytes: &[u8], prefixes_fail: bool, mut check: impl FnMut(&[u8]) -> bool) {
        for len in 0..bytes.len() {
            let ok = check(&bytes[..len]);
            assert!(!(prefixes_fail && ok), "a prefix of {len} of {} bytes was accepted", bytes.len());
        }
        let mut copy = bytes.to_vec();
        for at in 0..bytes.len() {
            for flip in [0x01u8, 0xff] {
                copy[at] ^= flip;
                check(&copy);
                copy[at] ^= flip;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::io::Write as _;

    use super::*;

    fn zstd(data: &[u8]) -> Vec<u8> {
        let mut child = std::process::Command::new("zstd")
            .args(["-q", "-c", "--check"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap_or_else(|err| panic!("cannot run zstd ({err}): install the Debian package zstd"));
        child.stdin.take().unwrap().write_all(data).unwrap();
        let output = child.wait_with_output().unwrap();
        assert!(output.status.success());
        output.stdout
    }

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        encoder.write_all(data).unwrap();
        encoder.finish().unwrap()
    }

    #[test]
    fn members_decompress_with_several_frames_and_streams() {
        let (a, b) = (b"first frame ".repeat(100), b"second".repeat(50));
        let mut frames = zstd(&a);
        // A skippable frame between the two.
        frames.extend_from_slice(&[0x50, 0x2a, 0x4d, 0x18, 3, 0, 0, 0, 1, 2, 3]);
        frames.extend(zstd(&b));
        let out = MemberReader::new("t", "data.tar.zst", Compression::Zstd, &frames, 1 << 20).read_all().unwrap();
        assert_eq!(out, [a.clone(), b.clone()].concat());

        let mut streams = gzip(&a);
        streams.extend(gzip(&b));
        let out = MemberReader::new("t", "data.tar.gz", Compression::Gzip, &streams, 1 << 20).read_all().unwrap();
        assert_eq!(out, [a.clone(), b].concat());

        let plain = MemberReader::new("t", "data.tar", Compression::None, &a, 1 << 20).read_all().unwrap();
        assert_eq!(plain, a);
    }

    #[test]
    fn member_errors_name_archive_member_and_limit() {
        let data = b"x".repeat(1000);
        let err =
            MemberReader::new("a.deb", "data.tar.zst", Compression::Zstd, &zstd(&data), 999).read_all().unwrap_err();
        assert_eq!(err.to_string(), "a.deb: data.tar.zst decompresses to more than the size limit of 999 bytes");
        assert_eq!(MemberReader::new("a", "m", Compression::Zstd, &zstd(&data), 1000).read_all().unwrap(), data);

        let mut corrupt = zstd(&data);
        let last = corrupt.len() - 1;
        corrupt[last] ^= 0xff; // the content checksum
        let err =
            MemberReader::new("a.deb", "data.tar.zst", Compression::Zstd, &corrupt, 1 << 20).read_all().unwrap_err();
        assert!(err.to_string().starts_with("a.deb: member data.tar.zst: corrupt zstd data: "), "{err}");

        let whole = zstd(&data);
        let err = MemberReader::new("a.deb", "data.tar.zst", Compression::Zstd, &whole[..whole.len() - 6], 1 << 20)
            .read_all()
            .unwrap_err();
        assert!(matches!(err.problem, ArchiveProblem::Truncated { .. } | ArchiveProblem::Corrupt { .. }), "{err}");

        let err = MemberReader::new("a.deb", "data.tar.bz2", Compression::Bzip2, b"BZh9", 100).read_all().unwrap_err();
        assert_eq!(err.to_string(), "a.deb: member data.tar.bz2: bzip2 compression is not supported yet");

        let gz = gzip(&data);
        let err = MemberReader::new("a.deb", "data.tar.gz", Compression::Gzip, &gz[..gz.len() - 3], 1 << 20)
            .read_all()
            .unwrap_err();
        assert!(err.to_string().starts_with("a.deb: "), "{err}");
    }

    #[test]
    fn reader_errors_carry_the_archive_error() {
        let mut reader = MemberReader::new("p.deb", "data.tar.xz", Compression::Xz, b"not xz at all", 100);
        let mut out = Vec::new();
        let err = reader.read_to_end(&mut out).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        let archive_error = ArchiveError::from_io("other", err);
        assert_eq!(archive_error.archive, "p.deb");
        assert!(matches!(archive_error.problem, ArchiveProblem::Corrupt { compression: Compression::Xz, .. }));
        // Once failed, it stays failed.
        assert!(reader.read(&mut [0; 10]).is_err());
        let plain = ArchiveError::from_io("x.apk", io::Error::other("disk on fire"));
        assert_eq!(plain.to_string(), "x.apk: reading failed: disk on fire");
    }

    #[test]
    fn compressions_by_extension() {
        for compression in [
            Compression::None,
            Compression::Gzip,
            Compression::Xz,
            Compression::Zstd,
            Compression::Bzip2,
            Compression::Lzma,
        ] {
            assert_eq!(Compression::from_extension(compression.extension()), Some(compression));
        }
        assert_eq!(Compression::from_extension("lz4"), None);
        assert!(!Compression::Bzip2.is_supported() && Compression::Zstd.is_supported());
    }

    #[test]
    fn tar_paths_lose_their_leading_dot_slash() {
        assert_eq!(normalize("./control"), "control");
        assert_eq!(normalize(".//./x/y"), "x/y");
        assert_eq!(normalize(".PKGINFO"), ".PKGINFO");
        assert_eq!(normalize("./"), "");
    }
}
