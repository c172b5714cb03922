//! Manifests and the index tailor writes: OCI media types, canonical JSON (keys sorted,
//! no whitespace) so equal inputs give byte-identical documents.

use std::collections::BTreeMap;

use oci_spec::image::Descriptor;
use serde_json::{Value, json};
use tailor_oci::{Digest, media};

pub const BASE_DIGEST: &str = "org.opencontainers.image.base.digest";
pub const BASE_NAME: &str = "org.opencontainers.image.base.name";

/// Serialize with object keys sorted at every level, whatever the map type underneath.
pub fn canonical(v: &Value) -> Vec<u8> {
    fn sort(v: &Value) -> Value {
        match v {
            Value::Object(m) => {
                let sorted: BTreeMap<&String, Value> = m.iter().map(|(k, v)| (k, sort(v))).collect();
                let mut out = serde_json::Map::new();
                for (k, v) in sorted {
                    out.insert(k.clone(), v);
                }
                Value::Object(out)
            }
            Value::Array(a) => Value::Array(a.iter().map(sort).collect()),
            other => other.clone(),
        }
    }
    // Serializing a Value cannot fail.
    serde_json::to_vec(&sort(v)).unwrap_or_default()
}

/// A descriptor of a base layer, with the OCI media type for Docker ones.
pub fn base_layer(d: &Descriptor) -> Value {
    let mut v = json!({
        "mediaType": media::oci_layer_type(d.media_type().as_ref()),
        "digest": d.digest().to_string(),
        "size": d.size(),
    });
    if let Some(a) = d.annotations().as_ref().filter(|a| !a.is_empty()) {
        v["annotations"] = json!(a.iter().collect::<BTreeMap<_, _>>());
    }
    if let Some(urls) = d.urls().as_ref().filter(|u| !u.is_empty()) {
        v["urls"] = json!(urls);
    }
    v
}

pub fn layer(digest: &Digest, size: u64) -> Value {
    json!({ "mediaType": media::OCI_LAYER_GZIP, "digest": digest.as_str(), "size": size })
}

pub fn image_manifest(
    config: &Digest,
    config_size: u64,
    layers: Vec<Value>,
    annotations: &BTreeMap<String, String>,
) -> Vec<u8> {
    let mut m = json!({
        "schemaVersion": 2,
        "mediaType": media::OCI_MANIFEST,
        "config": { "mediaType": media::OCI_CONFIG, "digest": config.as_str(), "size": config_size },
        "layers": layers,
    });
    if !annotations.is_empty() {
        m["annotations"] = json!(annotations);
    }
    canonical(&m)
}

/// One entry of the index.
pub struct IndexEntry<'a> {
    pub digest: &'a Digest,
    pub size: u64,
    pub os: &'a str,
    pub architecture: &'a str,
    pub variant: Option<&'a str>,
}

pub fn index(entries: &[IndexEntry], annotations: &BTreeMap<String, String>) -> Vec<u8> {
    let manifests: Vec<Value> = entries
        .iter()
        .map(|e| {
            let mut platform = json!({ "os": e.os, "architecture": e.architecture });
            if let Some(v) = e.variant {
                platform["variant"] = json!(v);
            }
            json!({ "mediaType": media::OCI_MANIFEST, "digest": e.digest.as_str(), "size": e.size, "platform": platform })
        })
        .collect();
    let mut ix = json!({ "schemaVersion": 2, "mediaType": media::OCI_INDEX, "manifests": manifests });
    if !annotations.is_empty() {
        ix["annotations"] = json!(annotations);
    }
    canonical(&ix)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_sorts_keys_recursively() {
        let v = json!({"b": 1, "a": {"z": 1, "y": [{"d": 1, "c": 2}]}});
        assert_eq!(String::from_utf8(canonical(&v)).unwrap(), r#"{"a":{"y":[{"c":2,"d":1}],"z":1},"b":1}"#);
    }
}
