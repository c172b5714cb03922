//! Image references as charts write them, and the mapping: which `from` a reference matches
//! (a `from` without host matches the repository on any registry; Docker Hub's `docker.io`,
//! `index.docker.io`, `registry-1.docker.io` and its `library/` prefix are one), and what it
//! becomes (the `to` repository, keeping the reference's tag unless `to` names one).

use std::fmt;

use tailor_spec::{Mapping, Reference};

/// A parsed image reference: `[host[:port]/]path[:tag][@digest]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRef {
    pub host: Option<String>,
    pub path: String,
    pub tag: Option<String>,
    pub digest: Option<String>,
}

const DOCKER_HOSTS: [&str; 3] = ["docker.io", "index.docker.io", "registry-1.docker.io"];

impl ImageRef {
    pub fn parse(text: &str) -> Option<ImageRef> {
        let r = Reference::parse(text).ok()?;
        Some(ImageRef { host: r.registry, path: r.repository, tag: r.tag, digest: r.digest })
    }

    /// Whether the reference names Docker Hub (explicitly or by having no host).
    fn docker(&self) -> bool {
        self.host.as_deref().is_none_or(|h| DOCKER_HOSTS.contains(&h))
    }

    /// Whether a string that parses as a reference is plausibly an image reference (and
    /// reported as unmapped when no `from` matches): it has a tag or digest, or a registry host.
    /// A bare word or path (`nginx`, `default`, `team/app`) is not reported.
    pub fn is_plausible(&self) -> bool {
        // `127.0.0.1:5000`, `registry.example:8443`: a host and port, not an image.
        let host_and_port = self.host.is_none()
            && !self.path.contains('/')
            && (self.path.contains('.') || self.path == "localhost")
            && self.tag.as_deref().is_some_and(|t| t.bytes().all(|b| b.is_ascii_digit()));
        !host_and_port && (self.tag.is_some() || self.digest.is_some() || self.host.is_some())
    }
}

impl fmt::Display for ImageRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(h) = &self.host {
            write!(f, "{h}/")?;
        }
        f.write_str(&self.path)?;
        if let Some(t) = &self.tag {
            write!(f, ":{t}")?;
        }
        if let Some(d) = &self.digest {
            write!(f, "@{d}")?;
        }
        Ok(())
    }
}

/// `library/x` for a one-segment Docker Hub path.
fn docker_path(path: &str) -> String {
    if path.contains('/') { path.to_owned() } else { format!("library/{path}") }
}

/// A mapping, parsed.
#[derive(Debug, Clone)]
struct Rule {
    from: ImageRef,
    to: ImageRef,
}

/// What a reference becomes: the target repository (in the org's registry) and tag, or the
/// digest `to` pins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// Index of the mapping in `reference_mapping`.
    pub rule: usize,
    pub repository: String,
    /// The `to`'s tag, else the reference's (`latest` when it has none); None when `to` pins a
    /// digest without a tag.
    pub tag: Option<String>,
    /// A digest the mapping itself names (`to: acme/x@sha256:…`).
    pub digest: Option<String>,
}

/// The spec's mappings, ready to match.
#[derive(Debug, Clone)]
pub struct Mapper {
    rules: Vec<Rule>,
}

impl Mapper {
    /// From validated mappings (invalid ones are skipped: validation reports them).
    pub fn new(mappings: &[Mapping]) -> Mapper {
        let rules = mappings
            .iter()
            .filter_map(|m| Some(Rule { from: ImageRef::parse(&m.from)?, to: ImageRef::parse(&m.to)? }))
            .collect();
        Mapper { rules }
    }

    /// The target of `r`, when a `from` matches it (the first that does).
    pub fn map(&self, r: &ImageRef) -> Option<Target> {
        let (rule, m) = self.rules.iter().enumerate().find(|(_, rule)| matches(&rule.from, r))?;
        let tag = match (&m.to.tag, &m.to.digest) {
            (Some(t), _) => Some(t.clone()),
            (None, Some(_)) => None,
            (None, None) => Some(r.tag.clone().unwrap_or_else(|| "latest".to_owned())),
        };
        Some(Target { rule, repository: m.to.path.clone(), tag, digest: m.to.digest.clone() })
    }
}

