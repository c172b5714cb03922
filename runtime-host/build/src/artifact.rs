//! One artifact's layer for one platform: flatten the artifact's layers, filter by the spec's
//! includes/excludes, drop added parent directories the filesystem below already has (so the
//! base's directory modes and owners stay), compress. Two cache levels: the filtered tree
//! (by artifact digest and filter) and the final layer (by that and the parents dropped).

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use tailor_oci::{Client, Digest};
use tailor_spec::{ArtifactSpec, Problem};

use crate::base::{FileIndex, GROUP, PASSWD, kind_letter};
use crate::cache::{Cache, key};
use crate::filter::{FilterError, filter};
use crate::flatten::Tree;
use crate::layer::Layer;
use crate::resolve::{Image, fetch_manifest, open_layer};
use crate::sbom::FileSum;
use crate::tarfs::{Entry, Kind, Limits, TarReader, write_tar};
use crate::{BuildError, Result};

/// What filtering an artifact produced, small enough to cache as JSON.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Summary {
    /// Digest of the uncompressed filtered tar (kept in the cache's blobs).
    pub tar: Digest,
    pub kinds: Vec<(String, char)>,
    pub added_parents: BTreeSet<String>,
    pub passwd: Option<String>,
    pub group: Option<String>,
    /// Regular files with their digests (for the SBOM).
    pub files: Vec<FileSum>,
}

pub struct Filtered {
    pub summary: Summary,
    entries: Option<Vec<Entry>>,
}

/// Everything that identifies one artifact input of one platform.
pub struct Input<'a> {
    pub image: &'a Image,
    pub manifest: &'a Digest,
    pub spec: &'a ArtifactSpec,
    pub index: usize,
    pub platform: &'a str,
}

fn level1_key(i: &Input, parent_mtime: u64) -> String {
    let mut parts = vec!["artifact/2".to_string(), i.manifest.to_string(), parent_mtime.to_string()];
    parts.extend(i.spec.includes.iter().map(|p| format!("+{p}")));
    parts.extend(i.spec.excludes.iter().map(|p| format!("-{p}")));
    key(parts)
}

/// Flatten + filter (or the cached summary of it).
pub fn filtered(client: &Client, cache: &Cache, i: &Input, limits: Limits, parent_mtime: u64) -> Result<Filtered> {
    let k = level1_key(i, parent_mtime);
    if let Some(summary) = cache.get_json::<Summary>("artifact", &k) {
        return Ok(Filtered { summary, entries: None });
    }
    let (_, manifest) = fetch_manifest(client, i.image, i.manifest)?;
    let mut tree = Tree::default();
    for layer in manifest.layers() {
        let input = format!("{} ({}) layer {}", i.image.name, i.platform, layer.digest());
        let reader = open_layer(client, &i.image.repo, layer, limits, &i.image.name)?;
        tree.apply_layer(reader.read_all().map_err(|e| BuildError::bad_input(&input, e))?);
    }
    let out = filter(&tree, &i.spec.includes, &i.spec.excludes, parent_mtime).map_err(|e| match e {
        FilterError::DanglingLink { path, target } => BuildError::bad_input(
            format!("{} ({})", i.image.name, i.platform),
            format!("hard link /{path} points to /{target}, which is not a regular file in the artifact"),
        ),
        FilterError::MissingIncludes(missing) => BuildError::Invalid {
            problems: missing
                .iter()
                .map(|m| {
                    let j = i.spec.includes.iter().position(|x| x == m).unwrap_or(0);
                    Problem::new(
                        format!("contents.artifacts[{}].includes[{j}]", i.index),
                        format!("{m} does not exist in {} ({})", i.image.name, i.platform),
                    )
                })
                .collect(),
        },
    })?;
    let tar = write_tar(&out.entries).map_err(|e| BuildError::Internal(e.to_string()))?;
    let text = |p: &str| {
        out.entries
            .iter()
            .find(|e| e.path == p && e.kind == Kind::File)
            .map(|e| String::from_utf8_lossy(&e.data).into_owned())
    };
    let summary = Summary {
        tar: Digest::of(&tar),
        kinds: out.entries.iter().map(|e| (e.path.clone(), kind_letter(&e.kind))).collect(),
        added_parents: out.added_parents.clone(),
        passwd: text(PASSWD),
        group: text(GROUP),
        files: out.entries.iter().filter(|e| e.kind == Kind::File).map(|e| FileSum::of(&e.path, &e.data)).collect(),
    };
    if cache.enabled() {
        cache.put_blob(&summary.tar, &tar);
        cache.put_json("artifact", &k, &summary);
    }
    Ok(Filtered { summary, entries: Some(out.entries) })
}

/// An artifact's layer compressed ahead of time, on the guess that every parent directory the
/// filter added is one the filesystem below has already (so all of them are dropped), while the
/// base is still being indexed. [`layer`] uses it only when the guess turns out right.
pub struct Guess {
    dropped: BTreeSet<String>,
    ahead: crate::compress::Ahead,
}

