//! Reading a `.deb` (deb(5)): an `ar` archive of `debian-binary` (`2.0\n`), `control.tar[.gz|.xz|.zst]`
//! and `data.tar[.gz|.xz|.zst]`, as dpkg-deb writes them.
//!
//! [`DebArchive::parse`] reads the control part eagerly (it is small) and keeps the data member
//! compressed: [`DebArchive::data_reader`] streams the data tar, [`DebArchive::data_tar`] returns
//! it whole. Sizes are bounded by the caller's limit; no input can panic.

use std::collections::BTreeMap;
use std::fmt;

use super::control::{Stanza, Stanzas};
use super::fields::{MultiArch, PackageError, Reader, non_empty, number};
use super::relation::{Dependency, Relation};
use super::version::Version;
use crate::archive::{ArchiveError, ArchiveProblem, Compression, MemberReader, tar_files};

/// The fields of a binary package's `control` file that tailor uses, and the file itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DebControl {
    pub package: String,
    pub version: Version,
    /// `amd64`, `arm64`, `all`, …
    pub architecture: String,
    pub multi_arch: MultiArch,
    /// `Essential: yes`.
    pub essential: bool,
    /// `Source`, as written: `name` or `name (version)`.
    pub source: Option<String>,
    /// `Installed-Size`, in KiB.
    pub installed_size: Option<u64>,
    pub depends: Vec<Dependency>,
    pub pre_depends: Vec<Dependency>,
    pub provides: Vec<Relation>,
    pub conflicts: Vec<Relation>,
    pub breaks: Vec<Relation>,
    /// The first line of `Description` (empty without one).
    pub description: String,
    /// The `control` file as written (what a `status` entry is made of).
    pub text: String,
}

impl DebControl {
    /// Reads a `control` file: one stanza; `Package`, `Version` and `Architecture` required.
    pub fn parse(text: &str) -> Result<DebControl, ArchiveProblem> {
        let stanzas: Vec<Stanza<'_>> = Stanzas::new(text).collect::<Result<_, _>>().map_err(PackageError::from)?;
        let [stanza] = stanzas.as_slice() else {
            return Err(ArchiveProblem::ControlStanzas { count: stanzas.len() });
        };
        let fields = Reader::new(stanza)?;
        Ok(DebControl {
            package: fields.package().to_owned(),
            version: fields.version()?.ok_or_else(|| PackageError::MissingField {
                line: stanza.line,
                package: fields.package().to_owned(),
                field: "Version",
            })?,
            architecture: fields.required("Architecture", non_empty)?,
            multi_arch: fields.multi_arch()?,
            essential: fields.yes_no("Essential")?,
            source: fields.text("Source")?,
            installed_size: fields.optional("Installed-Size", number)?,
            depends: fields.dependencies("Depends")?,
            pre_depends: fields.dependencies("Pre-Depends")?,
            provides: fields.provides()?,
            conflicts: fields.relations("Conflicts")?,
            breaks: fields.relations("Breaks")?,
            description: fields.synopsis(),
            text: text.to_owned(),
        })
    }
}

/// A maintainer script (or the `triggers` file) a package ships; tailor never runs them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MaintainerScript {
    Preinst,
    Postinst,
    Prerm,
    Postrm,
    Config,
    Triggers,
}

impl MaintainerScript {
    pub const ALL: [MaintainerScript; 6] = [
        MaintainerScript::Preinst,
        MaintainerScript::Postinst,
        MaintainerScript::Prerm,
        MaintainerScript::Postrm,
        MaintainerScript::Config,
        MaintainerScript::Triggers,
    ];

    /// The file name in the control tar (and in `/var/lib/dpkg/info/<package>.<name>`).
    pub fn as_str(self) -> &'static str {
        match self {
            MaintainerScript::Preinst => "preinst",
            MaintainerScript::Postinst => "postinst",
            MaintainerScript::Prerm => "prerm",
            MaintainerScript::Postrm => "postrm",
            MaintainerScript::Config => "config",
            MaintainerScript::Triggers => "triggers",
        }
    }
}

