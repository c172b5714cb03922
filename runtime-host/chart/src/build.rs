//! A chart customization built against a registry: every version of the source repository the
//! spec selects is customized (or found unchanged: same source digest, same target digests,
//! same spec), pushed as a Helm OCI artifact (Helm's media types), signed and attested, and
//! only then tagged `V_suffix`. One version's failure is its own; the others still build.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use sha2::{Digest as _, Sha256};
use tailor_oci::{BlobSource, Client, Digest, Quiet, Scope, media};
use tailor_sign::intoto::{CHART_BUILD_TYPE, Dependency, Provenance, SLSA_PROVENANCE_V1, statement};
use tailor_sign::{Envelope, IN_TOTO_PAYLOAD_TYPE, PrivateKey, Storage, Subject};
use tailor_spec::ChartSpec;

use crate::archive::Limits;
use crate::customize::{Pin, Report as Changes, Settings, Targets, customize};
use crate::error::{ChartError, Result};
use crate::reference::Mapper;

pub const HELM_CONFIG: &str = "application/vnd.cncf.helm.config.v1+json";
pub const HELM_CHART: &str = "application/vnd.cncf.helm.chart.content.v1.tar+gzip";
/// What Helm 3.0–3.7 pushed as the chart layer.
const LEGACY_CHART: &str = "application/tar+gzip";
/// Changes when the output of the same inputs would change: part of every fingerprint.
pub const CHART_BUILDER: &str = "tailor-chart/1";
/// The annotation naming the source of what tailor made (Helm never writes it).
const BASE_NAME: &str = "org.opencontainers.image.base.name";
/// Compressed chart archives larger than this are refused.
const MAX_ARCHIVE: u64 = 32 << 20;

/// Who asked for the build (for the provenance).
#[derive(Debug, Clone)]
pub struct Invocation {
    pub id: String,
    pub revision: Option<i64>,
    pub builder_id: String,
}

/// What an earlier build made of one source version: enough to tell, without reading the
/// chart, that nothing changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionState {
    pub source_digest: String,
    pub fingerprint: String,
    pub pins: Vec<Pin>,
    pub tag: String,
    pub digest: String,
}

/// How a build runs.
#[derive(Clone)]
pub struct Options {
    /// `host[:port]` of the registry: written in front of targets, named in signatures.
    pub registry_host: Option<String>,
    pub signer: Option<Arc<PrivateKey>>,
    pub invocation: Invocation,
    pub limits: Limits,
    pub log: Arc<dyn Fn(&str) + Send + Sync>,
    /// By source version: what earlier builds made.
    pub previous: BTreeMap<String, VersionState>,
    /// The org's extensions that checked the build (their runs as JSON: name, repository,
    /// digest, mode, verdict, findings): named in each version's provenance.
    pub extensions: Vec<Value>,
}

impl Options {
    pub fn new(invocation: Invocation) -> Options {
        Options {
            registry_host: None,
            signer: None,
            invocation,
            limits: Limits::default(),
            log: Arc::new(|_| {}),
            previous: BTreeMap::new(),
            extensions: Vec::new(),
        }
    }
}

/// What happened to one source version.
#[derive(Debug, Clone, Serialize)]
pub struct VersionReport {
    pub version: String,
    pub source_tag: String,
    pub source_digest: Option<String>,
    pub customized_version: String,
    pub tag: String,
    /// The customized chart's manifest digest.
    pub digest: Option<String>,
    /// `built`, `unchanged` or `failed`.
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
    #[serde(flatten)]
    pub changes: Changes,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub signatures: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub attestations: Vec<String>,
    #[serde(skip)]
    pub transient: bool,
}

impl VersionReport {
    /// The state to remember for the next build, when this version ended well.
    pub fn state(&self) -> Option<VersionState> {
        Some(VersionState {
            source_digest: self.source_digest.clone()?,
            fingerprint: self.fingerprint.clone()?,
            pins: self.changes.pins.clone(),
            tag: self.tag.clone(),
            digest: self.digest.clone()?,
        })
    }
}

