//! Example extension: the image must carry the labels the org requires (its own, or the
//! base's), with a value; before the build, a warning names those the customization does not
//! set itself.
//!
//! Settings: `{"labels": ["com.acme.team", "org.opencontainers.image.source"]}`.

wit_bindgen::generate!({ path: "../../wit/extension", world: "policy" });

use serde_json::Value;
use tailor::extension::types::Severity;

struct RequiredLabels;

pub fn settings(json: &str) -> Result<Vec<String>, String> {
    let v: Value = serde_json::from_str(json).map_err(|e| format!("settings are not JSON: {e}"))?;
    let list = v
        .get("labels")
        .and_then(Value::as_array)
        .ok_or("settings need `labels`: a list of label keys, e.g. [\"com.acme.team\"]")?;
    list.iter()
        .enumerate()
        .map(|(i, l)| {
            l.as_str()
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .ok_or(format!("labels[{i}] is not a non-empty string"))
        })
        .collect()
}

/// The required keys `labels` (a JSON object) lacks or leaves empty.
pub fn missing<'a>(required: &'a [String], labels: &Value) -> Vec<&'a str> {
    required
        .iter()
        .filter(|k| labels.get(k.as_str()).and_then(Value::as_str).is_none_or(|v| v.trim().is_empty()))
        .map(String::as_str)
        .collect()
}

impl Guest for RequiredLabels {
    fn validate_settings(json: String) -> Result<(), String> {
        settings(&json).map(|_| ())
    }

    fn check_customization(build: BuildInfo, json: String) -> Vec<Finding> {
        let Ok(required) = settings(&json) else { return Vec::new() };
        let spec: Value = serde_json::from_str(&build.spec_json).unwrap_or_default();
        missing(&required, &spec["labels"])
            .into_iter()
            .map(|k| Finding {
                rule: "required-label".into(),
                severity: Severity::Warn,
                message: format!("the customization does not set label {k}: the image must have it from its base"),
                path: None,
            })
            .collect()
    }

    fn check_image(_build: BuildInfo, json: String) -> Vec<Finding> {
        let Ok(required) = settings(&json) else { return Vec::new() };
        let config: Value = serde_json::from_str(&tailor::extension::image::config_json()).unwrap_or_default();
        missing(&required, &config["config"]["Labels"])
            .into_iter()
            .map(|k| Finding {
                rule: "required-label".into(),
                severity: Severity::Deny,
                message: format!("the image has no label {k}: set it in the customization's labels"),
                path: None,
            })
            .collect()
    }
}

export!(RequiredLabels);

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn labels_present_with_a_value() {
        let req = settings(r#"{"labels": ["a", "b", "c"]}"#).unwrap();
        assert_eq!(missing(&req, &json!({"a": "x", "b": " "})), ["b", "c"]);
        assert_eq!(missing(&req, &json!(null)), ["a", "b", "c"]);
        assert!(settings(r#"{"labels": "a"}"#).is_err() && settings(r#"{"labels": [""]}"#).is_err());
    }
}