impl fmt::Display for MaintainerScript {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A `.deb` read from bytes in memory: its control part, and its data member still compressed.
#[derive(Clone)]
pub struct DebArchive<'a> {
    /// The content of `debian-binary` without its newline (`2.0`).
    pub format_version: String,
    pub control: DebControl,
    /// Every regular file of the control tar by name (`control`, `md5sums`, `postinst`, …).
    pub control_files: BTreeMap<String, Vec<u8>>,
    /// `md5sums`: `<md5>  <path>` lines (paths without a leading `/`).
    pub md5sums: Option<String>,
    /// `conffiles`: one absolute path per line.
    pub conffiles: Option<String>,
    /// The maintainer scripts present, in [`MaintainerScript::ALL`] order.
    pub scripts: Vec<MaintainerScript>,
    pub control_compression: Compression,
    pub data_compression: Compression,
    name: String,
    data_member: String,
    data: &'a [u8],
    limit: u64,
}

const AR_MAGIC: &[u8] = b"!<arch>\n";
const AR_HEADER: usize = 60;

/// One member of an ar archive: its name and content.
struct Member<'a> {
    name: String,
    data: &'a [u8],
}

/// Walks the members of an ar archive (GNU and BSD name forms).
struct ArMembers<'a, 'n> {
    archive: &'n str,
    bytes: &'a [u8],
    pos: usize,
    long_names: Option<&'a [u8]>,
}

impl<'a> ArMembers<'a, '_> {
    fn error(&self, problem: ArchiveProblem) -> ArchiveError {
        ArchiveError::new(self.archive, problem)
    }

    fn header_error(&self, offset: usize, reason: impl Into<String>) -> ArchiveError {
        self.error(ArchiveProblem::BadArHeader { offset, reason: reason.into() })
    }

    fn truncated(&self, what: String) -> ArchiveError {
        self.error(ArchiveProblem::Truncated { what })
    }

    /// The next member, symbol tables and the GNU long name table skipped.
    fn next_member(&mut self) -> Result<Option<Member<'a>>, ArchiveError> {
        loop {
            let offset = self.pos;
            if offset >= self.bytes.len() {
                return Ok(None);
            }
            let Some(header) = self.bytes.get(offset..offset + AR_HEADER) else {
                return Err(self.truncated(format!(
                    "the ar member header at byte {offset} needs {AR_HEADER} bytes, the archive ends after {}",
                    self.bytes.len() - offset
                )));
            };
            if &header[58..60] != b"`\n" {
                return Err(self.header_error(offset, "missing the \"`\\n\" terminator"));
            }
            let size_field = std::str::from_utf8(&header[48..58]).unwrap_or("");
            let size: usize = size_field
                .trim_end_matches(' ')
                .parse()
                .ok()
                .filter(|_| !size_field.starts_with(' '))
                .ok_or_else(|| self.header_error(offset, format!("size {size_field:?} is not a decimal number")))?;
            let raw_name = &header[..16];
            let start = offset + AR_HEADER;
            let end = start.checked_add(size).filter(|end| *end <= self.bytes.len());
            let padded = end.map(|end| end + size % 2);
            let (Some(end), Some(padded)) = (end, padded.filter(|padded| *padded <= self.bytes.len())) else {
                return Err(self.truncated(format!(
                    "the ar member {:?} at byte {offset} holds {size} bytes (padded to an even size), \
                     the archive ends after {}",
                    String::from_utf8_lossy(raw_name).trim_end(),
                    self.bytes.len() - start
                )));
            };
            let mut data = &self.bytes[start..end];
            self.pos = padded;
            let name = match raw_name {
                // GNU symbol tables and the long name table.
                b"/               " | b"/SYM64/        " => continue,
                b"//              " => {
                    self.long_names = Some(data);
                    continue;
                }
                _ => self.member_name(offset, raw_name, &mut data)?,
            };
            if name == "__.SYMDEF" || name == "__.SYMDEF SORTED" {
                continue;
            }
            return Ok(Some(Member { name, data }));
        }
    }

    /// The member name: `name` (dpkg-deb), `name/` (GNU), `/<offset>` (GNU long name) or
    /// `#1/<length>` (BSD: the name starts the data).
    fn member_name(&self, offset: usize, raw: &[u8], data: &mut &'a [u8]) -> Result<String, ArchiveError> {
        let text = std::str::from_utf8(raw)
            .map_err(|_| self.header_error(offset, "the member name is not ASCII"))?
            .trim_end_matches(' ');
        let name: &[u8] = if let Some(length) = text.strip_prefix("#1/") {
            let length: usize = length
                .parse()
                .map_err(|_| self.header_error(offset, format!("BSD name length {length:?} is not a number")))?;
            let Some(name) = data.get(..length) else {
                return Err(self.header_error(offset, "the BSD long name is longer than the member"));
            };
            *data = &data[length..];
            let end = name.iter().position(|b| *b == 0).unwrap_or(name.len());
            &name[..end]
        } else if let Some(at) = text.strip_prefix('/').filter(|at| !at.is_empty()) {
            let at: usize = at
                .parse()
                .map_err(|_| self.header_error(offset, format!("GNU long name {text:?} is not /<number>")))?;
            let table = self.long_names.ok_or_else(|| self.header_error(offset, "GNU long name without a // table"))?;
            let rest =
                table.get(at..).ok_or_else(|| self.header_error(offset, "GNU long name offset past the // table"))?;
            let end = rest.iter().position(|b| *b == b'\n').unwrap_or(rest.len());
            let name = &rest[..end];
            name.strip_suffix(b"/").unwrap_or(name)
        } else {
            text.strip_suffix('/').unwrap_or(text).as_bytes()
        };
        if name.is_empty() {
            return Err(self.header_error(offset, "empty member name"));
        }
        String::from_utf8(name.to_vec()).map_err(|_| self.header_error(offset, "the member name is not UTF-8"))
    }
}

