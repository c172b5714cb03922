//! `build`: spec → resolve → per-platform layers and config → index → publish → report.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use serde::Serialize;
use tailor_oci::{Client, Digest, Progress};
use tailor_spec::{Customization, Platform, Problem, Reference};

use crate::base::file_index;
use crate::cache::Cache;
use crate::checks::view::{LayeredView, Source};
use crate::checks::{Checkpoint, Checks, ExtensionRun, NoImage};
use crate::manifest::{self, BASE_DIGEST, BASE_NAME, IndexEntry};
use crate::platform::{Built, base_name, build_platform};
use crate::publish::publish;
use crate::resolve::{Image, fetch_manifest_cached, resolve, spec_platform_key};
use crate::tarfs::Limits;
use crate::variant::{OsVariant, os_variant};
use crate::{BuildError, Result};

/// How a build runs.
#[derive(Clone)]
pub struct Options {
    pub cache: Cache,
    pub limits: Limits,
    /// Compression threads.
    pub threads: usize,
    pub progress: Arc<dyn Progress>,
    /// One line per step, for humans (stderr in the CLI).
    pub log: Arc<dyn Fn(&str) + Send + Sync>,
    /// Registry host for `org.opencontainers.image.base.name` when the source names none.
    pub registry_host: Option<String>,
    /// Sign the index and every platform manifest (cosign format) and attest each platform
    /// manifest's provenance (DSSE, `.att`) before the tag moves.
    pub signer: Option<Arc<tailor_sign::PrivateKey>>,
    /// Who asked for the build (provenance); None: this process ([`Invocation::cli`]).
    pub invocation: Option<crate::provenance::Invocation>,
    /// Where OS packages come from; None: the official repositories of the base's release.
    pub packages: Option<crate::packages::SharedSource>,
    /// The org's extensions, run at the build's checkpoints (DESIGN.md §11).
    pub checks: Option<Arc<dyn Checks>>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            cache: Cache::disabled(),
            limits: Limits::default(),
            threads: crate::compress::default_threads(),
            progress: Arc::new(tailor_oci::Quiet),
            log: Arc::new(|_| {}),
            registry_host: None,
            signer: None,
            invocation: None,
            packages: None,
            checks: None,
        }
    }
}

/// What a build did (the CLI's `--output json`).
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub tag: String,
    pub index_digest: Digest,
    pub manifests: BTreeMap<String, Digest>,
    pub bytes_uploaded: u64,
    pub bytes_reused: u64,
    pub overridden_base_paths: Vec<String>,
    pub duration_ms: u64,
    /// What the build was made from, resolved to digests.
    pub inputs: Inputs,
    /// OS packages installed (`name=version`, every platform), when the spec asks for some.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub packages: Vec<String>,
    /// Each platform's OS variant (bases with a package database).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub variants: BTreeMap<String, OsVariant>,
    /// Maintainer scripts of those packages that were not run (`package: script`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub scripts_skipped: Vec<String>,
    /// With a signing key: where signatures were written — tags (`repo:sha256-<hex>.sig`)
    /// or, on registries with the OCI 1.1 referrers API, referrer manifests (`repo@sha256:…`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signatures: Option<Vec<String>>,
    /// With a signing key: where the provenance and SBOM attestations were written (tags
    /// `repo:sha256-<hex>.att`, or referrers `repo@sha256:…`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attestations: Option<Vec<String>>,
    /// The org's extensions that ran, their verdicts and findings.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub extensions: Vec<ExtensionRun>,
}

/// The resolved inputs of a build (for fingerprints and provenance).
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct Inputs {
    pub source: Input,
    pub artifacts: Vec<Input>,
    /// The OS packages each platform installs (`name=version`, in install order), resolved
    /// against the repositories' indexes: a new version there changes the fingerprint.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub packages: BTreeMap<String, Vec<String>>,
}

#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct Input {
    /// The reference as written in the spec.
    pub reference: String,
    pub digest: Digest,
    /// Platforms the image offers (`os/arch[/variant]`).
    pub platforms: Vec<String>,
}

impl Input {
    fn of(image: &Image) -> Input {
        Input {
            reference: image.name.clone(),
            digest: image.digest.clone(),
            platforms: image.platforms.keys().cloned().collect(),
        }
    }
}

/// `repo:tag` or `repo@digest`.
fn location(repo: &str, written: &str) -> String {
    if written.starts_with("sha256:") { format!("{repo}@{written}") } else { format!("{repo}:{written}") }
}