/// What a build did.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub source: String,
    pub destination: String,
    pub versions: Vec<VersionReport>,
    pub duration_ms: u64,
}

impl Report {
    pub fn count(&self, status: &str) -> usize {
        self.versions.iter().filter(|v| v.status == status).count()
    }

    pub fn summary(&self) -> String {
        format!(
            "{} version(s): {} built, {} unchanged, {} failed; {} ms",
            self.versions.len(),
            self.count("built"),
            self.count("unchanged"),
            self.count("failed"),
            self.duration_ms
        )
    }
}

struct RegistryTargets<'a> {
    client: &'a Client,
}

impl Targets for RegistryTargets<'_> {
    fn digest(&self, repository: &str, tag: &str) -> Result<Option<String>> {
        Ok(self.client.head_manifest(repository, tag)?.map(|h| h.digest.to_string()))
    }
    fn exists(&self, repository: &str, digest: &str) -> Result<bool> {
        Ok(self.client.head_manifest(repository, digest)?.is_some())
    }
}

/// Builds every version of `spec`'s source that it selects, with `client` (reading the org's
/// namespace, writing the destination). `Err` only when the source cannot be listed.
pub fn build(spec: &ChartSpec, client: &Client, opts: &Options) -> Result<Report> {
    let started = Instant::now();
    let source =
        spec.source_repository().ok_or_else(|| ChartError::Refused(format!("source {:?} is invalid", spec.source)))?;
    let destination = spec.destination_repository();
    let tags = client.list_tags(&source).map_err(|e| match e {
        e if e.is_not_found() => {
            ChartError::Refused(format!("the chart repository {source} does not exist (or has no versions yet)"))
        }
        e => e.into(),
    })?;
    let mut versions = Vec::new();
    for tag in tags.iter().filter(|t| spec.customizes_tag(t)) {
        let version = ChartSpec::version_of_tag(tag);
        let Some(report) = version_report(spec, client, opts, &source, &destination, tag, &version) else { continue };
        let line = match &report.error {
            Some(e) => format!("{version}: failed: {e}"),
            None => format!("{version} → {} ({}): {}", report.customized_version, report.tag, report.status),
        };
        (opts.log)(&line);
        versions.push(report);
    }
    Ok(Report { source, destination, versions, duration_ms: started.elapsed().as_millis() as u64 })
}

fn version_report(
    spec: &ChartSpec,
    client: &Client,
    opts: &Options,
    source: &str,
    destination: &str,
    tag: &str,
    version: &str,
) -> Option<VersionReport> {
    let customized_version = spec.customized_version(version);
    let mut r = VersionReport {
        version: version.to_owned(),
        source_tag: tag.to_owned(),
        source_digest: None,
        tag: customized_version.replace('+', "_"),
        customized_version,
        digest: None,
        status: "failed",
        error: None,
        fingerprint: None,
        changes: Changes::default(),
        signatures: Vec::new(),
        attestations: Vec::new(),
        transient: false,
    };
    match build_version(spec, client, opts, source, destination, &mut r) {
        Ok(()) => {}
        Err(ChartError::NotASource(_)) => return None,
        Err(e) => {
            r.status = "failed";
            r.transient = e.is_transient();
            r.error = Some(e.to_string());
        }
    }
    Some(r)
}

/// `sha256:` over the builder, the spec, the source chart and every pinned target.
fn fingerprint(spec: &ChartSpec, source_digest: &str, pins: &[Pin]) -> String {
    let mut h = Sha256::new();
    let mut part = |s: &str| {
        h.update((s.len() as u64).to_le_bytes());
        h.update(s.as_bytes());
    };
    part(CHART_BUILDER);
    part(&serde_json::to_string(spec).unwrap_or_default());
    part(source_digest);
    for p in pins {
        part(&p.repository);
        part(p.tag.as_deref().unwrap_or(""));
        part(&p.digest);
    }
    format!("sha256:{}", hex::encode(h.finalize()))
}

