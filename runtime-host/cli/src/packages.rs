//! `--repositories FILE` for `tailor build`, `tailor up` and `tailor worker`.

use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result};
use tailor_build::packages::{PackageSource, SharedSource};
use tailor_packages::fetch::Fetcher;
use tailor_packages::repos::Repositories;

/// The repositories of `file` (none: each release's official ones), fetching through a cache
/// of indexes and packages by hash in `cache`.
pub fn source(file: Option<&Path>, cache: Option<&Path>) -> Result<SharedSource> {
    let repositories = match file {
        Some(f) => {
            let text = std::fs::read_to_string(f).with_context(|| format!("--repositories {}", f.display()))?;
            Repositories::from_yaml(&text, &f.display().to_string())?
        }
        None => Repositories::default(),
    };
    Ok(Arc::new(PackageSource { repositories, fetcher: Fetcher::new(cache.map(Path::to_path_buf)) }))
}
