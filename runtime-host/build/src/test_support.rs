//! What the packages tests share: the repository server of tailor-packages' test support and
//! the entries of a pushed image's layer.

#![allow(clippy::unwrap_used)]

use std::io::Read;

use tailor_oci::{Client, Digest};

pub(crate) use tailor_packages::deb::test_support::RepoServer as Server;

/// One entry of a layer.
pub(crate) struct LayerEntry {
    pub(crate) path: String,
    pub(crate) mode: u32,
    /// A symlink's target.
    pub(crate) link: Option<String>,
    pub(crate) data: Vec<u8>,
}

/// The entries of layer `n` (0: the base) of the image `digest` in `repo`.
pub(crate) fn layer(client: &Client, repo: &str, digest: &Digest, n: usize) -> Vec<LayerEntry> {
    let m: serde_json::Value =
        serde_json::from_slice(&client.get_manifest(repo, digest.as_str()).unwrap().bytes).unwrap();
    let d: Digest = m["layers"][n]["digest"].as_str().unwrap().parse().unwrap();
    let blob = client.read_blob(repo, &d, 1 << 30).unwrap();
    let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(&blob[..]));
    tar.entries()
        .unwrap()
        .map(|e| {
            let mut e = e.unwrap();
            let mut data = Vec::new();
            e.read_to_end(&mut data).unwrap();
            LayerEntry {
                path: e.path().unwrap().display().to_string(),
                mode: e.header().mode().unwrap(),
                link: e.link_name().unwrap().map(|l| l.display().to_string()),
                data,
            }
        })
        .collect()
}
