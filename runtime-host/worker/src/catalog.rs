//! Package catalogs (DESIGN.md §5): the worker records the OS variant of every base it reads,
//! keeps each variant's catalog of installable packages in the store for the API, and — when a
//! repository publishes — queues the customizations that install packages on that variant
//! (their builds resolve again and are skipped when no version moved).

use std::collections::BTreeMap;
use std::sync::Arc;

use tailor_build::packages::PackageSource;
use tailor_build::variant::{OsVariant, catalog};
use tailor_store::{
    CatalogPackage, CatalogUpdate, ImageVariant, NativeDb, block_on, debounce_ms, known_variants, package_index,
    record_variant, replace_packages,
};

use crate::worker::{WorkerConfig, now_ms};

/// Records the variants of `reference`'s platforms (tags only: a digest names no tag to list).
pub fn record_variants(db: &NativeDb, reference: &str, variants: &BTreeMap<String, OsVariant>) {
    let Ok(r) = tailor_spec::Reference::parse(reference) else { return };
    let Some(tag) = &r.tag else { return };
    for (platform, v) in variants {
        let v = ImageVariant { platform: platform.clone(), variant: v.variant.clone(), arch: v.arch.clone() };
        if let Err(e) = block_on(record_variant(db, &r.repository, tag, &v, now_ms())) {
            eprintln!("tailor worker: recording the OS variant of {reference}: {e}");
        }
    }
}

/// Reads the catalog of `variant`/`arch` from the repositories and stores it.
pub fn refresh(db: &NativeDb, cfg: &WorkerConfig, variant: &str, arch: &str) -> anyhow::Result<CatalogUpdate> {
    let source = cfg.packages.clone().unwrap_or_else(|| Arc::new(PackageSource::defaults()));
    let v = OsVariant { variant: variant.to_owned(), arch: arch.to_owned() };
    let c = catalog(&source, &v)?;
    let packages: Vec<CatalogPackage> = c
        .packages
        .into_iter()
        .map(|p| CatalogPackage { name: p.name, version: p.version, summary: p.summary })
        .collect();
    let delay = block_on(debounce_ms(db))?;
    Ok(block_on(replace_packages(db, variant, arch, &c.digest, &packages, now_ms(), delay))?)
}

/// Variants whose catalog could not be read since the last poll (not tried again after every
/// build: an unreachable repository would slow each one down).
pub type Failed = std::sync::Mutex<std::collections::BTreeSet<(String, String)>>;

fn refresh_logged(db: &NativeDb, cfg: &WorkerConfig, variant: &str, arch: &str, failed: &Failed) -> usize {
    let mut failed = failed.lock().unwrap_or_else(|p| p.into_inner());
    failed.remove(&(variant.to_owned(), arch.to_owned()));
    match refresh(db, cfg, variant, arch) {
        Ok(u) => {
            if u.changed {
                eprintln!(
                    "tailor worker: package catalog of {variant} ({arch}) {}; {} build(s) queued",
                    if u.previous.is_some() { "changed" } else { "read" },
                    u.builds.len()
                );
            }
            u.builds.len()
        }
        Err(e) => {
            eprintln!("tailor worker: package catalog of {variant} ({arch}): {e}");
            failed.insert((variant.to_owned(), arch.to_owned()));
            0
        }
    }
}

/// Refreshes every known variant's catalog (the poll); returns how many builds were queued.
pub fn refresh_all(db: &NativeDb, cfg: &WorkerConfig, failed: &Failed) -> usize {
    let variants = block_on(known_variants(db)).unwrap_or_else(|e| {
        eprintln!("tailor worker: listing OS variants: {e}");
        Vec::new()
    });
    variants.iter().map(|(v, a)| refresh_logged(db, cfg, v, a, failed)).sum()
}

/// Reads the catalogs of variants seen for the first time (so the API lists their packages
/// without waiting for the next poll), but not those that failed since the last poll.
pub fn refresh_new(db: &NativeDb, cfg: &WorkerConfig, failed: &Failed) {
    for (v, a) in block_on(known_variants(db)).unwrap_or_default() {
        let tried = failed.lock().unwrap_or_else(|p| p.into_inner()).contains(&(v.clone(), a.clone()));
        if !tried && matches!(block_on(package_index(db, &v, &a)), Ok(None)) {
            refresh_logged(db, cfg, &v, &a, failed);
        }
    }
}