/// The source and artifacts of a spec, resolved to digests, and the OS packages each platform
/// would install (by [`resolve_inputs`]).
#[derive(Debug, Clone)]
pub struct Resolved {
    base: Image,
    artifacts: Vec<Image>,
    packages: BTreeMap<String, Vec<String>>,
    /// Each platform's OS variant, where the packages were resolved.
    pub variants: BTreeMap<String, OsVariant>,
}

impl Resolved {
    pub fn inputs(&self) -> Inputs {
        Inputs {
            source: Input::of(&self.base),
            artifacts: self.artifacts.iter().map(Input::of).collect(),
            packages: self.packages.clone(),
        }
    }
}

/// Resolves the source and artifacts of `spec` to digests, and its OS packages to versions,
/// without building (the worker's "anything changed?" check; a build can then start from
/// them: [`build_resolved`]). Packages need the base's file index (cached by layer digests)
/// and the repositories' indexes (one signed file fetched per repository when warm).
pub fn resolve_inputs(spec: &Customization, client: &Client, opts: &Options) -> Result<Resolved> {
    let base = resolve(client, "source", &spec.source_ref())?;
    let mut artifacts = Vec::new();
    for (i, a) in spec.contents.artifacts.iter().enumerate() {
        let field = format!("contents.artifacts[{i}].reference");
        let r = Reference::parse(&a.reference).map_err(|m| BuildError::invalid(&field, m))?;
        artifacts.push(resolve(client, &field, &r)?);
    }
    let mut resolved = Resolved { base, artifacts, packages: BTreeMap::new(), variants: BTreeMap::new() };
    if spec.contents.packages.is_empty() {
        return Ok(resolved);
    }
    let source = opts.packages.clone().unwrap_or_else(|| Arc::new(crate::packages::PackageSource::defaults()));
    for (i, p) in spec.platforms.iter().enumerate() {
        let field = format!("platforms[{i}]");
        let key = spec_platform_key(&Platform::parse(p).map_err(|m| BuildError::invalid(&field, m))?);
        let base = &resolved.base;
        let Some(descriptor) = base.platforms.get(&key) else {
            return Err(BuildError::invalid(field, format!("{p} is not in the source {}", base.name)));
        };
        let (_, manifest) = fetch_manifest_cached(client, &opts.cache, base, descriptor)?;
        let index = file_index(client, &base.repo, &base.name, &manifest, &opts.cache, opts.limits)?;
        let target = crate::packages::Target {
            source: &source,
            base_name: &base.name,
            base_layers: &[],
            index: &index,
            platform: &key,
            requests: &spec.contents.packages,
            mtime: 0,
        };
        let packages = crate::packages::resolve(&target)?.packages;
        if let Some(v) = os_variant(&index, &key) {
            resolved.variants.insert(p.clone(), v);
        }
        resolved.packages.insert(p.clone(), packages);
    }
    Ok(resolved)
}

/// Build `spec` with `client` and publish the result under its tag.
pub fn build(spec: &Customization, client: &Client, opts: &Options) -> Result<Report> {
    build_with(spec, client, opts, None)
}

/// Like [`build`], from inputs resolved a moment ago (not resolved again).
pub fn build_resolved(spec: &Customization, client: &Client, opts: &Options, resolved: Resolved) -> Result<Report> {
    build_with(spec, client, opts, Some(resolved))
}

/// Everything up to publishing: resolved inputs, each platform built, the checks passed.
struct Prepared {
    base: Image,
    artifacts: Vec<Image>,
    built: Vec<Built>,
}

/// Builds `spec` and runs the checks without publishing anything (`tailor extension test`):
/// the extensions' runs, or the error that stopped the build (a deny among them).
pub fn check(spec: &Customization, client: &Client, opts: &Options) -> Result<Vec<ExtensionRun>> {
    prepare(spec, client, opts, None)?;
    Ok(opts.checks.as_ref().map(|c| c.runs()).unwrap_or_default())
}