/// `control.tar` / `data.tar` with an extension: the compression, or an error naming the member.
fn member_compression(
    archive: &str,
    member: &str,
    base: &str,
    expected: &'static str,
) -> Result<Option<Compression>, ArchiveError> {
    let Some(rest) = member.strip_prefix(base) else { return Ok(None) };
    let extension = match rest {
        "" => "",
        rest => match rest.strip_prefix('.') {
            Some(extension) => extension,
            None => return Ok(None),
        },
    };
    let unknown =
        || ArchiveError::new(archive, ArchiveProblem::UnknownCompression { member: member.to_owned(), expected });
    let compression = Compression::from_extension(extension).ok_or_else(unknown)?;
    if !compression.is_supported() {
        return Err(ArchiveError::new(
            archive,
            ArchiveProblem::UnsupportedCompression { member: member.to_owned(), compression },
        ));
    }
    Ok(Some(compression))
}

/// Names and sizes rather than bytes.
impl fmt::Debug for DebArchive<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DebArchive")
            .field("name", &self.name)
            .field("package", &self.control.package)
            .field("version", &self.control.version)
            .field("control_files", &self.control_files.keys().collect::<Vec<_>>())
            .field("scripts", &self.scripts)
            .field("data_member", &self.data_member)
            .field("data_bytes", &self.data.len())
            .finish_non_exhaustive()
    }
}

