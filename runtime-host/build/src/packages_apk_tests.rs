#![allow(clippy::unwrap_used)]
//! An Alpine base (apk database, os-release) takes packages from a real signed apk repository
//! on loopback: `.apk`s and `APKINDEX.tar.gz` built and signed here the way abuild does
//! (`tailor_packages::apk::test_support`, an RSA key made by openssl), served by
//! `python3 -m http.server`; the result pushed to the conformance double.

use std::path::Path;
use std::sync::Arc;

use sha1::{Digest as _, Sha1};
use tailor_oci::testing::ReferrersRegistry;
use tailor_oci::{Client, RegistryConfig, Scope};
use tailor_packages::apk::test_support::{ApkSpec, BuiltApk, Data, KEY_NAME, Keys, signed_index, write_repository};
use tailor_packages::apk::{Checksum, parse_index};
use tailor_packages::fetch::Fetcher;
use tailor_packages::repos::{AlpineRepo, Repositories};
use tailor_spec::{Customization, Platform};

use super::PackageSource;
use crate::scratch::push_directory;
use crate::test_support::{LayerEntry, Server, layer};
use crate::{Options, build};

const REPO: &str = "acme/alpine";
const APP: &[u8] = b"#!/bin/sh\nexec baz app\n";
const CONF: &[u8] = b"listen = 8080\n";
const LIBBAR: &[u8] = b"\x7fELF libbar";

/// `Q1` + base64 SHA-1, as apk writes `Z:` and `C:`.
fn q1(data: &[u8]) -> String {
    Checksum::Sha1(Sha1::digest(data).into()).to_string()
}

/// The base's `/lib/apk/db/installed`: musl (providing the libc `so:`) and busybox.
fn base_installed() -> String {
    format!(
        "C:Q1cmfv4lSjKxb3E0EhmRBx5J2Bqxo=\nP:musl\nV:1.2.5-r0\nA:x86_64\nS:411323\nI:650240\n\
         T:the musl c library (libc) implementation\nU:https://musl.libc.org/\nL:MIT\no:musl\n\
         m:Natanael Copa <ncopa@alpinelinux.org>\nt:1717000000\nc:0a7d7cb1a8ad7b2e6ef4e81cf7c9e5b2e0f4b1c3\n\
         p:so:libc.musl-x86_64.so.1=1\nF:lib\nR:ld-musl-x86_64.so.1\na:0:0:755\nZ:{}\n\
         R:libc.musl-x86_64.so.1\na:0:0:777\nZ:{}\n\n\
         C:Q1Vv0VlW6xb8F7gZ6s2b9o1b7k1xQ=\nP:busybox\nV:1.36.1-r29\nA:x86_64\nS:499571\nI:955392\n\
         T:Size optimized toolbox of many common UNIX utilities\nU:https://busybox.net/\nL:GPL-2.0-only\n\
         o:busybox\nm:Sören Tempel <soeren+alpine@soeren-tempel.net>\nt:1717000000\n\
         D:so:libc.musl-x86_64.so.1\np:cmd:busybox=1.36.1-r29 cmd:sh=1.36.1-r29\nF:bin\nR:busybox\n\
         a:0:0:755\nZ:{}\nR:sh\na:0:0:777\nZ:{}\n\n",
        q1(b"musl"),
        q1(b"ld-musl-x86_64.so.1"),
        q1(b"busybox"),
        q1(b"/bin/busybox"),
    )
}

fn push_base(client: &Client, dir: &Path) {
    for d in ["etc/apk", "lib/apk/db", "bin", "usr/bin", "usr/lib"] {
        std::fs::create_dir_all(dir.join(d)).unwrap();
    }
    std::fs::write(dir.join("etc/os-release"), "NAME=\"Alpine Linux\"\nID=alpine\nVERSION_ID=3.20.3\n").unwrap();
    std::fs::write(dir.join("etc/apk/world"), "busybox\nmusl\n").unwrap();
    std::fs::write(dir.join("lib/apk/db/installed"), base_installed()).unwrap();
    std::fs::write(dir.join("lib/ld-musl-x86_64.so.1"), "musl").unwrap();
    std::os::unix::fs::symlink("ld-musl-x86_64.so.1", dir.join("lib/libc.musl-x86_64.so.1")).unwrap();
    std::fs::write(dir.join("bin/busybox"), "busybox").unwrap();
    std::os::unix::fs::symlink("/bin/busybox", dir.join("bin/sh")).unwrap();
    let platforms = [Platform::parse("linux/amd64").unwrap()];
    push_directory(client, dir, REPO, "3.20", &platforms, 0, 0, 0, &Options::default()).unwrap();
}

