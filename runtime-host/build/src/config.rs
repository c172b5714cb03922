//! Edit the base's image configuration. The config is edited as JSON, not round-tripped
//! through typed structs, so fields tailor does not know (Healthcheck, Shell, OnBuild, …) survive.

use std::collections::BTreeMap;

use serde_json::{Value, json};

/// What a customization changes in the config.
#[derive(Debug, Default, Clone)]
pub struct ConfigEdit {
    pub env: BTreeMap<String, String>,
    pub labels: BTreeMap<String, String>,
    pub user: Option<String>,
    pub entrypoint: Vec<String>,
    pub cmd: Vec<String>,
    /// Diff IDs of the layers added, in order, each with its history `created_by` text.
    pub layers: Vec<(String, String)>,
    /// History text for the config-only step (omitted when nothing but layers changed).
    pub config_step: Option<String>,
}

/// Apply `edit` to the base config bytes. `base_layers` is the number of layers of the base
/// manifest, checked against the config's diff IDs.
pub fn edit(base: &[u8], base_layers: usize, edit: &ConfigEdit) -> Result<Vec<u8>, String> {
    let mut cfg: Value =
        serde_json::from_slice(base).map_err(|e| format!("the base's image config is not valid JSON: {e}"))?;
    if !cfg.is_object() {
        return Err("the base's image config is not a JSON object".into());
    }
    let diff_ids = cfg.pointer("/rootfs/diff_ids").and_then(Value::as_array).map_or(0, Vec::len);
    if diff_ids != base_layers {
        return Err(format!(
            "the base's config lists {diff_ids} layer diff IDs but its manifest has {base_layers} layers"
        ));
    }
    let created = cfg.get("created").cloned();
    let c = cfg
        .as_object_mut()
        .map(|o| o.entry("config").or_insert_with(|| json!({})))
        .filter(|c| c.is_object() || c.is_null());
    let Some(c) = c else { return Err("the base's config has a non-object `config` field".into()) };
    if c.is_null() {
        *c = json!({});
    }

    // Env: override in place, append new names in name order.
    let mut env: Vec<String> = string_list(c.get("Env"));
    for (k, v) in &edit.env {
        let item = format!("{k}={v}");
        match env.iter_mut().find(|e| e.split('=').next() == Some(k.as_str())) {
            Some(slot) => *slot = item,
            None => env.push(item),
        }
    }
    if !env.is_empty() {
        c["Env"] = json!(env);
    }
    if !edit.labels.is_empty() {
        let mut labels: BTreeMap<String, Value> =
            c.get("Labels").and_then(Value::as_object).map(|m| m.clone().into_iter().collect()).unwrap_or_default();
        for (k, v) in &edit.labels {
            labels.insert(k.clone(), json!(v));
        }
        c["Labels"] = json!(labels);
    }
    if let Some(user) = &edit.user {
        c["User"] = json!(user);
    }
    for (key, extra) in [("Entrypoint", &edit.entrypoint), ("Cmd", &edit.cmd)] {
        if !extra.is_empty() {
            let mut list = string_list(c.get(key));
            list.extend(extra.iter().cloned());
            c[key] = json!(list);
        }
    }

    let mut ids = cfg.pointer("/rootfs/diff_ids").and_then(Value::as_array).cloned().unwrap_or_default();
    let mut history = cfg.get("history").and_then(Value::as_array).cloned().unwrap_or_default();
    let entry = |text: &str, empty: bool| {
        let mut h = json!({ "created_by": text, "comment": "tailor" });
        if let Some(t) = &created {
            h["created"] = t.clone();
        }
        if empty {
            h["empty_layer"] = json!(true);
        }
        h
    };
    for (diff_id, text) in &edit.layers {
        ids.push(json!(diff_id));
        history.push(entry(text, false));
    }
    if let Some(text) = &edit.config_step {
        history.push(entry(text, true));
    }
    cfg["rootfs"] = json!({ "type": "layers", "diff_ids": ids });
    cfg["history"] = json!(history);
    serde_json::to_vec(&cfg).map_err(|e| e.to_string())
}