impl<'a> DebArchive<'a> {
    /// Reads a `.deb`. `name` names the archive in errors (its file name, say); `limit` bounds
    /// the archive's size and the decompressed size of each member, in bytes.
    ///
    /// As dpkg does, it requires `debian-binary` first with a format version `2.x`, then the
    /// control member, then the data member; members whose names start with `_` are skipped,
    /// members after the data member ignored.
    pub fn parse(name: &str, bytes: &'a [u8], limit: u64) -> Result<DebArchive<'a>, ArchiveError> {
        let error = |problem| ArchiveError::new(name, problem);
        if bytes.len() as u64 > limit {
            return Err(error(ArchiveProblem::ArchiveTooLarge { size: bytes.len() as u64, limit }));
        }
        if !bytes.starts_with(AR_MAGIC) {
            if AR_MAGIC.starts_with(bytes) {
                return Err(error(ArchiveProblem::Truncated { what: "the ar magic ends early".to_owned() }));
            }
            return Err(error(ArchiveProblem::NotAr));
        }
        let mut members = ArMembers { archive: name, bytes, pos: AR_MAGIC.len(), long_names: None };

        let Some(first) = members.next_member()? else {
            return Err(error(ArchiveProblem::MissingMember { member: "debian-binary" }));
        };
        if first.name != "debian-binary" {
            return Err(error(ArchiveProblem::NotDebianBinary { found: first.name }));
        }
        let version = std::str::from_utf8(first.data).unwrap_or("");
        let version = version.strip_suffix('\n').unwrap_or(version);
        let major = version.split('.').next().unwrap_or("");
        if major != "2" || version.contains(['\n', '\0']) || version.len() > 16 {
            return Err(error(ArchiveProblem::BadFormatVersion {
                found: String::from_utf8_lossy(&first.data[..first.data.len().min(32)]).into_owned(),
            }));
        }
        let format_version = version.to_owned();

        let mut control: Option<(Member<'a>, Compression)> = None;
        let mut data: Option<(Member<'a>, Compression)> = None;
        while let Some(member) = members.next_member()? {
            if member.name.starts_with('_') {
                continue;
            }
            if control.is_none() {
                match member_compression(name, &member.name, "control.tar", "control.tar, .gz, .xz or .zst")? {
                    Some(compression) => control = Some((member, compression)),
                    None => {
                        let place = if member.name.starts_with("data.tar") {
                            "before control.tar"
                        } else {
                            "where control.tar belongs"
                        };
                        return Err(error(ArchiveProblem::UnexpectedMember { member: member.name, place }));
                    }
                }
                continue;
            }
            match member_compression(name, &member.name, "data.tar", "data.tar, .gz, .xz or .zst")? {
                Some(compression) => {
                    data = Some((member, compression));
                    break;
                }
                None => {
                    return Err(error(ArchiveProblem::UnexpectedMember {
                        member: member.name,
                        place: "where data.tar belongs",
                    }));
                }
            }
        }
        let Some((control_member, control_compression)) = control else {
            return Err(error(ArchiveProblem::MissingMember { member: "control.tar" }));
        };
        let Some((data_member, data_compression)) = data else {
            return Err(error(ArchiveProblem::MissingMember { member: "data.tar" }));
        };

        let control_tar =
            MemberReader::new(name, &control_member.name, control_compression, control_member.data, limit)
                .read_all()?;
        let mut control_files = BTreeMap::new();
        for file in tar_files(name, &control_member.name, &control_tar)? {
            if file.path.is_empty() || file.path.contains('/') {
                continue;
            }
            if control_files.contains_key(&file.path) {
                return Err(error(ArchiveProblem::DuplicateFile { member: control_member.name, file: file.path }));
            }
            control_files.insert(file.path, file.data);
        }
        let text = |file: &str| -> Result<Option<String>, ArchiveError> {
            match control_files.get(file) {
                None => Ok(None),
                Some(bytes) => String::from_utf8(bytes.clone()).map(Some).map_err(|_| {
                    error(ArchiveProblem::NotUtf8 { member: control_member.name.clone(), file: file.to_owned() })
                }),
            }
        };
        let Some(control_text) = text("control")? else {
            return Err(error(ArchiveProblem::MissingFile { member: control_member.name.clone(), file: "control" }));
        };
        let control = DebControl::parse(&control_text).map_err(error)?;
        let md5sums = text("md5sums")?;
        let conffiles = text("conffiles")?;
        let scripts =
            MaintainerScript::ALL.into_iter().filter(|script| control_files.contains_key(script.as_str())).collect();
        Ok(DebArchive {
            format_version,
            control,
            control_files,
            md5sums,
            conffiles,
            scripts,
            control_compression,
            data_compression,
            name: name.to_owned(),
            data_member: data_member.name,
            data: data_member.data,
            limit,
        })
    }

    /// The name the archive was read under.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The data member's name (`data.tar.xz`, …).
    pub fn data_member(&self) -> &str {
        &self.data_member
    }

    /// The data member as stored (compressed).
    pub fn data_compressed(&self) -> &'a [u8] {
        self.data
    }

    /// The data tar, decompressed as it is read (bounded by the limit given to
    /// [`DebArchive::parse`]; its errors carry an [`ArchiveError`]).
    pub fn data_reader(&self) -> MemberReader<'a> {
        MemberReader::new(&self.name, &self.data_member, self.data_compression, self.data, self.limit)
    }

    /// The whole data tar, decompressed.
    pub fn data_tar(&self) -> Result<Vec<u8>, ArchiveError> {
        self.data_reader().read_all()
    }

    /// The paths listed in `conffiles` (`remove-on-upgrade` flags dropped).
    pub fn conffile_paths(&self) -> impl Iterator<Item = &str> {
        self.conffiles.as_deref().unwrap_or("").lines().filter_map(|line| line.split_whitespace().next())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::os::unix::fs::PermissionsExt as _;
    use std::path::{Path, PathBuf};
    use std::process::Command;

    use super::*;
    use crate::archive::testing::{mangle, run, tar_listing};

    const LIMIT: u64 = 64 << 20;

    const CONTROL: &str = "\
Package: hello-tailor
Version: 1:1.2-3
Architecture: all
Maintainer: Tailor Tests <tests@example.org>
Installed-Size: 12
Depends: libc6 (>= 2.36), bash | dash
Pre-Depends: dpkg (>= 1.20)
Provides: hello-virtual (= 1.2)
Description: says hello
 A package built by the tailor tests.
";

    /// A package tree: DEBIAN/{control,postinst,md5sums,conffiles}, usr/bin/hello, the symlink
    /// usr/bin/hi -> hello, the empty directory usr/share/hello, etc/hello.conf and, when
    /// `zeros`, 64 KiB of zeros.
    fn package_tree(root: &Path, zeros: bool) -> PathBuf {
        let tree = root.join("tree");
        let write = |path: &str, text: &str, mode: u32| {
            let path = tree.join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, text).unwrap();
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
        };
        write("DEBIAN/control", CONTROL, 0o644);
        write("DEBIAN/postinst", "#!/bin/sh\necho configured\n", 0o755);
        write("DEBIAN/md5sums", "0123456789abcdef0123456789abcdef  usr/bin/hello\n", 0o644);
        write("DEBIAN/conffiles", "/etc/hello.conf\n", 0o644);
        write("usr/bin/hello", "#!/bin/sh\necho hello\n", 0o755);
        write("etc/hello.conf", "greeting=hello\n", 0o644);
        std::os::unix::fs::symlink("hello", tree.join("usr/bin/hi")).unwrap();
        std::fs::create_dir_all(tree.join("usr/share/hello")).unwrap();
        if zeros {
            write("usr/share/doc/hello-tailor/zeros", &"\0".repeat(64 << 10), 0o644);
        }
        tree
    }

    /// Builds the tree into a `.deb` with `dpkg-deb --build -Z<compressor>`.
    fn build_deb(compressor: &str) -> Vec<u8> {
        build_deb_of(compressor, true)
    }

    fn build_deb_of(compressor: &str, zeros: bool) -> Vec<u8> {
        let dir = tempfile::tempdir().unwrap();
        let tree = package_tree(dir.path(), zeros);
        let out = dir.path().join("hello.deb");
        run(
            Command::new("dpkg-deb")
                .args(["--root-owner-group", "--nocheck", &format!("-Z{compressor}"), "--build"])
                .arg(&tree)
                .arg(&out),
            "dpkg",
        );
        std::fs::read(out).unwrap()
    }

    /// The members of an ar archive, as (name, data), read with `ar` semantics by hand.
    fn members(deb: &[u8]) -> Vec<(String, Vec<u8>)> {
        let mut members = ArMembers { archive: "t", bytes: deb, pos: 8, long_names: None };
        let mut out = Vec::new();
        while let Some(member) = members.next_member().unwrap() {
            out.push((member.name, member.data.to_vec()));
        }
        out
    }

    /// An ar archive of the members, names written with `name_form`.
    fn ar(members: &[(&str, &[u8])], name_form: fn(&str, &[u8]) -> (String, Vec<u8>)) -> Vec<u8> {
        let mut out = AR_MAGIC.to_vec();
        for (name, data) in members {
            let (field, data) = name_form(name, data);
            out.extend(format!("{field:<16}{:<12}{:<6}{:<6}{:<8}{:<10}`\n", 0, 0, 0, "100644", data.len()).bytes());
            out.extend_from_slice(&data);
            if data.len() % 2 == 1 {
                out.push(b'\n');
            }
        }
        out
    }

    fn dpkg_form(name: &str, data: &[u8]) -> (String, Vec<u8>) {
        (name.to_owned(), data.to_vec())
    }

    fn gnu_form(name: &str, data: &[u8]) -> (String, Vec<u8>) {
        (format!("{name}/"), data.to_vec())
    }

    fn bsd_form(name: &str, data: &[u8]) -> (String, Vec<u8>) {
        (format!("#1/{}", name.len()), [name.as_bytes(), data].concat())
    }

    fn check_hello(deb: &DebArchive<'_>) {
        assert_eq!(deb.format_version, "2.0");
        let control = &deb.control;
        assert_eq!(control.package, "hello-tailor");
        assert_eq!(control.version.to_string(), "1:1.2-3");
        assert_eq!(control.architecture, "all");
        assert_eq!(control.installed_size, Some(12));
        assert_eq!(control.depends.len(), 2);
        assert_eq!(control.depends[1].alternatives.len(), 2);
        assert_eq!(control.pre_depends.len(), 1);
        assert_eq!(control.provides.len(), 1);
        assert_eq!(control.description, "says hello");
        assert_eq!(control.text, CONTROL);
        assert_eq!(deb.scripts, [MaintainerScript::Postinst]);
        assert_eq!(deb.md5sums.as_deref(), Some("0123456789abcdef0123456789abcdef  usr/bin/hello\n"));
        assert_eq!(deb.conffile_paths().collect::<Vec<_>>(), ["/etc/hello.conf"]);
        let names: Vec<&str> = deb.control_files.keys().map(String::as_str).collect();
        assert_eq!(names, ["conffiles", "control", "md5sums", "postinst"]);
        assert_eq!(deb.control_files["postinst"], b"#!/bin/sh\necho configured\n");

        let tar = deb.data_tar().unwrap();
        let listing = tar_listing(&tar);
        let names: Vec<&str> = listing.iter().map(|(name, _, _)| name.as_str()).collect();
        for expected in [
            "./",
            "./etc/",
            "./etc/hello.conf",
            "./usr/",
            "./usr/bin/",
            "./usr/bin/hello",
            "./usr/bin/hi",
            "./usr/share/",
        ] {
            assert!(names.contains(&expected), "{expected} not in {names:?}");
        }
        assert!(names.iter().any(|name| name.trim_end_matches('/') == "./usr/share/hello"), "{names:?}");
        let (_, kind, link) = listing.iter().find(|(name, _, _)| name == "./usr/bin/hi").unwrap();
        assert_eq!((*kind, link.as_deref()), (tar::EntryType::Symlink, Some("hello")));
        let mut streamed = Vec::new();
        std::io::Read::read_to_end(&mut deb.data_reader(), &mut streamed).unwrap();
        assert_eq!(streamed, tar);
    }

    #[test]
    fn dpkg_deb_packages_read_back_with_every_compression() {
        for (compressor, data_compression, data_member) in [
            ("xz", Compression::Xz, "data.tar.xz"),
            ("zstd", Compression::Zstd, "data.tar.zst"),
            ("gzip", Compression::Gzip, "data.tar.gz"),
            ("none", Compression::None, "data.tar"),
        ] {
            let bytes = build_deb(compressor);
            let deb = DebArchive::parse("hello.deb", &bytes, LIMIT).unwrap();
            assert_eq!(deb.data_compression, data_compression, "{compressor}");
            assert_eq!(deb.data_member(), data_member);
            // dpkg-deb compresses the control member like the data member (gzip for none).
            let member_names: Vec<String> = members(&bytes).into_iter().map(|(name, _)| name).collect();
            assert_eq!(member_names[1], format!("control.tar{}", dot(deb.control_compression)), "{compressor}");
            check_hello(&deb);
        }
    }

    fn dot(compression: Compression) -> String {
        match compression.extension() {
            "" => String::new(),
            extension => format!(".{extension}"),
        }
    }

    #[test]
    fn gnu_and_bsd_member_names_and_extra_members() {
        let bytes = build_deb("xz");
        let parts = members(&bytes);
        let parts: Vec<(&str, &[u8])> = parts.iter().map(|(name, data)| (name.as_str(), data.as_slice())).collect();
        for form in [dpkg_form, gnu_form, bsd_form] {
            let repacked = ar(&parts, form);
            check_hello(&DebArchive::parse("repacked.deb", &repacked, LIMIT).unwrap());
        }
        // A `_gpgorigin` signature member (skipped) and trailing members (ignored).
        let with_extras = ar(
            &[parts[0], ("_gpgorigin", b"signature".as_slice()), parts[1], parts[2], ("trailing", b"x".as_slice())],
            gnu_form,
        );
        check_hello(&DebArchive::parse("extras.deb", &with_extras, LIMIT).unwrap());
        // GNU long names through a // table.
        let mut long = AR_MAGIC.to_vec();
        let table = b"debian-binary/\ncontrol.tar.xz/\n";
        long.extend(format!("{:<16}{:<32}{:<10}`\n", "//", "", table.len()).bytes());
        long.extend_from_slice(table);
        long.push(b'\n');
        long.extend_from_slice(&ar(&[("/0", parts[0].1), ("/15", parts[1].1), parts[2]], dpkg_form)[8..]);
        check_hello(&DebArchive::parse("long.deb", &long, LIMIT).unwrap());
    }

    #[test]
    fn format_and_member_errors() {
        let bytes = build_deb("xz");
        let parts = members(&bytes);
        let [binary, control, data] = [&parts[0], &parts[1], &parts[2]].map(|(n, d)| (n.as_str(), d.as_slice()));
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (b"PK\x03\x04 a zip file".to_vec(), "x.deb: not a Debian package: it does not start with the ar magic"),
            (b"!<ar".to_vec(), "x.deb: truncated: the ar magic ends early"),
            (AR_MAGIC.to_vec(), "x.deb: missing member debian-binary"),
            (ar(&[control, data], dpkg_form), "x.deb: the first member is \"control.tar.xz\", not debian-binary"),
            (ar(&[("debian-binary", b"3.0\n"), control, data], dpkg_form), "debian-binary holds \"3.0\\n\""),
            (ar(&[binary, data, control], dpkg_form), "unexpected member \"data.tar.xz\" before control.tar"),
            (ar(&[binary, ("hello", b"x"), control, data], dpkg_form), "unexpected member \"hello\" where control"),
            (ar(&[binary, control, ("extra", b"x"), data], dpkg_form), "unexpected member \"extra\" where data.tar"),
            (ar(&[binary, control], dpkg_form), "x.deb: missing member data.tar"),
            (ar(&[binary], dpkg_form), "x.deb: missing member control.tar"),
            (ar(&[binary, control, ("data.tar.lz4", b"x")], dpkg_form), "member data.tar.lz4: unknown compression"),
            (
                ar(&[binary, control, ("data.tar.bz2", b"BZh")], dpkg_form),
                "x.deb: member data.tar.bz2: bzip2 compression is not supported yet",
            ),
            (
                ar(&[binary, ("control.tar.gz", b"\x1f\x8b not really"), data], dpkg_form),
                "x.deb: member control.tar.gz: corrupt gzip data",
            ),
            (
                ar(&[binary, ("control.tar", &[b'x'; 1024]), data], dpkg_form),
                "x.deb: member control.tar: not a valid tar archive",
            ),
        ];
        for (bytes, message) in cases {
            let err = DebArchive::parse("x.deb", &bytes, LIMIT).unwrap_err().to_string();
            assert!(err.contains(message), "expected {message:?} in {err:?}");
        }
        let mut bad_size = ar(&[binary, control, data], dpkg_form);
        bad_size[8 + 48] = b'x';
        let err = DebArchive::parse("x.deb", &bad_size, LIMIT).unwrap_err().to_string();
        assert!(err.contains("bad ar member header at byte 8: size \"x "), "{err}");
    }

