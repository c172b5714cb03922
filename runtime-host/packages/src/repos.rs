//! Where packages come from: the `--repositories FILE` YAML of `tailor build`, `tailor up` and
//! `tailor worker`, and the defaults for a base that names its release.
//!
//! ```yaml
//! debian:
//!   - {url: http://deb.debian.org/debian, suite: bookworm, components: [main], keys: [/usr/share/keyrings/debian-archive-keyring.gpg]}
//!   - {url: http://127.0.0.1:8000/repo, suite: ./, keys: [/etc/tailor/local.asc]}     # a flat repository
//! alpine:
//!   - {url: https://dl-cdn.alpinelinux.org/alpine, branch: v3.20, repository: main, keys: [/etc/apk/keys]}
//! ```
//!
//! A repository without keys is refused: tailor installs nothing it cannot verify.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// The repositories of each package family.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Repositories {
    #[serde(default)]
    pub debian: Vec<DebianRepo>,
    #[serde(default)]
    pub alpine: Vec<AlpineRepo>,
}

/// An apt repository: `url/dists/<suite>/InRelease` and `…/<component>/binary-<arch>/Packages*`,
/// or, for a flat repository (`suite: ./`), `url/<suite>/InRelease` and `url/<suite>/Packages*`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DebianRepo {
    pub url: String,
    pub suite: String,
    #[serde(default)]
    pub components: Vec<String>,
    /// OpenPGP keyrings (binary `.gpg` or armored `.asc`) that may sign the `InRelease`.
    #[serde(default)]
    pub keys: Vec<PathBuf>,
}

impl DebianRepo {
    /// A flat repository has no `dists/`: its suite is a path ending in `/`.
    pub fn is_flat(&self) -> bool {
        self.suite.ends_with('/')
    }

    /// The directory holding `InRelease`, `Release` and `Release.gpg`.
    pub fn release_dir(&self) -> String {
        let base = self.url.trim_end_matches('/');
        if self.is_flat() {
            format!("{base}/{}", self.suite.trim_start_matches("./").trim_end_matches('/'))
                .trim_end_matches('/')
                .to_owned()
        } else {
            format!("{base}/dists/{}", self.suite)
        }
    }
}

/// An apk repository: `url/<branch>/<repository>/<arch>/APKINDEX.tar.gz`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlpineRepo {
    pub url: String,
    pub branch: String,
    #[serde(default = "main")]
    pub repository: String,
    /// Files or directories of RSA public keys named as the signatures name them
    /// (`alpine-devel@lists.alpinelinux.org-6165ee59.rsa.pub`).
    #[serde(default)]
    pub keys: Vec<PathBuf>,
}

fn main() -> String {
    "main".into()
}

impl AlpineRepo {
    pub fn index_url(&self, arch: &str) -> String {
        format!("{}/{}/{}/{arch}/APKINDEX.tar.gz", self.url.trim_end_matches('/'), self.branch, self.repository)
    }
}

/// A repositories file that cannot be used, naming the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}: {field}: {problem}")]
pub struct ReposError {
    pub file: String,
    pub field: String,
    pub problem: String,
}

/// Debian's keyring, where Debian's `debian-archive-keyring` package puts it.
pub const DEBIAN_KEYRING: &str = "/usr/share/keyrings/debian-archive-keyring.gpg";
/// Where Alpine keeps its keys (the `alpine-keys` package).
pub const ALPINE_KEYS: &str = "/etc/apk/keys";

impl Repositories {
    /// Parses and checks a repositories file (`file` names it in errors).
    pub fn from_yaml(text: &str, file: &str) -> Result<Repositories, ReposError> {
        let de = serde_yaml::Deserializer::from_str(text);
        let repos: Repositories = serde_path_to_error::deserialize(de).map_err(|e| ReposError {
            file: file.to_owned(),
            field: match e.path().to_string().as_str() {
                "." => "(top level)".to_owned(),
                p => p.to_owned(),
            },
            problem: e.inner().to_string(),
        })?;
        repos.check(file)?;
        Ok(repos)
    }

    fn check(&self, file: &str) -> Result<(), ReposError> {
        let bad =
            |field: String, problem: &str| ReposError { file: file.to_owned(), field, problem: problem.to_owned() };
        let url_ok = |u: &str| u.starts_with("http://") || u.starts_with("https://");
        for (i, r) in self.debian.iter().enumerate() {
            if !url_ok(&r.url) {
                return Err(bad(format!("debian[{i}].url"), "must be an http:// or https:// URL"));
            }
            if r.suite.trim().is_empty() || r.suite.contains("..") {
                return Err(bad(
                    format!("debian[{i}].suite"),
                    "give a suite (bookworm) or a flat repository path (./)",
                ));
            }
            if r.is_flat() && !r.components.is_empty() {
                return Err(bad(
                    format!("debian[{i}].components"),
                    "a flat repository (suite ending in /) has no components",
                ));
            }
            if !r.is_flat() && r.components.is_empty() {
                return Err(bad(format!("debian[{i}].components"), "give at least one component, e.g. [main]"));
            }
            if r.keys.is_empty() {
                return Err(bad(
                    format!("debian[{i}].keys"),
                    "give the keyring that signs this repository (unsigned repositories are refused)",
                ));
            }
        }
        for (i, r) in self.alpine.iter().enumerate() {
            if !url_ok(&r.url) {
                return Err(bad(format!("alpine[{i}].url"), "must be an http:// or https:// URL"));
            }
            if r.branch.trim().is_empty() || r.branch.contains('/') {
                return Err(bad(format!("alpine[{i}].branch"), "give a branch such as v3.20 or edge"));
            }
            if r.keys.is_empty() {
                return Err(bad(
                    format!("alpine[{i}].keys"),
                    "give the keys that sign this repository (unsigned repositories are refused)",
                ));
            }
        }
        Ok(())
    }

