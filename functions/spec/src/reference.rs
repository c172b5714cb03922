//! Image references (`[registry/]repository[:tag][@digest]`), parsed with the
//! docker distribution rules, without a regex engine.

use std::fmt;

use crate::error::shown;

/// Maximum length of `registry/repository` (docker distribution limit).
/// Characters of a whole reference (host, repository, tag and digest): Distribution's limit
/// of the name, applied to all of it so that one length states it (openapi.json's maxLength).
pub const MAX_REFERENCE_LEN: usize = 255;
/// Maximum length of a tag (OCI distribution spec).
pub const MAX_TAG_LEN: usize = 128;

/// A parsed image reference.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Reference {
    /// Registry host (`host[:port]`), absent when the configured registry is meant.
    pub registry: Option<String>,
    /// Repository path, e.g. `acme/dhi-python`.
    pub repository: String,
    /// Tag, e.g. `3.13`.
    pub tag: Option<String>,
    /// Digest pin, `sha256:<64 hex>`.
    pub digest: Option<String>,
}

impl Reference {
    /// Parses `[registry/]repository[:tag][@digest]`.
    ///
    /// The first path component is a registry host iff there is more than one component
    /// and it contains `.` or `:` or equals `localhost`.
    pub fn parse(s: &str) -> Result<Reference, String> {
        if s.is_empty() {
            return Err("reference is empty".to_owned());
        }
        if s.len() > MAX_REFERENCE_LEN {
            return Err(format!("reference is {} characters long; at most {MAX_REFERENCE_LEN} are allowed", s.len()));
        }
        let (name_and_tag, digest) = match s.split_once('@') {
            Some((name, digest)) => (name, Some(digest)),
            None => (s, None),
        };
        let (registry, rest) = match name_and_tag.split_once('/') {
            Some((first, rest)) if is_registry_like(first) => (Some(first), rest),
            _ => (None, name_and_tag),
        };
        let last_start = rest.rfind('/').map_or(0, |i| i + 1);
        let (repository, tag) = match rest[last_start..].find(':') {
            Some(colon) => (&rest[..last_start + colon], Some(&rest[last_start + colon + 1..])),
            None => (rest, None),
        };

        if let Some(host) = registry {
            check_registry(host)?;
        }
        check_repository(repository)?;
        if let Some(tag) = tag {
            check_tag(tag)?;
        }
        if let Some(digest) = digest {
            check_digest(digest)?;
        }
        Ok(Reference {
            registry: registry.map(str::to_owned),
            repository: repository.to_owned(),
            tag: tag.map(str::to_owned),
            digest: digest.map(str::to_owned),
        })
    }

    /// First component of the repository (`acme` in `acme/dhi-python`).
    pub fn namespace(&self) -> &str {
        self.repository.split_once('/').map_or(self.repository.as_str(), |(first, _)| first)
    }

    /// The same repository with `tag`; the digest is dropped because it pinned the old content.
    pub fn with_tag(&self, tag: &str) -> Reference {
        Reference {
            registry: self.registry.clone(),
            repository: self.repository.clone(),
            tag: Some(tag.to_owned()),
            digest: None,
        }
    }

    /// `registry/repository` (or just `repository` without a registry host).
    pub fn name(&self) -> String {
        match &self.registry {
            Some(host) => format!("{host}/{}", self.repository),
            None => self.repository.clone(),
        }
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(host) = &self.registry {
            write!(f, "{host}/")?;
        }
        f.write_str(&self.repository)?;
        if let Some(tag) = &self.tag {
            write!(f, ":{tag}")?;
        }
        if let Some(digest) = &self.digest {
            write!(f, "@{digest}")?;
        }
        Ok(())
    }
}

/// Whether `s` is a valid OCI tag: `[A-Za-z0-9_][A-Za-z0-9._-]{0,127}`.
pub fn is_valid_tag(s: &str) -> bool {
    let bytes = s.as_bytes();
    match bytes.split_first() {
        Some((first, rest)) => {
            bytes.len() <= MAX_TAG_LEN
                && (first.is_ascii_alphanumeric() || *first == b'_')
                && rest.iter().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
        }
        None => false,
    }
}

/// Whether `s` is a valid repository path: `/`-separated components, each
/// `[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*`.
pub fn is_valid_repository(s: &str) -> bool {
    check_repository(s).is_ok()
}

fn is_registry_like(first: &str) -> bool {
    first.contains('.') || first.contains(':') || first == "localhost"
}

fn check_registry(host_port: &str) -> Result<(), String> {
    let bad = || format!("registry host {} is not a valid host[:port]", shown(host_port));
    let (host, port) = match host_port.split_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (host_port, None),
    };
    let label_ok = |label: &str| {
        let b = label.as_bytes();
        !b.is_empty()
            && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-')
            && b.first().is_some_and(u8::is_ascii_alphanumeric)
            && b.last().is_some_and(u8::is_ascii_alphanumeric)
    };
    if host.is_empty() || !host.split('.').all(label_ok) {
        return Err(bad());
    }
    if let Some(port) = port {
        let digits_ok = !port.is_empty() && port.bytes().all(|c| c.is_ascii_digit());
        if !digits_ok || port.parse::<u16>().is_err() {
            return Err(bad());
        }
    }
    Ok(())
}

fn check_repository(repository: &str) -> Result<(), String> {
    if repository.is_empty() {
        return Err("repository is empty".to_owned());
    }
    for component in repository.split('/') {
        if component.is_empty() {
            return Err(format!("repository {} has an empty path component", shown(repository)));
        }
        if !is_valid_component(component) {
            let hint = if component.bytes().any(|b| b.is_ascii_uppercase()) {
                " (repositories must be lowercase)"
            } else {
                ""
            };
            return Err(format!(
                "repository component {} is invalid{hint}: use lowercase letters and \
                 digits separated by `.`, `_`, `__` or dashes",
                shown(component)
            ));
        }
    }
    Ok(())
}

/// `[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*`
fn is_valid_component(component: &str) -> bool {
    let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    let bytes = component.as_bytes();
    if !bytes.first().is_some_and(|b| alnum(*b)) || !bytes.last().is_some_and(|b| alnum(*b)) {
        return false;
    }
    // Every maximal run of non-alphanumerics must be exactly one separator.
    bytes
        .split(|b| alnum(*b))
        .filter(|run| !run.is_empty())
        .all(|run| matches!(run, b"." | b"_" | b"__") || run.iter().all(|b| *b == b'-'))
}

fn check_tag(tag: &str) -> Result<(), String> {
    if tag.is_empty() {
        return Err("tag after `:` is empty".to_owned());
    }
    if tag.len() > MAX_TAG_LEN {
        return Err(format!("tag is {} characters long; at most {MAX_TAG_LEN} are allowed", tag.len()));
    }
    if !is_valid_tag(tag) {
        return Err(format!(
            "tag {} is invalid: use letters, digits, `_`, `.` and `-`, not starting with \
             `.` or `-`",
            shown(tag)
        ));
    }
    Ok(())
}

fn check_digest(digest: &str) -> Result<(), String> {
    let ok = digest
        .strip_prefix("sha256:")
        .is_some_and(|hex| hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
    if ok {
        Ok(())
    } else {
        Err(format!("digest {} is invalid: expected `sha256:` followed by 64 lowercase hex digits", shown(digest)))
    }
}