/// Start the guessed layers of `filtered` (those not cached already), on one thread.
pub fn guess(cache: &Cache, filtered: &[Filtered]) -> Vec<Option<Guess>> {
    let mut tars = Vec::new();
    let mut slots = Vec::new();
    for f in filtered {
        let Some(entries) = &f.entries else {
            slots.push(None);
            continue;
        };
        let dropped = &f.summary.added_parents;
        if cache.get_json::<Option<crate::layer::LayerMeta>>("layers", &layer_key(&f.summary.tar, dropped)).is_some() {
            slots.push(None);
            continue;
        }
        let kept: Vec<Entry> = entries.iter().filter(|e| !dropped.contains(&e.path)).cloned().collect();
        match write_tar(&kept) {
            Ok(tar) if !kept.is_empty() => {
                slots.push(Some(dropped.clone()));
                tars.push(tar);
            }
            _ => slots.push(None),
        }
    }
    let mut ahead = crate::compress::Ahead::start(tars).into_iter();
    slots.into_iter().map(|d| d.and_then(|dropped| Some(Guess { dropped, ahead: ahead.next()? }))).collect()
}

fn layer_key<'a>(tar: &Digest, dropped: impl IntoIterator<Item = &'a String>) -> String {
    key(std::iter::once(format!("artifact-layer {tar}")).chain(dropped.into_iter().map(|p| p.to_string())))
}

/// The artifact's layer given what lies below it (`dir_below` says whether a directory exists).
/// Returns the layer (None when empty) and the parents dropped.
pub fn layer(
    client: &Client,
    cache: &Cache,
    i: &Input,
    f: Filtered,
    dir_below: &dyn Fn(&str) -> bool,
    limits: Limits,
    parent_mtime: u64,
    threads: usize,
    guess: Option<Guess>,
) -> Result<(Option<Layer>, Summary)> {
    let dropped: BTreeSet<String> = f.summary.added_parents.iter().filter(|p| dir_below(p)).cloned().collect();
    let k = layer_key(&f.summary.tar, &dropped);
    let summary = f.summary.clone();
    let layer = Layer::cached(cache, &k, || {
        if let Some(g) = guess.filter(|g| g.dropped == dropped) {
            return Ok(Some(Layer::from_ahead(g.ahead, threads)));
        }
        let entries = match f.entries {
            Some(e) => e,
            None => match cache.get_blob(&f.summary.tar) {
                Some(tar) => TarReader::new(&tar[..], limits)
                    .read_all()
                    .map_err(|e| BuildError::Internal(format!("cached tree: {e}")))?,
                None => {
                    // The summary outlived its tree: recompute without the cache.
                    let fresh = filtered(client, &Cache::disabled(), i, limits, parent_mtime)?;
                    fresh.entries.unwrap_or_default()
                }
            },
        };
        let kept: Vec<Entry> = entries.into_iter().filter(|e| !dropped.contains(&e.path)).collect();
        Layer::from_entries(&kept, threads).map_err(|e| BuildError::Internal(e.to_string()))
    })?;
    Ok((layer, summary))
}

/// Paths of `kinds` that replace something of the base (a non-directory over anything, or a
/// directory over a non-directory), as absolute paths.
pub fn overrides<'a>(
    kinds: impl Iterator<Item = (&'a str, char)>,
    base: &FileIndex,
    skip: &BTreeSet<String>,
) -> Vec<String> {
    kinds
        .filter(|(p, _)| !skip.contains(*p))
        .filter(|(p, k)| match base.kinds.get(*p) {
            Some(b) => *k != 'd' || *b != 'd',
            None => false,
        })
        .map(|(p, _)| format!("/{p}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;
    use tailor_oci::Scope;

    fn filtered() -> Filtered {
        let mut entries = vec![Entry::dir("opt", 0o755, 0, 0, 0), Entry::dir("opt/app", 0o755, 0, 0, 0)];
        let data: Vec<u8> = (0..3 * crate::compress::CHUNK).map(|i| (i * 7 % 256) as u8 ^ (i >> 13) as u8).collect();
        entries.push(Entry::file("opt/app/bin", data, 0o755, 0, 0, 0));
        let tar = write_tar(&entries).unwrap();
        let summary = Summary {
            tar: Digest::of(&tar),
            kinds: entries.iter().map(|e| (e.path.clone(), kind_letter(&e.kind))).collect(),
            added_parents: ["opt".to_string()].into(),
            passwd: None,
            group: None,
            files: Vec::new(),
        };
        Filtered { summary, entries: Some(entries) }
    }

    fn made(guess: Option<Guess>, dir_below: &dyn Fn(&str) -> bool) -> (Digest, Digest) {
        let dir = tempfile::tempdir().unwrap();
        let client = Client::layout(dir.path(), Scope::default());
        let image =
            Image { name: "art".into(), repo: "acme/art".into(), digest: Digest::of(b""), platforms: BTreeMap::new() };
        let spec = ArtifactSpec { reference: "acme/art:1".into(), includes: vec!["/opt/app".into()], excludes: vec![] };
        let manifest = Digest::of(b"m");
        let input = Input { image: &image, manifest: &manifest, spec: &spec, index: 0, platform: "linux/amd64" };
        let (layer, _) =
            layer(&client, &Cache::disabled(), &input, filtered(), dir_below, Limits::default(), 0, 2, guess).unwrap();
        let l = layer.unwrap();
        (l.digest, l.diff_id)
    }

    #[test]
    fn a_layer_guessed_ahead_is_the_layer_made_after_whether_the_guess_holds_or_not() {
        for below in [true, false] {
            let dir_below = move |p: &str| below && p == "opt";
            let plain = made(None, &dir_below);
            let guess = guess(&Cache::disabled(), &[filtered()]).pop().flatten();
            assert!(guess.is_some());
            assert_eq!(made(guess, &dir_below), plain, "base has /opt: {below}");
        }
        // The parent the base lacks stays in the layer; the one it has is dropped.
        assert_ne!(made(None, &|_| true), made(None, &|_| false));
    }
}
