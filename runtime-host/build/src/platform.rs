//! Build one platform: base index and artifacts in parallel, then the files and accounts
//! layers, the config and the manifest.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use serde_json::Value;
use tailor_oci::Digest;
use tailor_spec::{Customization, Reference};

use crate::accounts::{home_of, merge, resolve_run_as};
use crate::artifact::{self, Input, overrides};
use crate::base::{FileIndex, file_index};
use crate::config::{ConfigEdit, edit, rfc3339_seconds};
use crate::filter::spec_path;
use crate::layer::Layer;
use crate::manifest::{self, BASE_DIGEST, BASE_NAME};
use crate::resolve::{Image, fetch_manifest_cached, read_blob_cached};
use crate::sbom::FileSum;
use crate::tarfs::{Entry, ancestors};
use crate::{BuildError, Options, Result};

/// One platform's result, ready to publish.
pub struct Built {
    pub key: String,
    pub os: String,
    pub architecture: String,
    pub variant: Option<String>,
    pub base_layers: Vec<(Digest, u64)>,
    /// The base's layer descriptors (what an extension's view of the image reads).
    pub base_descriptors: Vec<oci_spec::image::Descriptor>,
    pub layers: Vec<Layer>,
    pub config: (Digest, Arc<[u8]>),
    pub manifest: (Digest, Vec<u8>),
    pub overridden: Vec<String>,
    /// What the SBOM lists: the base's index (OS and packages), the files taken from each
    /// artifact (in spec order) and the files tailor wrote (the spec's, the account files).
    pub base_index: Arc<FileIndex>,
    pub artifact_files: Vec<Vec<FileSum>>,
    pub spec_files: Vec<FileSum>,
    /// OS packages installed (`name=version`) and the maintainer scripts not run.
    pub packages: Vec<String>,
    pub scripts_skipped: Vec<String>,
    /// The installed packages for the SBOM, and (`name=version`, URL, SHA-256) for the provenance.
    pub added_packages: Vec<crate::os::Package>,
    pub package_sources: Vec<(String, String, String)>,
}

/// What lies below the layer being made: the base plus the layers added so far.
struct Below<'a> {
    base: &'a FileIndex,
    added: BTreeMap<String, char>,
}

impl Below<'_> {
    fn is_dir(&self, p: &str) -> bool {
        self.base.is_dir(p) || self.added.get(p) == Some(&'d')
    }
    fn exists(&self, p: &str) -> bool {
        p.is_empty() || self.base.kinds.contains_key(p) || self.added.contains_key(p)
    }
    fn add(&mut self, entries: impl IntoIterator<Item = (String, char)>) {
        self.added.extend(entries);
    }
}

/// Parent directories (0755 root) for `paths` that nothing below provides, plus the entries.
fn with_parents(mut entries: BTreeMap<String, Entry>, below: &Below, mtime: u64) -> Vec<Entry> {
    let parents: BTreeSet<String> =
        entries.keys().flat_map(|p| ancestors(p).map(str::to_string).collect::<Vec<_>>()).collect();
    for p in parents {
        if !below.is_dir(&p) && !entries.contains_key(&p) {
            entries.insert(p.clone(), Entry::dir(&p, 0o755, 0, 0, mtime));
        }
    }
    entries.into_values().collect()
}

fn kinds(entries: &[Entry]) -> Vec<(String, char)> {
    entries.iter().map(|e| (e.path.clone(), crate::base::kind_letter(&e.kind))).collect()
}

