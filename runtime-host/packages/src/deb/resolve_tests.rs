#![allow(clippy::unwrap_used)]
//! The resolver on small made-up indexes (each rule), and on Debian's real indexes against apt
//! itself: `apt-get -s --no-install-recommends install X` on this machine must choose exactly
//! the packages and versions tailor chooses from the same lists and the same installed base.

use std::process::Command;

use super::*;
use crate::deb::{parse_packages, parse_status};

fn stanza(name: &str, version: &str, extra: &str) -> String {
    format!(
        "Package: {name}\nVersion: {version}\nArchitecture: amd64\n{extra}Filename: pool/{name}_{version}.deb\n\
         Size: 1\nSHA256: {}\n\n",
        "0".repeat(64)
    )
}

fn index() -> Vec<Package> {
    let text = [
        stanza("curl", "7.88.1-10", "Depends: libcurl4 (= 7.88.1-10), libc6 (>= 2.34)\n"),
        stanza(
            "libcurl4",
            "7.88.1-10",
            "Depends: libssl3 (>= 3.0.0) | libssl1.1, zlib1g\nPre-Depends: libc6 (>= 2.17)\n",
        ),
        stanza("libcurl4", "7.74.0-1", "Depends: libssl1.1\n"),
        stanza("libssl3", "3.0.11-1", "Depends: libc6 (>= 2.34)\n"),
        stanza("libssl1.1", "1.1.1w-0", ""),
        stanza("zlib1g", "1:1.2.13-1", "Provides: libz1\n"),
        stanza("mawk", "1.3.4-1", "Provides: awk\n"),
        stanza("gawk", "1:5.2.1-2", "Provides: awk\n"),
        stanza("needs-awk", "1", "Depends: awk\n"),
        stanza("needs-new-libc", "1", "Depends: libc6 (>= 2.40)\n"),
        stanza("needs-ghost", "1", "Depends: ghost (>= 2) | phantom\n"),
        stanza("fights-zlib", "1", "Conflicts: zlib1g\n"),
        stanza("a-cycle", "1", "Depends: b-cycle\n"),
        stanza("b-cycle", "1", "Depends: a-cycle\n"),
        // Relations are read when followed: these break only the builds that need them.
        stanza("broken-depends", "1", "Depends: zlib1g (>= 1\n"),
        stanza("needs-broken", "1", "Depends: zlib1g, broken-depends\n"),
        stanza("broken-breaks", "1", "Breaks: a | b\n"),
    ]
    .concat();
    parse_packages(&text).unwrap()
}

fn base() -> Vec<InstalledPackage> {
    parse_status(
        "Package: libc6\nStatus: install ok installed\nVersion: 2.36-9\nArchitecture: amd64\n\n\
         Package: old-thing\nStatus: deinstall ok config-files\nVersion: 1\n\n",
    )
    .unwrap()
}

fn plan(requests: &[&str]) -> Result<Vec<String>, ResolveError> {
    let packages = index();
    let universe = Universe::new("amd64", &packages);
    let requests: Vec<Request> = requests.iter().map(|r| Request::parse(r).unwrap()).collect();
    resolve(&universe, &base(), &requests)
        .map(|p| p.install.iter().map(|p| format!("{}={}", p.package, p.version.as_str())).collect())
}

#[test]
fn newest_candidates_dependencies_first_base_packages_kept() {
    assert_eq!(
        plan(&["curl"]).unwrap(),
        ["libssl3=3.0.11-1", "zlib1g=1:1.2.13-1", "libcurl4=7.88.1-10", "curl=7.88.1-10"],
        "libc6 is in the base; the first alternative wins"
    );
    assert_eq!(plan(&["libcurl4=7.74.0-1"]).unwrap(), ["libssl1.1=1.1.1w-0", "libcurl4=7.74.0-1"], "a pin");
    assert_eq!(plan(&["needs-awk"]).unwrap(), ["gawk=1:5.2.1-2", "needs-awk=1"], "virtual: first provider by name");
    assert_eq!(plan(&["mawk", "needs-awk"]).unwrap(), ["mawk=1.3.4-1", "needs-awk=1"], "a chosen provider counts");
    assert_eq!(plan(&["a-cycle"]).unwrap(), ["b-cycle=1", "a-cycle=1"]);
    let packages = index();
    let universe = Universe::new("amd64", &packages);
    let p = resolve(&universe, &base(), &[Request::parse("libc6").unwrap()]).unwrap();
    assert!(p.install.is_empty());
    assert_eq!(p.already_installed, [("libc6".to_string(), "2.36-9".to_string())]);
}

