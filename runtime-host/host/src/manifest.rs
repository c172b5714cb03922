//! The subset of the Spin manifest (v2) `tailor up` runs: the application, its variables,
//! HTTP triggers and components. Anything a component asks for that this host does not
//! provide (key-value stores, outbound hosts other than PostgreSQL, other databases) is refused by name rather
//! than silently ignored.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    spin_manifest_version: u32,
    application: Application,
    #[serde(default)]
    variables: BTreeMap<String, Variable>,
    #[serde(default)]
    trigger: Triggers,
    #[serde(default)]
    component: BTreeMap<String, RawComponent>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Application {
    pub name: String,
    #[serde(default)]
    pub version: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub authors: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Variable {
    #[serde(default)]
    pub default: Option<String>,
    #[serde(default)]
    pub required: bool,
    #[serde(default)]
    pub secret: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Triggers {
    #[serde(default)]
    http: Vec<HttpTrigger>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct HttpTrigger {
    route: String,
    component: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawComponent {
    source: String,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    allowed_outbound_hosts: Vec<String>,
    #[serde(default)]
    key_value_stores: Vec<String>,
    #[serde(default)]
    sqlite_databases: Vec<String>,
    #[serde(default)]
    variables: BTreeMap<String, String>,
    #[serde(default)]
    build: Option<toml::Value>,
}

/// One component to serve.
#[derive(Debug, Clone)]
pub struct Component {
    pub id: String,
    /// Absolute path of the `.wasm`.
    pub source: PathBuf,
    /// The component's bytes when they were given with the manifest (a binary's embedded
    /// components) rather than read from `source`.
    pub wasm: Option<Arc<[u8]>>,
    pub sqlite: bool,
    /// `allowed_outbound_hosts`: `postgres://HOST:PORT` templates (`{{ var }}` allowed).
    pub postgres_hosts: Vec<String>,
    /// Component variable → template (`"{{ app_var }}"` or literal text).
    pub variables: BTreeMap<String, String>,
}

#[derive(Debug)]
pub struct Manifest {
    pub application: Application,
    pub variables: BTreeMap<String, Variable>,
    /// (route, component id) in manifest order.
    pub routes: Vec<(String, String)>,
    pub components: BTreeMap<String, Component>,
}

impl Manifest {
    /// Reads `spin.toml`; component sources resolve against its directory.
    pub fn load(path: &Path) -> Result<Manifest> {
        let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let dir = path.parent().unwrap_or(Path::new("."));
        Manifest::parse(&text, dir).with_context(|| format!("in {}", path.display()))
    }

    /// A manifest whose component sources are given: `files` maps each `source` as written
    /// in `text` to its bytes (the components a binary carries).
    pub fn embedded(text: &str, files: &[(&str, &'static [u8])]) -> Result<Manifest> {
        let raw: Raw = toml::from_str(text)?;
        let mut m = Manifest::parse(text, Path::new(""))?;
        for (id, c) in &raw.component {
            let Some((_, bytes)) = files.iter().find(|(name, _)| *name == c.source) else {
                bail!("component.{id}.source: {} is not among the embedded components", c.source);
            };
            if let Some(component) = m.components.get_mut(id) {
                component.wasm = Some(Arc::from(*bytes));
            }
        }
        Ok(m)
    }

    pub fn parse(text: &str, dir: &Path) -> Result<Manifest> {
        let raw: Raw = toml::from_str(text)?;
        if raw.spin_manifest_version != 2 {
            bail!("spin_manifest_version = {}: only version 2 is supported", raw.spin_manifest_version);
        }
        let mut components = BTreeMap::new();
        for (id, c) in raw.component {
            let _ = (&c.description, &c.build);
            for (i, host) in c.allowed_outbound_hosts.iter().enumerate() {
                if !host.starts_with("postgres://") {
                    bail!(
                        "component.{id}.allowed_outbound_hosts[{i}]: {host:?}: tailor up allows only PostgreSQL \
                         (postgres://HOST:PORT); other outbound network access is not supported"
                    );
                }
                for var in template_refs(host).with_context(|| format!("component.{id}.allowed_outbound_hosts[{i}]"))? {
                    if !raw.variables.contains_key(&var) {
                        bail!(
                            "component.{id}.allowed_outbound_hosts[{i}]: refers to {{{{ {var} }}}}, which [variables] does not declare"
                        );
                    }
                }
            }
            if !c.key_value_stores.is_empty() {
                bail!("component.{id}.key_value_stores: key-value stores are not supported by tailor up yet");
            }
            if let Some(db) = c.sqlite_databases.iter().find(|d| *d != "default") {
                bail!("component.{id}.sqlite_databases: only the \"default\" database is supported, not {db:?}");
            }
            for (name, template) in &c.variables {
                for var in template_refs(template).with_context(|| format!("component.{id}.variables.{name}"))? {
                    if !raw.variables.contains_key(&var) {
                        bail!(
                            "component.{id}.variables.{name}: refers to {{{{ {var} }}}}, which [variables] does not declare"
                        );
                    }
                }
            }
            components.insert(
                id.clone(),
                Component {
                    id: id.clone(),
                    source: dir.join(&c.source),
                    wasm: None,
                    sqlite: !c.sqlite_databases.is_empty(),
                    postgres_hosts: c.allowed_outbound_hosts,
                    variables: c.variables,
                },
            );
        }
        let mut routes = Vec::new();
        for (i, t) in raw.trigger.http.iter().enumerate() {
            if !components.contains_key(&t.component) {
                bail!("trigger.http[{i}].component: no [component.{}] in the manifest", t.component);
            }
            if !t.route.starts_with('/') {
                bail!("trigger.http[{i}].route: {:?} must start with /", t.route);
            }
            routes.push((t.route.clone(), t.component.clone()));
        }
        Ok(Manifest { application: raw.application, variables: raw.variables, routes, components })
    }
}

/// Names of the application variables a template refers to (`{{ name }}`).
pub fn template_refs(template: &str) -> Result<Vec<String>> {
    let mut out = Vec::new();
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else { bail!("unclosed {{{{ in {template:?}") };
        out.push(after[..end].trim().to_owned());
        rest = &after[end + 2..];
    }
    Ok(out)
}

/// Expands `{{ name }}` with `lookup`.
pub fn expand(template: &str, lookup: &dyn Fn(&str) -> Option<String>) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after.find("}}").ok_or_else(|| format!("unclosed {{{{ in {template:?}"))?;
        let name = after[..end].trim();
        out.push_str(&lookup(name).ok_or_else(|| format!("variable {name} has no value"))?);
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
spin_manifest_version = 2
[application]
name = "t"
[variables]
secret = { default = "", secret = true }
[[trigger.http]]
route = "/v1/..."
component = "api"
[component.api]
source = "target/x.wasm"
sqlite_databases = ["default"]
[component.api.variables]
s = "pre-{{ secret }}"
[component.api.build]
command = "cargo build"
"#;

    #[test]
    fn parses_the_subset() {
        let m = Manifest::parse(GOOD, Path::new("/app")).unwrap();
        assert_eq!(m.routes, [("/v1/...".to_string(), "api".to_string())]);
        let api = &m.components["api"];
        assert_eq!(api.source, Path::new("/app/target/x.wasm"));
        assert!(api.sqlite);
        assert_eq!(expand(&api.variables["s"], &|n| (n == "secret").then(|| "x".into())).unwrap(), "pre-x");
    }

    #[test]
    fn refuses_what_it_cannot_provide() {
        for (from, to, expect) in [
            ("sqlite_databases = [\"default\"]", "key_value_stores = [\"default\"]", "key_value_stores"),
            ("sqlite_databases = [\"default\"]", "sqlite_databases = [\"other\"]", "only the \"default\""),
            ("sqlite_databases = [\"default\"]", "allowed_outbound_hosts = [\"https://x\"]", "only PostgreSQL"),
            (
                "sqlite_databases = [\"default\"]",
                "allowed_outbound_hosts = [\"postgres://{{ nope }}\"]",
                "does not declare",
            ),
            ("component = \"api\"", "component = \"nope\"", "no [component.nope]"),
            ("{{ secret }}", "{{ missing }}", "does not declare"),
            ("spin_manifest_version = 2", "spin_manifest_version = 1", "only version 2"),
            ("name = \"t\"", "name = \"t\"\nfrobnicate = 1", "unknown field"),
        ] {
            let text = GOOD.replace(from, to);
            let err = format!("{:#}", Manifest::parse(&text, Path::new("/")).unwrap_err());
            assert!(err.contains(expect), "{to}: {err}");
        }
    }
}
