//! Apply a stack of layers (bottom first) into one filesystem tree, honouring `.wh.<name>`
//! whiteouts and `.wh..wh..opq` opaque markers. Whiteouts in a layer act on the layers below
//! it only, wherever they appear in that layer's tar (an opaque marker may come after its
//! siblings).

use std::collections::BTreeMap;

use crate::tarfs::{Entry, Kind, is_under};

pub const WHITEOUT_PREFIX: &str = ".wh.";
pub const OPAQUE: &str = ".wh..wh..opq";

/// A merged filesystem: normalized path → entry. Ordered, so a subtree is a contiguous range.
#[derive(Debug, Default, Clone)]
pub struct Tree {
    pub entries: BTreeMap<String, Entry>,
}

fn split(path: &str) -> (&str, &str) {
    match path.rfind('/') {
        Some(i) => (&path[..i], &path[i + 1..]),
        None => ("", path),
    }
}

impl Tree {
    /// Remove `path`'s descendants (not `path` itself).
    fn remove_below(&mut self, path: &str) {
        let doomed: Vec<String> = if path.is_empty() {
            self.entries.keys().cloned().collect()
        } else {
            let start = format!("{path}/");
            self.entries
                .range(start.clone()..)
                .take_while(|(k, _)| k.starts_with(&start))
                .map(|(k, _)| k.clone())
                .collect()
        };
        for k in doomed {
            self.entries.remove(&k);
        }
    }

    fn remove_tree(&mut self, path: &str) {
        self.entries.remove(path);
        self.remove_below(path);
    }

    /// Apply one layer's entries on top of this tree.
    pub fn apply_layer(&mut self, layer: Vec<Entry>) {
        let mut adds = Vec::with_capacity(layer.len());
        for e in layer {
            let (dir, name) = split(&e.path);
            if name == OPAQUE {
                self.remove_below(dir);
            } else if let Some(victim) = name.strip_prefix(WHITEOUT_PREFIX) {
                let victim = if dir.is_empty() { victim.to_string() } else { format!("{dir}/{victim}") };
                self.remove_tree(&victim);
            } else if !e.path.is_empty() {
                adds.push(e);
            }
        }
        for e in adds {
            if !e.is_dir() {
                self.remove_below(&e.path);
            }
            self.entries.insert(e.path.clone(), e);
        }
    }

    pub fn get(&self, path: &str) -> Option<&Entry> {
        self.entries.get(path)
    }

    /// Entries under `root` (inclusive), in path order.
    pub fn subtree<'a>(&'a self, root: &'a str) -> impl Iterator<Item = &'a Entry> + 'a {
        self.entries
            .range(root.to_string()..)
            .map(|(_, e)| e)
            .take_while(move |e| e.path.starts_with(root))
            .filter(move |e| is_under(&e.path, root))
    }
}

/// Resolve a hard link's data: follow `Hardlink` chains within the tree.
pub fn link_source<'a>(tree: &'a Tree, mut target: &'a str) -> Option<&'a Entry> {
    for _ in 0..64 {
        let e = tree.get(target)?;
        match &e.kind {
            Kind::Hardlink(next) => target = next,
            _ => return Some(e),
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(p: &str, body: &str) -> Entry {
        Entry::file(p, body.as_bytes().to_vec(), 0o644, 0, 0, 0)
    }
    fn d(p: &str) -> Entry {
        Entry::dir(p, 0o755, 0, 0, 0)
    }
    fn paths(t: &Tree) -> Vec<&str> {
        t.entries.keys().map(String::as_str).collect()
    }

    #[test]
    fn file_whiteout_removes_lower_file_and_subtree() {
        let mut t = Tree::default();
        t.apply_layer(vec![d("a"), f("a/x", "1"), d("a/sub"), f("a/sub/y", "2"), f("b", "3")]);
        t.apply_layer(vec![f("a/.wh.x", ""), f("a/.wh.sub", ""), f(".wh.b", "")]);
        assert_eq!(paths(&t), vec!["a"]);
    }

    #[test]
    fn opaque_marker_hides_lower_children_but_keeps_same_layer_siblings() {
        let mut t = Tree::default();
        t.apply_layer(vec![d("etc"), f("etc/old", "1"), d("etc/deep"), f("etc/deep/z", "2"), f("etcetera", "keep")]);
        // The marker comes after a sibling the same layer adds.
        t.apply_layer(vec![d("etc"), f("etc/new", "n"), f("etc/.wh..wh..opq", "")]);
        assert_eq!(paths(&t), vec!["etc", "etc/new", "etcetera"]);
    }

    #[test]
    fn later_layer_overrides_and_file_replaces_directory() {
        let mut t = Tree::default();
        t.apply_layer(vec![d("opt"), d("opt/app"), f("opt/app/bin", "v1"), f("opt/conf", "c1")]);
        t.apply_layer(vec![f("opt/app", "now a file"), f("opt/conf", "c2")]);
        assert_eq!(paths(&t), vec!["opt", "opt/app", "opt/conf"]);
        assert_eq!(&*t.get("opt/conf").unwrap().data, b"c2");
        assert_eq!(t.get("opt/app").unwrap().kind, Kind::File);
        // A directory over a directory keeps the children, takes the new metadata.
        t.apply_layer(vec![Entry::dir("opt", 0o700, 5, 5, 9)]);
        assert_eq!(t.get("opt").unwrap().mode, 0o700);
        assert!(t.get("opt/conf").is_some());
    }

    #[test]
    fn whiteout_in_root_and_missing_victims_are_harmless() {
        let mut t = Tree::default();
        t.apply_layer(vec![f("x", "1")]);
        t.apply_layer(vec![f(".wh.nothing", ""), f(".wh..wh..opq", "")]);
        assert!(paths(&t).is_empty());
    }
}
