//! `/etc/os-release` (os-release(5)): `KEY=value` lines, values optionally quoted.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OsRelease {
    /// `ID`, e.g. `debian`, `alpine`.
    pub id: String,
    /// `VERSION_ID`, e.g. `12`, `3.20.3`.
    pub version_id: String,
    /// `VERSION_CODENAME`, e.g. `bookworm` (Debian).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub codename: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub pretty_name: String,
}

impl OsRelease {
    /// None when the text names no `ID`.
    pub fn parse(text: &str) -> Option<OsRelease> {
        let mut r = OsRelease::default();
        for line in text.lines() {
            let line = line.trim();
            if line.starts_with('#') {
                continue;
            }
            let Some((k, v)) = line.split_once('=') else { continue };
            let v = unquote(v.trim());
            match k.trim() {
                "ID" => r.id = v,
                "VERSION_ID" => r.version_id = v,
                "VERSION_CODENAME" => r.codename = v,
                "PRETTY_NAME" => r.pretty_name = v,
                _ => {}
            }
        }
        (!r.id.is_empty()).then_some(r)
    }
}

fn unquote(v: &str) -> String {
    let inner = match v.as_bytes() {
        [b'"', .., b'"'] | [b'\'', .., b'\''] if v.len() >= 2 => &v[1..v.len() - 1],
        _ => v,
    };
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(n) = chars.next() {
                out.push(n);
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debian_and_alpine() {
        let d = OsRelease::parse(
            "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\n\
             VERSION_CODENAME=bookworm\nID=debian\n",
        )
        .unwrap();
        assert_eq!((d.id.as_str(), d.version_id.as_str(), d.codename.as_str()), ("debian", "12", "bookworm"));
        assert_eq!(d.pretty_name, "Debian GNU/Linux 12 (bookworm)");
        let a = OsRelease::parse("NAME=\"Alpine Linux\"\nID=alpine\nVERSION_ID=3.20.3\n# c\n").unwrap();
        assert_eq!((a.id.as_str(), a.version_id.as_str()), ("alpine", "3.20.3"));
        assert_eq!(OsRelease::parse("NAME=x\n\u{0}garbage"), None);
        assert_eq!(OsRelease::parse("ID='a\\\"b'").unwrap().id, "a\"b");
    }
}
