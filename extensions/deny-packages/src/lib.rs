//! Example extension: refuse OS packages the org does not allow — asked for by the
//! customization (before anything is built) or installed in the image (the base's too).
//!
//! Settings: `{"packages": ["telnet", "netcat-*", "openssh-server"], "severity": "deny"}` —
//! names or globs (`*`, `?`); `severity` `deny` (default) or `warn`.

wit_bindgen::generate!({ path: "../../wit/extension", world: "policy" });

use serde_json::Value;
use tailor::extension::types::Severity;

struct DenyPackages;

/// The settings: the globs and the severity.
pub fn settings(json: &str) -> Result<(Vec<String>, bool), String> {
    let v: Value = serde_json::from_str(json).map_err(|e| format!("settings are not JSON: {e}"))?;
    let Some(list) = v.get("packages").and_then(Value::as_array) else {
        return Err("settings need `packages`: a list of package names or globs, e.g. [\"telnet\"]".into());
    };
    let mut globs = Vec::new();
    for (i, p) in list.iter().enumerate() {
        match p.as_str().filter(|s| !s.is_empty()) {
            Some(s) => globs.push(s.to_owned()),
            None => return Err(format!("packages[{i}] is not a non-empty string")),
        }
    }
    let deny = match v.get("severity").and_then(Value::as_str) {
        None | Some("deny") => true,
        Some("warn") => false,
        Some(other) => return Err(format!("severity `{other}` is not deny or warn")),
    };
    Ok((globs, deny))
}

/// `*` any run, `?` one character.
pub fn glob(pattern: &str, text: &str) -> bool {
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

/// The requested or installed `names` the globs refuse: (name, glob).
pub fn refused<'a>(globs: &'a [String], names: impl IntoIterator<Item = &'a str>) -> Vec<(&'a str, &'a str)> {
    names.into_iter().filter_map(|n| globs.iter().find(|g| glob(g, n)).map(|g| (n, g.as_str()))).collect()
}

fn finding(deny: bool, rule: &str, message: String) -> Finding {
    Finding { rule: rule.into(), severity: if deny { Severity::Deny } else { Severity::Warn }, message, path: None }
}

impl Guest for DenyPackages {
    fn validate_settings(json: String) -> Result<(), String> {
        settings(&json).map(|_| ())
    }

    fn check_customization(build: BuildInfo, json: String) -> Vec<Finding> {
        let Ok((globs, deny)) = settings(&json) else { return Vec::new() };
        let spec: Value = serde_json::from_str(&build.spec_json).unwrap_or_default();
        let asked: Vec<&str> = spec["contents"]["packages"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(|p| p.split(['=', ':']).next().unwrap_or(p))
            .collect();
        refused(&globs, asked)
            .into_iter()
            .map(|(n, g)| {
                finding(deny, "denied-package", format!("the customization installs {n}, which `{g}` does not allow"))
            })
            .collect()
    }

    fn check_image(_build: BuildInfo, json: String) -> Vec<Finding> {
        let Ok((globs, deny)) = settings(&json) else { return Vec::new() };
        let installed = tailor::extension::image::packages();
        refused(&globs, installed.iter().map(|(n, _)| n.as_str()))
            .into_iter()
            .map(|(n, g)| {
                let v = installed.iter().find(|(name, _)| name == n).map(|(_, v)| v.as_str()).unwrap_or("");
                finding(deny, "denied-package", format!("the image has {n} {v}, which `{g}` does not allow"))
            })
            .collect()
    }
}

export!(DenyPackages);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_and_globs() {
        assert_eq!(
            settings(r#"{"packages": ["telnet", "netcat-*"]}"#).unwrap(),
            (vec!["telnet".into(), "netcat-*".into()], true)
        );
        assert!(!settings(r#"{"packages": [], "severity": "warn"}"#).unwrap().1);
        for bad in ["x", "{}", r#"{"packages": [1]}"#, r#"{"packages": [""]}"#, r#"{"packages": [], "severity": "no"}"#]
        {
            assert!(settings(bad).is_err(), "{bad}");
        }
        let globs = vec!["netcat-*".to_string(), "telnet".to_string()];
        assert_eq!(
            refused(&globs, ["curl", "netcat-openbsd", "telnet", "telnetd"]),
            [("netcat-openbsd", "netcat-*"), ("telnet", "telnet")]
        );
        assert!(glob("lib?", "libc") && !glob("lib?", "lib") && glob("*", ""));
    }
}
