//! What a build attests about each platform manifest: SLSA provenance v1 naming the spec as
//! submitted, the builder, and every input by digest — the base's and each artifact's
//! platform manifest (with the artifact's includes/excludes) and every file written.

use std::time::SystemTime;

use serde_json::{Map, Value, json};
use sha2::{Digest as _, Sha256};
use tailor_oci::Digest;
use tailor_sign::intoto::{Dependency, Provenance, SLSA_PROVENANCE_V1, statement};
use tailor_spec::Customization;

use crate::cache::BUILDER;
use crate::platform::Built;
use crate::resolve::Image;

/// Who asked for the build and why (the worker's build record; the CLI's process).
#[derive(Debug, Clone)]
pub struct Invocation {
    pub id: String,
    pub revision: Option<i64>,
    pub builder_id: String,
}

impl Invocation {
    /// For a build run by the `tailor` command itself.
    pub fn cli() -> Invocation {
        let ms = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or(0);
        Invocation {
            id: format!("tailor-build:{}:{ms}", std::process::id()),
            revision: None,
            builder_id: "https://tailor.dev/builder/cli".into(),
        }
    }
}

fn rfc3339(t: SystemTime) -> String {
    let ms = t.duration_since(SystemTime::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0);
    tailor_store::rfc3339_ms(ms)
}

fn oci_uri(host: Option<&str>, repo: &str, digest: &Digest) -> String {
    match host {
        Some(h) => format!("oci://{h}/{repo}@{digest}"),
        None => format!("oci://{repo}@{digest}"),
    }
}

/// The provenance statement (JSON bytes) of each built platform manifest.
#[allow(clippy::too_many_arguments)]
pub fn statements(
    spec: &Customization,
    base: &Image,
    artifacts: &[Image],
    built: &[Built],
    subject: &str,
    host: Option<&str>,
    invocation: &Invocation,
    started: SystemTime,
) -> Vec<(Digest, Vec<u8>)> {
    let finished = rfc3339(SystemTime::now());
    let spec_json = serde_json::to_value(spec).unwrap_or(Value::Null);
    built
        .iter()
        .map(|b| {
            let mut deps = Vec::new();
            if let Some(d) = base.platforms.get(&b.key) {
                deps.push(Dependency {
                    uri: oci_uri(host, &base.repo, d),
                    name: base.name.clone(),
                    sha256_hex: d.hex().to_owned(),
                    annotations: Map::from_iter([("role".to_string(), json!("source"))]),
                });
            }
            for (image, a) in artifacts.iter().zip(&spec.contents.artifacts) {
                if let Some(d) = image.platforms.get(&b.key) {
                    deps.push(Dependency {
                        uri: oci_uri(host, &image.repo, d),
                        name: image.name.clone(),
                        sha256_hex: d.hex().to_owned(),
                        annotations: Map::from_iter([
                            ("role".to_string(), json!("artifact")),
                            ("includes".to_string(), json!(a.includes)),
                            ("excludes".to_string(), json!(a.excludes)),
                        ]),
                    });
                }
            }
            for f in &spec.files {
                deps.push(Dependency {
                    uri: format!("file://{}", f.path),
                    name: f.path.clone(),
                    sha256_hex: hex::encode(Sha256::digest(f.content.as_bytes())),
                    annotations: Map::from_iter([
                        ("role".to_string(), json!("file")),
                        ("mode".to_string(), json!(f.mode)),
                        ("uid".to_string(), json!(f.uid)),
                        ("gid".to_string(), json!(f.gid)),
                    ]),
                });
            }
            let p = Provenance {
                spec: spec_json.clone(),
                revision: invocation.revision,
                internal: Map::from_iter([
                    ("builder".to_string(), json!(BUILDER)),
                    ("platform".to_string(), json!(b.key)),
                ]),
                dependencies: deps,
                builder_id: invocation.builder_id.clone(),
                builder_version: env!("CARGO_PKG_VERSION").to_owned(),
                invocation_id: invocation.id.clone(),
                started_on: rfc3339(started),
                finished_on: finished.clone(),
            };
            let s = statement(subject, b.manifest.0.hex(), SLSA_PROVENANCE_V1, p.predicate());
            (b.manifest.0.clone(), serde_json::to_vec(&s).unwrap_or_default())
        })
        .collect()
}
