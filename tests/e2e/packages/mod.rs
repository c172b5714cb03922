//! OS packages end to end (issue D) with real Debian packages: a debootstrap minbase bookworm
//! base (made once by tests/run.sh, TAILOR_TEST_ROOTFS) pushed to the real registry; a
//! loopback apt repository of the packages `apt-get install --download-only` says curl needs
//! on that base (TAILOR_TEST_CURL_DEBS), indexed by `apt-ftparchive`, signed by `gpg`, served
//! by `python3 -m http.server`; `tailor build` with `packages: [curl]`; then umoci unpacks the
//! result and `curl --version` runs inside it with chroot, and `dpkg-query` lists the packages.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::build::fixtures::{build_json, stderr, tailor, unpack};
use tailor_packages::deb::test_support::{RepoKey, RepoServer, add_debs, publish};

use crate::harness::Registry;

mod catalog;
mod pushed;

fn env_dir(name: &str) -> PathBuf {
    let dir = std::env::var(name).unwrap_or_else(|_| panic!("{name} is not set: run tests/run.sh (it prepares it)"));
    let p = PathBuf::from(dir);
    assert!(p.is_dir(), "{name}={}: missing; tests/run.sh prepares it", p.display());
    p
}

fn out(cmd: &mut Command) -> String {
    let o = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(o.status.success(), "{cmd:?}: {}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// A signed apt repository (suite stable, component main) of `debs` under `root`, signed by a
/// new key named `name` (kept next to `root`: [`publish`] signs again with it).
fn repository(root: &Path, debs: &Path, name: &str) -> RepoKey {
    add_debs(root, "pool", debs);
    let key = RepoKey::new(root.parent().unwrap(), name);
    publish(root, &key);
    key
}

fn repos_file(dir: &Path, url: &str, key: &Path) -> PathBuf {
    let p = dir.join(format!("repos-{}.yaml", key.file_stem().unwrap().to_string_lossy()));
    std::fs::write(
        &p,
        format!("debian:\n  - {{url: '{url}', suite: stable, components: [main], keys: ['{}']}}\n", key.display()),
    )
    .unwrap();
    p
}

fn spec(dir: &Path, packages: &str) -> PathBuf {
    let p = dir.join(format!("spec-{}.yaml", packages.replace([',', ' ', '='], "_")));
    std::fs::write(
        &p,
        format!("name: pk\nsource: acme/debian:12\ntag_suffix: pk\nplatforms: [linux/amd64]\ncontents:\n  packages: [{packages}]\n"),
    )
    .unwrap();
    p
}

#[test]
fn curl_from_a_signed_repository_runs_in_the_debian_base() {
    let rootfs = env_dir("TAILOR_TEST_ROOTFS");
    let debs = env_dir("TAILOR_TEST_CURL_DEBS");
    let work = tempfile::tempdir().unwrap();
    let registry = Registry::start();
    let o = tailor(
        &[
            "artifact",
            "push",
            rootfs.to_str().unwrap(),
            "--tag",
            "acme/debian:12",
            "--platform",
            "linux/amd64",
            "--registry",
            &registry.url(),
            "-q",
        ],
        &[],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let root = work.path().join("repo");
    let key = repository(&root, &debs, "repo").public;
    let server = RepoServer::start(&root);
    let repos = repos_file(work.path(), &server.1, &key);
    let cache = work.path().join("cache");
    let store =
        ["--registry", &registry.url(), "--repositories", repos.to_str().unwrap(), "--cache", cache.to_str().unwrap()];

    let report = build_json(&spec(work.path(), "curl"), &store, &[]);
    let installed: Vec<&str> = report["packages"].as_array().unwrap().iter().map(|p| p.as_str().unwrap()).collect();
    assert!(installed.iter().any(|p| p.starts_with("curl=")) && installed.len() > 5, "{report}");
    // What tailor installed is what apt downloaded for this base: the same names and versions.
    let mut expected: Vec<String> = std::fs::read_dir(&debs)
        .unwrap()
        .flatten()
        .filter_map(|e| {
            let n = e.file_name().to_string_lossy().into_owned();
            let mut parts = n.trim_end_matches(".deb").split('_');
            Some(format!("{}={}", parts.next()?, parts.next()?.replace("%3a", ":")))
        })
        .collect();
    expected.sort();
    let mut got: Vec<String> = installed.iter().map(|s| s.to_string()).collect();
    got.sort();
    assert_eq!(got, expected, "tailor's choice (left) and apt's download (right)");

    let unpacked = unpack(&format!("docker://{}/acme/debian:12_pk", registry.host()), "amd64", work.path(), "pk");
    let version = out(Command::new("chroot").arg(&unpacked).args(["/usr/bin/curl", "--version"]));
    assert!(version.starts_with("curl "), "{version}");
    let listed = out(Command::new("dpkg-query")
        .arg(format!("--admindir={}", unpacked.join("var/lib/dpkg").display()))
        .args(["-W", "-f", "${db:Status-Abbrev}${Package}=${Version}\n", "curl", "libcurl4"]));
    assert_eq!(listed.lines().filter(|l| l.starts_with("ii ")).count(), 2, "{listed}");
    let audit =
        out(Command::new("dpkg").arg(format!("--admindir={}", unpacked.join("var/lib/dpkg").display())).arg("--audit"));
    assert_eq!(audit, "", "dpkg --audit");

    // Bad input: each a clear failed build, nothing tagged anew.
    let before = out(Command::new("skopeo")
        .args(["inspect", "--raw", "--tls-verify=false"])
        .arg(format!("docker://{}/acme/debian:12_pk", registry.host())));
    let fails = |spec: &Path, extra: &[&str], code: i32| {
        let mut args = vec!["build", "-f", spec.to_str().unwrap()];
        args.extend_from_slice(extra);
        let o = tailor(&args, &[]);
        assert_eq!(o.status.code(), Some(code), "{}", stderr(&o));
        stderr(&o)
    };
    let err = fails(&spec(work.path(), "curll"), &store, 2);
    assert!(err.contains("unknown package curll") && err.contains("did you mean curl"), "{err}");
    let err = fails(&spec(work.path(), "curl=0.1-1"), &store, 2);
    assert!(err.contains("curl=0.1-1 is not in the repositories (available:"), "{err}");
    let stranger = repository(&work.path().join("other"), &debs, "other").public;
    let wrong_key = repos_file(work.path(), &server.1, &stranger);
    let err = fails(
        &spec(work.path(), "curl"),
        &["--registry", &registry.url(), "--repositories", wrong_key.to_str().unwrap(), "--no-cache"],
        1,
    );
    assert!(err.contains("InRelease") && err.contains("other.asc"), "{err}");
    let pool = root.join("pool");
    let curl_deb = std::fs::read_dir(&pool)
        .unwrap()
        .flatten()
        .find(|e| e.file_name().to_string_lossy().starts_with("curl_"))
        .unwrap()
        .path();
    let mut bytes = std::fs::read(&curl_deb).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    std::fs::write(&curl_deb, bytes).unwrap();
    let no_cache = ["--registry", &registry.url(), "--repositories", repos.to_str().unwrap(), "--no-cache"];
    let err = fails(&spec(work.path(), "curl"), &no_cache, 1);
    assert!(err.contains("SHA-256 is") && err.contains("curl_"), "{err}");
    drop(server);
    let err = fails(&spec(work.path(), "curl"), &no_cache, 1);
    assert!(err.contains("unreachable"), "{err}");
    let after = out(Command::new("skopeo")
        .args(["inspect", "--raw", "--tls-verify=false"])
        .arg(format!("docker://{}/acme/debian:12_pk", registry.host())));
    assert_eq!(before, after, "no failed build moved the tag");
}