/// The view an extension gets of a built platform.
fn view_of<'c>(client: &'c Client, opts: &Options, base: &Image, b: &Built) -> LayeredView<'c> {
    let layers: Vec<Source> = b
        .base_descriptors
        .iter()
        .cloned()
        .map(|d| Source::Remote(Box::new(d)))
        .chain(b.layers.iter().cloned().map(Source::Made))
        .collect();
    let mut packages: Vec<(String, String)> =
        b.base_index.packages.iter().map(|p| (p.name.clone(), p.version.clone())).collect();
    packages.extend(b.added_packages.iter().map(|p| (p.name.clone(), p.version.clone())));
    packages.sort();
    packages.dedup();
    LayeredView::new(
        client,
        opts.cache.clone(),
        opts.limits,
        &base.repo,
        &base.name,
        layers,
        b.config.1.clone(),
        packages,
    )
}

/// Runs the checks of `checkpoint`; the build stops when they say so.
fn run_checks(opts: &Options, checkpoint: Checkpoint, views: &[(&str, &dyn crate::checks::ImageView)]) -> Result<()> {
    let Some(checks) = &opts.checks else { return Ok(()) };
    for (platform, view) in views {
        checks.check(checkpoint, platform, *view);
    }
    match checks.blocked() {
        Some(why) => {
            (opts.log)(&format!("{}: {why}; nothing is published", checkpoint.as_str()));
            Err(BuildError::Denied(why))
        }
        None => Ok(()),
    }
}

fn build_with(spec: &Customization, client: &Client, opts: &Options, resolved: Option<Resolved>) -> Result<Report> {
    let started = Instant::now();
    let started_at = std::time::SystemTime::now();
    let Prepared { base, artifacts, built } = prepare(spec, client, opts, resolved)?;
    publish_built(spec, client, opts, base, artifacts, built, started, started_at)
}

fn prepare(spec: &Customization, client: &Client, opts: &Options, resolved: Option<Resolved>) -> Result<Prepared> {
    if let Err(problems) = spec.validate() {
        return Err(BuildError::Invalid { problems });
    }
    let log = |m: &str| (opts.log)(m);
    let mut problems: Vec<Problem> = Vec::new();
    let (base, artifacts) = match resolved {
        Some(r) => (Some(r.base), r.artifacts.into_iter().map(Some).collect()),
        None => {
            let source = spec.source_ref();
            let n = spec.contents.artifacts.len();
            log(&format!("resolving {source} and {n} artifact(s) in {}", client.describe()));
            let mut keep = |r: Result<Image>| -> Result<Option<Image>> {
                match r {
                    Ok(i) => Ok(Some(i)),
                    Err(BuildError::Invalid { problems: p }) => {
                        problems.extend(p);
                        Ok(None)
                    }
                    Err(e) => Err(e),
                }
            };
            let base = keep(resolve(client, "source", &source))?;
            let mut artifacts = Vec::new();
            for (i, a) in spec.contents.artifacts.iter().enumerate() {
                let field = format!("contents.artifacts[{i}].reference");
                let r = Reference::parse(&a.reference).map_err(|m| BuildError::invalid(&field, m))?;
                artifacts.push(keep(resolve(client, &field, &r))?);
            }
            (base, artifacts)
        }
    };
    let mut keys = Vec::new();
    if let Some(base) = &base {
        for (i, p) in spec.platforms.iter().enumerate() {
            let key =
                spec_platform_key(&Platform::parse(p).map_err(|m| BuildError::invalid(format!("platforms[{i}]"), m))?);
            if !base.platforms.contains_key(&key) {
                problems.push(Problem::new(
                    format!("platforms[{i}]"),
                    format!("{p} is not in the source {} (it has {})", base.name, base.platform_list()),
                ));
            }
            for (j, a) in artifacts.iter().enumerate() {
                if let Some(a) = a.as_ref().filter(|a| !a.platforms.contains_key(&key)) {
                    problems.push(Problem::new(
                        format!("platforms[{i}]"),
                        format!("{p} is not in contents.artifacts[{j}] {} (it has {})", a.name, a.platform_list()),
                    ));
                }
            }
            keys.push(key);
        }
    }
    let (Some(base), true) = (base, problems.is_empty()) else {
        return Err(BuildError::Invalid { problems });
    };
    let artifacts: Vec<Image> = artifacts.into_iter().flatten().collect();

    let none: Vec<(&str, &dyn crate::checks::ImageView)> =
        keys.iter().map(|k| (k.as_str(), &NoImage as &dyn crate::checks::ImageView)).collect();
    run_checks(opts, Checkpoint::CheckCustomization, &none)?;
    log(&format!("building {} for {}", spec.result_tag(), keys.join(", ")));
    let built: Vec<Result<Built>> = std::thread::scope(|s| {
        let handles: Vec<_> =
            keys.iter().map(|k| s.spawn(|| build_platform(opts, client, spec, &base, &artifacts, k))).collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| Err(BuildError::Internal("platform build panicked".into()))))
            .collect()
    });
    let built: Vec<Built> = built.into_iter().collect::<Result<_>>()?;
    if opts.checks.is_some() {
        let views: Vec<LayeredView> = built.iter().map(|b| view_of(client, opts, &base, b)).collect();
        let views: Vec<(&str, &dyn crate::checks::ImageView)> =
            built.iter().zip(&views).map(|(b, v)| (b.key.as_str(), v as &dyn crate::checks::ImageView)).collect();
        run_checks(opts, Checkpoint::CheckImage, &views)?;
    }
    Ok(Prepared { base, artifacts, built })
}

