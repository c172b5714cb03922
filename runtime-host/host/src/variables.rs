//! `spin:variables@3.0.0`: a component's variables, expanded from the application variables
//! (`SPIN_VARIABLE_<NAME>` in the environment, then values the host sets, e.g. webhook
//! endpoints from `--webhook`, then the manifest default).

use std::collections::BTreeMap;

use anyhow::{Result, bail};
use wasmtime::component::{Accessor, HasData};

use crate::bindings::spin::variables::variables::{self, Error};
use crate::manifest::{Manifest, expand};

/// The resolved variables of one component.
#[derive(Debug, Default)]
pub struct VariablesCtx {
    values: BTreeMap<String, String>,
}

impl VariablesCtx {
    /// Resolves every variable of `component` now, so a missing required value fails at start.
    pub fn resolve(
        manifest: &Manifest,
        component: &str,
        host_values: &BTreeMap<String, String>,
    ) -> Result<VariablesCtx> {
        let app = app_values(manifest, host_values)?;
        let mut values = BTreeMap::new();
        if let Some(c) = manifest.components.get(component) {
            for (name, template) in &c.variables {
                let v = expand(template, &|n| app.get(n).cloned())
                    .map_err(|e| anyhow::anyhow!("component.{component}.variables.{name}: {e}"))?;
                values.insert(name.clone(), v);
            }
        }
        Ok(VariablesCtx { values })
    }

    pub fn get(&self, name: &str) -> Result<String, Error> {
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_') {
            return Err(Error::InvalidName(name.to_owned()));
        }
        self.values.get(name).cloned().ok_or_else(|| Error::Undefined(name.to_owned()))
    }
}

/// The application variables' values: `SPIN_VARIABLE_<NAME>`, else the host's, else the default.
pub fn app_values(manifest: &Manifest, host_values: &BTreeMap<String, String>) -> Result<BTreeMap<String, String>> {
    let mut app = BTreeMap::new();
    for (name, def) in &manifest.variables {
        let env = std::env::var(format!("SPIN_VARIABLE_{}", name.to_ascii_uppercase())).ok();
        match env.or_else(|| host_values.get(name).cloned()).or_else(|| def.default.clone()) {
            Some(v) => {
                app.insert(name.clone(), v);
            }
            None if def.required => {
                bail!("variable {name} is required: set SPIN_VARIABLE_{}", name.to_ascii_uppercase())
            }
            None => {}
        }
    }
    Ok(app)
}

pub struct SpinVariables;

impl HasData for SpinVariables {
    type Data<'a> = &'a VariablesCtx;
}

impl variables::Host for &VariablesCtx {}

impl<T> variables::HostWithStore<T> for SpinVariables {
    async fn get(accessor: &Accessor<T, Self>, name: String) -> wasmtime::Result<Result<String, Error>> {
        Ok(accessor.with(|mut access| access.get().get(&name)))
    }
}