/// The repository's packages: `app` needs `foo>=1.2` (1.1 and 1.3 offered), `so:libbar.so.1`
/// (provided by libbar), `cmd:baz` (bazutils) and musl's libc; `tool` comes in two versions;
/// `needy` needs `mid`, which needs a foo that does not exist.
fn packages(keys: &Keys, app_data: &[u8]) -> Vec<BuiltApk> {
    let file = |name, version, data: &[Data<'_>]| ApkSpec { name, version, data, ..ApkSpec::default() }.build(keys);
    let needs = |name, depends| ApkSpec { name, version: "1.0-r0", depends, ..ApkSpec::default() }.build(keys);
    vec![
        ApkSpec {
            name: "app",
            version: "1.0-r0",
            depends: &["foo>=1.2", "so:libbar.so.1", "cmd:baz", "so:libc.musl-x86_64.so.1"],
            data: &[
                Data::Dir("etc/", 0o755),
                Data::Dir("etc/app/", 0o750),
                Data::File("etc/app/app.conf", 0o640, CONF),
                Data::Dir("usr/", 0o755),
                Data::Dir("usr/bin/", 0o755),
                Data::File("usr/bin/app", 0o755, app_data),
            ],
            scripts: &[(".post-install", b"#!/bin/sh\naddgroup -S app\n")],
            ..ApkSpec::default()
        }
        .build(keys),
        file("foo", "1.1-r0", &[Data::File("usr/share/foo/VERSION", 0o644, b"1.1\n")]),
        file("foo", "1.3-r0", &[Data::File("usr/share/foo/VERSION", 0o644, b"1.3\n")]),
        ApkSpec {
            name: "libbar",
            version: "2.0-r0",
            depends: &["so:libc.musl-x86_64.so.1"],
            provides: &["so:libbar.so.1=1.0.0"],
            data: &[
                Data::File("usr/lib/libbar.so.1.0.0", 0o755, LIBBAR),
                Data::Symlink("usr/lib/libbar.so.1", "libbar.so.1.0.0"),
            ],
            ..ApkSpec::default()
        }
        .build(keys),
        ApkSpec {
            name: "bazutils",
            version: "3.1-r0",
            provides: &["cmd:baz=3.1-r0"],
            data: &[Data::File("usr/bin/baz", 0o755, b"#!/bin/sh\necho baz\n")],
            ..ApkSpec::default()
        }
        .build(keys),
        file("tool", "1.0-r0", &[Data::File("usr/bin/tool", 0o755, b"tool 1\n")]),
        file("tool", "2.0-r0", &[Data::File("usr/bin/tool", 0o755, b"tool 2\n")]),
        file("hello", "2.12.1-r0", &[Data::File("usr/bin/hello", 0o755, b"hello\n")]),
        needs("needy", &["mid"]),
        needs("mid", &["foo>=9"]),
    ]
}

fn spec(packages: &str, suffix: &str) -> Customization {
    Customization::from_yaml(&format!(
        "name: p\nsource: {REPO}:3.20\ntag_suffix: {suffix}\nplatforms: [linux/amd64]\n\
         contents:\n  packages: [{packages}]\n"
    ))
    .unwrap()
}

fn source(url: &str, keys: &Keys) -> Arc<PackageSource> {
    let repo = AlpineRepo {
        url: url.into(),
        branch: "v3.20".into(),
        repository: "main".into(),
        keys: vec![keys.key_dir(KEY_NAME)],
    };
    Arc::new(PackageSource {
        repositories: Repositories { debian: vec![], alpine: vec![repo] },
        fetcher: Fetcher::new(None),
    })
}

fn entry<'a>(entries: &'a [LayerEntry], path: &str) -> &'a LayerEntry {
    entries.iter().find(|e| e.path == path).unwrap_or_else(|| panic!("{path} not in the layer"))
}

