//! The packages layer (DESIGN.md §5): OS packages of the base's own variant — Debian (dpkg) or
//! Alpine (apk), told by the package database the base carries — resolved against what the
//! base has, fetched from signed repositories, checked, and unpacked without running anything;
//! the layer also holds the package database with them installed, so scanners see them.

use std::collections::BTreeMap;
use std::sync::Arc;

use md5::{Digest as _, Md5};
use sha1::Sha1;
use tailor_packages::deb::ResolveError;
use tailor_packages::fetch::{self, FetchError, Fetcher};
use tailor_packages::repos::Repositories;
use tailor_packages::{apk, deb};
use tailor_spec::Problem;

use crate::base::{FileIndex, PackageDb};
use crate::tarfs::{Entry, Kind, Limits, TarReader};
use crate::variant::{apk_arch, deb_arch};
use crate::{BuildError, Result};

/// Where packages come from (`--repositories`) and the fetch cache.
pub struct PackageSource {
    pub repositories: Repositories,
    pub fetcher: Fetcher,
}

impl std::fmt::Debug for PackageSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PackageSource").field("repositories", &self.repositories).finish_non_exhaustive()
    }
}

impl PackageSource {
    /// The official repositories of each release, no cache.
    pub fn defaults() -> PackageSource {
        PackageSource { repositories: Repositories::default(), fetcher: Fetcher::new(None) }
    }
}

/// What installing packages did for one platform.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct Installed {
    /// The layer's entries (none when nothing was to install).
    #[serde(skip)]
    pub entries: Vec<Entry>,
    /// `name=version <file hash from the signed index>` of each package, in install order: what
    /// the layer's bytes depend on besides the base (the packages layer's cache key).
    pub pins: Vec<String>,
    /// `name=version` installed, in install order.
    pub packages: Vec<String>,
    /// `package: script` maintainer scripts that were not run.
    pub scripts_skipped: Vec<String>,
    /// Requested packages the base has already.
    pub already_installed: Vec<String>,
    /// The packages installed, for the SBOM.
    pub added: Vec<crate::os::Package>,
    /// Where each came from, for the provenance: (`name=version`, URL, SHA-256 hex of the file).
    pub sources: Vec<(String, String, String)>,
}

fn invalid(i: usize, problem: impl ToString) -> BuildError {
    BuildError::Invalid { problems: vec![Problem::new(format!("contents.packages[{i}]"), problem.to_string())] }
}

/// The request a resolver error is about (its name, or the root of its chain): the error's
/// field is that entry of `contents.packages`.
fn resolve_error(requests: &[String], e: ResolveError) -> BuildError {
    let name = match &e {
        ResolveError::BadRequest { request, .. } => request.as_str(),
        ResolveError::Unknown { name, .. } | ResolveError::NoSuchVersion { name, .. } => name.as_str(),
        ResolveError::Unsatisfiable { chain, .. }
        | ResolveError::Conflict { chain, .. }
        | ResolveError::BadIndex { chain, .. } => chain.split([' ', '→']).next().unwrap_or(""),
    };
    let name_of = |r: &str| r.split(['=', '<', '>', '~', ' ']).next().unwrap_or("").to_owned();
    let i = requests.iter().position(|r| r == name || name_of(r) == name_of(name)).unwrap_or(0);
    invalid(i, e)
}

fn fetch_error(e: FetchError) -> BuildError {
    BuildError::bad_input("repositories", e)
}

/// Whether to install or only to say what would be installed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Install,
    Resolve,
}

/// Where packages go: the requests of a spec on one platform of a base.
pub struct Target<'a> {
    pub source: &'a PackageSource,
    pub base_name: &'a str,
    /// The base's layer digests (what `index` was read from).
    pub base_layers: &'a [String],
    pub index: &'a FileIndex,
    pub platform: &'a str,
    pub requests: &'a [String],
    /// Modification time of the files tailor writes (the package database).
    pub mtime: u64,
}

/// What installing `t.requests` would add (`packages` and `pins` filled): resolved against the
/// repositories' current indexes, nothing downloaded (the worker's "anything changed?" check,
/// the packages layer's cache key).
pub fn resolve(t: &Target) -> Result<Installed> {
    run(t, Limits::default(), Mode::Resolve)
}

