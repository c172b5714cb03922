//! Where images live: a registry or the embedded OCI layout directory; clients are made per
//! org with the narrowest scope.

use std::path::PathBuf;

use tailor_oci::{Client, RegistryConfig, Scope};

#[derive(Debug, Clone)]
pub enum Target {
    Registry(RegistryConfig),
    Layout(PathBuf),
}

impl Target {
    /// A client that reads `org`'s namespace and writes only `write` repositories.
    pub fn client(&self, org: &str, write: &[String]) -> tailor_oci::Result<Client> {
        self.scoped(Scope::new([org.to_owned()], write.iter().cloned()))
    }

    /// A client with exactly `scope`.
    pub fn scoped(&self, scope: Scope) -> tailor_oci::Result<Client> {
        match self {
            Target::Registry(config) => Client::registry(config.clone(), scope),
            Target::Layout(dir) => Ok(Client::layout(dir.clone(), scope)),
        }
    }

    /// The registry's `host[:port]` (for `base.name` annotations and signed references).
    pub fn host(&self) -> Option<String> {
        match self {
            Target::Registry(c) => {
                Some(c.base_url.split("://").nth(1).unwrap_or(&c.base_url).trim_end_matches('/').to_owned())
            }
            Target::Layout(_) => None,
        }
    }

    /// Whether `config` names this registry (same scheme, host, port and path).
    pub fn is_registry(&self, config: &RegistryConfig) -> bool {
        let norm = |u: &str| u.trim().trim_end_matches('/').trim_end_matches("/v2").to_ascii_lowercase();
        matches!(self, Target::Registry(c) if norm(&c.base_url) == norm(&config.base_url))
    }

    pub fn describe(&self) -> String {
        match self {
            Target::Registry(c) => format!("registry {}", c.base_url),
            Target::Layout(dir) => format!("OCI layouts in {}", dir.display()),
        }
    }
}
