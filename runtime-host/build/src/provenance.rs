//! What a build attests about each platform manifest: SLSA provenance v1 naming the spec as
//! submitted, the builder, and every input by digest — the base's and each artifact's
//! platform manifest (with the artifact's includes/excludes) and every file written — and
//! the SPDX SBOM of what the image contains ([`crate::sbom`]).

use std::time::SystemTime;

use serde_json::{Map, Value, json};
use sha2::{Digest as _, Sha256};
use tailor_oci::Digest;
use tailor_sign::intoto::{Dependency, Provenance, SLSA_PROVENANCE_V1, SPDX_PREDICATE, statement, statement_bytes};
use tailor_spec::Customization;

use crate::cache::BUILDER;
use crate::checks::ExtensionRun;
use crate::platform::Built;
use crate::publish::Statement;
use crate::resolve::Image;
use crate::sbom::{self, Contents, FileSum, ImageRef};

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

/// `2026-11-26T10:00:00Z` (SPDX wants seconds precision).
fn rfc3339_seconds(t: SystemTime) -> String {
    let s = t.duration_since(SystemTime::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0);
    tailor_store::rfc3339_ms(s * 1000).replace(".000Z", "Z")
}

fn oci_uri(host: Option<&str>, repo: &str, digest: &Digest) -> String {
    match host {
        Some(h) => format!("oci://{h}/{repo}@{digest}"),
        None => format!("oci://{repo}@{digest}"),
    }
}

/// What a build is made of and what checked it, for its attestations.
pub struct Parts<'a> {
    pub spec: &'a Customization,
    pub base: &'a Image,
    pub artifacts: &'a [Image],
    pub built: &'a [Built],
    /// The org's extensions that ran (each named by digest with its verdict).
    pub extensions: &'a [ExtensionRun],
}

/// The provenance and SBOM statements of each built platform manifest.
pub fn statements(
    parts: &Parts<'_>,
    subject: &str,
    host: Option<&str>,
    invocation: &Invocation,
    started: SystemTime,
) -> Vec<Statement> {
    let Parts { spec, base, artifacts, built, extensions } = *parts;
    let now = SystemTime::now();
    let finished = rfc3339(now);
    let created = rfc3339_seconds(now);
    let spec_json = serde_json::to_value(spec).unwrap_or(Value::Null);
    let named = |repo: &str| match host {
        Some(h) => format!("{h}/{repo}"),
        None => repo.to_owned(),
    };
    let base_name = named(&base.repo);
    let artifact_names: Vec<String> = artifacts.iter().map(|a| named(&a.repo)).collect();
    built
        .iter()
        .flat_map(|b| {
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
            for (name, url, sha256) in &b.package_sources {
                deps.push(Dependency {
                    uri: url.clone(),
                    name: name.clone(),
                    sha256_hex: sha256.clone(),
                    annotations: Map::from_iter([("role".to_string(), json!("package"))]),
                });
            }
            for x in extensions {
                let hex = x.digest.strip_prefix("sha256:").unwrap_or(&x.digest).to_owned();
                let uri = match host {
                    Some(h) => format!("oci://{h}/{}@{}", x.repository, x.digest),
                    None => format!("oci://{}@{}", x.repository, x.digest),
                };
                deps.push(Dependency {
                    uri,
                    name: format!("extension:{}", x.name),
                    sha256_hex: hex,
                    annotations: Map::from_iter([
                        ("role".to_string(), json!("extension")),
                        ("mode".to_string(), json!(x.mode)),
                        ("verdict".to_string(), json!(x.verdict)),
                        ("findings".to_string(), json!(x.findings.len())),
                    ]),
                });
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
                build_type: tailor_sign::intoto::BUILD_TYPE,
                spec: spec_json.clone(),
                revision: invocation.revision,
                internal: {
                    let mut m = Map::from_iter([
                        ("builder".to_string(), json!(BUILDER)),
                        ("platform".to_string(), json!(b.key)),
                    ]);
                    if !extensions.is_empty() {
                        m.insert("extensions".to_string(), extensions_json(extensions));
                    }
                    m
                },
                dependencies: deps,
                builder_id: invocation.builder_id.clone(),
                builder_version: env!("CARGO_PKG_VERSION").to_owned(),
                invocation_id: invocation.id.clone(),
                started_on: rfc3339(started),
                finished_on: finished.clone(),
            };
            let s = statement(subject, b.manifest.0.hex(), SLSA_PROVENANCE_V1, p.predicate());
            let provenance = Statement {
                subject: b.manifest.0.clone(),
                predicate_type: SLSA_PROVENANCE_V1,
                bytes: serde_json::to_vec(&s).unwrap_or_default(),
            };
            let base_digest = &base.platforms[&b.key];
            let artifact_refs: Vec<(ImageRef, &[FileSum])> = artifacts
                .iter()
                .zip(&artifact_names)
                .zip(&b.artifact_files)
                .map(|((a, name), files)| (ImageRef { name, digest: &a.platforms[&b.key] }, files.as_slice()))
                .collect();
            let doc = sbom::document(&Contents {
                image: ImageRef { name: subject, digest: &b.manifest.0 },
                platform: &b.key,
                base: ImageRef { name: &base_name, digest: base_digest },
                base_index: &b.base_index,
                artifacts: artifact_refs,
                files: &b.spec_files,
                added: &b.added_packages,
                created: &created,
            });
            let sbom = Statement {
                subject: b.manifest.0.clone(),
                predicate_type: SPDX_PREDICATE,
                bytes: statement_bytes(subject, b.manifest.0.hex(), SPDX_PREDICATE, &doc),
            };
            [provenance, sbom]
        })
        .collect()
}

/// The extensions for `internalParameters`: name, digest, mode, verdict and each finding.
pub fn extensions_json(extensions: &[ExtensionRun]) -> Value {
    json!(extensions
        .iter()
        .map(|x| json!({"name": x.name, "repository": x.repository, "digest": x.digest, "mode": x.mode, "verdict": x.verdict, "findings": x.findings}))
        .collect::<Vec<_>>())
}
