#![allow(clippy::unwrap_used)]
//! The database writer, checked by dpkg itself: `dpkg-query` and `dpkg --audit` read the
//! status and info files written over this machine's real database.

use std::path::Path;
use std::process::Command;

use super::*;

const HELLO: &str = "Package: hello\nVersion: 2.10-3\nArchitecture: amd64\nMaintainer: Santiago Vila <sanvila@debian.org>\n\
Installed-Size: 280\nDepends: libc6 (>= 2.34)\nSection: devel\nPriority: optional\nHomepage: https://www.gnu.org/software/hello/\n\
Description: example package based on GNU hello\n The GNU hello program produces a familiar, friendly greeting.\n .\n Seriously.\n";

const LIB: &str = "Package: libhello1\nVersion: 1.0-1\nArchitecture: amd64\nMulti-Arch: same\nMaintainer: T <t@example.org>\nDescription: a library\n";

fn hello() -> Unpacked {
    Unpacked {
        control: HELLO.into(),
        md5sums: Some("d41d8cd98f00b204e9800998ecf8427e  usr/bin/hello\n".into()),
        conffiles: vec![("/etc/hello.conf".into(), "0123456789abcdef0123456789abcdef".into())],
        paths: vec!["/usr".into(), "/usr/bin".into(), "/usr/bin/hello".into(), "/etc".into(), "/etc/hello.conf".into()],
        scripts: vec![("postinst".into(), b"#!/bin/sh\nexit 0\n".to_vec())],
    }
}

fn lib() -> Unpacked {
    Unpacked {
        control: LIB.into(),
        md5sums: Some("d41d8cd98f00b204e9800998ecf8427e  usr/lib/libhello.so.1\n".into()),
        paths: vec!["/usr/lib/libhello.so.1".into()],
        ..Unpacked::default()
    }
}

#[test]
fn new_entries_are_installed_sorted_and_the_base_is_kept() {
    let base = "Package: zlib1g\nStatus: install ok installed\nVersion: 1:1.2.13\nDescription: compression\n more text\n .\n end\n\n\
                Package: bash\nStatus: install ok installed\nVersion: 5.2\n";
    let db = install(base, true, &[hello(), lib()]).unwrap();
    let names: Vec<&str> = db.status.lines().filter_map(|l| l.strip_prefix("Package: ")).collect();
    assert_eq!(names, ["bash", "hello", "libhello1", "zlib1g"], "sorted as dpkg writes it");
    assert!(db.status.contains("Package: zlib1g\nStatus: install ok installed\nVersion: 1:1.2.13\nDescription: compression\n more text\n .\n end\n"));
    let entry = db.status.split("\n\n").find(|s| s.starts_with("Package: hello")).unwrap();
    assert!(
        entry.starts_with("Package: hello\nStatus: install ok installed\nPriority: optional\nSection: devel\n"),
        "{entry}"
    );
    assert!(entry.contains("Conffiles:\n /etc/hello.conf 0123456789abcdef0123456789abcdef\nDescription:"), "{entry}");
    assert!(
        entry.trim_end().ends_with("Homepage: https://www.gnu.org/software/hello/"),
        "unknown fields last: {entry}"
    );
    let files: Vec<&str> = db.info.keys().map(String::as_str).collect();
    assert_eq!(
        files,
        [
            "info/hello.conffiles",
            "info/hello.list",
            "info/hello.md5sums",
            "info/hello.postinst",
            "info/libhello1:amd64.list",
            "info/libhello1:amd64.md5sums",
        ]
    );
    assert_eq!(db.info["info/hello.list"], b"/.\n/usr\n/usr/bin\n/usr/bin/hello\n/etc\n/etc/hello.conf\n");
    assert_eq!(install(base, true, &[hello(), lib()]).unwrap(), db, "deterministic");
    let err = install("Package: x\n garbage\n\n continuation\n", true, &[]).unwrap_err().to_string();
    assert!(err.contains("the base's dpkg status, line"), "{err}");
    let err = install("", true, &[Unpacked { control: "Version: 1\n".into(), ..Unpacked::default() }])
        .unwrap_err()
        .to_string();
    assert!(err.contains("no Package field"), "{err}");
}

fn dpkg(admin: &Path, args: &[&str]) -> String {
    let o = Command::new(args[0])
        .arg(format!("--admindir={}", admin.display()))
        .args(&args[1..])
        .output()
        .unwrap_or_else(|e| panic!("{} (Debian package dpkg): {e}", args[0]));
    assert!(o.status.success(), "{args:?}: {}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout).unwrap()
}

#[test]
fn dpkg_reads_what_was_written_over_this_machines_database() {
    let base = std::fs::read_to_string("/var/lib/dpkg/status").unwrap();
    let multiarch = std::fs::read_to_string("/var/lib/dpkg/info/format").is_ok_and(|f| f.trim() == "1");
    let db = install(&base, multiarch, &[hello(), lib()]).unwrap();
    let admin = tempfile::tempdir().unwrap();
    for d in ["info", "updates", "triggers"] {
        std::fs::create_dir_all(admin.path().join(d)).unwrap();
    }
    std::fs::write(admin.path().join("status"), &db.status).unwrap();
    if multiarch {
        std::fs::write(admin.path().join("info/format"), "1\n").unwrap();
    }
    // The base's own info files (what its image would carry), then the new ones.
    for e in std::fs::read_dir("/var/lib/dpkg/info").unwrap().flatten() {
        let link = admin.path().join("info").join(e.file_name());
        if !link.exists() {
            std::os::unix::fs::symlink(e.path(), link).unwrap();
        }
    }
    for (name, bytes) in &db.info {
        let _ = std::fs::remove_file(admin.path().join(name));
        std::fs::write(admin.path().join(name), bytes).unwrap();
    }
    let before = Command::new("dpkg-query").args(["-W", "-f", "${Package}\n"]).output().unwrap().stdout;
    let listed = dpkg(admin.path(), &["dpkg-query", "-W", "-f", "${db:Status-Abbrev}${Package} ${Version}\n"]);
    assert_eq!(listed.lines().count(), before.split(|b| *b == b'\n').filter(|l| !l.is_empty()).count() + 2);
    assert!(listed.contains("ii hello 2.10-3\n") && listed.contains("ii libhello1 1.0-1\n"), "{listed}");
    assert_eq!(dpkg(admin.path(), &["dpkg-query", "-S", "/usr/bin/hello"]), "hello: /usr/bin/hello\n");
    assert!(dpkg(admin.path(), &["dpkg-query", "-L", "hello"]).contains("/etc/hello.conf\n"));
    assert!(dpkg(admin.path(), &["dpkg-query", "-L", "libhello1:amd64"]).contains("/usr/lib/libhello.so.1\n"));
    assert_eq!(dpkg(admin.path(), &["dpkg", "--audit"]), "", "dpkg --audit finds nothing half-installed");
}
