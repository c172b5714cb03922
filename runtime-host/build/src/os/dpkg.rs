//! dpkg's database: `/var/lib/dpkg/status` (every package dpkg knows, with its `Status`) and
//! distroless images' `/var/lib/dpkg/status.d/<name>` (one installed package per file).

use super::{Package, PackageKind, field, stanzas};

/// Installed packages of a `status` file (`Status: install ok installed`, or no `Status`).
pub fn parse_status(text: &str) -> Vec<Package> {
    let mut out: Vec<Package> = stanzas(text)
        .iter()
        .filter(|s| field(s, "Status").is_none_or(|st| st.split_whitespace().last() == Some("installed")))
        .filter_map(|s| {
            let name = field(s, "Package")?.to_string();
            let version = field(s, "Version")?.to_string();
            let source = field(s, "Source")
                .and_then(|v| v.split_whitespace().next())
                .filter(|src| *src != name)
                .map(str::to_string);
            Some(Package {
                kind: PackageKind::Deb,
                name,
                version,
                arch: field(s, "Architecture").map(str::to_string),
                source,
                license: None,
                maintainer: field(s, "Maintainer").map(str::to_string),
            })
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

/// Installed packages of `status.d` files (each parsed like a `status` file).
pub fn parse_status_d<'a>(files: impl IntoIterator<Item = &'a str>) -> Vec<Package> {
    let mut out: Vec<Package> = files.into_iter().flat_map(parse_status).collect();
    out.sort();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const STATUS: &str = "Package: base-files\nEssential: yes\nStatus: install ok installed\nPriority: required\n\
Maintainer: Santiago Vila <sanvila@debian.org>\nArchitecture: amd64\nVersion: 12.4+deb12u5\nDescription: Debian base system\n \
 miscellaneous files\n .\n more\n\nPackage: libc6\nStatus: install ok installed\nSource: glibc (2.36-9+deb12u4)\n\
Architecture: amd64\nVersion: 2.36-9+deb12u4\n\nPackage: removed\nStatus: deinstall ok config-files\nVersion: 1\n\n\
Package: broken-no-version\nStatus: install ok installed\n";

    #[test]
    fn installed_packages_with_source_and_arch() {
        let p = parse_status(STATUS);
        let names: Vec<&str> = p.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["base-files", "libc6"]);
        assert_eq!(p[0].version, "12.4+deb12u5");
        assert_eq!(p[0].maintainer.as_deref(), Some("Santiago Vila <sanvila@debian.org>"));
        assert_eq!(p[0].source, None);
        assert_eq!(p[1].source.as_deref(), Some("glibc"));
        assert_eq!(p[1].arch.as_deref(), Some("amd64"));
    }

    #[test]
    fn distroless_status_d() {
        let p = parse_status_d(["Package: tzdata\nVersion: 2024a-0+deb12u1\nArchitecture: all\n", "garbage\u{0}\n"]);
        assert_eq!(p.len(), 1);
        assert_eq!((p[0].name.as_str(), p[0].arch.as_deref()), ("tzdata", Some("all")));
        assert!(parse_status("").is_empty());
    }
}
