//! The configured endpoints: the Spin variable `webhook_endpoints` holds `name=secret` pairs
//! separated by commas or newlines, e.g. `registry=s3cr3t,hub=0th3r`.

use std::fmt;

/// One endpoint: the name in its URL (`/v1/hooks/{name}`) and its shared secret.
#[derive(Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub name: String,
    pub secret: String,
    /// The upstream registry host whose notifications arrive here (mirrors sync from them),
    /// or None for the org registry (customizations rebuild).
    pub upstream: Option<String>,
}

/// Never prints the secret.
impl fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Endpoint")
            .field("name", &self.name)
            .field("secret", &"<redacted>")
            .field("upstream", &self.upstream)
            .finish()
    }
}

/// The configured endpoints, in the order given.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Endpoints {
    list: Vec<Endpoint>,
}

impl Endpoints {
    /// Parses `name=secret` entries separated by commas or newlines. Blank entries (a trailing
    /// comma, empty lines) are skipped and spaces around an entry or its `=` are trimmed;
    /// empty text means no endpoints. Errors name the entry (its position, and its name when it
    /// has one) but never repeat a secret.
    pub fn parse(text: &str) -> Result<Endpoints, String> {
        let mut list: Vec<Endpoint> = Vec::new();
        let entries = text.split([',', '\n']).map(str::trim).filter(|e| !e.is_empty());
        for (index, entry) in entries.enumerate() {
            let position = index + 1;
            let Some((name, secret)) = entry.split_once('=') else {
                return Err(format!("entry {position}: expected name=secret, found no \"=\""));
            };
            let (name, secret) = (name.trim(), secret.trim());
            if !is_valid_name(name) {
                return Err(format!(
                    "entry {position}: the endpoint name {name:?} is not valid: use lowercase letters, digits, \
                     '_' and '-', starting with a letter or digit"
                ));
            }
            if secret.is_empty() {
                return Err(format!("entry {position} ({name}): the secret is empty"));
            }
            if secret.chars().any(|c| c.is_whitespace() || c.is_control()) {
                return Err(format!("entry {position} ({name}): the secret contains whitespace or control characters"));
            }
            if list.iter().any(|e| e.name == name) {
                return Err(format!("entry {position} ({name}): the endpoint {name} is defined more than once"));
            }
            list.push(Endpoint { name: name.to_owned(), secret: secret.to_owned(), upstream: None });
        }
        Ok(Endpoints { list })
    }

    /// Binds endpoints to upstream registry hosts: `name=host` entries (the variable
    /// `webhook_upstreams`), separated by commas or newlines. An unknown endpoint or a host
    /// that is not `host[:port]` is an error naming the entry.
    pub fn with_upstreams(mut self, text: &str) -> Result<Endpoints, String> {
        let entries = text.split([',', '\n']).map(str::trim).filter(|e| !e.is_empty());
        for (index, entry) in entries.enumerate() {
            let position = index + 1;
            let Some((name, host)) = entry.split_once('=') else {
                return Err(format!("upstream entry {position}: expected endpoint=host, found no \"=\""));
            };
            let (name, host) = (name.trim(), host.trim());
            let valid_host =
                tailor_spec::Reference::parse(&format!("{host}/x")).is_ok_and(|r| r.registry.as_deref() == Some(host));
            if !valid_host {
                return Err(format!("upstream entry {position} ({name}): {host:?} is not a registry host[:port]"));
            }
            let Some(endpoint) = self.list.iter_mut().find(|e| e.name == name) else {
                return Err(format!("upstream entry {position}: there is no webhook endpoint {name:?}"));
            };
            endpoint.upstream = Some(host.to_owned());
        }
        Ok(self)
    }

    /// The endpoint called `name`.
    pub fn get(&self, name: &str) -> Option<&Endpoint> {
        self.list.iter().find(|e| e.name == name)
    }

    /// The endpoint names, in the order given.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.list.iter().map(|e| e.name.as_str())
    }

    pub fn len(&self) -> usize {
        self.list.len()
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }
}

/// `[a-z0-9][a-z0-9_-]*`
fn is_valid_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    bytes.next().is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        && bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}
