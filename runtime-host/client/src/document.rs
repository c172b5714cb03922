//! Spec files as JSON documents: YAML (a superset of JSON) parsed locally when a command must
//! look inside one (a mirror edited from a file becomes a merge patch of every field).

use serde_json::Value;

use crate::Error;

/// `text` (YAML or JSON) as a JSON document; `what` names it in the error.
pub fn parse(text: &str, what: &str) -> Result<Value, Error> {
    let value: serde_yaml::Value =
        serde_yaml::from_str(text).map_err(|e| Error::Input(format!("{what}: not YAML or JSON ({e})")))?;
    serde_json::to_value(value).map_err(|e| Error::Input(format!("{what}: {e}")))
}

/// A merge patch that makes the object `doc` whole: every field of `fields` it lacks is set
/// to null (back to its default).
pub fn whole(doc: &Value, fields: &[&str], what: &str) -> Result<Value, Error> {
    let Some(map) = doc.as_object() else {
        return Err(Error::Input(format!("{what}: expected a mapping of fields ({})", fields.join(", "))));
    };
    let mut patch = map.clone();
    for f in fields {
        patch.entry((*f).to_owned()).or_insert(Value::Null);
    }
    Ok(Value::Object(patch))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn yaml_and_json_become_documents() {
        assert_eq!(
            parse("source: dhi.io/python\ntags: ['3.*']\n", "f").unwrap(),
            json!({"source": "dhi.io/python", "tags": ["3.*"]})
        );
        assert_eq!(parse("{\"a\": 1}", "f").unwrap(), json!({"a": 1}));
        assert!(matches!(parse("a: [", "m.yaml"), Err(Error::Input(m)) if m.starts_with("m.yaml: not YAML")));
        let w = whole(&json!({"source": "x"}), &["source", "tags"], "f").unwrap();
        assert_eq!(w, json!({"source": "x", "tags": null}));
        assert!(whole(&json!([1]), &["a"], "f").is_err());
    }
}
