//! cosign's "simple signing" payload: what a container image signature signs.

use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::error::{Result, SignError};

pub const COSIGN_SIGNATURE_TYPE: &str = "cosign container image signature";

/// The payload for an image `docker_reference` (repository, no tag) at `manifest_digest`,
/// with optional annotations, serialized as cosign does (keys in this order, compact).
pub fn payload(docker_reference: &str, manifest_digest: &str, annotations: &Map<String, Value>) -> Vec<u8> {
    let optional = if annotations.is_empty() { Value::Null } else { Value::Object(annotations.clone()) };
    let v = json!({
        "critical": {
            "identity": {"docker-reference": docker_reference},
            "image": {"docker-manifest-digest": manifest_digest},
            "type": COSIGN_SIGNATURE_TYPE,
        },
        "optional": optional,
    });
    serde_json::to_vec(&v).unwrap_or_default()
}

/// A parsed payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payload {
    pub docker_reference: String,
    pub manifest_digest: String,
}

#[derive(Deserialize)]
struct Raw {
    critical: Critical,
}
#[derive(Deserialize)]
struct Critical {
    identity: Identity,
    image: Image,
    #[serde(rename = "type")]
    kind: String,
}
#[derive(Deserialize)]
struct Identity {
    #[serde(rename = "docker-reference")]
    docker_reference: String,
}
#[derive(Deserialize)]
struct Image {
    #[serde(rename = "docker-manifest-digest")]
    manifest_digest: String,
}

impl Payload {
    /// Parses a payload and checks its type.
    pub fn parse(bytes: &[u8]) -> Result<Payload> {
        let raw: Raw = serde_json::from_slice(bytes)
            .map_err(|e| SignError::Invalid(format!("the signed payload is not a simple-signing payload ({e})")))?;
        if raw.critical.kind != COSIGN_SIGNATURE_TYPE {
            return Err(SignError::Invalid(format!(
                "the signed payload's critical.type is {:?}, not {COSIGN_SIGNATURE_TYPE:?}",
                raw.critical.kind
            )));
        }
        Ok(Payload {
            docker_reference: raw.critical.identity.docker_reference,
            manifest_digest: raw.critical.image.manifest_digest,
        })
    }
}