    #[test]
    fn control_member_problems() {
        let tar = |files: &[(&str, &[u8])]| {
            let mut builder = tar::Builder::new(Vec::new());
            for (path, data) in files {
                let mut header = tar::Header::new_gnu();
                header.set_size(data.len() as u64);
                header.set_mode(0o644);
                builder.append_data(&mut header, path, *data).unwrap();
            }
            builder.into_inner().unwrap()
        };
        let deb = |control_tar: Vec<u8>| {
            ar(&[("debian-binary", b"2.0\n"), ("control.tar", &control_tar), ("data.tar", &[0; 1024])], dpkg_form)
        };
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (tar(&[("./md5sums", b"")]), "member control.tar: missing control"),
            (tar(&[("./control", b"\xff\xfe")]), "member control.tar: control is not UTF-8 text"),
            (tar(&[("./control", b"Package: a\n"), ("control", b"Package: a\n")]), "control appears twice"),
            (
                tar(&[("./control", b"Package: a\nArchitecture: all\n")]),
                "control: stanza at line 1 (package a): missing field Version",
            ),
            (tar(&[("./control", b"Package: a\nVersion: 1\n")]), "missing field Architecture"),
            (
                tar(&[("./control", b"Package: a\nVersion: 1\nArchitecture: all\n\nPackage: b\n")]),
                "expected one stanza, found 2",
            ),
            (tar(&[("./control", b"Package: a\nVersion: 1\nArchitecture: all\nDepends: b (>> )\n")]), "field Depends"),
        ];
        for (control_tar, message) in cases {
            let err = DebArchive::parse("c.deb", &deb(control_tar), LIMIT).unwrap_err().to_string();
            assert!(err.starts_with("c.deb: ") && err.contains(message), "expected {message:?} in {err:?}");
        }
        // -Znone style: uncompressed members, data tar with nothing but an end marker.
        let fine = deb(tar(&[("./control", b"Package: a\nVersion: 1\nArchitecture: all\n"), ("./prerm", b"")]));
        let parsed = DebArchive::parse("c.deb", &fine, LIMIT).unwrap();
        assert_eq!(parsed.scripts, [MaintainerScript::Prerm]);
        assert_eq!(parsed.data_tar().unwrap(), [0; 1024]);
        assert_eq!(parsed.md5sums, None);
    }

    #[test]
    fn size_limits_name_the_limit() {
        let bytes = build_deb("zstd");
        let err = DebArchive::parse("big.deb", &bytes, 100).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("big.deb: the archive is {} bytes, larger than the size limit of 100 bytes", bytes.len())
        );
        let limit = 32 << 10;
        assert!(bytes.len() < limit as usize);
        let deb = DebArchive::parse("big.deb", &bytes, limit).unwrap();
        let err = deb.data_tar().unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("big.deb: data.tar.zst decompresses to more than the size limit of {limit} bytes")
        );
    }

    #[test]
    fn truncated_and_corrupted_debs_fail_without_panicking() {
        for compressor in ["xz", "zstd", "gzip"] {
            let bytes = build_deb_of(compressor, false);
            let mut accepted = 0;
            mangle(&bytes, true, |input| match DebArchive::parse("m.deb", input, LIMIT) {
                Ok(deb) => {
                    let ok = deb.data_tar().is_ok();
                    accepted += usize::from(ok);
                    ok
                }
                Err(err) => {
                    assert!(err.to_string().starts_with("m.deb: "), "{err}");
                    false
                }
            });
            // Flipped bytes in padding, mtimes, uids and the like go unnoticed; most do not.
            assert!(accepted < bytes.len(), "{compressor}: {accepted} corruptions accepted");
        }
    }

    /// Real Debian packages, when the machine has some (apt's cache, or the debootstrap cache
    /// of the benchmark); the dpkg-deb-built packages above are the required coverage.
    #[test]
    fn real_debian_packages_read() {
        // tests/run.sh downloads a few real packages into TAILOR_TEST_DEBS.
        let downloaded = std::env::var("TAILOR_TEST_DEBS").unwrap_or_default();
        let mut debs: Vec<PathBuf> =
            [downloaded.as_str(), "/var/cache/apt/archives", "/var/cache/tailor-bench/rootfs/var/cache/apt/archives"]
                .iter()
                .filter(|dir| !dir.is_empty())
                .filter_map(|dir| std::fs::read_dir(dir).ok())
                .flatten()
                .filter_map(|entry| entry.ok().map(|entry| entry.path()))
                .filter(|path| path.extension().is_some_and(|ext| ext == "deb"))
                .collect();
        debs.sort();
        debs.truncate(8);
        assert!(
            !debs.is_empty(),
            "no real .deb to read: run tests/run.sh (it downloads some with apt-get download into TAILOR_TEST_DEBS)"
        );
        for path in debs {
            let bytes = std::fs::read(&path).unwrap();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let deb = DebArchive::parse(&name, &bytes, 1 << 30).unwrap();
            assert!(name.starts_with(&format!("{}_", deb.control.package)), "{name}: {}", deb.control.package);
            let tar = deb.data_tar().unwrap();
            assert!(!tar_listing(&tar).is_empty(), "{name}");
            if let Some(md5sums) = &deb.md5sums {
                assert!(md5sums.lines().all(|line| line.len() > 34), "{name}");
            }
        }
    }
}