/// Installs `t.requests`: the layer's entries and what was installed.
pub fn install(t: &Target, limits: Limits) -> Result<Installed> {
    run(t, limits, Mode::Install)
}

fn run(t: &Target, limits: Limits, mode: Mode) -> Result<Installed> {
    let Target { source, base_name, index, platform, requests, .. } = *t;
    if requests.is_empty() {
        return Ok(Installed::default());
    }
    let no_arch = || invalid(0, format!("{base_name} is {platform}: no packages for that architecture"));
    match &index.db {
        PackageDb::Dpkg { status, multiarch } => {
            let arch = deb_arch(platform).ok_or_else(no_arch)?;
            let codename = index.os.as_ref().map(|o| o.codename.as_str()).filter(|c| !c.is_empty());
            let repos = match (codename, source.repositories.debian.is_empty()) {
                (_, false) | (Some(_), true) => source.repositories.debian_for(codename.unwrap_or("")),
                (None, true) => {
                    return Err(invalid(
                        0,
                        format!(
                            "{base_name} names no Debian release (VERSION_CODENAME in /etc/os-release): give its repositories with --repositories"
                        ),
                    ));
                }
            };
            let db = (status.as_str(), *multiarch);
            install_deb(t, &repos, arch, db, limits, mode)
        }
        PackageDb::Apk { installed, world } => {
            let arch = apk_arch(platform).ok_or_else(no_arch)?;
            let version = index.os.as_ref().map(|o| o.version_id.as_str()).unwrap_or("");
            let repos = source.repositories.alpine_for(version);
            let db = (installed.as_str(), world.as_str());
            install_apk(t, &repos, arch, db, limits, mode)
        }
        PackageDb::None => Err(invalid(
            0,
            format!(
                "{base_name} has no package database (/var/lib/dpkg/status or /lib/apk/db/installed): it cannot take OS packages; add the files with an artifact instead"
            ),
        )),
    }
}

/// `path` with any prefix that is a symlink to a directory in the base replaced by the
/// directory (so `lib/x86_64-linux-gnu/x.so` lands in `usr/lib/…` on a merged-/usr base).
fn through_links(path: &str, links: &BTreeMap<String, String>) -> String {
    let mut current = path.to_owned();
    for _ in 0..16 {
        let parts: Vec<&str> = current.split('/').collect();
        let hit = (1..parts.len()).find_map(|n| {
            let prefix = parts[..n].join("/");
            links.get(&prefix).map(|target| (n, target.clone()))
        });
        match hit {
            Some((n, target)) => {
                let rest = parts[n..].join("/");
                current = if target.is_empty() { rest } else { format!("{target}/{rest}") };
            }
            None => break,
        }
    }
    current
}

/// Adds a package's entries to the layer: directories the base has as symlinks to directories
/// stay symlinks (as dpkg leaves them), everything else goes through them.
fn add_entries(files: &mut BTreeMap<String, Entry>, entries: Vec<Entry>, links: &BTreeMap<String, String>) {
    for mut e in entries.into_iter().filter(|e| !e.path.is_empty()) {
        if e.kind == Kind::Dir && links.contains_key(&e.path) {
            continue;
        }
        e.path = through_links(&e.path, links);
        if let Kind::Hardlink(target) = &e.kind {
            e.kind = Kind::Hardlink(through_links(target, links));
        }
        files.insert(e.path.clone(), e);
    }
}

/// The entries of a data tar, paths without a leading `./`.
fn data_entries(what: &str, tar: &[u8], limits: Limits) -> Result<Vec<Entry>> {
    TarReader::new(tar, limits).read_all().map_err(|e| BuildError::bad_input(what, e))
}

fn md5_hex(data: &[u8]) -> String {
    hex::encode(Md5::digest(data))
}

