//! Chart customizations (DESIGN.md §10): one per chart repository — the image references its
//! charts deploy mapped to the org's images, every chart version (or those matching
//! `versions`) customized as `V+suffix`. The model, parsing with field paths, and validation
//! that collects every problem.

use serde::{Deserialize, Serialize};

use crate::error::{Problem, Result, shown};
use crate::mirror::glob_match;
use crate::reference::Reference;

/// At most this many mappings and version globs.
pub const MAX_MAPPINGS: usize = 200;
pub const MAX_VERSION_GLOBS: usize = 100;
/// Longest tag suffix (`V+suffix` must stay a tag of at most 128 characters).
const MAX_SUFFIX_LEN: usize = 40;

/// A chart customization as submitted and stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChartSpec {
    /// `[A-Za-z0-9][A-Za-z0-9._-]*`, at most 63 characters.
    pub name: String,
    /// The chart repository (OCI) in the org's namespace, no tag: `acme/dhi-web-chart`.
    pub source: String,
    /// Globs over chart versions (`1.*`); empty: every version.
    #[serde(default)]
    pub versions: Vec<String>,
    /// Where the customized versions go; default: the source repository.
    #[serde(default)]
    pub destination: Option<String>,
    /// Version `1.4.2` becomes `1.4.2+SUFFIX`, pushed as tag `1.4.2_SUFFIX`.
    pub tag_suffix: String,
    /// The image references the charts deploy, mapped to the org's images.
    #[serde(default)]
    pub reference_mapping: Vec<Mapping>,
    /// Fail when an image reference matches no `from`.
    #[serde(default)]
    pub strict: bool,
}

/// One mapping: an image repository as the chart names it → the org's repository (keeping the
/// reference's tag), repository:tag or repository@digest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mapping {
    pub from: String,
    pub to: String,
}

impl ChartSpec {
    pub fn from_json(text: &str) -> Result<ChartSpec> {
        crate::parse::json(text)
    }

    pub fn from_yaml(text: &str) -> Result<ChartSpec> {
        crate::parse::yaml(text)
    }

    /// The source repository path (`acme/dhi-web-chart`), when valid.
    pub fn source_repository(&self) -> Option<String> {
        Reference::parse(&self.source).ok().map(|r| r.repository)
    }

    /// Where the customized versions go.
    pub fn destination_repository(&self) -> String {
        self.destination.clone().unwrap_or_else(|| self.source.clone())
    }

    /// Whether chart version `version` is customized (it matches `versions`, and is not an
    /// output of this customization: `…+SUFFIX` or `…+meta.SUFFIX`).
    pub fn customizes(&self, version: &str) -> bool {
        let output = version
            .split_once('+')
            .is_some_and(|(_, meta)| meta == self.tag_suffix || meta.ends_with(&format!(".{}", self.tag_suffix)));
        !output && (self.versions.is_empty() || self.versions.iter().any(|g| glob_match(g, version)))
    }

    /// The chart version a Helm OCI tag stands for (`1.4.2_build.7` → `1.4.2+build.7`: Helm
    /// writes `+` as `_`, and versions have no `_` of their own).
    pub fn version_of_tag(tag: &str) -> String {
        tag.replacen('_', "+", 1)
    }

    /// Whether the chart version tagged `tag` is one to customize ([`ChartSpec::customizes`],
    /// and not a signature or referrers tag).
    pub fn customizes_tag(&self, tag: &str) -> bool {
        !crate::is_attachment_tag(tag) && self.customizes(&Self::version_of_tag(tag))
    }

    /// The customized version of `version`: `V+suffix`, or `V+meta.suffix` when V has build metadata.
    pub fn customized_version(&self, version: &str) -> String {
        if version.contains('+') {
            format!("{version}.{}", self.tag_suffix)
        } else {
            format!("{version}+{}", self.tag_suffix)
        }
    }

