//! A build's fingerprint: everything that determines its output bytes. Two builds with the
//! same fingerprint produce the same image, so the second one is skipped.

use sha2::{Digest, Sha256};
use tailor_build::Inputs;
use tailor_spec::Customization;

/// `sha256:<hex>` over the builder version, the spec, the input digests and the org's
/// extensions that check it (each one's digest, mode and settings: a new policy is a new build).
pub fn fingerprint(spec: &Customization, inputs: &Inputs, extensions: &[String]) -> String {
    let mut h = Sha256::new();
    let mut part = |s: &str| {
        h.update((s.len() as u64).to_le_bytes());
        h.update(s.as_bytes());
    };
    part(tailor_build::cache::BUILDER);
    part(&serde_json::to_string(spec).unwrap_or_default());
    part(inputs.source.digest.as_str());
    for a in &inputs.artifacts {
        part(&a.reference);
        part(a.digest.as_str());
    }
    for (platform, packages) in &inputs.packages {
        part(platform);
        part(&packages.len().to_string());
        for p in packages {
            part(p);
        }
    }
    if !extensions.is_empty() {
        part("extensions");
        for x in extensions {
            part(x);
        }
    }
    format!("sha256:{}", hex::encode(h.finalize()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tailor_build::Input;
    use tailor_oci::Digest;

    fn inputs(source: &[u8], artifact: &[u8]) -> Inputs {
        Inputs {
            source: Input {
                reference: "acme/b:1".into(),
                digest: Digest::of(source),
                platforms: vec!["linux/amd64".into()],
            },
            artifacts: vec![Input { reference: "acme/a:1".into(), digest: Digest::of(artifact), platforms: vec![] }],
            packages: Default::default(),
        }
    }

    #[test]
    fn changes_with_any_input_and_the_spec() {
        let spec =
            Customization::parse_yaml("name: a\nsource: acme/b:1\ntag_suffix: x\nplatforms: [linux/amd64]\n").unwrap();
        let base = fingerprint(&spec, &inputs(b"s", b"a"), &[]);
        assert_eq!(base, fingerprint(&spec, &inputs(b"s", b"a"), &[]));
        assert_ne!(base, fingerprint(&spec, &inputs(b"s2", b"a"), &[]));
        assert_ne!(base, fingerprint(&spec, &inputs(b"s", b"a2"), &[]));
        let mut edited = spec.clone();
        edited.environment.insert("A".into(), "1".into());
        assert_ne!(base, fingerprint(&edited, &inputs(b"s", b"a"), &[]));
        // A new version of an OS package in the repository is a new build.
        let with = |version: &str| {
            let mut i = inputs(b"s", b"a");
            i.packages.insert("linux/amd64".into(), vec!["libc6=2.36-9".into(), format!("curl={version}")]);
            fingerprint(&spec, &i, &[])
        };
        assert_ne!(base, with("7.88.1-10"));
        assert_eq!(with("7.88.1-10"), with("7.88.1-10"));
        assert_ne!(with("7.88.1-10"), with("7.88.1-10+deb12u1"));
        assert!(base.starts_with("sha256:") && base.len() == 71);
        // An extension registered, changed in settings or digest: a new build.
        let x = |s: &str| fingerprint(&spec, &inputs(b"s", b"a"), &[s.to_owned()]);
        assert_ne!(base, x("no-setuid sha256:1 enforce {}"));
        assert_ne!(x("no-setuid sha256:1 enforce {}"), x("no-setuid sha256:2 enforce {}"));
        assert_ne!(x("no-setuid sha256:1 enforce {}"), x("no-setuid sha256:1 warn {}"));
    }
}
