//! dpkg's database of installed packages, `/var/lib/dpkg/status`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::control::{Stanza, Stanzas};
use super::fields::{FieldProblem, MultiArch, PackageError, Reader};
use super::relation::{Dependency, Relation};
use super::version::Version;

/// What the administrator asked for (first word of `Status`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Want {
    Unknown,
    Install,
    Hold,
    Deinstall,
    Purge,
}

/// Error flag (second word of `Status`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Flag {
    Ok,
    Reinstreq,
}

/// Package state (third word of `Status`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum State {
    NotInstalled,
    ConfigFiles,
    HalfInstalled,
    Unpacked,
    HalfConfigured,
    TriggersAwaited,
    TriggersPending,
    Installed,
}

/// The `Status` field: `want flag state`, like `install ok installed`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Status {
    pub want: Want,
    pub flag: Flag,
    pub state: State,
}

impl Status {
    /// `install ok installed`, what tailor writes for the packages it installs.
    pub const INSTALLED: Status = Status { want: Want::Install, flag: Flag::Ok, state: State::Installed };
}

impl FromStr for Status {
    type Err = FieldProblem;
    fn from_str(text: &str) -> Result<Self, FieldProblem> {
        let bad = || FieldProblem::Status(text.trim().to_owned());
        let words: Vec<&str> = text.split_whitespace().collect();
        let [want, flag, state] = words.as_slice() else { return Err(bad()) };
        let want = match *want {
            "unknown" => Want::Unknown,
            "install" => Want::Install,
            "hold" => Want::Hold,
            "deinstall" => Want::Deinstall,
            "purge" => Want::Purge,
            _ => return Err(bad()),
        };
        let flag = match *flag {
            "ok" => Flag::Ok,
            "reinstreq" => Flag::Reinstreq,
            _ => return Err(bad()),
        };
        let state = match *state {
            "not-installed" => State::NotInstalled,
            "config-files" => State::ConfigFiles,
            "half-installed" => State::HalfInstalled,
            "unpacked" => State::Unpacked,
            "half-configured" => State::HalfConfigured,
            "triggers-awaited" => State::TriggersAwaited,
            "triggers-pending" => State::TriggersPending,
            "installed" => State::Installed,
            _ => return Err(bad()),
        };
        Ok(Status { want, flag, state })
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let want = match self.want {
            Want::Unknown => "unknown",
            Want::Install => "install",
            Want::Hold => "hold",
            Want::Deinstall => "deinstall",
            Want::Purge => "purge",
        };
        let flag = match self.flag {
            Flag::Ok => "ok",
            Flag::Reinstreq => "reinstreq",
        };
        let state = match self.state {
            State::NotInstalled => "not-installed",
            State::ConfigFiles => "config-files",
            State::HalfInstalled => "half-installed",
            State::Unpacked => "unpacked",
            State::HalfConfigured => "half-configured",
            State::TriggersAwaited => "triggers-awaited",
            State::TriggersPending => "triggers-pending",
            State::Installed => "installed",
        };
        write!(f, "{want} {flag} {state}")
    }
}

/// One entry of dpkg's status file. `Version` and `Architecture` are optional because entries
/// of packages that are not installed may lack them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstalledPackage {
    pub package: String,
    pub status: Status,
    pub version: Option<Version>,
    pub architecture: Option<String>,
    pub multi_arch: MultiArch,
    pub essential: bool,
    /// `Source`, as written: `name` or `name (version)`.
    pub source: Option<String>,
    pub depends: Vec<Dependency>,
    pub pre_depends: Vec<Dependency>,
    pub provides: Vec<Relation>,
    pub conflicts: Vec<Relation>,
    pub breaks: Vec<Relation>,
    /// The first line of `Description`.
    pub description: String,
}

impl InstalledPackage {
    /// Reads an entry; `Package` and `Status` are required.
    pub fn from_stanza(stanza: &Stanza<'_>) -> Result<InstalledPackage, PackageError> {
        let fields = Reader::new(stanza)?;
        Ok(InstalledPackage {
            package: fields.package().to_owned(),
            status: fields.required("Status", str::parse)?,
            version: fields.version()?,
            architecture: fields.text("Architecture")?,
            multi_arch: fields.multi_arch()?,
            essential: fields.yes_no("Essential")?,
            source: fields.text("Source")?,
            depends: fields.dependencies("Depends")?,
            pre_depends: fields.dependencies("Pre-Depends")?,
            provides: fields.provides()?,
            conflicts: fields.relations("Conflicts")?,
            breaks: fields.relations("Breaks")?,
            description: fields.synopsis(),
        })
    }