#[test]
fn every_failure_names_what_and_why() {
    let err = plan(&["curll"]).unwrap_err().to_string();
    assert!(err.contains("unknown package curll") && err.contains("did you mean curl"), "{err}");
    let err = plan(&["xyzzy-nothing"]).unwrap_err().to_string();
    assert!(err.contains("no package of that name"), "{err}");
    let err = plan(&["curl=1.0"]).unwrap_err().to_string();
    assert!(err.contains("curl=1.0 is not in the repositories (available: 7.88.1-10)"), "{err}");
    let err = plan(&["needs-new-libc"]).unwrap_err().to_string();
    assert!(
        err.contains("needs-new-libc 1: depends on libc6 (>= 2.40)") && err.contains("the base has libc6 2.36-9"),
        "{err}"
    );
    let err = plan(&["needs-ghost"]).unwrap_err().to_string();
    assert!(err.contains("depends on ghost (>= 2) | phantom, which no package"), "{err}");
    let err = plan(&["zlib1g", "fights-zlib"]).unwrap_err().to_string();
    assert!(err.contains("fights-zlib 1 conflicts with zlib1g 1:1.2.13-1"), "{err}");
    let err = plan(&["curl", "libcurl4=7.74.0-1"]).unwrap_err().to_string();
    assert!(err.contains("libcurl4=7.74.0-1") && err.contains("7.88.1-10 was chosen already"), "{err}");
    let err = plan(&["needs-broken"]).unwrap_err().to_string();
    let malformed = "the repositories' index is malformed here: line";
    assert!(err.starts_with(&format!("needs-broken → needs-broken 1 → broken-depends: {malformed}")), "{err}");
    assert!(err.contains("(package broken-depends): field Depends: \"zlib1g (>= 1\""), "{err}");
    let err = plan(&["broken-breaks"]).unwrap_err().to_string();
    assert!(err.starts_with(&format!("broken-breaks: {malformed}")), "{err}");
    assert!(err.contains("field Breaks: \"a | b\": alternatives"), "{err}");
    assert_eq!(plan(&["curl"]).unwrap().len(), 4, "malformed entries nothing needs do not matter");
    assert!(Request::parse("Curl").unwrap_err().to_string().contains("lowercase"));
    assert!(Request::parse("curl=").is_err());
}

/// Every `*_binary-<arch>_Packages*` list apt has, decompressed by apt's own helper.
fn apt_lists(arch: &str) -> Vec<Package> {
    let dir = std::path::Path::new("/var/lib/apt/lists");
    let mut out = Vec::new();
    let lists: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.to_string_lossy().contains(&format!("_binary-{arch}_Packages")))
        .collect();
    assert!(!lists.is_empty(), "no apt lists in {}: run `apt-get update` (tests/run.sh does)", dir.display());
    for l in lists {
        let o = Command::new("/usr/lib/apt/apt-helper").arg("cat-file").arg(&l).output().unwrap();
        assert!(o.status.success(), "apt-helper cat-file {}: {}", l.display(), String::from_utf8_lossy(&o.stderr));
        out.extend(parse_packages(&String::from_utf8(o.stdout).unwrap()).unwrap());
    }
    out
}

/// (name, version) apt would install for `package`, without recommends.
fn apt_plan(package: &str) -> Vec<(String, String)> {
    let o = Command::new("apt-get").args(["-s", "--no-install-recommends", "install", package]).output().unwrap();
    assert!(o.status.success(), "apt-get -s install {package}: {}", String::from_utf8_lossy(&o.stderr));
    let mut out: Vec<(String, String)> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .filter_map(|l| l.strip_prefix("Inst "))
        // `Inst name [old] (new …)` upgrades an installed package: tailor does not upgrade.
        .filter(|l| l.split_whitespace().nth(1).is_some_and(|t| t.starts_with('(')))
        .map(|l| {
            let mut parts = l.split_whitespace();
            let name = parts.next().unwrap_or("").to_owned();
            let version = parts.next().unwrap_or("").trim_start_matches('(').to_owned();
            (name, version)
        })
        .collect();
    out.sort();
    out
}

#[test]
fn the_same_choice_as_apt_on_debians_real_indexes() {
    let arch = String::from_utf8(Command::new("dpkg").arg("--print-architecture").output().unwrap().stdout).unwrap();
    let packages = apt_lists(arch.trim());
    let universe = Universe::new(arch.trim(), &packages);
    let installed = parse_status(&std::fs::read_to_string("/var/lib/dpkg/status").unwrap()).unwrap();
    let mut compared = 0;
    for name in ["htop", "lynx", "zsh", "nginx-light", "php-cli", "postgresql", "emacs-nox", "ffmpeg"] {
        let apt = apt_plan(name);
        if apt.is_empty() {
            continue; // installed here already: nothing to compare
        }
        let plan =
            resolve(&universe, &installed, &[Request::parse(name).unwrap()]).unwrap_or_else(|e| panic!("{name}: {e}"));
        let mut ours: Vec<(String, String)> =
            plan.install.iter().map(|p| (p.package.clone(), p.version.as_str().to_owned())).collect();
        ours.sort();
        assert_eq!(ours, apt, "{name}: tailor (left) and apt (right) differ");
        compared += 1;
        eprintln!("{name}: {} package(s), the same as apt", ours.len());
    }
    assert!(compared >= 3, "only {compared} packages were not installed here to compare");
}