pub fn build_platform(
    opts: &Options,
    client: &tailor_oci::Client,
    spec: &Customization,
    base: &Image,
    artifacts: &[Image],
    key: &str,
) -> Result<Built> {
    let (_, base_manifest) = fetch_manifest_cached(client, &opts.cache, base, &base.platforms[key])?;
    let cfg_digest = Digest::try_from(base_manifest.config().digest())?;
    let base_cfg = read_blob_cached(client, &opts.cache, &base.repo, &cfg_digest, 4 << 20)?;
    let cfg: Value = serde_json::from_slice(&base_cfg)
        .map_err(|e| BuildError::bad_input(&base.name, format!("invalid image config: {e}")))?;
    let mtime = cfg["created"].as_str().and_then(rfc3339_seconds).unwrap_or(0);
    let (os, arch) =
        (cfg["os"].as_str().unwrap_or("linux").to_string(), cfg["architecture"].as_str().unwrap_or("").to_string());
    let variant = cfg["variant"].as_str().map(str::to_string);

    // The base's file index streams the base layers while the artifacts are flattened.
    let inputs: Vec<Input> = spec
        .contents
        .artifacts
        .iter()
        .zip(artifacts)
        .enumerate()
        .map(|(index, (a, image))| Input { image, manifest: &image.platforms[key], spec: a, index, platform: key })
        .collect();
    let (index, filtered) = std::thread::scope(|s| {
        let ix = s.spawn(|| file_index(client, &base.repo, &base.name, &base_manifest, &opts.cache, opts.limits));
        let filtered: Result<Vec<_>> =
            inputs.iter().map(|i| artifact::filtered(client, &opts.cache, i, opts.limits, mtime)).collect();
        // Cores the base's index leaves idle compress the artifacts' layers meanwhile.
        let guesses = match &filtered {
            Ok(f) if !ix.is_finished() => artifact::guess(&opts.cache, f),
            _ => Vec::new(),
        };
        let ix = ix.join().unwrap_or_else(|_| Err(BuildError::Internal("base index thread panicked".into())));
        (ix, filtered.map(|f| (f, guesses)))
    });
    let (index, (filtered, guesses)) = (index?, filtered?);
    let mut guesses = guesses.into_iter();

    let mut below = Below { base: &index, added: BTreeMap::new() };
    let mut layers = Vec::new();
    let mut history = Vec::new();
    let mut overridden = BTreeSet::new();
    let mut artifact_files = Vec::with_capacity(inputs.len());

    // Packages layer: right above the base.
    let mut installed = crate::packages::Installed::default();
    if !spec.contents.packages.is_empty() {
        let source = opts.packages.clone().unwrap_or_else(|| Arc::new(crate::packages::PackageSource::defaults()));
        let base_layers: Vec<String> = base_manifest.layers().iter().map(|l| l.digest().to_string()).collect();
        let target = crate::packages::Target {
            source: &source,
            base_name: &base.name,
            base_layers: &base_layers,
            index: &index,
            platform: key,
            requests: &spec.contents.packages,
            mtime,
        };
        let made = crate::packages_layer::packages_layer(opts, &target, |map| with_parents(map, &below, mtime))?;
        installed = made.installed;
        below.add(made.kinds);
        if let Some(l) = made.layer {
            history.push((l.diff_id.to_string(), format!("tailor: install packages {}", installed.packages.join(" "))));
            layers.push(l);
        }
        (opts.log)(&format!(
            "{key}: installed {} package(s): {}{}",
            installed.packages.len(),
            installed.packages.join(" "),
            if installed.scripts_skipped.is_empty() {
                String::new()
            } else {
                format!("; maintainer scripts not run: {}", installed.scripts_skipped.join(", "))
            }
        ));
    }
    let (mut passwd, mut group) = (index.passwd.clone().unwrap_or_default(), index.group.clone().unwrap_or_default());

    for (i, f) in inputs.iter().zip(filtered) {
        let dir_below = |p: &str| below.is_dir(p);
        let (layer, summary) = artifact::layer(
            client,
            &opts.cache,
            i,
            f,
            &dir_below,
            opts.limits,
            mtime,
            opts.threads,
            guesses.next().flatten(),
        )?;
        overridden.extend(overrides(summary.kinds.iter().map(|(p, k)| (p.as_str(), *k)), &index, &BTreeSet::new()));
        if let Some(p) = summary.passwd.clone() {
            passwd = p;
        }
        if let Some(g) = summary.group.clone() {
            group = g;
        }
        below.add(summary.kinds);
        artifact_files.push(summary.files);
        if let Some(l) = layer {
            let mut text = format!("tailor: add {} {}", i.image.name, i.spec.includes.join(" "));
            if !i.spec.excludes.is_empty() {
                text.push_str(&format!(" excluding {}", i.spec.excludes.join(" ")));
            }
            history.push((l.diff_id.to_string(), text));
            layers.push(l);
        }
    }

    // Files layer.
    let files: BTreeMap<String, Entry> = spec
        .files
        .iter()
        .map(|f| {
            let p = spec_path(&f.path).to_string();
            let mode = f.mode_bits().unwrap_or(0o644);
            (p.clone(), Entry::file(&p, f.content.as_bytes().to_vec(), mode, f.uid, f.gid, mtime))
        })
        .collect();
    if !files.is_empty() {
        for (p, e) in &files {
            if p == crate::base::PASSWD {
                passwd = String::from_utf8_lossy(&e.data).into_owned();
            } else if p == crate::base::GROUP {
                group = String::from_utf8_lossy(&e.data).into_owned();
            }
        }
        let entries = with_parents(files, &below, mtime);
        overridden.extend(overrides(
            entries.iter().map(|e| (e.path.as_str(), crate::base::kind_letter(&e.kind))),
            &index,
            &BTreeSet::new(),
        ));
        below.add(kinds(&entries));
        if let Some(l) = Layer::from_entries(&entries, opts.threads).map_err(|e| BuildError::Internal(e.to_string()))? {
            let names: Vec<&str> = spec.files.iter().map(|f| f.path.as_str()).collect();
            history.push((l.diff_id.to_string(), format!("tailor: add files {}", names.join(" "))));
            layers.push(l);
        }
    }

    // Files tailor writes itself, for the SBOM.
    let mut written: Vec<FileSum> =
        spec.files.iter().map(|f| FileSum::of(spec_path(&f.path), f.content.as_bytes())).collect();

    // Accounts layer.
    let accounts = &spec.accounts;
    if !accounts.users.is_empty() || !accounts.groups.is_empty() {
        let merged = merge(&passwd, &group, accounts).map_err(|problems| BuildError::Invalid { problems })?;
        let mut entries = BTreeMap::new();
        entries.insert(
            crate::base::PASSWD.to_string(),
            Entry::file(crate::base::PASSWD, merged.passwd.as_bytes().to_vec(), 0o644, 0, 0, mtime),
        );
        entries.insert(
            crate::base::GROUP.to_string(),
            Entry::file(crate::base::GROUP, merged.group.as_bytes().to_vec(), 0o644, 0, 0, mtime),
        );
        for u in &accounts.users {
            let home = home_of(u);
            let p = spec_path(&home);
            if home != "/nonexistent" && !p.is_empty() && !below.exists(p) {
                entries.insert(p.to_string(), Entry::dir(p, 0o755, u.uid, u.gid, mtime));
            }
        }
        written.push(FileSum::of(crate::base::PASSWD, merged.passwd.as_bytes()));
        written.push(FileSum::of(crate::base::GROUP, merged.group.as_bytes()));
        passwd = merged.passwd;
        let entries = with_parents(entries, &below, mtime);
        below.add(kinds(&entries));
        if let Some(l) = Layer::from_entries(&entries, opts.threads).map_err(|e| BuildError::Internal(e.to_string()))? {
            let names: Vec<&str> = accounts
                .users
                .iter()
                .map(|u| u.name.as_str())
                .chain(accounts.groups.iter().map(|g| g.name.as_str()))
                .collect();
            history.push((l.diff_id.to_string(), format!("tailor: add accounts {}", names.join(" "))));
            layers.push(l);
        }
    }

    let user = match spec.run_as() {
        Some(r) => Some(resolve_run_as(&r, &passwd).map_err(|p| BuildError::Invalid { problems: vec![p] })?),
        None => None,
    };
    let config_changes = !spec.environment.is_empty()
        || !spec.labels.is_empty()
        || user.is_some()
        || !spec.entrypoint.is_empty()
        || !spec.cmd.is_empty();
    let edit_spec = ConfigEdit {
        env: spec.environment.clone(),
        labels: spec.labels.clone(),
        user,
        entrypoint: spec.entrypoint.clone(),
        cmd: spec.cmd.clone(),
        layers: history,
        config_step: config_changes.then(|| format!("tailor: customization {}", spec.name)),
    };
    let config: Arc<[u8]> = edit(&base_cfg, base_manifest.layers().len(), &edit_spec)
        .map_err(|m| BuildError::bad_input(&base.name, m))?
        .into();
    let config_digest = Digest::of(&config);

    let base_layers: Vec<(Digest, u64)> =
        base_manifest.layers().iter().map(|l| Ok((Digest::try_from(l.digest())?, l.size()))).collect::<Result<_>>()?;
    let mut descs: Vec<Value> = base_manifest.layers().iter().map(manifest::base_layer).collect();
    descs.extend(layers.iter().map(|l| manifest::layer(&l.digest, l.size())));
    let mut annotations = spec.annotations.clone();
    annotations.insert(BASE_DIGEST.into(), base.platforms[key].to_string());
    annotations.insert(BASE_NAME.into(), base_name(spec, opts));
    let bytes = manifest::image_manifest(&config_digest, config.len() as u64, descs, &annotations);
    Ok(Built {
        key: key.to_string(),
        os,
        architecture: arch,
        variant,
        base_layers,
        base_descriptors: base_manifest.layers().to_vec(),
        layers,
        config: (config_digest, config),
        manifest: (Digest::of(&bytes), bytes),
        overridden: overridden.into_iter().collect(),
        spec_files: written,
        packages: installed.packages,
        scripts_skipped: installed.scripts_skipped,
        added_packages: installed.added,
        package_sources: installed.sources,
        base_index: index,
        artifact_files,
    })
}

/// `org.opencontainers.image.base.name`: the source with the registry it came from.
pub fn base_name(spec: &Customization, opts: &Options) -> String {
    let r: Reference = spec.source_ref();
    let host = r.registry.clone().or_else(|| opts.registry_host.clone());
    let tagged = format!("{}:{}", r.repository, r.tag.as_deref().unwrap_or("latest"));
    match host {
        Some(h) => format!("{h}/{tagged}"),
        None => tagged,
    }
}
