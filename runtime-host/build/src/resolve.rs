//! Resolve references to digests: an image (index or single manifest) and its platforms.

use std::collections::BTreeMap;
use std::io::Read;

use oci_spec::image::{Descriptor, ImageIndex, ImageManifest};
use serde::Deserialize;
use tailor_oci::{Client, Digest, media};
use tailor_spec::{Platform, Reference};

use crate::compress::gunzip;
use crate::readahead::read_ahead;
use crate::tarfs::{Limits, TarReader};
use crate::{BuildError, Result};
use flate2::bufread::MultiGzDecoder;

pub use tailor_spec::platform_key;

pub fn spec_platform_key(p: &Platform) -> String {
    p.key()
}

/// A resolved image: its repository, the digest of what the reference names, and the manifest
/// digest of each platform it offers.
#[derive(Debug, Clone)]
pub struct Image {
    /// For messages: the reference as written.
    pub name: String,
    pub repo: String,
    pub digest: Digest,
    pub platforms: BTreeMap<String, Digest>,
}

impl Image {
    pub fn platform_list(&self) -> String {
        self.platforms.keys().cloned().collect::<Vec<_>>().join(", ")
    }
}

const MANIFEST_LIMIT: u64 = 4 << 20;

/// Resolve `reference` (for spec field `field`) to an [`Image`].
pub fn resolve(client: &Client, field: &str, reference: &Reference) -> Result<Image> {
    let name = reference.to_string();
    let want = reference.digest.clone().or_else(|| reference.tag.clone()).unwrap_or_else(|| "latest".into());
    let raw = match client.get_manifest(&reference.repository, &want) {
        Ok(m) => m,
        Err(e) if e.is_not_found() => {
            let tags = client
                .list_tags(&reference.repository)
                .ok()
                .map(|t| t.into_iter().take(20).collect::<Vec<_>>().join(", "));
            let hint = match tags {
                Some(t) if !t.is_empty() => format!(" (tags there: {t})"),
                _ => String::new(),
            };
            return Err(BuildError::invalid(field, format!("{name} not found in {}{hint}", client.describe())));
        }
        Err(e) => return Err(e.into()),
    };
    let mut platforms = BTreeMap::new();
    if media::is_index(&raw.media_type) {
        let index = ImageIndex::from_reader(&raw.bytes[..])
            .map_err(|e| BuildError::bad_input(&name, format!("invalid image index: {e}")))?;
        for m in index.manifests() {
            if !media::is_manifest(m.media_type().as_ref()) {
                continue;
            }
            let Some(p) = m.platform() else { continue };
            if p.os().to_string() == "unknown" {
                continue; // attestation manifests in buildx indexes
            }
            let key = platform_key(&p.os().to_string(), &p.architecture().to_string(), p.variant().as_deref());
            platforms.entry(key).or_insert(Digest::try_from(m.digest())?);
        }
    } else if media::is_manifest(&raw.media_type) {
        let manifest = parse_manifest(&raw.bytes, &name)?;
        let cfg =
            client.read_blob(&reference.repository, &Digest::try_from(manifest.config().digest())?, MANIFEST_LIMIT)?;
        #[derive(Deserialize)]
        struct P {
            os: Option<String>,
            architecture: Option<String>,
            variant: Option<String>,
        }
        let p: P = serde_json::from_slice(&cfg)
            .map_err(|e| BuildError::bad_input(&name, format!("invalid image config: {e}")))?;
        let (Some(os), Some(arch)) = (p.os, p.architecture) else {
            return Err(BuildError::bad_input(&name, "image config has no os/architecture"));
        };
        platforms.insert(platform_key(&os, &arch, p.variant.as_deref()), raw.digest.clone());
    } else {
        return Err(BuildError::bad_input(&name, format!("unsupported manifest media type {}", raw.media_type)));
    }
    Ok(Image { name, repo: reference.repository.clone(), digest: raw.digest, platforms })
}

pub fn parse_manifest(bytes: &[u8], name: &str) -> Result<ImageManifest> {
    ImageManifest::from_reader(bytes).map_err(|e| BuildError::bad_input(name, format!("invalid image manifest: {e}")))
}

/// Fetch and parse one platform's manifest.
pub fn fetch_manifest(client: &Client, image: &Image, digest: &Digest) -> Result<(Vec<u8>, ImageManifest)> {
    let raw = client.get_manifest(&image.repo, digest.as_str())?;
    let m = parse_manifest(&raw.bytes, &image.name)?;
    Ok((raw.bytes, m))
}

/// Like [`fetch_manifest`], through the cache: content named by its digest never changes.
pub fn fetch_manifest_cached(
    client: &Client,
    cache: &crate::cache::Cache,
    image: &Image,
    digest: &Digest,
) -> Result<(Vec<u8>, ImageManifest)> {
    if let Some(bytes) = cache.get_blob(digest) {
        let m = parse_manifest(&bytes, &image.name)?;
        return Ok((bytes.to_vec(), m));
    }
    let (bytes, m) = fetch_manifest(client, image, digest)?;
    cache.put_blob(digest, &bytes);
    Ok((bytes, m))
}

/// A small blob (an image config) by digest, through the cache.
pub fn read_blob_cached(
    client: &Client,
    cache: &crate::cache::Cache,
    repo: &str,
    digest: &Digest,
    limit: u64,
) -> Result<Vec<u8>> {
    if let Some(bytes) = cache.get_blob(digest).filter(|b| b.len() as u64 <= limit) {
        return Ok(bytes.to_vec());
    }
    let bytes = client.read_blob(repo, digest, limit)?;
    cache.put_blob(digest, &bytes);
    Ok(bytes)
}

/// Layers at least this large (compressed) are fetched and verified on a thread of their own
/// while they are decompressed.
const READ_AHEAD_FROM: u64 = 1 << 20;

/// A tar reader over a layer blob: digest verified while streaming, decompressed by media type.
pub fn open_layer(
    client: &Client,
    repo: &str,
    layer: &Descriptor,
    limits: Limits,
    name: &str,
) -> Result<TarReader<Box<dyn Read + Send>>> {
    let mt = layer.media_type().to_string();
    let digest = Digest::try_from(layer.digest())?;
    let raw = client.open_blob(repo, &digest, Some(layer.size()))?;
    let ahead = |raw: Box<dyn Read + Send>| {
        read_ahead(raw).map_err(|e| {
            BuildError::Internal(format!(
                "{name}: starting a thread to read layer {digest}: {e} (out of threads or memory here; try again)"
            ))
        })
    };
    let large = layer.size() >= READ_AHEAD_FROM;
    let reader: Box<dyn Read + Send> = match media::layer_compression(&mt) {
        Some(media::Compression::Gzip) if large => {
            Box::new(std::io::BufReader::with_capacity(128 << 10, MultiGzDecoder::new(ahead(raw)?)))
        }
        Some(media::Compression::Gzip) => Box::new(gunzip(raw)),
        Some(media::Compression::None) if large => Box::new(ahead(raw)?),
        Some(media::Compression::None) => raw,
        Some(media::Compression::Zstd) => {
            return Err(BuildError::Unsupported(format!("{name}: zstd-compressed layer {digest}")));
        }
        None => return Err(BuildError::bad_input(name, format!("layer {digest} has unknown media type {mt}"))),
    };
    Ok(TarReader::new(reader, limits))
}