fn build_version(
    spec: &ChartSpec,
    client: &Client,
    opts: &Options,
    source: &str,
    destination: &str,
    r: &mut VersionReport,
) -> Result<()> {
    if !tailor_spec::is_valid_tag(&r.tag) {
        return Err(ChartError::Refused(format!(
            "the customized version {} makes tag {} which is not a valid tag (too long?)",
            r.customized_version, r.tag
        )));
    }
    let Some(head) = client.head_manifest(source, &r.source_tag)? else {
        return Err(ChartError::Refused(format!("{source}:{} vanished while the build ran", r.source_tag)));
    };
    let source_digest = head.digest.to_string();
    r.source_digest = Some(source_digest.clone());
    // Nothing changed: same source, same targets, the output still there.
    if let Some(prev) = opts.previous.get(&r.version)
        && prev.source_digest == source_digest
        && prev.fingerprint == fingerprint(spec, &source_digest, &prev.pins)
        && unchanged_pins(client, &prev.pins)?
        && client.head_manifest(destination, &prev.tag)?.is_some_and(|h| h.digest.as_str() == prev.digest)
    {
        r.status = "unchanged";
        r.fingerprint = Some(prev.fingerprint.clone());
        r.digest = Some(prev.digest.clone());
        r.changes.pins = prev.pins.clone();
        return Ok(());
    }
    let manifest = client.get_manifest(source, &source_digest)?;
    let what = format!("{source}:{}", r.source_tag);
    let doc: Value = serde_json::from_slice(&manifest.bytes)
        .map_err(|e| ChartError::bad_chart(&what, format!("the manifest is not JSON ({e})")))?;
    if let Some(from) = doc["annotations"][BASE_NAME].as_str() {
        // A customized chart (of another suffix, before an edit) is no source.
        return Err(ChartError::NotASource(format!("{what} is a customization of {from}")));
    }
    let config_type = doc["config"]["mediaType"].as_str().unwrap_or_default();
    if config_type != HELM_CONFIG {
        return Err(ChartError::bad_chart(
            &what,
            format!("not a Helm chart (config media type {config_type:?}, expected {HELM_CONFIG})"),
        ));
    }
    let layers = doc["layers"].as_array().cloned().unwrap_or_default();
    let chart_layers: Vec<&Value> =
        layers.iter().filter(|l| matches!(l["mediaType"].as_str(), Some(HELM_CHART | LEGACY_CHART))).collect();
    let [layer] = chart_layers.as_slice() else {
        return Err(ChartError::bad_chart(
            &what,
            format!("{} chart content layers; a Helm chart has exactly one", chart_layers.len()),
        ));
    };
    if layers.len() > 1 {
        r.changes.notes.push("the source's Helm provenance file (.prov) is not carried over: it signs the original archive; the customized chart is signed with cosign".into());
    }
    let blob = |v: &Value| -> Result<Digest> {
        v["digest"]
            .as_str()
            .unwrap_or_default()
            .parse()
            .map_err(|_| ChartError::bad_chart(&what, "a descriptor has no valid digest"))
    };
    let config: Value = serde_json::from_slice(&client.read_blob(source, &blob(&doc["config"])?, 1 << 20)?)
        .map_err(|e| ChartError::bad_chart(format!("{what} (config)"), format!("not JSON ({e})")))?;
    if config["version"].as_str() != Some(r.version.as_str()) {
        return Err(ChartError::bad_chart(
            format!("{what} (config)"),
            format!("the chart's version is {}, not the {} its tag says", config["version"], r.version),
        ));
    }
    let archive = client.read_blob(source, &blob(layer)?, MAX_ARCHIVE)?;
    let mapper = Mapper::new(&spec.reference_mapping);
    let settings = Settings { mapper: &mapper, registry_host: opts.registry_host.as_deref(), limits: opts.limits };
    let name = format!("{source}:{} (chart archive)", r.source_tag);
    let out = customize(&archive, &name, &r.customized_version, &settings, &RegistryTargets { client }).map_err(
        |e| match e {
            ChartError::BadChart { file, problem } => ChartError::BadChart { file: format!("{what}: {file}"), problem },
            e => e,
        },
    )?;
    r.changes = out.report;
    if spec.strict && !r.changes.unmapped.is_empty() {
        let list: Vec<String> =
            r.changes.unmapped.iter().map(|u| format!("{} at {}:{}", u.reference, u.file, u.line)).collect();
        return Err(ChartError::Refused(format!(
            "strict: {} image reference(s) match no `from`: {}",
            list.len(),
            list.join(", ")
        )));
    }
    let fp = fingerprint(spec, &source_digest, &r.changes.pins);
    r.fingerprint = Some(fp);
    // The config is the chart's metadata: the new version and annotations.
    let mut config = config;
    config["version"] = json!(r.customized_version);
    let chart: serde_yaml::Value =
        serde_yaml::from_str(&out.chart_yaml).map_err(|e| ChartError::Internal(format!("the new Chart.yaml: {e}")))?;
    if let Some(a) = chart.get("annotations")
        && let Ok(a) = serde_json::to_value(a)
    {
        config["annotations"] = a;
    }
    let config = serde_json::to_vec(&config).map_err(|e| ChartError::Internal(e.to_string()))?;
    let (config_digest, layer_digest) = (Digest::of(&config), Digest::of(&out.archive));
    let mut annotations: Map<String, Value> = doc["annotations"].as_object().cloned().unwrap_or_default();
    annotations.insert("org.opencontainers.image.version".into(), json!(r.customized_version));
    annotations.insert("org.opencontainers.image.base.digest".into(), json!(source_digest));
    annotations.insert(BASE_NAME.into(), json!(named(opts, &format!("{source}:{}", r.source_tag))));
    let manifest = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": media::OCI_MANIFEST,
        "config": {"mediaType": HELM_CONFIG, "digest": config_digest.as_str(), "size": config.len()},
        "layers": [{"mediaType": HELM_CHART, "digest": layer_digest.as_str(), "size": out.archive.len()}],
        "annotations": annotations,
    }))
    .map_err(|e| ChartError::Internal(e.to_string()))?;
    // Publish: blobs, the manifest by digest, signatures and attestations, then the tag.
    for (digest, bytes) in [(&config_digest, config), (&layer_digest, out.archive)] {
        if client.blob_exists(destination, digest)?.is_none() {
            client.put_blob(destination, digest, bytes.len() as u64, &BlobSource::Bytes(bytes.into()), &Quiet)?;
        }
    }
    let digest = client.put_manifest(destination, Digest::of(&manifest).as_str(), media::OCI_MANIFEST, &manifest)?;
    if let Some(key) = &opts.signer {
        sign(spec, client, opts, key, source, destination, &manifest, &source_digest, r)?;
    }
    client.put_manifest(destination, &r.tag, media::OCI_MANIFEST, &manifest)?;
    r.digest = Some(digest.to_string());
    r.status = "built";
    Ok(())
}

