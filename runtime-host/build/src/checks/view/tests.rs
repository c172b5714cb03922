#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use oci_spec::image::{DescriptorBuilder, MediaType};
use tailor_oci::{BlobSource, Client, Quiet, Scope};

use super::*;
use crate::tarfs::Entry;

fn link(path: &str, target: &str) -> Entry {
    let mut e = Entry::file(path, Vec::new(), 0o777, 0, 0, 0);
    e.kind = Kind::Symlink(target.into());
    e
}

fn made(entries: Vec<Entry>) -> Source {
    Source::Made(Layer::from_entries(&entries, 1).unwrap().unwrap())
}

fn layout() -> (tempfile::TempDir, Client) {
    let dir = tempfile::tempdir().unwrap();
    let client = Client::layout(dir.path(), Scope::new(["acme"], ["acme/base"]));
    (dir, client)
}

/// A base pushed to the layout as one remote layer, then the build's two layers.
fn view<'c>(client: &'c Client, cache: &Cache) -> LayeredView<'c> {
    view_with(client, cache, "", true)
}

/// `salt`: another base (its own key) for tests that must not share the process's memo.
fn view_with<'c>(client: &'c Client, cache: &Cache, salt: &str, push: bool) -> LayeredView<'c> {
    let base = Layer::from_entries(
        &[
            Entry::dir("etc", 0o755, 0, 0, 0),
            Entry::file("etc/salt", salt.as_bytes().to_vec(), 0o644, 0, 0, 0),
            Entry::file("etc/passwd", b"root:x:0:0::/root:/bin/sh\n".to_vec(), 0o644, 0, 0, 0),
            Entry::dir("tmp", 0o1777, 0, 0, 0),
            Entry::dir("usr", 0o755, 0, 0, 0),
            Entry::dir("usr/bin", 0o755, 0, 0, 0),
            Entry::file("usr/bin/su", b"su".to_vec(), 0o4755, 0, 0, 0),
            Entry::dir("usr/lib", 0o755, 0, 0, 0),
            Entry::file("usr/lib/x.so", b"x".to_vec(), 0o644, 0, 0, 0),
            link("lib", "usr/lib"),
            link("escape", "../../../../etc/passwd"),
            link("abs", "/etc/passwd"),
            link("loop-a", "loop-b"),
            link("loop-b", "loop-a"),
        ],
        1,
    )
    .unwrap()
    .unwrap();
    let bytes = base.bytes().unwrap();
    push.then(|| {
        client
            .put_blob("acme/base", &base.digest, bytes.len() as u64, &BlobSource::Bytes(bytes.clone()), &Quiet)
            .unwrap()
    });
    let d = DescriptorBuilder::default()
        .media_type(MediaType::ImageLayerGzip)
        .digest(oci_spec::image::Digest::try_from(base.digest.as_str()).unwrap())
        .size(base.size())
        .build()
        .unwrap();
    let layers = vec![
        Source::Remote(Box::new(d)),
        made(vec![Entry::file("usr/lib/.wh.x.so", Vec::new(), 0o644, 0, 0, 0)]),
        made(vec![
            Entry::dir("opt", 0o755, 0, 0, 0),
            Entry::dir("opt/app", 0o755, 1000, 1000, 0),
            Entry::file("opt/app/run", b"#!/bin/sh\necho hi\n".to_vec(), 0o755, 1000, 1000, 0),
        ]),
    ];
    let config: Arc<[u8]> = br#"{"config":{"Labels":{"a":"b"}}}"#.to_vec().into();
    LayeredView::new(
        client,
        cache.clone(),
        Limits::default(),
        "acme/base",
        "acme/base:1",
        layers,
        config,
        vec![("bash".into(), "5.2".into())],
    )
}

fn paths(files: &[FileInfo]) -> Vec<&str> {
    files.iter().map(|f| f.path.as_str()).collect()
}

