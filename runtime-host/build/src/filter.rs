//! Select an artifact's files: keep what lies under an include and under no exclude, add the
//! missing parent directories, keep symlinks as links, and re-point hard links whose target
//! was left out (the first kept path of a link group gets the content).

use std::collections::{BTreeMap, BTreeSet};

use crate::flatten::{Tree, link_source};
use crate::tarfs::{Entry, Kind, ancestors, is_under};

/// Result of filtering: the layer's entries in path order (parents before children), and which
/// of them are parents that were added only to hold selected entries.
#[derive(Debug, Clone, Default)]
pub struct Filtered {
    pub entries: Vec<Entry>,
    pub added_parents: BTreeSet<String>,
}

/// Spec paths are absolute (`/etc/ssl`); tree paths are relative (`etc/ssl`, root = "").
pub fn spec_path(p: &str) -> &str {
    p.trim_start_matches('/')
}

/// Why an artifact's files cannot be selected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FilterError {
    /// Includes (as given) that name nothing in the tree.
    MissingIncludes(Vec<String>),
    /// A kept hard link whose target is not a regular file of the artifact.
    DanglingLink { path: String, target: String },
}

/// Filter `tree`.
pub fn filter(
    tree: &Tree,
    includes: &[String],
    excludes: &[String],
    parent_mtime: u64,
) -> Result<Filtered, FilterError> {
    let excludes: Vec<&str> = excludes.iter().map(|e| spec_path(e)).collect();
    let excluded = |p: &str| excludes.iter().any(|x| is_under(p, x));
    let mut kept: BTreeMap<String, Entry> = BTreeMap::new();
    let mut missing = Vec::new();
    for inc in includes {
        let root = spec_path(inc);
        if !root.is_empty() && tree.get(root).is_none() {
            missing.push(inc.clone());
            continue;
        }
        for e in tree.subtree(root) {
            if !excluded(&e.path) {
                kept.insert(e.path.clone(), e.clone());
            }
        }
    }
    if !missing.is_empty() {
        return Err(FilterError::MissingIncludes(missing));
    }
    relink(tree, &mut kept)?;
    let mut added_parents = BTreeSet::new();
    let needed: BTreeSet<String> = kept
        .keys()
        .flat_map(|p| ancestors(p).map(str::to_string).collect::<Vec<_>>())
        .filter(|a| !kept.contains_key(a))
        .collect();
    for parent in needed {
        let entry = match tree.get(&parent) {
            Some(e) if e.is_dir() => e.clone(),
            _ => Entry::dir(&parent, 0o755, 0, 0, parent_mtime),
        };
        added_parents.insert(parent.clone());
        kept.insert(parent, entry);
    }
    Ok(Filtered { entries: kept.into_values().collect(), added_parents })
}