/// Whether every pinned target still has the digest it was pinned to.
fn unchanged_pins(client: &Client, pins: &[Pin]) -> Result<bool> {
    for p in pins {
        let now = match &p.tag {
            Some(tag) => client.head_manifest(&p.repository, tag)?.map(|h| h.digest.to_string()),
            None => client.head_manifest(&p.repository, &p.digest)?.map(|h| h.digest.to_string()),
        };
        if now.as_deref() != Some(p.digest.as_str()) {
            return Ok(false);
        }
    }
    Ok(true)
}

fn named(opts: &Options, repo: &str) -> String {
    match &opts.registry_host {
        Some(h) => format!("{h}/{repo}"),
        None => repo.to_owned(),
    }
}

fn rfc3339(t: SystemTime) -> String {
    let ms = t.duration_since(SystemTime::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0);
    tailor_store::rfc3339_ms(ms)
}

/// Signs the chart manifest (cosign format) and attests its SLSA provenance: the source chart
/// and every image written into it, by digest.
#[allow(clippy::too_many_arguments)]
fn sign(
    spec: &ChartSpec,
    client: &Client,
    opts: &Options,
    key: &PrivateKey,
    source: &str,
    destination: &str,
    manifest: &[u8],
    source_digest: &str,
    r: &mut VersionReport,
) -> Result<()> {
    let subject = Subject::of(media::OCI_MANIFEST, manifest);
    let sign_err = |what: &str| {
        let what = format!("{what} {destination}@{}", subject.digest);
        move |source| ChartError::Sign { what, source }
    };
    let storage =
        Storage::detect(client, destination, &subject.digest).map_err(sign_err("checking the referrers API for"))?;
    let reference = named(opts, destination);
    r.signatures.push(
        tailor_sign::sign_image(client, destination, &subject, &reference, key, storage)
            .map_err(sign_err("signing"))?,
    );
    let hex_of = |d: &str| d.strip_prefix("sha256:").unwrap_or(d).to_owned();
    let mut dependencies = vec![Dependency {
        uri: format!("oci://{}@{source_digest}", named(opts, source)),
        name: named(opts, &format!("{source}:{}", r.source_tag)),
        sha256_hex: hex_of(source_digest),
        annotations: Map::from_iter([("role".to_string(), json!("source chart"))]),
    }];
    for p in &r.changes.pins {
        dependencies.push(Dependency {
            uri: format!("oci://{}@{}", named(opts, &p.repository), p.digest),
            name: named(
                opts,
                &match &p.tag {
                    Some(t) => format!("{}:{t}", p.repository),
                    None => p.repository.clone(),
                },
            ),
            sha256_hex: hex_of(&p.digest),
            annotations: Map::from_iter([("role".to_string(), json!("image"))]),
        });
    }
    for x in &opts.extensions {
        let (repository, digest) =
            (x["repository"].as_str().unwrap_or_default(), x["digest"].as_str().unwrap_or_default());
        dependencies.push(Dependency {
            uri: format!("oci://{}@{digest}", named(opts, repository)),
            name: format!("extension:{}", x["name"].as_str().unwrap_or_default()),
            sha256_hex: hex_of(digest),
            annotations: Map::from_iter([
                ("role".to_string(), json!("extension")),
                ("mode".to_string(), x["mode"].clone()),
                ("verdict".to_string(), x["verdict"].clone()),
            ]),
        });
    }
    let mut internal = Map::from_iter([
        ("builder".to_string(), json!(CHART_BUILDER)),
        ("sourceVersion".to_string(), json!(r.version)),
        ("chartVersion".to_string(), json!(r.customized_version)),
    ]);
    if !opts.extensions.is_empty() {
        internal.insert("extensions".to_string(), Value::Array(opts.extensions.clone()));
    }
    let now = rfc3339(SystemTime::now());
    let provenance = Provenance {
        build_type: CHART_BUILD_TYPE,
        spec: serde_json::to_value(spec).unwrap_or(Value::Null),
        revision: opts.invocation.revision,
        internal,
        dependencies,
        builder_id: opts.invocation.builder_id.clone(),
        builder_version: env!("CARGO_PKG_VERSION").to_owned(),
        invocation_id: opts.invocation.id.clone(),
        started_on: now.clone(),
        finished_on: now,
    };
    let statement = statement(&reference, subject.digest.hex(), SLSA_PROVENANCE_V1, provenance.predicate());
    let bytes = serde_json::to_vec(&statement).map_err(|e| ChartError::Internal(e.to_string()))?;
    let envelope = Envelope::sign(key, IN_TOTO_PAYLOAD_TYPE, &bytes);
    r.attestations =
        tailor_sign::attach_attestations(client, destination, &subject, &[(SLSA_PROVENANCE_V1, envelope)], storage)
            .map_err(sign_err("attesting"))?;
    Ok(())
}

/// The client a chart build needs: reads the org's namespace, writes the destination only.
pub fn scope(org: &str, spec: &ChartSpec) -> Scope {
    Scope::new([org.to_owned()], [spec.destination_repository()])
}