#[test]
fn an_alpine_base_takes_packages_from_a_signed_apk_repository() {
    let tmp = tempfile::tempdir().unwrap();
    let keys = Keys::new();
    let dir = tmp.path().join("repo/v3.20/main/x86_64");
    let apks = packages(&keys, APP);
    write_repository(&dir, &keys, &apks.iter().collect::<Vec<_>>());
    let server = Server::start(&tmp.path().join("repo"));
    let registry = ReferrersRegistry::start();
    let client = Client::registry(RegistryConfig::new(registry.url()), Scope::new(["acme"], [REPO])).unwrap();
    push_base(&client, &tmp.path().join("base"));
    let opts = Options { packages: Some(source(&server.1, &keys)), ..Options::default() };

    let report = build(&spec("app, busybox, tool=1.0-r0", "p"), &client, &opts).unwrap();
    assert_eq!(
        report.packages,
        ["app=1.0-r0", "bazutils=3.1-r0", "foo=1.3-r0", "libbar=2.0-r0", "tool=1.0-r0"],
        "the newest foo that satisfies >=1.2, the pinned tool, busybox kept from the base"
    );
    assert_eq!(report.scripts_skipped, ["app: .post-install"]);
    assert_eq!(
        report.variants["linux/amd64"],
        crate::variant::OsVariant { variant: "alpine:3.20".into(), arch: "x86_64".into() }
    );
    // The variant's catalog: each package once, at its newest version.
    let catalog = crate::variant::catalog(opts.packages.as_ref().unwrap(), &report.variants["linux/amd64"]).unwrap();
    let listed: Vec<(&str, &str)> = catalog.packages.iter().map(|p| (p.name.as_str(), p.version.as_str())).collect();
    assert!(listed.contains(&("foo", "1.3-r0")) && listed.contains(&("tool", "2.0-r0")), "{listed:?}");
    assert_eq!(listed.iter().filter(|(n, _)| *n == "foo").count(), 1);
    assert!(listed.windows(2).all(|w| w[0].0 < w[1].0), "by name");
    assert_eq!(catalog.packages.iter().find(|p| p.name == "app").unwrap().summary, "app for tests");
    assert!(catalog.digest.starts_with("sha256:"));
    let digest = &report.manifests["linux/amd64"];
    let entries = layer(&client, REPO, digest, 1);
    let names: Vec<&str> = entries.iter().map(|e| e.path.as_str()).collect();
    assert!(!names.iter().any(|n| n.starts_with("bin/")), "busybox is not reinstalled: {names:?}");
    let app = entry(&entries, "usr/bin/app");
    assert_eq!((app.data.as_slice(), app.mode), (APP, 0o755));
    let conf = entry(&entries, "etc/app/app.conf");
    assert_eq!((conf.data.as_slice(), conf.mode), (CONF, 0o640));
    assert_eq!(entry(&entries, "etc/app").mode, 0o750);
    assert_eq!(entry(&entries, "usr/lib/libbar.so.1.0.0").data, LIBBAR);
    assert_eq!(entry(&entries, "usr/lib/libbar.so.1").link.as_deref(), Some("libbar.so.1.0.0"));
    assert_eq!(entry(&entries, "usr/share/foo/VERSION").data, b"1.3\n");
    assert_eq!(entry(&entries, "usr/bin/tool").data, b"tool 1\n");
    assert!(names.contains(&"usr/bin/baz"), "{names:?}");

    // The database: the base's entries byte for byte, then each new package as apk writes it.
    let installed = String::from_utf8(entry(&entries, "lib/apk/db/installed").data.clone()).unwrap();
    assert!(installed.starts_with(&base_installed()), "{installed}");
    let back = parse_index(&installed).unwrap();
    let listed: Vec<String> = back.iter().map(|p| format!("{}={}", p.name, p.version)).collect();
    assert_eq!(
        listed,
        [
            "musl=1.2.5-r0",
            "busybox=1.36.1-r29",
            "foo=1.3-r0",
            "libbar=2.0-r0",
            "bazutils=3.1-r0",
            "app=1.0-r0",
            "tool=1.0-r0"
        ],
        "dependencies before what needs them"
    );
    let by_file = |f: &str| apks.iter().find(|a| a.file_name == f).unwrap();
    for (name, file) in [("app", "app-1.0-r0.apk"), ("foo", "foo-1.3-r0.apk"), ("tool", "tool-1.0-r0.apk")] {
        let p = back.iter().find(|p| p.name == name).unwrap();
        assert_eq!(p.checksum, by_file(file).checksum, "{name}: C: is the index's checksum");
        assert_eq!(p.arch.as_deref(), Some("x86_64"));
    }
    let app = by_file("app-1.0-r0.apk");
    let stanza = |p: &str| installed.split("\n\n").find(|s| s.contains(&format!("\nP:{p}\n"))).unwrap().to_owned();
    let app_stanza = stanza("app");
    assert!(app_stanza.starts_with(&format!("C:{}\nP:app\nV:1.0-r0\nA:x86_64\nS:", app.checksum)), "{app_stanza}");
    assert!(app_stanza.contains("\nD:foo>=1.2 so:libbar.so.1 cmd:baz so:libc.musl-x86_64.so.1\n"), "{app_stanza}");
    for lines in [
        format!("F:etc/app\nM:0:0:750\nR:app.conf\na:0:0:640\nZ:{}\n", q1(CONF)),
        format!("F:usr/bin\nR:app\na:0:0:755\nZ:{}", q1(APP)),
    ] {
        assert!(app_stanza.contains(&lines), "{lines:?} in {app_stanza}");
    }
    let libbar = stanza("libbar");
    assert!(libbar.contains("\np:so:libbar.so.1=1.0.0\n"), "{libbar}");
    assert!(
        libbar.contains(&format!(
            "F:usr/lib\nR:libbar.so.1\nZ:{}\nR:libbar.so.1.0.0\na:0:0:755\nZ:{}",
            q1(b"libbar.so.1.0.0"),
            q1(LIBBAR)
        )),
        "{libbar}"
    );
    assert!(installed.ends_with("\n\n"));
    let world = String::from_utf8(entry(&entries, "etc/apk/world").data.clone()).unwrap();
    assert_eq!(world, "app\nbusybox\nmusl\ntool=1.0-r0\n");

    // The same inputs give the same bytes.
    let again = build(&spec("app, busybox, tool=1.0-r0", "p"), &client, &opts).unwrap();
    assert_eq!(again.manifests, report.manifests);
    assert_eq!(again.index_digest, report.index_digest);

    // Bad requests and repositories: a clear error, nothing under the result tag.
    let fails = |packages: &str, suffix: &str, opts: &Options| {
        let err = build(&spec(packages, suffix), &client, opts).unwrap_err().to_string();
        assert!(client.head_manifest(REPO, &format!("3.20_{suffix}")).unwrap().is_none(), "{suffix} pushed");
        err
    };
    let err = fails("helo", "unknown", &opts);
    assert!(err.contains("contents.packages[0]") && err.contains("unknown package helo: did you mean hello?"), "{err}");
    let err = fails("app, helo", "unknown2", &opts);
    assert!(err.contains("contents.packages[1]: unknown package helo"), "the entry at fault: {err}");
    let err = fails("busybox=1.36.1-r30", "pinned", &opts);
    assert!(
        err.contains("contents.packages[0]: busybox=1.36.1-r30 is not in the repositories (available: ")
            && err.contains("(installed in the base)"),
        "{err}"
    );
    let err = fails("app, needy", "unsatisfiable2", &opts);
    assert!(err.contains("contents.packages[1]: needy → "), "{err}");
    let err = fails("needy", "unsatisfiable", &opts);
    assert!(
        err.contains(
            "needy → needy 1.0-r0 → mid → mid 1.0-r0: depends on foo>=9, which no package in the repositories \
             provides (available: foo 1.3-r0, 1.1-r0)"
        ),
        "{err}"
    );
    let index = std::fs::read(dir.join("APKINDEX.tar.gz")).unwrap();
    let stranger = Keys::new();
    std::fs::write(dir.join("APKINDEX.tar.gz"), signed_index(&stranger, KEY_NAME, &apks.iter().collect::<Vec<_>>()))
        .unwrap();
    let err = fails("app", "forged", &opts);
    assert!(
        err.contains("v3.20/main/x86_64/APKINDEX.tar.gz: BAD signature (RSA) with key tailor-test-6165ee59.rsa.pub"),
        "{err}"
    );
    std::fs::write(dir.join("APKINDEX.tar.gz"), index).unwrap();
    let changed = packages(&keys, b"#!/bin/sh\nrm -rf /\n").remove(0);
    assert_eq!(changed.file_name, "app-1.0-r0.apk");
    std::fs::write(dir.join("app-1.0-r0.apk"), &changed.bytes).unwrap();
    let err = fails("app", "tampered", &opts);
    assert!(
        err.contains("app-1.0-r0.apk: its control checksum is Q1")
            && err.contains(&format!("the signed index says {}", app.checksum)),
        "{err}"
    );
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let unreachable = Options { packages: Some(source(&format!("http://{closed}"), &keys)), ..Options::default() };
    let err = fails("app", "offline", &unreachable);
    assert!(err.starts_with("repositories: ") && err.contains("the repository is unreachable"), "{err}");
    drop(server);
}
