//! What the SBOM and the package installers read of a base image: dpkg's status and
//! status.d, apk's installed database and world, os-release.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let _ = tailor_build::os::parse_dpkg_status(text);
    let _ = tailor_build::os::parse_status_d([text, text]);
    let _ = tailor_build::os::parse_apk_installed(text);
    let _ = tailor_build::os::OsRelease::parse(text);
    let _ = tailor_packages::deb::parse_status(text);
    let _ = tailor_packages::deb::install(text, true, &[]);
    let _ = tailor_packages::apk::install_apk(text, text, &[], &[]);
});