#[test]
fn files_are_the_merged_tree_in_pages() {
    let (_d, client) = layout();
    let v = view(&client, &Cache::disabled());
    let all = v.files("", None, 1000).unwrap();
    assert_eq!(
        paths(&all),
        [
            "abs",
            "escape",
            "etc",
            "etc/passwd",
            "etc/salt",
            "lib",
            "loop-a",
            "loop-b",
            "opt",
            "opt/app",
            "opt/app/run",
            "tmp",
            "usr",
            "usr/bin",
            "usr/bin/su",
            "usr/lib"
        ],
        "usr/lib/x.so is whited out"
    );
    let su = all.iter().find(|f| f.path == "usr/bin/su").unwrap();
    assert_eq!((su.kind, su.mode, su.size), (FileKind::File, 0o4755, 2));
    let run = all.iter().find(|f| f.path == "opt/app/run").unwrap();
    assert_eq!((run.uid, run.gid, run.size), (1000, 1000, 18));
    assert_eq!(all.iter().find(|f| f.path == "lib").unwrap().link_target.as_deref(), Some("usr/lib"));
    // A prefix and pages.
    let first = v.files("/usr/", None, 2).unwrap();
    assert_eq!(paths(&first), ["usr", "usr/bin"]);
    let next = v.files("usr", Some("usr/bin"), 2).unwrap();
    assert_eq!(paths(&next), ["usr/bin/su", "usr/lib"]);
    assert!(v.files("usr", Some("usr/lib"), 2).unwrap().is_empty());
    assert_eq!(paths(&v.files("opt/app", None, 10).unwrap()), ["opt/app", "opt/app/run"]);
    assert!(v.files("nothing", None, 10).unwrap().is_empty());
    assert!(v.files("../etc", None, 10).is_err());
    assert_eq!(v.files("", None, 5000).unwrap().len(), 16, "capped at 1000, not more than there is");
    assert_eq!(v.packages(), [("bash".to_string(), "5.2".to_string())]);
    assert!(v.config_json().contains("Labels"));
}

#[test]
fn reads_stay_inside_the_image() {
    let (_d, client) = layout();
    let v = view(&client, &Cache::disabled());
    assert_eq!(v.read("/opt/app/run", 0, 9).unwrap(), b"#!/bin/sh");
    assert_eq!(v.read("opt/app/run", 10, 1000).unwrap(), b"echo hi\n");
    assert_eq!(v.read("opt/app/run", 100, 10).unwrap(), b"");
    let passwd = b"root:x:0:0::/root:/bin/sh\n".to_vec();
    assert_eq!(v.read("escape", 0, 100).unwrap(), passwd, "`..` in a link target stops at the image's root");
    assert_eq!(v.read("abs", 5, 3).unwrap(), b"x:0");
    assert!(v.read("lib/x.so", 0, 10).unwrap_err().contains("no such file"), "whited out");
    assert!(v.read("../etc/passwd", 0, 10).unwrap_err().contains("`..` is not allowed"));
    assert!(v.read("etc/../etc/passwd", 0, 10).is_err());
    assert!(v.read("usr/bin", 0, 10).unwrap_err().contains("not a regular file"));
    assert!(v.read("loop-a", 0, 10).unwrap_err().contains("too many levels"));
    assert!(v.read("etc/passwd\0", 0, 10).is_err());
    assert!(v.read("nothing/here/at/all", 0, 10).is_err());
}

#[test]
fn the_base_s_tree_is_kept_by_its_layers() {
    let (_d, client) = layout();
    let dir = tempfile::tempdir().unwrap();
    let cache = Cache::at(dir.path());
    assert_eq!(view_with(&client, &cache, "cached", true).files("", None, 100).unwrap().len(), 16);
    MEMO.lock().unwrap().clear();
    // The base's blob is gone: the tree comes from the cache, the build's layers from memory.
    for e in std::fs::read_dir(_d.path().join("acme/base/blobs/sha256")).unwrap() {
        std::fs::remove_file(e.unwrap().path()).unwrap();
    }
    assert_eq!(view_with(&client, &cache, "cached", false).files("", None, 100).unwrap().len(), 16);
    // And without the cache, the base cannot be read: the view says so.
    MEMO.lock().unwrap().clear();
    assert!(view_with(&client, &Cache::disabled(), "cached", false).files("", None, 100).is_err());
}