    /// Every problem with its field; `org` is the caller's namespace (source, destination and
    /// every `to` must lie in it).
    pub fn validate(&self, org: &str) -> std::result::Result<(), Vec<Problem>> {
        let mut problems = Vec::new();
        let mut problem = |field: String, text: String| problems.push(Problem::new(field, text));
        if let Err(e) = crate::validate::top::check_name(&self.name) {
            problem("name".into(), e);
        }
        for (field, value) in [("source", Some(&self.source)), ("destination", self.destination.as_ref())] {
            let Some(value) = value else { continue };
            if let Err(e) = org_repository(value, org) {
                problem(field.into(), e);
            }
        }
        if self.versions.len() > MAX_VERSION_GLOBS {
            problem("versions".into(), format!("{} globs; at most {MAX_VERSION_GLOBS}", self.versions.len()));
        }
        for (i, glob) in self.versions.iter().enumerate() {
            let ok = !glob.is_empty()
                && glob.len() <= 128
                && glob.chars().all(|c| c.is_ascii_alphanumeric() || ".+-*?".contains(c));
            if !ok {
                problem(
                    format!("versions[{i}]"),
                    format!(
                        "{} is not a glob over chart versions (letters, digits, `.`, `+`, `-`, `*`, `?`)",
                        shown(glob)
                    ),
                );
            }
        }
        if let Err(e) = check_suffix(&self.tag_suffix) {
            problem("tag_suffix".into(), e);
        }
        if self.reference_mapping.is_empty() {
            problem(
                "reference_mapping".into(),
                "at least one mapping is needed, e.g. {from: docker.io/library/nginx, to: acme/dhi-nginx}".into(),
            );
        }
        if self.reference_mapping.len() > MAX_MAPPINGS {
            problem(
                "reference_mapping".into(),
                format!("{} mappings; at most {MAX_MAPPINGS}", self.reference_mapping.len()),
            );
        }
        for (i, m) in self.reference_mapping.iter().enumerate() {
            match Reference::parse(&m.from) {
                Err(e) => problem(
                    format!("reference_mapping[{i}].from"),
                    format!("{e}: expected an image repository as the chart names it, e.g. docker.io/library/nginx"),
                ),
                Ok(r) if r.tag.is_some() || r.digest.is_some() => problem(
                    format!("reference_mapping[{i}].from"),
                    format!(
                        "{}: a `from` is a repository (every tag of it is mapped); drop the tag or digest",
                        shown(&m.from)
                    ),
                ),
                Ok(_) => {
                    if let Some(first) = self.reference_mapping[..i].iter().position(|o| o.from == m.from) {
                        problem(
                            format!("reference_mapping[{i}].from"),
                            format!("{} is also reference_mapping[{first}].from", shown(&m.from)),
                        );
                    }
                }
            }
            match Reference::parse(&m.to) {
                Err(e) => problem(
                    format!("reference_mapping[{i}].to"),
                    format!("{e}: expected a repository of the org, e.g. {org}/dhi-nginx"),
                ),
                Ok(r) if r.registry.is_some() => problem(
                    format!("reference_mapping[{i}].to"),
                    format!(
                        "{}: targets are in the org's registry; drop the host (tailor writes it into the chart)",
                        shown(&m.to)
                    ),
                ),
                Ok(r) if r.namespace() != org || r.repository == org => problem(
                    format!("reference_mapping[{i}].to"),
                    format!("{} is not in org `{org}`'s namespace: map to a repository under `{org}/`", shown(&m.to)),
                ),
                Ok(_) => {}
            }
        }
        if problems.is_empty() { Ok(()) } else { Err(problems) }
    }
}

/// A repository without host, tag or digest, in `org`'s namespace.
fn org_repository(value: &str, org: &str) -> std::result::Result<(), String> {
    let r = Reference::parse(value).map_err(|e| format!("{e}; expected a repository such as {org}/dhi-web-chart"))?;
    if r.registry.is_some() {
        return Err(format!("{}: the chart repository is in the org's registry; drop the host", shown(value)));
    }
    if r.tag.is_some() || r.digest.is_some() {
        return Err(format!(
            "{}: give the repository without tag or digest (choose versions with `versions`)",
            shown(value)
        ));
    }
    if r.namespace() != org || r.repository == org {
        return Err(format!("{} is not in org `{org}`'s namespace: use a repository under `{org}/`", shown(value)));
    }
    Ok(())
}

/// A semver build-metadata suffix: dot-separated identifiers of `[0-9A-Za-z-]`.
fn check_suffix(suffix: &str) -> std::result::Result<(), String> {
    if suffix.is_empty() {
        return Err("must not be empty: version 1.4.2 becomes 1.4.2+SUFFIX".to_owned());
    }
    if suffix.len() > MAX_SUFFIX_LEN {
        return Err(format!("{} characters; at most {MAX_SUFFIX_LEN}", suffix.len()));
    }
    let ok = suffix.split('.').all(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{} is not semver build metadata: use letters, digits and `-`, identifiers separated by `.`",
            shown(suffix)
        ))
    }
}
