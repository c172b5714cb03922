//! Platforms, `os/architecture[/variant]` (e.g. `linux/arm64/v8`).

use std::fmt;

use crate::error::shown;

/// A target platform.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Platform {
    /// Operating system, e.g. `linux`.
    pub os: String,
    /// Architecture, e.g. `amd64`.
    pub architecture: String,
    /// Variant, e.g. `v8`.
    pub variant: Option<String>,
}

impl Platform {
    /// Parses `os/architecture[/variant]`; every part non-empty and lowercase
    /// (`[a-z0-9._-]`).
    pub fn parse(s: &str) -> Result<Platform, String> {
        let parts: Vec<&str> = s.split('/').collect();
        let (os, architecture, variant) = match parts.as_slice() {
            [os, arch] => (*os, *arch, None),
            [os, arch, variant] => (*os, *arch, Some(*variant)),
            _ => {
                return Err(format!(
                    "{} is not os/architecture[/variant], e.g. `linux/amd64` or `linux/arm64/v8`",
                    shown(s)
                ));
            }
        };
        for (what, part) in
            [("os", os), ("architecture", architecture)].into_iter().chain(variant.map(|v| ("variant", v)))
        {
            check_part(what, part)?;
        }
        Ok(Platform { os: os.to_owned(), architecture: architecture.to_owned(), variant: variant.map(str::to_owned) })
    }
}

fn check_part(what: &str, part: &str) -> Result<(), String> {
    if part.is_empty() {
        return Err(format!("{what} is empty (expected e.g. `linux/amd64`)"));
    }
    let ok = part.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-'));
    if ok {
        Ok(())
    } else if part.bytes().any(|b| b.is_ascii_uppercase()) {
        Err(format!("{what} {} must be lowercase", shown(part)))
    } else {
        Err(format!("{what} {} may only contain lowercase letters, digits, `.`, `_` and `-`", shown(part)))
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if let Some(variant) = &self.variant {
            write!(f, "/{variant}")?;
        }
        Ok(())
    }
}

/// Canonical platform text with default variants (`linux/arm64` ≡ `linux/arm64/v8`,
/// `linux/arm` ≡ `linux/arm/v7`): how images' platforms are compared and recorded.
pub fn platform_key(os: &str, arch: &str, variant: Option<&str>) -> String {
    let variant = match (arch, variant) {
        (_, Some(v)) if !v.is_empty() => Some(v),
        ("arm64", _) => Some("v8"),
        ("arm", _) => Some("v7"),
        _ => None,
    };
    match variant {
        Some(v) => format!("{os}/{arch}/{v}"),
        None => format!("{os}/{arch}"),
    }
}

impl Platform {
    /// [`platform_key`] of this platform.
    pub fn key(&self) -> String {
        platform_key(&self.os, &self.architecture, self.variant.as_deref())
    }
}
