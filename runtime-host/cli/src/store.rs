//! Options shared by commands that reach a store, and making the scoped client.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Result, bail};
use clap::Args;
use tailor_oci::{Client, Credentials, Progress, RegistryConfig, Scope};

#[derive(Args, Debug, Clone)]
pub struct StoreArgs {
    /// Registry for references without a registry host.
    #[arg(long, value_name = "URL", default_value = "http://127.0.0.1:5000", env = "TAILOR_REGISTRY")]
    pub registry: String,
    /// Use a directory of OCI image layouts (`DIR/<namespace>/<repo>`) instead of a registry.
    #[arg(long, value_name = "DIR", conflicts_with = "registry")]
    pub layout: Option<PathBuf>,
    /// Allow plain HTTP to non-loopback registries and skip TLS certificate checks.
    #[arg(long)]
    pub insecure: bool,
}

/// The scheme to use for a registry host named in a reference.
fn url_for_host(host: &str) -> String {
    let name = host.rsplit_once(':').map_or(host, |(h, _)| h);
    if name == "localhost" || name.starts_with("127.") || name == "[::1]" {
        format!("http://{host}")
    } else {
        format!("https://{host}")
    }
}

pub fn host_of(url: &str) -> String {
    url.split("://").nth(1).unwrap_or(url).trim_end_matches('/').to_string()
}

impl StoreArgs {
    /// A client for `scope`. `named_host` is a registry host named by the references, if any.
    pub fn client(&self, named_host: Option<&str>, scope: Scope) -> Result<(Client, Option<String>)> {
        if let Some(dir) = &self.layout {
            if let Some(h) = named_host {
                bail!(
                    "the references name registry {h}, but --layout was given: drop the registry host from the references or use --registry"
                );
            }
            return Ok((Client::layout(dir, scope), None));
        }
        let url = match named_host {
            Some(h) if h != host_of(&self.registry) => url_for_host(h),
            _ => self.registry.clone(),
        };
        let host = host_of(&url);
        let mut config = RegistryConfig::new(url).with_insecure(self.insecure);
        if let Some(c) = Credentials::lookup(&host) {
            config.credentials = Some(c);
        }
        Ok((Client::registry(config, scope)?, Some(host)))
    }
}

/// Transfer progress on stderr for blobs of 8 MiB or more: a line every 16 MiB and at the end.
pub struct StderrProgress;

impl Progress for StderrProgress {
    fn transfer(&self, what: &str, done: u64, total: u64) {
        if total >= 8 << 20 && (done == total || done.is_multiple_of(16 << 20)) {
            eprintln!("tailor:   {what}: {} / {} MiB", done >> 20, total >> 20);
        }
    }
}

pub fn progress(quiet: bool) -> Arc<dyn Progress> {
    if quiet { Arc::new(tailor_oci::Quiet) } else { Arc::new(StderrProgress) }
}

pub fn log(quiet: bool) -> Arc<dyn Fn(&str) + Send + Sync> {
    if quiet { Arc::new(|_| {}) } else { Arc::new(|m: &str| eprintln!("tailor: {m}")) }
}

/// `$XDG_CACHE_HOME/tailor` or `$HOME/.cache/tailor`.
pub fn default_cache_dir() -> Option<PathBuf> {
    std::env::var_os("XDG_CACHE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .map(|d| d.join("tailor"))
}