    /// The Debian repositories for a base of release `codename` (`bookworm`): the configured
    /// ones, else Debian's own — the release, its updates and its security archive.
    pub fn debian_for(&self, codename: &str) -> Vec<DebianRepo> {
        if !self.debian.is_empty() {
            return self.debian.clone();
        }
        let repo = |url: &str, suite: String| DebianRepo {
            url: url.to_owned(),
            suite,
            components: vec!["main".into()],
            keys: vec![PathBuf::from(DEBIAN_KEYRING)],
        };
        vec![
            repo("http://deb.debian.org/debian", codename.to_owned()),
            repo("http://deb.debian.org/debian", format!("{codename}-updates")),
            repo("http://deb.debian.org/debian-security", format!("{codename}-security")),
        ]
    }

    /// The Alpine repositories for a base of `VERSION_ID` `version_id` (`3.20.3`): the
    /// configured ones, else Alpine's own `main` and `community` of that branch (`v3.20`).
    pub fn alpine_for(&self, version_id: &str) -> Vec<AlpineRepo> {
        if !self.alpine.is_empty() {
            return self.alpine.clone();
        }
        let branch = match version_id.split('.').collect::<Vec<_>>().as_slice() {
            [major, minor, ..] => format!("v{major}.{minor}"),
            _ => "edge".to_owned(),
        };
        ["main", "community"]
            .into_iter()
            .map(|r| AlpineRepo {
                url: "https://dl-cdn.alpinelinux.org/alpine".into(),
                branch: branch.clone(),
                repository: r.into(),
                keys: vec![PathBuf::from(ALPINE_KEYS)],
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn the_documented_example_parses() {
        let r = Repositories::from_yaml(
            "debian:\n  - {url: http://deb.debian.org/debian, suite: bookworm, components: [main], keys: [/k.gpg]}\n  \
             - {url: 'http://127.0.0.1:8000/repo/', suite: ./, keys: [/l.asc]}\n\
             alpine:\n  - {url: https://dl-cdn.alpinelinux.org/alpine, branch: v3.20, keys: [/etc/apk/keys]}\n",
            "repos.yaml",
        )
        .unwrap();
        assert_eq!(r.debian[0].release_dir(), "http://deb.debian.org/debian/dists/bookworm");
        assert!(r.debian[1].is_flat());
        assert_eq!(r.debian[1].release_dir(), "http://127.0.0.1:8000/repo");
        assert_eq!(r.alpine[0].repository, "main");
        assert_eq!(
            r.alpine[0].index_url("x86_64"),
            "https://dl-cdn.alpinelinux.org/alpine/v3.20/main/x86_64/APKINDEX.tar.gz"
        );
        assert_eq!(r.debian_for("trixie"), r.debian, "configured repositories win");
    }

    #[test]
    fn defaults_follow_the_base_release() {
        let d = Repositories::default().debian_for("bookworm");
        let suites: Vec<&str> = d.iter().map(|r| r.suite.as_str()).collect();
        assert_eq!(suites, ["bookworm", "bookworm-updates", "bookworm-security"]);
        assert_eq!(d[2].release_dir(), "http://deb.debian.org/debian-security/dists/bookworm-security");
        let a = Repositories::default().alpine_for("3.20.3");
        assert_eq!(
            a[1].index_url("aarch64"),
            "https://dl-cdn.alpinelinux.org/alpine/v3.20/community/aarch64/APKINDEX.tar.gz"
        );
    }

    #[test]
    fn errors_name_the_file_and_field() {
        let err = |text: &str| Repositories::from_yaml(text, "r.yaml").unwrap_err().to_string();
        assert_eq!(
            err("debian:\n  - {url: ftp://x, suite: b, components: [main], keys: [/k]}\n"),
            "r.yaml: debian[0].url: must be an http:// or https:// URL"
        );
        assert!(
            err("debian:\n  - {url: http://x, suite: b, components: [main]}\n")
                .contains("debian[0].keys: give the keyring")
        );
        assert!(
            err("debian:\n  - {url: http://x, suite: ./, components: [main], keys: [/k]}\n")
                .contains("has no components")
        );
        assert!(err("debian:\n  - {url: http://x, suite: b, keys: [/k]}\n").contains("debian[0].components"));
        let e = err("debian:\n  - {url: http://x, suit: b}\n");
        assert!(e.starts_with("r.yaml: debian") && e.contains("unknown field `suit`"), "{e}");
        assert!(err("alpine:\n  - {url: http://x, branch: '', keys: [/k]}\n").contains("alpine[0].branch"));
        assert!(err("fedora: []\n").contains("unknown field `fedora`"));
    }
}