/// Make hard links self-contained: within each group of kept paths sharing one content, the
/// first path (in order) carries the content and metadata; the others link to it.
fn relink(tree: &Tree, kept: &mut BTreeMap<String, Entry>) -> Result<(), FilterError> {
    let mut groups: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (path, e) in kept.iter() {
        if let Kind::Hardlink(target) = &e.kind {
            let source = link_source(tree, target).map_or_else(|| target.clone(), |s| s.path.clone());
            groups.entry(source).or_default().push(path.clone());
        }
    }
    for (source, mut members) in groups {
        if kept.contains_key(&source) {
            members.push(source.clone());
        }
        members.sort();
        let Some(src) = tree.get(&source).filter(|s| s.kind == Kind::File) else {
            return Err(FilterError::DanglingLink { path: members[0].clone(), target: source });
        };
        let first = members[0].clone();
        for (i, m) in members.iter().enumerate() {
            let materialized = Entry { path: m.clone(), ..src.clone() };
            let entry = if i == 0 {
                materialized
            } else {
                Entry { kind: Kind::Hardlink(first.clone()), data: crate::tarfs::empty(), ..materialized }
            };
            kept.insert(m.clone(), entry);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree() -> Tree {
        let mut t = Tree::default();
        let f = |p: &str| Entry::file(p, p.as_bytes().to_vec(), 0o640, 7, 8, 42);
        let mut opt = Entry::dir("opt", 0o750, 1, 1, 3);
        opt.mtime = 3;
        t.apply_layer(vec![
            Entry::dir("etc", 0o755, 0, 0, 1),
            Entry::dir("etc/ssl", 0o755, 0, 0, 1),
            f("etc/ssl/ca.crt"),
            f("etc/ssl/other.pem"),
            opt,
            Entry::dir("opt/app", 0o755, 0, 0, 1),
            f("opt/app/bin"),
            Entry::dir("opt/app/docs", 0o755, 0, 0, 1),
            f("opt/app/docs/readme"),
            Entry { kind: Kind::Symlink("bin".into()), ..f("opt/app/run") },
            Entry { kind: Kind::Hardlink("opt/app/bin".into()), data: crate::tarfs::empty(), ..f("opt/app/bin2") },
            Entry { kind: Kind::Hardlink("opt/app/bin".into()), data: crate::tarfs::empty(), ..f("opt/app/bin3") },
        ]);
        t
    }
    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }
    fn paths(f: &Filtered) -> Vec<&str> {
        f.entries.iter().map(|e| e.path.as_str()).collect()
    }

    #[test]
    fn include_a_single_file_adds_its_parents() {
        let out = filter(&tree(), &s(&["/etc/ssl/ca.crt"]), &[], 99).unwrap();
        assert_eq!(paths(&out), vec!["etc", "etc/ssl", "etc/ssl/ca.crt"]);
        assert_eq!(out.added_parents, ["etc", "etc/ssl"].iter().map(|x| x.to_string()).collect());
        let ca = &out.entries[2];
        assert_eq!((ca.mode, ca.uid, ca.gid, ca.mtime), (0o640, 7, 8, 42));
    }

    #[test]
    fn include_directory_with_excluded_subtree_keeps_symlinks() {
        let out = filter(&tree(), &s(&["/opt/app"]), &s(&["/opt/app/docs"]), 99).unwrap();
        assert_eq!(paths(&out), vec!["opt", "opt/app", "opt/app/bin", "opt/app/bin2", "opt/app/bin3", "opt/app/run"]);
        // The artifact's own parent metadata is used when it has the directory.
        assert_eq!(out.entries[0].mode, 0o750);
        assert_eq!(out.entries[5].kind, Kind::Symlink("bin".into()));
    }

    #[test]
    fn exclude_equal_to_include_keeps_nothing_of_it() {
        let out = filter(&tree(), &s(&["/opt/app", "/etc/ssl/ca.crt"]), &s(&["/opt/app"]), 0).unwrap();
        assert_eq!(paths(&out), vec!["etc", "etc/ssl", "etc/ssl/ca.crt"]);
    }

    #[test]
    fn hardlink_with_excluded_target_is_materialized() {
        let out = filter(&tree(), &s(&["/opt/app"]), &s(&["/opt/app/bin"]), 0).unwrap();
        let bin2 = out.entries.iter().find(|e| e.path == "opt/app/bin2").unwrap();
        assert_eq!(bin2.kind, Kind::File);
        assert_eq!(&*bin2.data, b"opt/app/bin");
        let bin3 = out.entries.iter().find(|e| e.path == "opt/app/bin3").unwrap();
        assert_eq!(bin3.kind, Kind::Hardlink("opt/app/bin2".into()));
    }

    #[test]
    fn hardlink_to_a_missing_target_is_refused() {
        let mut t = tree();
        let link = Entry {
            kind: Kind::Hardlink("opt/gone".into()),
            ..Entry::file("opt/app/ghost", Vec::new(), 0o644, 0, 0, 0)
        };
        t.apply_layer(vec![link]);
        let err = filter(&t, &s(&["/opt/app"]), &[], 0).unwrap_err();
        assert_eq!(err, FilterError::DanglingLink { path: "opt/app/ghost".into(), target: "opt/gone".into() });
    }

    #[test]
    fn include_of_missing_path_is_reported_and_root_includes_all() {
        assert_eq!(
            filter(&tree(), &s(&["/nope", "/etc"]), &[], 0).unwrap_err(),
            FilterError::MissingIncludes(s(&["/nope"]))
        );
        assert_eq!(filter(&tree(), &s(&["/"]), &[], 0).unwrap().entries.len(), tree().entries.len());
        // Synthesized parents when the artifact lacks the directory entry.
        let mut t = Tree::default();
        t.apply_layer(vec![Entry::file("a/b/c", b"x".to_vec(), 0o644, 0, 0, 5)]);
        let out = filter(&t, &s(&["/a/b/c"]), &[], 77).unwrap();
        assert_eq!((out.entries[0].mode, out.entries[0].mtime), (0o755, 77));
    }
}
