//! Org extensions (DESIGN.md §11): a policy component in the org's namespace, its settings,
//! whether its denials fail builds (`enforce`) or are only recorded (`warn`), and the source
//! repositories whose builds it checks. The model, parsing with field paths, and validation
//! that collects every problem.

use serde::{Deserialize, Serialize};

use crate::error::{Problem, Result, shown};
use crate::reference::Reference;

/// Settings larger than this (as JSON) are refused.
pub const MAX_SETTINGS_BYTES: usize = 64 << 10;
pub const MAX_APPLIES_TO: usize = 50;

fn default_mode() -> String {
    "enforce".into()
}

fn default_settings() -> serde_json::Value {
    serde_json::json!({})
}

/// An extension as submitted (`POST /v1/orgs/{org}/extensions`) and stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExtensionSpec {
    /// Unique in the org: `[a-z0-9][a-z0-9-]*`, at most 63.
    pub name: String,
    /// The component: `ORG/REPO:TAG` or `ORG/REPO@sha256:…` in the org's namespace.
    pub reference: String,
    /// Handed to the extension (`validate-settings`, each check) as JSON.
    #[serde(default = "default_settings")]
    pub settings: serde_json::Value,
    /// `enforce` (a deny fails the build) or `warn` (findings are recorded only).
    #[serde(default = "default_mode")]
    pub mode: String,
    /// Globs over source repositories (`acme/dhi-*`) whose builds it checks; empty: all.
    #[serde(default)]
    pub applies_to: Vec<String>,
}

impl ExtensionSpec {
    pub fn from_json(text: &str) -> Result<ExtensionSpec> {
        crate::parse::json(text)
    }

    pub fn from_yaml(text: &str) -> Result<ExtensionSpec> {
        crate::parse::yaml(text)
    }

    /// Whether it checks builds from source repository `repository`.
    pub fn applies_to(&self, repository: &str) -> bool {
        self.applies_to.is_empty() || self.applies_to.iter().any(|g| crate::mirror::glob_match(g, repository))
    }

    /// Every problem, with its field; the component and the globs must be in `org`'s namespace.
    pub fn validate(&self, org: &str) -> std::result::Result<(), Vec<Problem>> {
        let mut problems = Vec::new();
        let mut problem = |field: &str, text: String| problems.push(Problem::new(field, text));
        let name_ok = !self.name.is_empty()
            && self.name.len() <= 63
            && self.name.bytes().next().is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
            && self.name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !name_ok {
            problem(
                "name",
                format!("{}: use 1 to 63 of a-z, 0-9 and -, starting with a letter or digit", shown(&self.name)),
            );
        }
        match Reference::parse(&self.reference) {
            Err(e) => problem("reference", e),
            Ok(r) => {
                if r.registry.is_some() {
                    problem(
                        "reference",
                        format!(
                            "{}: extensions come from the org's own registry; drop the host",
                            shown(&self.reference)
                        ),
                    );
                } else if r.namespace() != org || r.repository == org {
                    problem(
                        "reference",
                        format!("{} is not in org `{org}`'s namespace: push it under `{org}/`", shown(&self.reference)),
                    );
                } else if r.tag.is_none() && r.digest.is_none() {
                    problem(
                        "reference",
                        format!("{}: give a tag or a digest, e.g. {}:1.0", shown(&self.reference), r.repository),
                    );
                }
            }
        }
        if !self.settings.is_object() {
            problem("settings", "settings are a JSON object, e.g. {\"packages\": [\"telnet\"]}".into());
        } else if self.settings.to_string().len() > MAX_SETTINGS_BYTES {
            problem("settings", format!("over {MAX_SETTINGS_BYTES} bytes of JSON"));
        }
        if self.mode != "enforce" && self.mode != "warn" {
            problem("mode", format!("{} is not enforce or warn", shown(&self.mode)));
        }
        if self.applies_to.len() > MAX_APPLIES_TO {
            problem("applies_to", format!("{} globs; at most {MAX_APPLIES_TO}", self.applies_to.len()));
        }
        for (i, g) in self.applies_to.iter().enumerate() {
            let ok = !g.is_empty()
                && g.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-/*?".contains(&b))
                && (g.starts_with(&format!("{org}/")) || g == "*");
            if !ok {
                problem(
                    &format!("applies_to[{i}]"),
                    format!("{}: a glob over the org's repositories, e.g. `{org}/dhi-*`", shown(g)),
                );
            }
        }
        if problems.is_empty() { Ok(()) } else { Err(problems) }
    }
}