fn string_list(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| a.iter().filter_map(|s| s.as_str().map(str::to_string)).collect())
        .unwrap_or_default()
}

/// Seconds since the epoch of an RFC 3339 timestamp (`2024-05-01T10:00:00.123Z`,
/// `…+02:00`); `None` when it is not one. Used for fixed, input-derived mtimes.
pub fn rfc3339_seconds(s: &str) -> Option<u64> {
    let b = s.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<i64> { s.get(r)?.parse().ok() };
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    let (y, mo, d, h, mi, se) = (num(0..4)?, num(5..7)?, num(8..10)?, num(11..13)?, num(14..16)?, num(17..19)?);
    let mut rest = &s[19..];
    if let Some(frac) = rest.strip_prefix('.') {
        rest = frac.trim_start_matches(|c: char| c.is_ascii_digit());
    }
    let offset = match rest {
        "Z" | "z" => 0,
        r if r.len() == 6 => {
            let sign = if r.starts_with('-') { -1 } else { 1 };
            sign * (r.get(1..3)?.parse::<i64>().ok()? * 3600 + r.get(4..6)?.parse::<i64>().ok()? * 60)
        }
        _ => return None,
    };
    // Days from civil (Howard Hinnant's algorithm).
    let y = if mo <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (mo + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    u64::try_from(days * 86_400 + h * 3600 + mi * 60 + se - offset).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edits_keep_unknown_fields_and_append() {
        let base = br#"{"created":"2024-01-02T03:04:05Z","architecture":"amd64","os":"linux",
            "config":{"Env":["PATH=/usr/bin","TZ=Europe/Paris"],"Entrypoint":["/init"],"Cmd":["python3"],
            "Healthcheck":{"Test":["CMD","true"]},"Labels":{"a":"1"}},
            "rootfs":{"type":"layers","diff_ids":["sha256:aa"]},"history":[{"created_by":"base"}]}"#;
        let e = ConfigEdit {
            env: [("TZ".into(), "UTC".into()), ("APP".into(), "1".into())].into(),
            labels: [("b".into(), "2".into())].into(),
            user: Some("1000:1000".into()),
            entrypoint: vec!["--config".into(), "/etc/app.conf".into()],
            cmd: vec!["serve".into()],
            layers: vec![("sha256:bb".into(), "files".into())],
            config_step: Some("config".into()),
        };
        let out: Value = serde_json::from_slice(&edit(base, 1, &e).unwrap()).unwrap();
        let c = &out["config"];
        assert_eq!(c["Env"], json!(["PATH=/usr/bin", "TZ=UTC", "APP=1"]));
        assert_eq!(c["Entrypoint"], json!(["/init", "--config", "/etc/app.conf"]));
        assert_eq!(c["Cmd"], json!(["python3", "serve"]));
        assert_eq!(c["User"], "1000:1000");
        assert_eq!(c["Labels"], json!({"a": "1", "b": "2"}));
        assert_eq!(c["Healthcheck"], json!({"Test": ["CMD", "true"]}));
        assert_eq!(out["rootfs"]["diff_ids"], json!(["sha256:aa", "sha256:bb"]));
        assert_eq!(
            out["history"][2],
            json!({"created": "2024-01-02T03:04:05Z", "created_by": "config", "comment": "tailor", "empty_layer": true})
        );
        assert!(edit(base, 2, &e).unwrap_err().contains("2 layers"));
    }

    #[test]
    fn parses_rfc3339() {
        assert_eq!(rfc3339_seconds("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(rfc3339_seconds("2024-01-02T03:04:05.999Z"), Some(1_704_164_645));
        assert_eq!(rfc3339_seconds("2024-01-02T05:04:05+02:00"), Some(1_704_164_645));
        assert_eq!(rfc3339_seconds("yesterday"), None);
    }
}
