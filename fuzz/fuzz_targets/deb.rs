//! `.deb` archives (ar, control and data members in any compression) and the archive's
//! text formats: control stanzas, Packages, Release/InRelease, relations and versions.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tailor_packages::deb::{
    ClearSigned, DebArchive, DebControl, Relation, Release, Version, parse_packages, parse_stanzas,
};

fuzz_target!(|data: &[u8]| {
    if let Ok(deb) = DebArchive::parse("fuzz.deb", data, 1 << 20) {
        let _ = deb.data_tar();
        let _ = deb.conffile_paths().count();
    }
    let Ok(text) = std::str::from_utf8(data) else { return };
    let _ = DebControl::parse(text);
    let _ = parse_stanzas(text);
    if let Ok(packages) = parse_packages(text) {
        // Relation fields are parsed when read.
        for p in &packages {
            let _ = (p.depends(), p.pre_depends(), p.conflicts(), p.breaks());
        }
    }
    let _ = Release::parse(text);
    let _ = Release::parse_inrelease(text);
    if let Ok(signed) = ClearSigned::parse(text) {
        let _ = signed.signed_data();
    }
    if let Ok(r) = Relation::parse(text) {
        if let Ok(v) = Version::parse(text) {
            let _ = r.satisfied_by(&v);
        }
    }
    if let (Some((a, b)), true) = (text.split_once(' '), text.len() < 256) {
        if let (Ok(a), Ok(b)) = (Version::parse(a), Version::parse(b)) {
            assert_eq!(a.cmp(&b), b.cmp(&a).reverse(), "version order is not antisymmetric");
        }
    }
});
