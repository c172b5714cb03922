//! One chart archive customized: in its values (and every subchart's, packed `charts/*.tgz`
//! or unpacked `charts/<name>/`, recursively) and its Chart.yaml image annotations, each mapped
//! reference is rewritten to its target, pinned to the digest the target has now (in the shape
//! the chart uses); values.yaml is edited as text so everything else survives; the top chart's
//! version becomes the customized one; the archive is written deterministically. Free of I/O:
//! targets are resolved through [`Targets`].

use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap};

use serde::Serialize;

use crate::archive::{self, Archive, Limits};
use crate::discover::{self, Found, Shape};
use crate::error::{ChartError, Result};
use crate::reference::{ImageRef, Mapper, Target};
use crate::yaml::{self, Edit, Node};

/// Subcharts nested deeper than this are refused.
const MAX_DEPTH: usize = 5;

/// Where targets are looked up (the registry; a map in tests).
pub trait Targets {
    /// The digest `repository:tag` has now; None when there is no such tag.
    fn digest(&self, repository: &str, tag: &str) -> Result<Option<String>>;
    /// Whether `repository@digest` exists.
    fn exists(&self, repository: &str, digest: &str) -> Result<bool>;
}

/// How to customize.
pub struct Settings<'a> {
    pub mapper: &'a Mapper,
    /// Written in front of every target repository, so a cluster can pull it.
    pub registry_host: Option<&'a str>,
    pub limits: Limits,
}

/// One rewritten reference.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rewrite {
    pub file: String,
    pub line: usize,
    pub path: String,
    pub old: String,
    pub new: String,
}

/// A reference no `from` matches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Unmapped {
    pub file: String,
    pub line: usize,
    pub path: String,
    pub reference: String,
}

/// An image written literally in a template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Literal {
    pub file: String,
    pub line: usize,
    pub reference: String,
}

/// A target and the digest it was pinned to.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, serde::Deserialize)]
pub struct Pin {
    pub repository: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
    pub digest: String,
}

/// What the customization did to one chart version.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    pub rewrites: Vec<Rewrite>,
    pub unmapped: Vec<Unmapped>,
    pub literal_template_images: Vec<Literal>,
    /// Things the user should know (e.g. why global.imageRegistry was left alone).
    pub notes: Vec<String>,
    /// Every target pinned, once.
    pub pins: Vec<Pin>,
}

/// The customized archive and its new top Chart.yaml.
pub struct Customized {
    pub archive: Vec<u8>,
    pub chart_yaml: String,
    pub report: Report,
}

/// A target as mapped: repository, tag, digest.
type TargetKey = (String, Option<String>, Option<String>);

struct Run<'a> {
    s: &'a Settings<'a>,
    targets: &'a dyn Targets,
    cache: RefCell<HashMap<TargetKey, Pin>>,
    report: RefCell<Report>,
}

/// Customizes the chart archive `tgz` (named `what` in errors) into version `version`.
pub fn customize(tgz: &[u8], what: &str, version: &str, s: &Settings, targets: &dyn Targets) -> Result<Customized> {
    let mut archive = archive::read(tgz, what, s.limits)?;
    let root = archive.root().unwrap_or_default().to_owned();
    let run = Run { s, targets, cache: RefCell::default(), report: RefCell::default() };
    run.chart_dir(&mut archive, &root, "", 0, Some(version))?;
    let chart_yaml = text(&archive, &format!("{root}/Chart.yaml"), "")?.to_owned();
    let mut report = run.report.into_inner();
    let pins: BTreeSet<Pin> = run.cache.into_inner().into_values().collect();
    report.pins = pins.into_iter().collect();
    Ok(Customized { archive: archive::write(&archive)?, chart_yaml, report })
}

/// Every image reference of the chart archive `tgz` (its values, subcharts and annotations)
/// and the images written literally in its templates — what a customization could map —
/// reported as [`Report::unmapped`] and [`Report::literal_template_images`].
pub fn references(tgz: &[u8], what: &str, limits: Limits) -> Result<Report> {
    struct NoTargets;
    impl Targets for NoTargets {
        fn digest(&self, _: &str, _: &str) -> Result<Option<String>> {
            Ok(None)
        }
        fn exists(&self, _: &str, _: &str) -> Result<bool> {
            Ok(false)
        }
    }
    let mut archive = archive::read(tgz, what, limits)?;
    let root = archive.root().unwrap_or_default().to_owned();
    let mapper = Mapper::new(&[]);
    let s = Settings { mapper: &mapper, registry_host: None, limits };
    let run = Run { s: &s, targets: &NoTargets, cache: RefCell::default(), report: RefCell::default() };
    run.chart_dir(&mut archive, &root, "", 0, None)?;
    Ok(run.report.into_inner())
}