    /// Whether the package is fully installed (state `installed`); other states (unpacked,
    /// config-files, …) do not satisfy dependencies.
    pub fn is_installed(&self) -> bool {
        self.status.state == State::Installed
    }
}

/// Parses a whole status file, entries in file order.
pub fn parse_status(text: &str) -> Result<Vec<InstalledPackage>, PackageError> {
    Stanzas::new(text).map(|stanza| InstalledPackage::from_stanza(&stanza?)).collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const STATUS: &str = "\
Package: libc6
Status: install ok installed
Priority: optional
Section: libs
Installed-Size: 12990
Maintainer: GNU Libc Maintainers <debian-glibc@lists.debian.org>
Architecture: amd64
Multi-Arch: same
Source: glibc
Version: 2.36-9+deb12u10
Depends: libgcc-s1
Recommends: libidn2-0 (>= 2.0.5~)
Breaks: aide (<< 0.17.3-4+b3), busybox (<< 1.30.1-6)
Conffiles:
 /etc/ld.so.conf.d/x86_64-linux-gnu.conf d4e7a7b88a71b5ffd9e2644e71a0cfab
Description: GNU C Library: Shared libraries
 Contains the standard libraries that are used by nearly all programs on
 the system.

Package: dash
Essential: yes
Status: install ok installed
Priority: required
Architecture: amd64
Multi-Arch: foreign
Version: 0.5.12-2
Pre-Depends: libc6 (>= 2.34)
Description: POSIX-compliant shell

Package: old-lib
Status: deinstall ok config-files
Architecture: amd64
Version: 1.0-1

Package: never-there
Status: purge ok not-installed
";

    #[test]
    fn status_entries() {
        let packages = parse_status(STATUS).unwrap();
        assert_eq!(packages.len(), 4);
        let libc6 = &packages[0];
        assert_eq!(libc6.status, Status::INSTALLED);
        assert!(libc6.is_installed());
        assert_eq!(libc6.version.as_ref().unwrap().as_str(), "2.36-9+deb12u10");
        assert_eq!(libc6.multi_arch, MultiArch::Same);
        assert_eq!(libc6.breaks.len(), 2);
        assert_eq!(libc6.description, "GNU C Library: Shared libraries");
        let dash = &packages[1];
        assert!(dash.essential);
        assert!(dash.pre_depends[0].alternatives[0].satisfied_by(libc6.version.as_ref().unwrap()));
        assert!(!packages[2].is_installed());
        assert_eq!(packages[2].status.to_string(), "deinstall ok config-files");
        assert_eq!(packages[3].version, None);
        assert_eq!(packages[3].status.state, State::NotInstalled);
    }

    #[test]
    fn status_errors_name_line_and_package() {
        let err = parse_status("Package: a\nVersion: 1\n").unwrap_err().to_string();
        assert_eq!(err, "stanza at line 1 (package a): missing field Status");
        let err = parse_status("Package: a\nStatus: install ok\n").unwrap_err().to_string();
        assert_eq!(
            err,
            "line 2 (package a): field Status: \"install ok\" is not \"want flag state\" (like \"install ok installed\")"
        );
        let err = parse_status("Package: a\nStatus: install ok sleeping\n").unwrap_err().to_string();
        assert!(err.contains("\"install ok sleeping\""), "{err}");
    }

    /// This machine's own dpkg database (a Debian machine): every entry, version and relation
    /// field must parse, and `Depends` must only name versions that parse.
    #[test]
    fn this_machines_dpkg_status_parses() {
        let Ok(text) = std::fs::read_to_string("/var/lib/dpkg/status") else {
            eprintln!("no /var/lib/dpkg/status here; skipped");
            return;
        };
        let stanzas = crate::deb::parse_stanzas(&text).unwrap();
        let packages = parse_status(&text).unwrap();
        assert_eq!(packages.len(), stanzas.len());
        assert!(packages.iter().any(|p| p.package == "dpkg" && p.is_installed()));
        for stanza in &stanzas {
            for name in ["Recommends", "Suggests", "Enhances"] {
                if let Some(value) = stanza.get(name) {
                    crate::deb::parse_dependencies(value).unwrap();
                }
            }
            if let Some(value) = stanza.get("Replaces") {
                crate::deb::parse_relations(value).unwrap();
            }
        }
        let installed = packages.iter().filter(|p| p.is_installed());
        for package in installed {
            assert!(package.version.is_some(), "{}", package.package);
            assert!(package.architecture.is_some(), "{}", package.package);
        }
        let mut versions: Vec<&Version> = packages.iter().filter_map(|p| p.version.as_ref()).collect();
        versions.sort();
        assert!(versions.windows(2).all(|pair| pair[0] <= pair[1]));
    }
}
