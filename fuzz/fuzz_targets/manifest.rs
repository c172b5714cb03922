//! Manifests, indexes, image configs and referrers lists as registries send them.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tailor_build::config::{ConfigEdit, edit};

fuzz_target!(|data: &[u8]| {
    let _ = tailor_oci::media::sniff_manifest_type(data);
    let _ = tailor_build::resolve::parse_manifest(data, "fuzz");
    let _ = tailor_oci::oci_spec::image::ImageIndex::from_reader(data);
    let _ = tailor_oci::parse_referrers(data, None);
    let _ = tailor_oci::parse_referrers(data, Some("application/vnd.dev.cosign.artifact.sig.v1+json"));
    let mut change = ConfigEdit::default();
    change.env.insert("PATH".into(), "/usr/bin".into());
    change.layers.push(("sha256:".to_owned() + &"0".repeat(64), "fuzz".into()));
    for base_layers in [0, 1, 3] {
        if let Ok(out) = edit(data, base_layers, &change) {
            let v: serde_json::Value = serde_json::from_slice(&out).expect("an edited config is JSON");
            assert!(v.is_object(), "an edited config is an object");
        }
    }
});
