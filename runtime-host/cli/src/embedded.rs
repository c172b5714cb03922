//! The Spin application `tailor up` serves when no `--manifest` is given: spin.toml and the
//! api, webhook and ui components, carried by the binary (see build.rs).

include!(concat!(env!("OUT_DIR"), "/embedded.rs"));

/// The embedded application, for the host.
pub fn source() -> tailor_host::ManifestSource {
    tailor_host::ManifestSource::Embedded { text: SPIN_TOML, files: FILES }
}
