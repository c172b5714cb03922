//! Reading the listings the API (or a push) asked for (DESIGN.md §13): an image tag's file tree
//! on one platform, a chart version's image references, a tag's platforms and the OS of each —
//! through a client that reads only the org's namespace (the repository's first path segment).

use tailor_build::listing::list_files;
use tailor_build::resolve::{Image, resolve, spec_platform_key};
use tailor_chart::archive::Limits as ChartLimits;
use tailor_oci::Client;
use tailor_spec::{Platform, Reference};
use tailor_store::{
    ListedFile, Listing, NativeDb, block_on, claim_listings, fail_listing, record_artifact, record_platforms,
    store_data, store_files,
};

use crate::worker::{WorkerConfig, now_ms};

/// Entries of a file tree kept at most.
pub const MAX_FILES: usize = 100_000;
/// A listing `reading` this long is claimed again (its worker died).
const STALE_MS: i64 = 300_000;

/// Reads what is asked for, a few at a time; returns how many listings were read.
/// `failed`: the catalogs that could not be read since the last poll (an image whose OS was
/// just learned gets its catalog read now, as after a first build).
pub fn read_listings(db: &NativeDb, cfg: &WorkerConfig, failed: &crate::catalog::Failed) -> usize {
    let claimed = match block_on(claim_listings(db, now_ms(), STALE_MS, 4)) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("tailor worker: listings: {e}");
            return 0;
        }
    };
    for l in &claimed {
        let outcome = read(db, cfg, l);
        if let Err(e) = &outcome {
            let _ = block_on(fail_listing(db, l, e, now_ms()));
        }
        eprintln!(
            "tailor worker: {} of {}:{}{}: {}",
            l.kind,
            l.repository,
            l.tag,
            if l.platform.is_empty() { String::new() } else { format!(" ({})", l.platform) },
            outcome.err().unwrap_or_else(|| "read".into())
        );
    }
    if cfg.poll_interval.is_some() && claimed.iter().any(|l| l.kind == "os") {
        crate::catalog::refresh_new(db, cfg, failed);
    }
    claimed.len()
}

fn client(cfg: &WorkerConfig, repository: &str) -> Result<Client, String> {
    let org = repository.split('/').next().unwrap_or_default();
    cfg.target.client(org, &[]).map_err(|e| e.to_string())
}

/// `chart` or `artifact` for a manifest whose config is not an image's; None for an image
/// (an index, or a manifest with an image config).
fn artifact_kind(m: &tailor_oci::RawManifest) -> Option<&'static str> {
    if tailor_oci::media::is_index(&m.media_type) {
        return None;
    }
    let doc: serde_json::Value = serde_json::from_slice(&m.bytes).ok()?;
    let config = doc["config"]["mediaType"].as_str().unwrap_or_default();
    match config {
        tailor_chart::build::HELM_CONFIG => Some("chart"),
        "application/vnd.oci.image.config.v1+json" | "application/vnd.docker.container.image.v1+json" => None,
        _ => Some("artifact"),
    }
}

/// Records the tag's digest and platforms in the catalog (what the API lists for its tags).
fn record(db: &NativeDb, l: &Listing, image: &Image) {
    let platforms: Vec<String> = image.platforms.keys().cloned().collect();
    let digest = image.digest.to_string();
    if let Err(e) = block_on(record_platforms(db, &l.repository, &l.tag, &digest, &platforms, now_ms())) {
        eprintln!("tailor worker: recording the platforms of {}:{}: {e}", l.repository, l.tag);
    }
}