fn install_deb(
    t: &Target,
    repos: &[tailor_packages::repos::DebianRepo],
    arch: &str,
    (status, multiarch): (&str, bool),
    limits: Limits,
    mode: Mode,
) -> Result<Installed> {
    let (fetcher, requests, links, mtime) = (&t.source.fetcher, t.requests, &t.index.dir_links, t.mtime);
    let reqs: Vec<deb::Request> = requests
        .iter()
        .enumerate()
        .map(|(i, r)| deb::Request::parse(r).map_err(|e| invalid(i, e)))
        .collect::<Result<_>>()?;
    let installed =
        deb::parse_status(status).map_err(|e| BuildError::bad_input("the base's /var/lib/dpkg/status", e))?;
    let index = fetch::debian_index(fetcher, repos, arch).map_err(fetch_error)?;
    let universe = deb::Universe::new(arch, index.packages());
    let plan = deb::resolve(&universe, &installed, &reqs).map_err(|e| resolve_error(requests, e))?;
    let mut out = Installed {
        already_installed: plan.already_installed.iter().map(|(n, v)| format!("{n}={v}")).collect(),
        ..Installed::default()
    };
    out.pins = plan.install.iter().map(|p| format!("{}={} {}", p.package, p.version.as_str(), p.sha256)).collect();
    if mode == Mode::Resolve {
        out.packages = plan.install.iter().map(|p| format!("{}={}", p.package, p.version.as_str())).collect();
        return Ok(out);
    }
    let mut files: BTreeMap<String, Entry> = BTreeMap::new();
    let mut unpacked = Vec::new();
    for p in &plan.install {
        let bytes = fetch::download_deb(fetcher, &index, p).map_err(fetch_error)?;
        let what = format!("{} {}", p.package, p.version.as_str());
        let archive =
            deb::DebArchive::parse(&p.filename, &bytes, fetch::LIMIT).map_err(|e| BuildError::bad_input(&what, e))?;
        let tar = archive.data_tar().map_err(|e| BuildError::bad_input(&what, e))?;
        let entries = data_entries(&what, &tar, limits)?;
        let mut md5sums = String::new();
        let mut paths = Vec::new();
        for e in &entries {
            if e.path.is_empty() {
                continue;
            }
            paths.push(format!("/{}", e.path));
            if e.kind == Kind::File {
                md5sums.push_str(&format!("{}  {}\n", md5_hex(&e.data), e.path));
            }
        }
        let by_path: BTreeMap<&str, &Entry> = entries.iter().map(|e| (e.path.as_str(), e)).collect();
        let conffiles = archive
            .conffile_paths()
            .map(|c| {
                let md5 = by_path.get(c.trim_start_matches('/')).map(|e| md5_hex(&e.data)).unwrap_or_default();
                (c.to_owned(), md5)
            })
            .collect();
        let scripts: Vec<(String, Vec<u8>)> = archive
            .scripts
            .iter()
            .filter_map(|s| archive.control_files.get(s.as_str()).map(|b| (s.as_str().to_owned(), b.clone())))
            .collect();
        for (name, _) in &scripts {
            if name != "triggers" {
                out.scripts_skipped.push(format!("{}: {name}", p.package));
            }
        }
        unpacked.push(deb::Unpacked {
            control: archive.control.text.clone(),
            md5sums: Some(archive.md5sums.clone().unwrap_or(md5sums)),
            conffiles,
            paths,
            scripts,
        });
        add_entries(&mut files, entries, links);
        out.packages.push(format!("{}={}", p.package, p.version.as_str()));
        out.added.push(crate::os::Package {
            kind: crate::os::PackageKind::Deb,
            name: p.package.clone(),
            version: p.version.as_str().to_owned(),
            arch: Some(p.architecture.clone()),
            source: Some(p.source_name()).filter(|s| *s != p.package).map(str::to_owned),
            license: None,
            maintainer: None,
        });
        out.sources.push((
            format!("{}={}", p.package, p.version.as_str()),
            index.url_of(p).unwrap_or_default(),
            p.sha256.to_hex(),
        ));
    }
    let db = deb::install(status, multiarch, &unpacked).map_err(|e| BuildError::Internal(e.to_string()))?;
    files.insert(
        "var/lib/dpkg/status".into(),
        Entry::file("var/lib/dpkg/status", db.status.into_bytes(), 0o644, 0, 0, mtime),
    );
    for (name, bytes) in db.info {
        let path = format!("var/lib/dpkg/{name}");
        let script =
            ["preinst", "postinst", "prerm", "postrm", "config"].iter().any(|s| name.ends_with(&format!(".{s}")));
        files.insert(path.clone(), Entry::file(&path, bytes, if script { 0o755 } else { 0o644 }, 0, 0, mtime));
    }
    out.entries = files.into_values().collect();
    Ok(out)
}

