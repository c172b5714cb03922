//! `.apk` packages (three concatenated gzip streams) and Alpine's text formats: PKGINFO,
//! APKINDEX, dependencies and versions.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tailor_packages::apk::{ApkArchive, Dependency, PkgInfo, compare, parse_dependencies, parse_index};

fuzz_target!(|data: &[u8]| {
    if let Ok(apk) = ApkArchive::parse("fuzz.apk", data, 1 << 20) {
        let _ = apk.data_tar();
        let _ = apk.checksum();
    }
    let Ok(text) = std::str::from_utf8(data) else { return };
    let _ = PkgInfo::parse(text);
    let _ = parse_index(text);
    let _ = parse_dependencies(text);
    let _ = Dependency::parse(text);
    if let Some((a, b)) = text.split_once(' ') {
        let _ = compare(a, b);
    }
});