/// A file of the archive as UTF-8 text; `outer` prefixes its name in messages (a packed subchart).
fn text<'a>(archive: &'a Archive, path: &str, outer: &str) -> Result<&'a str> {
    let entry = archive.get(path).ok_or_else(|| ChartError::bad_chart(format!("{outer}{path}"), "missing"))?;
    std::str::from_utf8(&entry.data)
        .map_err(|e| ChartError::bad_chart(format!("{outer}{path}"), format!("not UTF-8 text ({e})")))
}

impl Run<'_> {
    /// The chart at `prefix` of `archive` (`outer` names the enclosing archive of a packed
    /// subchart), its subcharts, and with `version` its new version.
    fn chart_dir(
        &self,
        archive: &mut Archive,
        prefix: &str,
        outer: &str,
        depth: usize,
        version: Option<&str>,
    ) -> Result<()> {
        if depth > MAX_DEPTH {
            return Err(ChartError::bad_chart(
                format!("{outer}{prefix}"),
                format!("subcharts nested more than {MAX_DEPTH} deep"),
            ));
        }
        self.chart_yaml(archive, prefix, outer, version)?;
        self.values(archive, prefix, outer)?;
        // Templates: literal images are reported (they cannot be rewritten safely).
        let templates = format!("{prefix}/templates/");
        for e in archive.entries.iter().filter(|e| !e.dir && e.path.starts_with(&templates)) {
            let Ok(t) = std::str::from_utf8(&e.data) else { continue };
            for (line, reference) in discover::literal_images(t) {
                let file = format!("{outer}{}", e.path);
                self.report.borrow_mut().literal_template_images.push(Literal { file, line, reference });
            }
        }
        // Subcharts, packed and unpacked.
        let charts = format!("{prefix}/charts/");
        let mut packed = Vec::new();
        let mut unpacked = BTreeSet::new();
        for e in archive.entries.iter().filter(|e| e.path.starts_with(&charts)) {
            let rest = &e.path[charts.len()..];
            match rest.split_once('/') {
                None if !e.dir && rest.ends_with(".tgz") => packed.push(e.path.clone()),
                Some((name, "Chart.yaml")) => {
                    unpacked.insert(name.to_owned());
                }
                _ => {}
            }
        }
        for path in packed {
            let data = archive.get(&path).map(|e| e.data.clone()).unwrap_or_default();
            let name = format!("{outer}{path}");
            let mut sub = archive::read(&data, &name, self.s.limits)?;
            let root = sub.root().unwrap_or_default().to_owned();
            self.chart_dir(&mut sub, &root, &format!("{name}:"), depth + 1, None)?;
            let bytes = archive::write(&sub)?;
            if let Some(e) = archive.get_mut(&path) {
                e.data = bytes;
            }
        }
        for name in unpacked {
            self.chart_dir(archive, &format!("{charts}{name}"), outer, depth + 1, None)?;
        }
        Ok(())
    }

    /// Chart.yaml: checked, its images annotations rewritten, the top chart's version changed.
    fn chart_yaml(&self, archive: &mut Archive, prefix: &str, outer: &str, version: Option<&str>) -> Result<()> {
        let path = format!("{prefix}/Chart.yaml");
        let file = format!("{outer}{path}");
        let source = text(archive, &path, outer)?;
        let tree = yaml::parse(source)
            .map_err(|e| ChartError::bad_chart(&file, format!("not valid YAML: {e}")))?
            .ok_or_else(|| ChartError::bad_chart(&file, "empty"))?;
        for field in ["name", "version"] {
            if tree.get(field).and_then(Node::as_str).is_none_or(str::is_empty) {
                return Err(ChartError::bad_chart(&file, format!("has no `{field}`")));
            }
        }
        let mut edits = Vec::new();
        if let Some(v) = version {
            let scalar = tree
                .get("version")
                .and_then(Node::scalar)
                .ok_or_else(|| ChartError::bad_chart(&file, "has no `version`"))?;
            edits.push(
                yaml::replace(scalar, v).ok_or_else(|| ChartError::bad_chart(&file, "`version` is a block scalar"))?,
            );
        }
        if let Some(Node::Map(annotations)) = tree.get("annotations") {
            for (key, value) in annotations {
                let (Some(key), Some(scalar)) = (key.as_str(), value.scalar()) else { continue };
                if !key.ends_with("images") {
                    continue;
                }
                let mut raw = source[scalar.start..scalar.end].to_owned();
                for image in discover::annotation_images(&scalar.value) {
                    let Some(r) = ImageRef::parse(&image) else { continue };
                    let at = format!("{file}:{}", scalar.line);
                    match self.s.mapper.map(&r) {
                        Some(t) => {
                            let pin = self.pin(&t, &r, &at)?;
                            let new = self.written(&pin);
                            raw = raw.replace(&image, &new);
                            let path = format!("annotations.{key}");
                            self.rewrite(Rewrite { file: file.clone(), line: scalar.line, path, old: image, new });
                        }
                        None if r.is_plausible() => self.report.borrow_mut().unmapped.push(Unmapped {
                            file: file.clone(),
                            line: scalar.line,
                            path: format!("annotations.{key}"),
                            reference: image,
                        }),
                        None => {}
                    }
                }
                if raw != source[scalar.start..scalar.end] {
                    edits.push(Edit { start: scalar.start, end: scalar.end, text: raw });
                }
            }
        }
        if !edits.is_empty() {
            let new = yaml::apply(source, edits);
            if let Some(e) = archive.get_mut(&path) {
                e.data = new.into_bytes();
            }
        }
        Ok(())
    }

    /// values.yaml: every mapped reference rewritten and pinned, global.imageRegistry when safe.
    fn values(&self, archive: &mut Archive, prefix: &str, outer: &str) -> Result<()> {
        let path = format!("{prefix}/values.yaml");
        if archive.get(&path).is_none() {
            return Ok(());
        }
        let file = format!("{outer}{path}");
        let source = text(archive, &path, outer)?;
        let Some(tree) =
            yaml::parse(source).map_err(|e| ChartError::bad_chart(&file, format!("not valid YAML: {e}")))?
        else {
            return Ok(());
        };
        if !matches!(tree, Node::Map(_)) {
            return Err(ChartError::bad_chart(&file, "is not a mapping of values"));
        }
        let mapper = self.s.mapper;
        let found = discover::find(&tree, &|r| mapper.map(r).is_some());
        let mut edits = Vec::new();
        let mut governed_unmapped = Vec::new();
        let mut governed = 0;
        for f in &found {
            let at = format!("{file}:{} ({})", f.line(), f.path);
            let governs = matches!(&f.shape, Shape::Map { registry: Some(_), .. });
            governed += usize::from(governs);
            match mapper.map(&f.reference) {
                None => {
                    if governs {
                        governed_unmapped.push(f.reference.to_string());
                    }
                    self.report.borrow_mut().unmapped.push(Unmapped {
                        file: file.clone(),
                        line: f.line(),
                        path: f.path.clone(),
                        reference: f.reference.to_string(),
                    });
                }
                Some(t) => {
                    let pin = self.pin(&t, &f.reference, &at)?;
                    let new = self.written(&pin);
                    edits.extend(self.edits(f, &pin, &file)?);
                    let old = f.reference.to_string();
                    self.rewrite(Rewrite { file: file.clone(), line: f.line(), path: f.path.clone(), old, new });
                }
            }
        }
        if let Some(g) = tree.get("global").and_then(|g| g.get("imageRegistry")).and_then(Node::scalar)
            && !g.value.is_empty()
            && governed > 0
        {
            if governed_unmapped.is_empty() {
                let host = self.s.registry_host.unwrap_or_default();
                if g.value != host {
                    edits.extend(yaml::replace(g, host));
                    let (old, new) = (g.value.clone(), host.to_owned());
                    self.rewrite(Rewrite {
                        file: file.clone(),
                        line: g.line,
                        path: "global.imageRegistry".into(),
                        old,
                        new,
                    });
                }
            } else {
                self.report.borrow_mut().notes.push(format!(
                    "{file}:{}: global.imageRegistry `{}` was left as it is: it also governs image(s) no `from` maps ({}), \
                     which would then be pulled from the org's registry; map them too",
                    g.line,
                    g.value,
                    governed_unmapped.join(", ")
                ));
            }
        }
        if !edits.is_empty() {
            let new = yaml::apply(source, edits);
            yaml::parse(&new).map_err(|e| ChartError::Internal(format!("{file}: the edit broke the YAML: {e}")))?;
            if let Some(e) = archive.get_mut(&path) {
                e.data = new.into_bytes();
            }
        }
        Ok(())
    }

    /// The text edits that write `pin` in the shape `f` uses.
    fn edits(&self, f: &Found, pin: &Pin, file: &str) -> Result<Vec<Edit>> {
        let block = |line: usize| {
            ChartError::bad_chart(file, format!("line {line}: an image in a block scalar (| or >) cannot be edited"))
        };
        let host = self.s.registry_host;
        let hosted = |repo: &str| match host {
            Some(h) => format!("{h}/{repo}"),
            None => repo.to_owned(),
        };
        let mut out = Vec::new();
        match &f.shape {
            Shape::String(s) => out.push(yaml::replace(s, &self.written(pin)).ok_or_else(|| block(s.line))?),
            Shape::Map { registry, repository, tag, digest } => {
                match registry {
                    Some(r) => {
                        out.push(yaml::replace(r, host.unwrap_or_default()).ok_or_else(|| block(r.line))?);
                        out.push(yaml::replace(repository, &pin.repository).ok_or_else(|| block(repository.line))?);
                    }
                    None => out.push(
                        yaml::replace(repository, &hosted(&pin.repository)).ok_or_else(|| block(repository.line))?,
                    ),
                }
                match (tag, digest) {
                    (tag, Some(d)) => {
                        out.push(yaml::replace(d, &pin.digest).ok_or_else(|| block(d.line))?);
                        if let Some(t) = tag {
                            let value = pin.tag.clone().unwrap_or_default();
                            out.push(yaml::replace(t, &value).ok_or_else(|| block(t.line))?);
                        }
                    }
                    (Some(t), None) => {
                        let value = format!("{}@{}", pin.tag.as_deref().unwrap_or("latest"), pin.digest);
                        out.push(yaml::replace(t, &value).ok_or_else(|| block(t.line))?);
                    }
                    (None, None) => self.report.borrow_mut().notes.push(format!(
                        "{file}:{} ({}): not pinned to a digest: the map has no `tag` or `digest` field",
                        f.line(),
                        f.path
                    )),
                }
            }
        }
        Ok(out)
    }

    /// `[host/]repository[:tag]@digest`.
    fn written(&self, pin: &Pin) -> String {
        let mut s = match self.s.registry_host {
            Some(h) => format!("{h}/{}", pin.repository),
            None => pin.repository.clone(),
        };
        if let Some(t) = &pin.tag {
            s.push(':');
            s.push_str(t);
        }
        s.push('@');
        s.push_str(&pin.digest);
        s
    }

    fn rewrite(&self, r: Rewrite) {
        self.report.borrow_mut().rewrites.push(r);
    }

    /// The digest target `t` (of reference `r`, found `at`) has now; a missing target is an
    /// error naming it.
    fn pin(&self, t: &Target, r: &ImageRef, at: &str) -> Result<Pin> {
        let key = (t.repository.clone(), t.tag.clone(), t.digest.clone());
        if let Some(p) = self.cache.borrow().get(&key) {
            return Ok(p.clone());
        }
        let missing = |what: String| {
            ChartError::Refused(format!(
                "target {what} (mapped from {r} at {at}) does not exist in the registry: push it, or build the customization that makes it, first"
            ))
        };
        let digest = match (&t.digest, &t.tag) {
            (Some(d), _) => {
                if !self.targets.exists(&t.repository, d)? {
                    return Err(missing(format!("{}@{d}", t.repository)));
                }
                d.clone()
            }
            (None, Some(tag)) => {
                self.targets.digest(&t.repository, tag)?.ok_or_else(|| missing(format!("{}:{tag}", t.repository)))?
            }
            (None, None) => return Err(ChartError::Internal("a target with neither tag nor digest".into())),
        };
        let pin = Pin { repository: t.repository.clone(), tag: t.tag.clone(), digest };
        self.cache.borrow_mut().insert(key, pin.clone());
        Ok(pin)
    }
}