fn install_apk(
    t: &Target,
    repos: &[tailor_packages::repos::AlpineRepo],
    arch: &str,
    (installed_db, world): (&str, &str),
    limits: Limits,
    mode: Mode,
) -> Result<Installed> {
    let (fetcher, requests, links, mtime) = (&t.source.fetcher, t.requests, &t.index.dir_links, t.mtime);
    let reqs: Vec<apk::Request> = requests
        .iter()
        .enumerate()
        .map(|(i, r)| apk::Request::parse(r).map_err(|e| invalid(i, e)))
        .collect::<Result<_>>()?;
    let installed =
        apk::parse_index(installed_db).map_err(|e| BuildError::bad_input("the base's /lib/apk/db/installed", e))?;
    let index = fetch::alpine_index(fetcher, repos, arch).map_err(fetch_error)?;
    let universe = apk::Universe::new(arch, &index.packages);
    let plan = apk::resolve(&universe, &installed, &reqs).map_err(|e| resolve_error(requests, e))?;
    let mut out = Installed {
        already_installed: plan.already_installed.iter().map(|(n, v)| format!("{n}={v}")).collect(),
        ..Installed::default()
    };
    out.pins = plan.install.iter().map(|p| format!("{}={} {}", p.name, p.version, p.checksum)).collect();
    if mode == Mode::Resolve {
        out.packages = plan.install.iter().map(|p| format!("{}={}", p.name, p.version)).collect();
        return Ok(out);
    }
    let mut files: BTreeMap<String, Entry> = BTreeMap::new();
    let mut apk_files = Vec::new();
    for p in &plan.install {
        let bytes = fetch::download_apk(fetcher, &index, p).map_err(fetch_error)?;
        let what = format!("{} {}", p.name, p.version);
        let archive = apk::ApkArchive::parse(&p.file_name(), &bytes, fetch::LIMIT)
            .map_err(|e| BuildError::bad_input(&what, e))?;
        let tar = archive.data_tar().map_err(|e| BuildError::bad_input(&what, e))?;
        let entries = data_entries(&what, &tar, limits)?;
        let listed: Vec<apk::ApkFile> = entries
            .iter()
            .filter(|e| !e.path.is_empty())
            .filter_map(|e| {
                let kind = match &e.kind {
                    Kind::Dir => apk::FileKind::Dir,
                    Kind::File => apk::FileKind::File,
                    Kind::Symlink(t) => apk::FileKind::Symlink(t.clone()),
                    _ => return None,
                };
                let sha1 = (e.kind == Kind::File).then(|| {
                    use sha1::Digest as _;
                    Sha1::digest(&e.data).into()
                });
                Some(apk::ApkFile { path: e.path.clone(), kind, mode: e.mode, uid: e.uid, gid: e.gid, sha1 })
            })
            .collect();
        for s in &archive.scripts {
            out.scripts_skipped.push(format!("{}: {s}", p.name));
        }
        apk_files.push((*p, listed));
        add_entries(&mut files, entries, links);
        out.packages.push(format!("{}={}", p.name, p.version));
        out.added.push(crate::os::Package {
            kind: crate::os::PackageKind::Apk,
            name: p.name.clone(),
            version: p.version.to_string(),
            arch: p.arch.clone(),
            source: p.origin.clone().filter(|o| *o != p.name),
            license: p.license.clone(),
            maintainer: p.maintainer.clone(),
        });
        out.sources.push((
            format!("{}={}", p.name, p.version),
            index.url_of(p).unwrap_or_default(),
            hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&bytes)),
        ));
    }
    let unpacked: Vec<apk::UnpackedApk> =
        apk_files.into_iter().map(|(package, files)| apk::UnpackedApk { package, files }).collect();
    let requested: Vec<&str> = requests.iter().map(String::as_str).collect();
    let db = apk::install_apk(installed_db, world, &unpacked, &requested);
    files.insert(
        "lib/apk/db/installed".into(),
        Entry::file("lib/apk/db/installed", db.installed.into_bytes(), 0o644, 0, 0, mtime),
    );
    files.insert("etc/apk/world".into(), Entry::file("etc/apk/world", db.world.into_bytes(), 0o644, 0, 0, mtime));
    out.entries = files.into_values().collect();
    Ok(out)
}

/// Shared so a cached fetcher serves many builds.
pub type SharedSource = Arc<PackageSource>;

#[cfg(test)]
#[path = "packages_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "packages_apk_tests.rs"]
mod apk_tests;
