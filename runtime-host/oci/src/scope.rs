//! Capability scope: which repositories a client may read and write.

use std::fmt;

use crate::{Error, Result};

/// Readable repository prefixes (whole path segments: `acme` covers `acme/x` and `acme`, not
/// `acmecorp/x`) and exactly writable repositories. A build for org `acme` gets
/// `Scope::new(["acme"], [destination])`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scope {
    read_prefixes: Vec<String>,
    /// Repositories readable exactly (not what lies below them).
    read_repos: Vec<String>,
    write_repos: Vec<String>,
}

impl Scope {
    pub fn new<R, W>(read_prefixes: R, write_repos: W) -> Scope
    where
        R: IntoIterator,
        R::Item: Into<String>,
        W: IntoIterator,
        W::Item: Into<String>,
    {
        let norm = |s: String| s.trim_matches('/').to_string();
        Scope {
            read_prefixes: read_prefixes.into_iter().map(|s| norm(s.into())).collect(),
            read_repos: Vec::new(),
            write_repos: write_repos.into_iter().map(|s| norm(s.into())).collect(),
        }
    }

    /// Exactly these repositories: `read` for reading (nothing below them), `write` for both.
    /// A mirror's upstream client reads only the source repository.
    pub fn repositories<R, W>(read: R, write: W) -> Scope
    where
        R: IntoIterator,
        R::Item: Into<String>,
        W: IntoIterator,
        W::Item: Into<String>,
    {
        let norm = |s: String| s.trim_matches('/').to_string();
        Scope {
            read_prefixes: Vec::new(),
            read_repos: read.into_iter().map(|s| norm(s.into())).collect(),
            write_repos: write.into_iter().map(|s| norm(s.into())).collect(),
        }
    }

    pub fn can_read(&self, repo: &str) -> bool {
        self.can_write(repo)
            || self.read_repos.iter().any(|r| r == repo)
            || self.read_prefixes.iter().any(|p| {
                p.is_empty()
                    || repo == p
                    || (repo.starts_with(p.as_str()) && repo.as_bytes().get(p.len()) == Some(&b'/'))
            })
    }

    pub fn can_write(&self, repo: &str) -> bool {
        self.write_repos.iter().any(|w| w == repo)
    }

    pub fn check_read(&self, repo: &str) -> Result<()> {
        if self.can_read(repo) { Ok(()) } else { Err(self.refuse(repo, "read")) }
    }

    pub fn check_write(&self, repo: &str) -> Result<()> {
        if self.can_write(repo) { Ok(()) } else { Err(self.refuse(repo, "write")) }
    }

    fn refuse(&self, repo: &str, access: &'static str) -> Error {
        Error::OutOfScope { repository: repo.to_string(), access, scope: self.to_string() }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let show = |v: &[String]| if v.is_empty() { "nothing".to_string() } else { v.join(", ") };
        if self.read_repos.is_empty() {
            write!(f, "reads {}/…; writes {}", show(&self.read_prefixes), show(&self.write_repos))
        } else if self.read_prefixes.is_empty() {
            write!(f, "reads {}; writes {}", show(&self.read_repos), show(&self.write_repos))
        } else {
            let reads = format!("{}/…, {}", show(&self.read_prefixes), show(&self.read_repos));
            write!(f, "reads {reads}; writes {}", show(&self.write_repos))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_match_whole_segments() {
        let s = Scope::new(["acme"], ["acme/out"]);
        assert!(s.can_read("acme/x"));
        assert!(s.can_read("acme/x/y"));
        assert!(!s.can_read("acmecorp/x"));
        assert!(!s.can_read("other/x"));
        assert!(s.can_write("acme/out"));
        assert!(!s.can_write("acme/x"));
        let e = s.check_write("acme/x").unwrap_err().to_string();
        assert!(e.contains("write access to repository `acme/x` is outside"), "{e}");
    }

    #[test]
    fn exact_repositories_cover_nothing_below() {
        let s = Scope::repositories(["dhi/python"], Vec::<String>::new());
        assert!(s.can_read("dhi/python"));
        assert!(!s.can_read("dhi/python/x") && !s.can_read("dhi") && !s.can_read("dhi/pythonx"));
        assert!(!s.can_write("dhi/python"));
        assert_eq!(s.to_string(), "reads dhi/python; writes nothing");
        let w = Scope::repositories(["acme/src"], ["acme/dst"]);
        assert!(w.can_read("acme/dst") && w.can_write("acme/dst") && !w.can_write("acme/src"));
    }
}
