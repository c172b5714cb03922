//! in-toto Statement v1 and the SLSA provenance v1 predicate tailor attests (DSSE-wrapped
//! with [`crate::Envelope`]). Built as JSON values in a fixed key order so the bytes are
//! reproducible for the same inputs and times.

use serde_json::{Map, Value, json};

pub const STATEMENT_TYPE: &str = "https://in-toto.io/Statement/v1";
pub const SLSA_PROVENANCE_V1: &str = "https://slsa.dev/provenance/v1";
pub const SPDX_PREDICATE: &str = "https://spdx.dev/Document";
/// What a tailor build is: the customization of a base image from a spec.
pub const BUILD_TYPE: &str = "https://tailor.dev/customization/v1";
/// The customization of a Helm chart version: image references mapped and pinned.
pub const CHART_BUILD_TYPE: &str = "https://tailor.dev/chart-customization/v1";

/// A statement about one image (`name`, `sha256` hex digest).
pub fn statement(subject_name: &str, sha256_hex: &str, predicate_type: &str, predicate: Value) -> Value {
    let mut s = json!({
        "_type": STATEMENT_TYPE,
        "subject": [{"name": subject_name, "digest": {"sha256": sha256_hex}}],
        "predicateType": predicate_type,
    });
    // Moved in, not copied by `json!` (an SBOM predicate is large); keys are sorted either way.
    s["predicate"] = predicate;
    s
}

/// The bytes of [`statement`] for a predicate that serializes itself
/// with its keys in sorted order (an SBOM: its tree is not built).
pub fn statement_bytes<P: serde::Serialize>(
    name: &str,
    sha256_hex: &str,
    predicate_type: &str,
    predicate: &P,
) -> Vec<u8> {
    #[derive(serde::Serialize)]
    struct Typed<'a, P> {
        #[serde(rename = "_type")]
        kind: &'static str,
        predicate: &'a P,
        #[serde(rename = "predicateType")]
        predicate_type: &'a str,
        subject: [Subject<'a>; 1],
    }
    #[derive(serde::Serialize)]
    struct Subject<'a> {
        digest: Sha256Hex<'a>,
        name: &'a str,
    }
    #[derive(serde::Serialize)]
    struct Sha256Hex<'a> {
        sha256: &'a str,
    }
    let s = Typed {
        kind: STATEMENT_TYPE,
        predicate,
        predicate_type,
        subject: [Subject { digest: Sha256Hex { sha256: sha256_hex }, name }],
    };
    serde_json::to_vec(&s).unwrap_or_default()
}

/// One resolved dependency (SLSA ResourceDescriptor).
#[derive(Debug, Clone, PartialEq)]
pub struct Dependency {
    /// e.g. `oci://registry/acme/base@sha256:…` or `file:///etc/app.conf`.
    pub uri: String,
    pub name: String,
    pub sha256_hex: String,
    /// Extra facts (an artifact's includes/excludes, a file's mode…).
    pub annotations: Map<String, Value>,
}

/// Everything the provenance predicate states.
#[derive(Debug, Clone)]
pub struct Provenance {
    /// [`BUILD_TYPE`] or [`CHART_BUILD_TYPE`].
    pub build_type: &'static str,
    /// The customization as submitted (JSON form) and its revision, if recorded.
    pub spec: Value,
    pub revision: Option<i64>,
    /// Builder settings that shaped the output (platform, builder format version…).
    pub internal: Map<String, Value>,
    pub dependencies: Vec<Dependency>,
    pub builder_id: String,
    pub builder_version: String,
    pub invocation_id: String,
    /// RFC 3339.
    pub started_on: String,
    pub finished_on: String,
}

impl Provenance {
    /// The SLSA provenance v1 predicate.
    pub fn predicate(&self) -> Value {
        let mut external = Map::new();
        external.insert("customization".into(), self.spec.clone());
        if let Some(r) = self.revision {
            external.insert("revision".into(), Value::from(r));
        }
        let deps: Vec<Value> = self
            .dependencies
            .iter()
            .map(|d| {
                let mut v = json!({"uri": d.uri, "name": d.name, "digest": {"sha256": d.sha256_hex}});
                if !d.annotations.is_empty() {
                    v["annotations"] = Value::Object(d.annotations.clone());
                }
                v
            })
            .collect();
        json!({
            "buildDefinition": {
                "buildType": self.build_type,
                "externalParameters": external,
                "internalParameters": self.internal,
                "resolvedDependencies": deps,
            },
            "runDetails": {
                "builder": {"id": self.builder_id, "version": {"tailor": self.builder_version}},
                "metadata": {
                    "invocationId": self.invocation_id,
                    "startedOn": self.started_on,
                    "finishedOn": self.finished_on,
                },
            },
        })
    }
}