fn matches(from: &ImageRef, r: &ImageRef) -> bool {
    match &from.host {
        Some(host) => {
            let docker = DOCKER_HOSTS.contains(&host.as_str());
            if docker {
                r.docker() && docker_path(&from.path) == docker_path(&r.path)
            } else {
                r.host.as_deref() == Some(host.as_str()) && r.path == from.path
            }
        }
        None if r.docker() => docker_path(&from.path) == docker_path(&r.path),
        None => r.path == from.path,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn mapper() -> Mapper {
        Mapper::new(&[
            Mapping { from: "dhi/nginx".into(), to: "acme/dhi-nginx".into() },
            Mapping { from: "docker.io/library/busybox".into(), to: "acme/dhi-busybox:1.36_custom".into() },
            Mapping { from: "quay.io/prometheus/node-exporter".into(), to: "acme/node-exporter".into() },
            Mapping { from: "alpine".into(), to: format!("acme/alpine@sha256:{}", "a".repeat(64)) },
        ])
    }

    fn target(text: &str) -> Option<(usize, String, String)> {
        mapper().map(&ImageRef::parse(text).unwrap()).map(|t| (t.rule, t.repository, t.tag.unwrap_or_default()))
    }

    #[test]
    fn docker_hub_names_are_one() {
        for text in
            ["busybox:1.36", "library/busybox:1.36", "docker.io/busybox:1.36", "index.docker.io/library/busybox:1.36"]
        {
            assert_eq!(target(text), Some((1, "acme/dhi-busybox".into(), "1.36_custom".into())), "{text}");
        }
        assert_eq!(target("quay.io/busybox:1"), None, "busybox of another registry is not docker.io/library/busybox");
    }

    #[test]
    fn a_from_without_host_matches_any_registry_and_keeps_the_tag() {
        for text in
            ["dhi/nginx:1.25", "docker.io/dhi/nginx:1.25", "dhi.io/dhi/nginx:1.25", "127.0.0.1:5001/dhi/nginx:1.25"]
        {
            assert_eq!(target(text), Some((0, "acme/dhi-nginx".into(), "1.25".into())), "{text}");
        }
        assert_eq!(target("dhi/nginx").unwrap().2, "latest");
        assert_eq!(target("dhi/nginxx:1"), None);
        assert_eq!(target("other/dhi/nginx:1"), None);
        assert_eq!(target("quay.io/alpine:3").unwrap().0, 3, "a one-segment from on any registry");
        let pinned = mapper().map(&ImageRef::parse("alpine:3.20").unwrap()).unwrap();
        assert_eq!((pinned.digest, pinned.tag), (Some(format!("sha256:{}", "a".repeat(64))), None));
    }

    #[test]
    fn a_from_with_host_matches_that_host_only() {
        assert_eq!(target("quay.io/prometheus/node-exporter:v1.8").unwrap().1, "acme/node-exporter");
        assert_eq!(target("ghcr.io/prometheus/node-exporter:v1.8"), None);
        assert_eq!(target("prometheus/node-exporter:v1.8"), None);
    }

    #[test]
    fn plausible_references() {
        for (text, plausible) in [
            ("nginx:1.25", true),
            ("nginx", false),
            ("default", false),
            ("registry.example.com/team/app", true),
            ("example.com/x", true),
            ("team/app", false),
            (&format!("x@sha256:{}", "b".repeat(64)), true),
            ("127.0.0.1:5000", false),
            ("registry.example:8443", false),
            ("localhost:5000", false),
            ("redis:7", true),
        ] {
            assert_eq!(ImageRef::parse(text).unwrap().is_plausible(), plausible, "{text}");
        }
        assert!(ImageRef::parse("https://github.com/x/y.git").is_none());
        assert_eq!(ImageRef::parse("a.io:5000/b/c:1@sha256:".to_owned().as_str()), None);
        assert_eq!(ImageRef::parse("a.io:5000/b/c:1").unwrap().to_string(), "a.io:5000/b/c:1");
    }
}
