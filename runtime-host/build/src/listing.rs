//! The file tree of an image on one platform, for people browsing it (the web UI picks an
//! artifact's include paths from it): every path of the merged filesystem, whiteouts applied,
//! with its kind and size — read by streaming the layers once, file contents skipped.

use std::collections::HashMap;

use tailor_oci::{Client, Digest};

use crate::flatten::Tree;
use crate::resolve::{Image, fetch_manifest, open_layer};
use crate::tarfs::{Kind, Limits};
use crate::{BuildError, Result};

/// One path of the tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    /// Relative, normalized (`opt/app/bin`).
    pub path: String,
    /// `file`, `directory`, `symlink`, `hardlink` or `other`.
    pub kind: &'static str,
    pub size: u64,
    /// A link's target.
    pub target: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Listing {
    /// The platform manifest read.
    pub digest: Digest,
    /// At most `cap` of them, in path order.
    pub entries: Vec<Listed>,
    /// Paths the image has.
    pub total: usize,
    pub truncated: bool,
}

/// The tree of `image` on platform `key` (`linux/amd64`), at most `cap` entries.
pub fn list_files(client: &Client, image: &Image, key: &str, limits: Limits, cap: usize) -> Result<Listing> {
    let digest = image.platforms.get(key).ok_or_else(|| {
        BuildError::bad_input(&image.name, format!("has no platform {key} (it has {})", image.platform_list()))
    })?;
    let (_, manifest) = fetch_manifest(client, image, digest)?;
    let mut tree = Tree::default();
    let mut sizes: HashMap<String, u64> = HashMap::new();
    for layer in manifest.layers() {
        let input = format!("{} layer {}", image.name, layer.digest());
        let bad = |e: std::io::Error| BuildError::bad_input(&input, e);
        let mut reader = open_layer(client, &image.repo, layer, limits, &image.name)?;
        let mut entries = Vec::new();
        while let Some(e) = reader.next_entry().map_err(bad)? {
            if e.kind == Kind::File {
                sizes.insert(e.path.clone(), reader.data_size());
            }
            entries.push(e);
        }
        reader.finish().map_err(bad)?;
        tree.apply_layer(entries);
    }
    let total = tree.entries.len();
    let entries = tree
        .entries
        .iter()
        .take(cap)
        .map(|(path, e)| {
            let (kind, target) = match &e.kind {
                Kind::File => ("file", None),
                Kind::Dir => ("directory", None),
                Kind::Symlink(t) => ("symlink", Some(t.clone())),
                Kind::Hardlink(t) => ("hardlink", Some(format!("/{t}"))),
                _ => ("other", None),
            };
            let size = if kind == "file" { sizes.get(path).copied().unwrap_or(0) } else { 0 };
            Listed { path: path.clone(), kind, size, target }
        })
        .collect();
    Ok(Listing { digest: digest.clone(), entries, total, truncated: total > cap })
}
