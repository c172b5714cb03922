//! Example extension: no setuid or setgid files, and nothing world-writable (directories
//! with the sticky bit, such as /tmp, are fine), but for the paths the org allows.
//!
//! Settings: `{"allow": ["usr/bin/passwd", "usr/bin/su"], "world_writable": true}` —
//! `allow` paths or globs (no leading `/`); `world_writable: false` skips that rule.

wit_bindgen::generate!({ path: "../../wit/extension", world: "policy" });

use serde_json::Value;
use tailor::extension::types::{FileInfo, FileKind, Severity};

struct NoSetuid;

pub struct Settings {
    pub allow: Vec<String>,
    pub world_writable: bool,
}

pub fn settings(json: &str) -> Result<Settings, String> {
    let v: Value = serde_json::from_str(json).map_err(|e| format!("settings are not JSON: {e}"))?;
    if !v.is_object() {
        return Err("settings are an object, e.g. {\"allow\": [\"usr/bin/su\"]}".into());
    }
    let allow = match v.get("allow") {
        None => Vec::new(),
        Some(Value::Array(a)) => a
            .iter()
            .enumerate()
            .map(|(i, p)| {
                p.as_str()
                    .map(|s| s.trim_start_matches('/').to_owned())
                    .filter(|s| !s.is_empty())
                    .ok_or(format!("allow[{i}] is not a path"))
            })
            .collect::<Result<_, _>>()?,
        Some(_) => return Err("allow is a list of paths".into()),
    };
    let world_writable = match v.get("world_writable") {
        None => true,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err("world_writable is true or false".into()),
    };
    Ok(Settings { allow, world_writable })
}

fn glob(pattern: &str, text: &str) -> bool {
    fn m(p: &[u8], t: &[u8]) -> bool {
        match (p.first(), t.first()) {
            (None, None) => true,
            (Some(b'*'), _) => m(&p[1..], t) || (!t.is_empty() && m(p, &t[1..])),
            (Some(b'?'), Some(_)) => m(&p[1..], &t[1..]),
            (Some(a), Some(b)) if a == b => m(&p[1..], &t[1..]),
            _ => false,
        }
    }
    m(pattern.as_bytes(), text.as_bytes())
}

/// What is wrong with one file: (rule, message).
pub fn problem(s: &Settings, path: &str, kind: FileKind, mode: u32) -> Option<(&'static str, String)> {
    if s.allow.iter().any(|a| glob(a, path)) {
        return None;
    }
    if kind == FileKind::File && mode & 0o6000 != 0 {
        let what = match mode & 0o6000 {
            0o6000 => "setuid and setgid",
            0o4000 => "setuid",
            _ => "setgid",
        };
        return Some(("setuid", format!("/{path} is {what} (mode {:04o})", mode & 0o7777)));
    }
    let sticky_dir = kind == FileKind::Directory && mode & 0o1000 != 0;
    if s.world_writable && mode & 0o002 != 0 && !sticky_dir && kind != FileKind::Symlink {
        return Some(("world-writable", format!("/{path} is writable by everyone (mode {:04o})", mode & 0o7777)));
    }
    None
}

impl Guest for NoSetuid {
    fn validate_settings(json: String) -> Result<(), String> {
        settings(&json).map(|_| ())
    }

    fn check_customization(build: BuildInfo, json: String) -> Vec<Finding> {
        // The files the customization writes itself, before anything is built.
        let Ok(s) = settings(&json) else { return Vec::new() };
        let spec: Value = serde_json::from_str(&build.spec_json).unwrap_or_default();
        let mut out = Vec::new();
        for f in spec["files"].as_array().into_iter().flatten() {
            let path = f["path"].as_str().unwrap_or_default().trim_start_matches('/');
            let mode = f["mode"].as_str().and_then(|m| u32::from_str_radix(m, 8).ok()).unwrap_or(0o644);
            if let Some((rule, message)) = problem(&s, path, FileKind::File, mode) {
                out.push(Finding {
                    rule: rule.into(),
                    severity: Severity::Deny,
                    message,
                    path: Some(format!("/{path}")),
                });
            }
        }
        out
    }

    fn check_image(_build: BuildInfo, json: String) -> Vec<Finding> {
        let Ok(s) = settings(&json) else { return Vec::new() };
        let mut out = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let page: Vec<FileInfo> = tailor::extension::image::files("", after.as_deref(), 1000);
            let Some(last) = page.last() else { break };
            after = Some(last.path.clone());
            for f in &page {
                if let Some((rule, message)) = problem(&s, &f.path, f.kind, f.mode) {
                    out.push(Finding {
                        rule: rule.into(),
                        severity: Severity::Deny,
                        message,
                        path: Some(format!("/{}", f.path)),
                    });
                }
            }
            if page.len() < 1000 {
                break;
            }
        }
        out
    }
}

export!(NoSetuid);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn setuid_and_world_writable() {
        let s = settings(r#"{"allow": ["/usr/bin/su"]}"#).unwrap();
        assert_eq!(problem(&s, "usr/bin/mount", FileKind::File, 0o4755).unwrap().0, "setuid");
        assert!(problem(&s, "usr/bin/su", FileKind::File, 0o4755).is_none());
        assert!(problem(&s, "usr/bin/wall", FileKind::File, 0o2755).unwrap().1.contains("setgid"));
        assert!(problem(&s, "tmp", FileKind::Directory, 0o1777).is_none());
        assert_eq!(problem(&s, "var/drop", FileKind::Directory, 0o777).unwrap().0, "world-writable");
        assert!(problem(&s, "lib", FileKind::Symlink, 0o777).is_none());
        assert!(problem(&settings(r#"{"world_writable": false}"#).unwrap(), "x", FileKind::File, 0o666).is_none());
        assert!(settings(r#"{"allow": "x"}"#).is_err() && settings("[]").is_err());
    }
}