#[allow(clippy::too_many_arguments)]
fn publish_built(
    spec: &Customization,
    client: &Client,
    opts: &Options,
    base: Image,
    artifacts: Vec<Image>,
    built: Vec<Built>,
    started: Instant,
    started_at: std::time::SystemTime,
) -> Result<Report> {
    let log = |m: &str| (opts.log)(m);
    let extensions = opts.checks.as_ref().map(|c| c.runs()).unwrap_or_default();
    let entries: Vec<IndexEntry> = built
        .iter()
        .map(|b| IndexEntry {
            digest: &b.manifest.0,
            size: b.manifest.1.len() as u64,
            os: &b.os,
            architecture: &b.architecture,
            variant: b.variant.as_deref(),
        })
        .collect();
    let mut annotations = spec.annotations.clone();
    annotations.insert(BASE_DIGEST.into(), base.digest.to_string());
    annotations.insert(BASE_NAME.into(), base_name(spec, opts));
    let index = manifest::index(&entries, &annotations);
    let dest = spec.destination_repository();
    let tag = spec.result_tag();
    log(&format!("publishing {dest}:{tag}"));
    // What to attest is worked out while the image goes up (only when signing).
    let statements = || {
        let subject = match &opts.registry_host {
            Some(h) => format!("{h}/{dest}"),
            None => dest.clone(),
        };
        let invocation = opts.invocation.clone().unwrap_or_else(crate::provenance::Invocation::cli);
        let host = opts.registry_host.as_deref();
        let parts = crate::provenance::Parts {
            spec,
            base: &base,
            artifacts: &artifacts,
            built: &built,
            extensions: &extensions,
        };
        crate::provenance::statements(&parts, &subject, host, &invocation, started_at)
    };
    let t = publish(opts, client, &dest, &base.repo, &built, &index, &tag, &statements)?;
    let mut overridden: Vec<String> = built.iter().flat_map(|b| b.overridden.iter().cloned()).collect();
    overridden.sort();
    overridden.dedup();
    let platforms = || spec.platforms.iter().cloned().zip(built.iter());
    let installs = platforms().filter(|_| !spec.contents.packages.is_empty()).map(|(p, b)| (p, b.packages.clone()));
    let inputs = Inputs {
        source: Input::of(&base),
        artifacts: artifacts.iter().map(Input::of).collect(),
        packages: installs.collect(),
    };
    let variants = platforms().filter_map(|(p, b)| Some((p, os_variant(&b.base_index, &b.key)?))).collect();
    let mut packages: Vec<String> = built.iter().flat_map(|b| b.packages.iter().cloned()).collect();
    packages.sort();
    packages.dedup();
    let mut scripts_skipped: Vec<String> = built.iter().flat_map(|b| b.scripts_skipped.iter().cloned()).collect();
    scripts_skipped.sort();
    scripts_skipped.dedup();
    Ok(Report {
        packages,
        variants,
        scripts_skipped,
        inputs,
        signatures: opts.signer.as_ref().map(|_| t.signatures.iter().map(|s| location(&dest, s)).collect()),
        attestations: opts.signer.as_ref().map(|_| t.attestations.iter().map(|s| location(&dest, s)).collect()),
        tag: format!("{dest}:{tag}"),
        index_digest: Digest::of(&index),
        manifests: spec.platforms.iter().cloned().zip(built.iter().map(|b| b.manifest.0.clone())).collect(),
        bytes_uploaded: t.uploaded,
        bytes_reused: t.reused,
        overridden_base_paths: overridden,
        duration_ms: started.elapsed().as_millis() as u64,
        extensions,
    })
}
