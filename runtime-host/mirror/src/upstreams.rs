//! The upstream registries the operator declared (`--upstream HOST=URL`): the only places a
//! mirror may read from. Tenants name a host; the service looks it up here and never connects
//! anywhere else. Credentials per upstream come from `TAILOR_UPSTREAM_<HOST>_USER` /
//! `_PASSWORD`, else docker's `config.json` entry for the host, else none — never from the org
//! registry's credentials.

use std::collections::BTreeMap;

use tailor_oci::{Credentials, RegistryConfig};

use crate::error::{MirrorError, Result};

/// One declared upstream: the host tenants write in mirror sources, and how to reach it.
#[derive(Debug, Clone)]
pub struct Upstream {
    pub host: String,
    pub config: RegistryConfig,
}

/// The declared upstreams, by host.
#[derive(Debug, Clone, Default)]
pub struct Upstreams {
    by_host: BTreeMap<String, Upstream>,
}

/// The environment variables holding the user and password for upstream `host`:
/// `dhi.io` → `TAILOR_UPSTREAM_DHI_IO_USER`, `TAILOR_UPSTREAM_DHI_IO_PASSWORD`.
pub fn credentials_env(host: &str) -> (String, String) {
    let name: String =
        host.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_uppercase() } else { '_' }).collect();
    (format!("TAILOR_UPSTREAM_{name}_USER"), format!("TAILOR_UPSTREAM_{name}_PASSWORD"))
}

fn credentials(host: &str) -> Option<Credentials> {
    let (user, password) = credentials_env(host);
    match (std::env::var(user), std::env::var(password)) {
        (Ok(u), Ok(p)) if !u.is_empty() => Some(Credentials::new(u, p)),
        _ => Credentials::from_docker_config(host),
    }
}

/// Whether `host` is a valid `host[:port]` as image references write it.
fn valid_host(host: &str) -> bool {
    tailor_spec::Reference::parse(&format!("{host}/x")).is_ok_and(|r| r.registry.as_deref() == Some(host))
}

impl Upstreams {
    /// Parses `HOST=URL` declarations (`dhi.io=https://dhi.io`, `127.0.0.1:5001=http://127.0.0.1:5001`).
    /// `insecure` allows plain HTTP to hosts that are not loopback. Errors name the declaration.
    pub fn parse<S: AsRef<str>>(declarations: &[S], insecure: bool) -> Result<Upstreams> {
        let mut by_host = BTreeMap::new();
        for d in declarations {
            let d = d.as_ref().trim();
            let Some((host, url)) = d.split_once('=') else {
                return Err(MirrorError::Config(format!(
                    "--upstream {d:?}: expected HOST=URL, e.g. dhi.io=https://dhi.io"
                )));
            };
            let (host, url) = (host.trim(), url.trim());
            if !valid_host(host) {
                return Err(MirrorError::Config(format!(
                    "--upstream {d:?}: {host:?} is not a registry host as references write it (e.g. dhi.io or 127.0.0.1:5001)"
                )));
            }
            if by_host.contains_key(host) {
                return Err(MirrorError::Config(format!("--upstream {d:?}: {host} is declared twice")));
            }
            let mut config = RegistryConfig::new(url).with_insecure(insecure);
            config.credentials = credentials(host);
            config.anonymous = true;
            // Check the URL now (scheme, plain HTTP only to loopback unless insecure).
            tailor_oci::Client::registry(config.clone(), tailor_oci::Scope::default())
                .map_err(|e| MirrorError::Config(format!("--upstream {d:?}: {e}")))?;
            by_host.insert(host.to_owned(), Upstream { host: host.to_owned(), config });
        }
        Ok(Upstreams { by_host })
    }

    /// The upstream declared for `host`.
    pub fn get(&self, host: &str) -> Option<&Upstream> {
        self.by_host.get(host)
    }

    /// The declared hosts, sorted.
    pub fn hosts(&self) -> Vec<String> {
        self.by_host.keys().cloned().collect()
    }

    pub fn is_empty(&self) -> bool {
        self.by_host.is_empty()
    }
}
