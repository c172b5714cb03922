//! Layer tars (GNU, PAX, whiteouts, opaque directories, links) read and flattened: every
//! path the reader yields is normalized, flattening never panics, and what tailor writes
//! back reads as the same entries.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tailor_build::flatten::{Tree, link_source};
use tailor_build::tarfs::{Kind, Limits, TarReader, normalize_tar_path, write_tar};

fuzz_target!(|data: &[u8]| {
    let limits = Limits { max_layer_bytes: 4 << 20 };
    let Ok(entries) = TarReader::new(data, limits).read_all() else { return };
    for e in &entries {
        assert_eq!(normalize_tar_path(&e.path).as_deref(), Ok(e.path.as_str()), "a path not normalized");
        if let Kind::Hardlink(target) = &e.kind {
            assert_eq!(normalize_tar_path(target).as_deref(), Ok(target.as_str()), "a link target not normalized");
        }
    }
    let mut tree = Tree::default();
    tree.apply_layer(entries.clone());
    tree.apply_layer(entries.clone());
    for e in tree.entries.values() {
        if let Kind::Hardlink(target) = &e.kind {
            let _ = link_source(&tree, target);
        }
    }
    let written = write_tar(&entries).expect("entries that were read can be written");
    let again = TarReader::new(&written[..], limits).read_all().expect("tailor's own tar reads back");
    assert_eq!(again, entries, "a written layer reads back differently");
});
