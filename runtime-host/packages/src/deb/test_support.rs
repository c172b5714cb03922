//! Signed apt repositories made the way Debian's tools make them, for tests (this crate's, and
//! other crates' with the `test-support` feature): keys by `gpg --quick-gen-key`, indexes by
//! `apt-ftparchive`, `InRelease` by `gpg --clearsign`. Suite and codename `stable`, component
//! `main`, architecture `amd64`; `Packages` plain, `.xz` and `.gz`. [`RepoServer`] serves one
//! (or an apk repository) on loopback.

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

fn run(cmd: &mut Command) -> Vec<u8> {
    let o = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e} (tests/run.sh installs gpg, apt-utils, xz-utils)"));
    assert!(o.status.success(), "{cmd:?}: {}", String::from_utf8_lossy(&o.stderr));
    o.stdout
}

/// A signing key: its GNUPGHOME and its armored public key file.
pub struct RepoKey {
    pub home: PathBuf,
    pub public: PathBuf,
}

impl RepoKey {
    /// A new ed25519 key named `name`, kept in `dir/gnupg-<name>`, public key `dir/<name>.asc`.
    pub fn new(dir: &Path, name: &str) -> RepoKey {
        let home = dir.join(format!("gnupg-{name}"));
        std::fs::create_dir_all(&home).unwrap();
        let key = RepoKey { home, public: dir.join(format!("{name}.asc")) };
        key.gpg(&[
            "--pinentry-mode",
            "loopback",
            "--passphrase",
            "",
            "--quick-gen-key",
            &format!("{name} <{name}@example.org>"),
            "ed25519",
            "sign",
            "never",
        ]);
        std::fs::write(&key.public, key.gpg(&["--armor", "--export"])).unwrap();
        key
    }

    fn gpg(&self, args: &[&str]) -> Vec<u8> {
        run(Command::new("gpg").env("GNUPGHOME", &self.home).args(["--batch", "--quiet"]).args(args))
    }
}

/// Copies the `.deb` files of `debs` into `root/<pool>`; their paths there.
pub fn add_debs(root: &Path, pool: &str, debs: &Path) -> Vec<PathBuf> {
    let dir = root.join(pool);
    std::fs::create_dir_all(&dir).unwrap();
    let found =
        std::fs::read_dir(debs).unwrap_or_else(|e| panic!("{}: {e} (tests/run.sh prepares it)", debs.display()));
    let mut out: Vec<PathBuf> = found
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "deb"))
        .map(|p| {
            let to = dir.join(p.file_name().unwrap());
            std::fs::copy(&p, &to).unwrap();
            to
        })
        .collect();
    out.sort();
    assert!(!out.is_empty(), "no .deb in {}", debs.display());
    out
}

/// (Re)writes `root`'s indexes from the `.deb`s under `root/pool`, signed by `key`.
pub fn publish(root: &Path, key: &RepoKey) {
    let bin = root.join("dists/stable/main/binary-amd64");
    std::fs::create_dir_all(&bin).unwrap();
    let packages = bin.join("Packages");
    std::fs::write(&packages, run(Command::new("apt-ftparchive").args(["packages", "pool"]).current_dir(root)))
        .unwrap();
    run(Command::new("xz").args(["-k", "-f", "-9"]).arg(&packages));
    run(Command::new("gzip").args(["-k", "-f", "-9"]).arg(&packages));
    let release = run(Command::new("apt-ftparchive")
        .args(["-o", "APT::FTPArchive::Release::Suite=stable", "-o", "APT::FTPArchive::Release::Codename=stable"])
        .args([
            "-o",
            "APT::FTPArchive::Release::Components=main",
            "-o",
            "APT::FTPArchive::Release::Architectures=amd64",
        ])
        .args(["release", "dists/stable"])
        .current_dir(root));
    let (signed, plain) = (root.join("dists/stable/InRelease"), root.join("dists/stable/Release"));
    std::fs::write(&plain, release).unwrap();
    key.gpg(&["--yes", "--clearsign", "-o", signed.to_str().unwrap(), plain.to_str().unwrap()]);
}

/// Serves the files under a directory on loopback (`python3 -m http.server`) until dropped;
/// `.1` is its `http://127.0.0.1:PORT`.
pub struct RepoServer(Child, pub String);

impl RepoServer {
    pub fn start(root: &Path) -> RepoServer {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = Command::new("python3")
            .args(["-m", "http.server", "--bind", "127.0.0.1", &port.to_string()])
            .current_dir(root)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("python3 (Debian package python3): {e}"));
        for _ in 0..200 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(25));
        }
        RepoServer(child, format!("http://127.0.0.1:{port}"))
    }
}

impl Drop for RepoServer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
