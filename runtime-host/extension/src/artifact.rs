//! Extensions as OCI artifacts in the CNCF wasm format: config
//! `application/vnd.wasm.config.v0+json` (architecture `wasm`, os `wasip2`, the layer digests,
//! the component's imports and exports), one `application/wasm` layer. Kubewarden's older
//! format (`application/vnd.wasm.config.v1+json`, layer
//! `application/vnd.wasm.content.layer.v1+wasm`) is read too.

use serde_json::{Value, json};
use tailor_oci::{BlobSource, Client, Digest, Quiet, media};

use crate::Error;

pub const CONFIG: &str = "application/vnd.wasm.config.v0+json";
pub const LAYER: &str = "application/wasm";
const KUBEWARDEN_CONFIG: &str = "application/vnd.wasm.config.v1+json";
const KUBEWARDEN_LAYER: &str = "application/vnd.wasm.content.layer.v1+wasm";

/// The imports and exports of a component, by name (for the artifact's config).
pub fn interfaces(bytes: &[u8]) -> Result<(Vec<String>, Vec<String>), Error> {
    let engine = wasmtime::Engine::default();
    let c = wasmtime::component::Component::new(&engine, bytes)
        .map_err(|e| Error::invalid(format!("not a WebAssembly component: {}", crate::runtime::first_line(&e))))?;
    let ty = c.component_type();
    let imports = ty.imports(&engine).map(|(n, _)| n.to_owned()).collect();
    let exports = ty.exports(&engine).map(|(n, _)| n.to_owned()).collect();
    Ok((imports, exports))
}

/// Pushes `bytes` (a component) as `repo:tag`; the manifest's digest.
pub fn push(client: &Client, repo: &str, tag: &str, bytes: &[u8]) -> Result<Digest, Error> {
    let (imports, exports) = interfaces(bytes)?;
    let io = |e: tailor_oci::Error| Error::new(crate::Failure::Image, e.to_string());
    let layer = Digest::of(bytes);
    client.put_blob(repo, &layer, bytes.len() as u64, &BlobSource::Bytes(bytes.to_vec().into()), &Quiet).map_err(io)?;
    let config = json!({
        "architecture": "wasm",
        "os": "wasip2",
        "layerDigests": [layer.as_str()],
        "component": {"imports": imports, "exports": exports},
    });
    let config = serde_json::to_vec(&config).unwrap_or_default();
    let config_digest = Digest::of(&config);
    client
        .put_blob(repo, &config_digest, config.len() as u64, &BlobSource::Bytes(config.clone().into()), &Quiet)
        .map_err(io)?;
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": media::OCI_MANIFEST,
        "artifactType": CONFIG,
        "config": {"mediaType": CONFIG, "digest": config_digest.as_str(), "size": config.len()},
        "layers": [{"mediaType": LAYER, "digest": layer.as_str(), "size": bytes.len(),
                    "annotations": {"org.opencontainers.image.title": "extension.wasm"}}],
    });
    let manifest = serde_json::to_vec(&manifest).unwrap_or_default();
    client.put_manifest(repo, tag, media::OCI_MANIFEST, &manifest).map_err(io)
}

/// The component `reference` (a tag or a digest of `repo`) names: its manifest digest and bytes.
pub fn pull(client: &Client, repo: &str, reference: &str, limit: u64) -> Result<(Digest, Vec<u8>), Error> {
    let io = |e: tailor_oci::Error| Error::new(crate::Failure::Image, e.to_string());
    let m = client.get_manifest(repo, reference).map_err(|e| {
        if e.is_not_found() {
            Error::invalid(format!("{repo}:{reference} does not exist: push it with `tailor extension push`"))
        } else {
            io(e)
        }
    })?;
    let doc: Value = serde_json::from_slice(&m.bytes)
        .map_err(|e| Error::invalid(format!("{repo}@{}: the manifest is not JSON ({e})", m.digest)))?;
    let config = doc["config"]["mediaType"].as_str().unwrap_or_default();
    if config != CONFIG && config != KUBEWARDEN_CONFIG {
        return Err(Error::invalid(format!(
            "{repo}@{} is not a wasm artifact (its config is {config:?}, not {CONFIG}): push the component with `tailor extension push`",
            m.digest
        )));
    }
    let layers: Vec<&Value> = doc["layers"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|l| l["mediaType"] == LAYER || l["mediaType"] == KUBEWARDEN_LAYER)
        .collect();
    let [layer] = layers.as_slice() else {
        return Err(Error::invalid(format!(
            "{repo}@{}: a wasm artifact has exactly one wasm layer, it has {}",
            m.digest,
            layers.len()
        )));
    };
    let digest: Digest = layer["digest"]
        .as_str()
        .unwrap_or_default()
        .parse()
        .map_err(|e: tailor_oci::Error| Error::invalid(format!("{repo}@{}: {e}", m.digest)))?;
    if layer["size"].as_u64().is_some_and(|s| s > limit) {
        return Err(Error::invalid(format!("{repo}@{}: the component is over {limit} bytes", m.digest)));
    }
    let bytes = client.read_blob(repo, &digest, limit).map_err(io)?;
    Ok((m.digest, bytes))
}
