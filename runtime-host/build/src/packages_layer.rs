//! The packages layer of one platform, cached: the same base, the same requests and the same
//! package files (by the hashes their signed indexes give) make the same layer, so a warm build
//! resolves against the indexes but neither unpacks nor compresses anything.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::cache::key;
use crate::layer::Layer;
use crate::packages::{Installed, Target, install, resolve};
use crate::tarfs::Entry;
use crate::{BuildError, Options, Result};

/// The packages layer (None: nothing to install), what was installed, and the kinds of the
/// layer's entries (what the layers above see below them).
pub struct PackagesLayer {
    pub layer: Option<Layer>,
    pub installed: Installed,
    pub kinds: Vec<(String, char)>,
}

/// What the cache keeps beside the layer blob.
#[derive(Serialize, Deserialize)]
struct Kept {
    installed: Installed,
    kinds: Vec<(String, char)>,
}

/// Makes (or finds in the cache) the packages layer of `t`; `with_parents` adds the parent
/// directories the base lacks.
pub fn packages_layer(
    opts: &Options,
    t: &Target,
    with_parents: impl Fn(BTreeMap<String, Entry>) -> Vec<Entry>,
) -> Result<PackagesLayer> {
    let make = || -> Result<PackagesLayer> {
        let mut installed = install(t, opts.limits)?;
        let map: BTreeMap<String, Entry> = installed.entries.drain(..).map(|e| (e.path.clone(), e)).collect();
        let entries = with_parents(map);
        let kinds = entries.iter().map(|e| (e.path.clone(), crate::base::kind_letter(&e.kind))).collect();
        let layer = Layer::from_entries(&entries, opts.threads).map_err(|e| BuildError::Internal(e.to_string()))?;
        Ok(PackagesLayer { layer, installed, kinds })
    };
    if !opts.cache.enabled() {
        return make();
    }
    let planned = resolve(t)?;
    let parts = ["packages-layer/1".to_owned(), t.mtime.to_string(), t.platform.to_owned()]
        .into_iter()
        .chain(t.base_layers.iter().cloned())
        .chain(std::iter::once("requests".to_owned()))
        .chain(t.requests.iter().cloned())
        .chain(std::iter::once("pins".to_owned()))
        .chain(planned.pins.iter().cloned());
    let k = key(parts);
    let mut fresh = None;
    let layer = Layer::cached(&opts.cache, &k, || {
        let made = make()?;
        let layer = made.layer.clone();
        fresh = Some(made);
        Ok(layer)
    })?;
    if let Some(made) = fresh {
        let kept = Kept { installed: made.installed.clone(), kinds: made.kinds.clone() };
        opts.cache.put_json("packages-layer", &k, &kept);
        return Ok(made);
    }
    match opts.cache.get_json::<Kept>("packages-layer", &k) {
        Some(kept) if kept.installed.pins == planned.pins => {
            Ok(PackagesLayer { layer, installed: kept.installed, kinds: kept.kinds })
        }
        // The layer outlived what was kept about it: make both again.
        _ => {
            let made = make()?;
            let kept = Kept { installed: made.installed.clone(), kinds: made.kinds.clone() };
            opts.cache.put_json("packages-layer", &k, &kept);
            Ok(made)
        }
    }
}