fn read(db: &NativeDb, cfg: &WorkerConfig, l: &Listing) -> Result<(), String> {
    let client = client(cfg, &l.repository)?;
    let reference =
        Reference { registry: None, repository: l.repository.clone(), tag: Some(l.tag.clone()), digest: None };
    match l.kind.as_str() {
        "platforms" => {
            let manifest = client.get_manifest(&l.repository, &l.tag).map_err(|e| e.to_string())?;
            let digest = manifest.digest.to_string();
            let data = match artifact_kind(&manifest) {
                Some(kind) => {
                    block_on(record_artifact(db, &l.repository, &l.tag, &digest, kind, now_ms()))
                        .map_err(|e| e.to_string())?;
                    serde_json::json!({ "kind": kind, "platforms": [] })
                }
                None => {
                    let image = resolve(&client, "tag", &reference).map_err(|e| e.to_string())?;
                    record(db, l, &image);
                    serde_json::json!({ "kind": "image", "platforms": image.platforms.keys().collect::<Vec<_>>() })
                }
            };
            block_on(store_data(db, l, &digest, &data, now_ms())).map_err(|e| e.to_string())
        }
        "os" => {
            let image = resolve(&client, "tag", &reference).map_err(|e| e.to_string())?;
            record(db, l, &image);
            let limits = tailor_build::tarfs::Limits::default();
            let variants =
                tailor_build::variant::os_variants(&client, &image, &cfg.cache, limits).map_err(|e| e.to_string())?;
            crate::catalog::record_variants(db, &format!("{}:{}", l.repository, l.tag), &variants);
            let data = serde_json::json!({ "variants": variants });
            block_on(store_data(db, l, image.digest.as_str(), &data, now_ms())).map_err(|e| e.to_string())
        }
        "files" => {
            let image = resolve(&client, "tag", &reference).map_err(|e| e.to_string())?;
            record(db, l, &image);
            let key = spec_platform_key(&Platform::parse(&l.platform)?);
            let limits = tailor_build::tarfs::Limits::default();
            let listing = list_files(&client, &image, &key, limits, MAX_FILES).map_err(|e| e.to_string())?;
            let files: Vec<ListedFile> = listing
                .entries
                .iter()
                .map(|e| {
                    let (parent, name) = match e.path.rsplit_once('/') {
                        Some((p, n)) => (format!("/{p}"), n.to_owned()),
                        None => ("/".to_owned(), e.path.clone()),
                    };
                    ListedFile { parent, name, kind: e.kind.to_owned(), size: e.size as i64, target: e.target.clone() }
                })
                .collect();
            // The tag's digest (what the catalog knows): a listing is current while it is the same.
            let digest = image.digest.to_string();
            block_on(store_files(db, l, &digest, &files, listing.total as i64, listing.truncated, now_ms()))
                .map_err(|e| e.to_string())
        }
        "references" => {
            let manifest = client.get_manifest(&l.repository, &l.tag).map_err(|e| e.to_string())?;
            let doc: serde_json::Value =
                serde_json::from_slice(&manifest.bytes).map_err(|e| format!("the manifest is not JSON ({e})"))?;
            if doc["config"]["mediaType"] != tailor_chart::build::HELM_CONFIG {
                return Err(format!("{}:{} is not a Helm chart", l.repository, l.tag));
            }
            let layer = doc["layers"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|x| x["mediaType"] == tailor_chart::build::HELM_CHART || x["mediaType"] == "application/tar+gzip")
                .and_then(|x| x["digest"].as_str())
                .ok_or("the chart has no chart content layer")?;
            let digest = layer.parse().map_err(|e: tailor_oci::Error| e.to_string())?;
            let archive = client.read_blob(&l.repository, &digest, 32 << 20).map_err(|e| e.to_string())?;
            let what = format!("{}:{}", l.repository, l.tag);
            let report =
                tailor_chart::references(&archive, &what, ChartLimits::default()).map_err(|e| e.to_string())?;
            let data = serde_json::json!({
                "references": report.unmapped.iter().map(|u| serde_json::json!({
                    "reference": u.reference, "file": u.file, "line": u.line, "path": u.path,
                })).collect::<Vec<_>>(),
                "literal_template_images": report.literal_template_images,
            });
            block_on(store_data(db, l, manifest.digest.as_str(), &data, now_ms())).map_err(|e| e.to_string())
        }
        other => Err(format!("unknown listing kind {other}")),
    }
}
