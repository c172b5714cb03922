//! Bad input: each case gives exit code 2 (fix the spec) or 1 (build failure) with a clear
//! message, no panic, and nothing pushed under the destination tag.

use std::io::Write;
use std::process::Command;
use std::sync::Arc;

use tailor_oci::{BlobSource, Client, Digest, Quiet, Scope, media};

use super::fixtures::*;
use crate::harness::Registry;

struct Case {
    reg: Registry,
    work: tempfile::TempDir,
}

impl Case {
    fn new() -> Case {
        let reg = Registry::start();
        let work = tempfile::tempdir().unwrap();
        let base = umoci_image(work.path(), "base", "amd64", &[&base_layer]);
        let art = umoci_image(work.path(), "art", "amd64", &[&artifact_layer1, &artifact_layer2]);
        skopeo_copy(&format!("oci:{base}"), &format!("docker://{}/acme/base:1", reg.host()), None);
        skopeo_copy(&format!("oci:{art}"), &format!("docker://{}/acme/tools:2", reg.host()), None);
        Case { reg, work }
    }

    fn spec(&self, edit: &dyn Fn(String) -> String) -> String {
        let p = full_spec(self.work.path(), "acme/base:1", "acme/tools:2", "linux/amd64");
        let text = edit(std::fs::read_to_string(&p).unwrap());
        std::fs::write(&p, text).unwrap();
        p.to_str().unwrap().to_string()
    }

    /// Run a build expecting `code`; the combined output; and nothing under the result tag.
    fn fails(&self, spec: &str, extra: &[&str], code: i32) -> String {
        let mut args = vec!["build", "-f", spec, "--registry"];
        let url = self.reg.url();
        args.push(&url);
        args.push("--no-cache");
        args.extend_from_slice(extra);
        let o = tailor(&args, &[]);
        let out = format!("{}{}", String::from_utf8_lossy(&o.stdout), stderr(&o));
        assert_eq!(o.status.code(), Some(code), "{out}");
        assert!(!out.contains("panicked"), "{out}");
        let tags = Command::new("skopeo")
            .args(["list-tags", "--tls-verify=false", &format!("docker://{}/acme/base", self.reg.host())])
            .output()
            .unwrap();
        assert!(
            !String::from_utf8_lossy(&tags.stdout).contains("_custom"),
            "nothing may be tagged: {}",
            String::from_utf8_lossy(&tags.stdout)
        );
        out
    }

    /// Push a single-platform artifact whose only layer is `layer` (gzip-compressed here).
    fn push_raw_artifact(&self, repo: &str, tar: &[u8]) {
        let client = Client::registry(self.reg.client_config(), Scope::new(["acme"], [repo])).unwrap();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(tar).unwrap();
        let blob: Arc<[u8]> = gz.finish().unwrap().into();
        let put = |bytes: Arc<[u8]>| -> Digest {
            let d = Digest::of(&bytes);
            client.put_blob(repo, &d, bytes.len() as u64, &BlobSource::Bytes(bytes), &Quiet).unwrap();
            d
        };
        let layer = put(blob.clone());
        let diff = Digest::of(tar);
        let cfg = serde_json::to_vec(&serde_json::json!({"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[diff.as_str()]}})).unwrap();
        let cfg_len = cfg.len();
        let cfg = put(cfg.into());
        let m = serde_json::to_vec(&serde_json::json!({
            "schemaVersion": 2, "mediaType": media::OCI_MANIFEST,
            "config": {"mediaType": media::OCI_CONFIG, "digest": cfg.as_str(), "size": cfg_len},
            "layers": [{"mediaType": media::OCI_LAYER_GZIP, "digest": layer.as_str(), "size": blob.len()}],
        }))
        .unwrap();
        client.put_manifest(repo, "1", media::OCI_MANIFEST, &m).unwrap();
    }

    fn with_artifact(&self, reference: &str) -> String {
        self.spec(&|s| {
            s.replace("acme/tools:2", reference)
                .replace("includes: [/opt/app, /etc/ssl/certs/ca.crt]", "includes: [/]")
                .replace("excludes: [/opt/app/docs]", "excludes: []")
        })
    }
}

/// A tar entry written header by header (no end-of-archive unless added).
fn raw_entry(name: &[u8], body: &[u8]) -> Vec<u8> {
    let mut h = tar::Header::new_gnu();
    h.as_old_mut().name[..name.len()].copy_from_slice(name);
    h.set_size(body.len() as u64);
    h.set_mode(0o644);
    h.set_entry_type(tar::EntryType::Regular);
    h.set_cksum();
    let mut out = h.as_bytes().to_vec();
    out.extend_from_slice(body);
    out.resize(out.len().div_ceil(512) * 512, 0);
    out
}

#[test]
fn invalid_spec_lists_every_problem_with_exit_2() {
    let c = Case::new();
    let spec = c.spec(&|s| {
        s.replace("tag_suffix: custom", "tag_suffix: 'bad suffix'")
            .replace("mode: \"0750\"", "mode: \"0999\"")
            .replace("excludes: [/opt/app/docs]", "excludes: [/var/x]")
            .replace("TZ: UTC", "1TZ: UTC")
    });
    let out = c.fails(&spec, &[], 2);
    for needle in ["tag_suffix", "files[0].mode", "contents.artifacts[0].excludes[0]", "environment.1TZ"] {
        assert!(out.contains(needle), "missing {needle} in:\n{out}");
    }
    let unknown = c.spec(&|s| s.replace("cmd: [serve]", "cmd: [serve]\ncommand: [x]"));
    assert!(c.fails(&unknown, &[], 2).contains("command"));
}

#[test]
fn cross_namespace_artifact_is_refused() {
    let c = Case::new();
    let out = c.fails(&c.spec(&|s| s.replace("acme/tools:2", "other/tools:2")), &[], 2);
    assert!(out.contains("contents.artifacts[0].reference"), "{out}");
}

#[test]
fn missing_tag_names_the_field() {
    let c = Case::new();
    let out = c.fails(&c.spec(&|s| s.replace("source: acme/base:1", "source: acme/base:9")), &[], 2);
    assert!(out.contains("source: acme/base:9 not found"), "{out}");
    let out = c.fails(&c.spec(&|s| s.replace("acme/tools:2", "acme/tools:nope")), &[], 2);
    assert!(out.contains("contents.artifacts[0].reference"), "{out}");
}

#[test]
fn platform_missing_from_an_artifact_names_artifact_and_platform() {
    let c = Case::new();
    let out =
        c.fails(&c.spec(&|s| s.replace("platforms: [linux/amd64]", "platforms: [linux/amd64, linux/arm64]")), &[], 2);
    assert!(out.contains("linux/arm64 is not in the source acme/base:1"), "{out}");
    assert!(out.contains("linux/arm64 is not in contents.artifacts[0] acme/tools:2"), "{out}");
}

#[test]
fn include_that_does_not_exist_is_an_error() {
    let c = Case::new();
    let out = c.fails(&c.spec(&|s| s.replace("/etc/ssl/certs/ca.crt]", "/etc/ssl/certs/nope.crt]")), &[], 2);
    assert!(out.contains("contents.artifacts[0].includes[1]: /etc/ssl/certs/nope.crt does not exist"), "{out}");
}

#[test]
fn account_clash_and_unknown_run_as_are_errors() {
    let c = Case::new();
    let out = c.fails(
        &c.spec(&|s| {
            s.replace("{name: app, uid: 1000", "{name: nobody, uid: 1000").replace("run_as: app", "run_as: ghost")
        }),
        &[],
        2,
    );
    assert!(out.contains("accounts.users[0]: user `nobody` already exists"), "{out}");
    let out = c.fails(&c.spec(&|s| s.replace("run_as: app", "run_as: ghost")), &[], 2);
    assert!(out.contains("accounts.run_as: user `ghost`"), "{out}");
}

#[test]
fn packages_need_a_package_database_and_a_usable_repositories_file() {
    let c = Case::new();
    let spec = c.spec(&|s| s.replace("contents:\n", "contents:\n  packages: [curl]\n"));
    let out = c.fails(&spec, &[], 2);
    assert!(out.contains("contents.packages[0]") && out.contains("has no package database"), "{out}");
    let repos = std::env::temp_dir().join(format!("tailor-repos-{}.yaml", std::process::id()));
    std::fs::write(&repos, "debian:\n  - {url: http://127.0.0.1:9, suite: bookworm, components: [main]}\n").unwrap();
    let out = c.fails(&spec, &["--repositories", repos.to_str().unwrap()], 1);
    assert!(out.contains("debian[0].keys: give the keyring"), "{out}");
    let _ = std::fs::remove_file(&repos);
}

#[test]
fn truncated_layer_without_end_of_archive_is_refused() {
    let c = Case::new();
    c.push_raw_artifact("acme/trunc", &raw_entry(b"opt/x", b"hello"));
    let out = c.fails(&c.with_artifact("acme/trunc:1"), &[], 1);
    assert!(out.contains("no end-of-archive marker"), "{out}");
}

#[test]
fn dotdot_entry_is_refused() {
    let c = Case::new();
    let mut tar = raw_entry(b"../../etc/evil", b"x");
    tar.extend_from_slice(&[0; 1024]);
    c.push_raw_artifact("acme/dotdot", &tar);
    let out = c.fails(&c.with_artifact("acme/dotdot:1"), &[], 1);
    assert!(out.contains("`..`"), "{out}");
}

#[test]
fn tar_bomb_is_stopped_at_the_size_cap() {
    let c = Case::new();
    let mut tar = raw_entry(b"opt/zeros", &vec![0u8; 32 << 20]);
    tar.extend_from_slice(&[0; 1024]);
    c.push_raw_artifact("acme/bomb", &tar);
    let out = c.fails(&c.with_artifact("acme/bomb:1"), &["--max-layer-size", "1048576"], 1);
    assert!(out.contains("size limit"), "{out}");
}

#[test]
fn layer_whose_digest_does_not_match_is_refused() {
    let c = Case::new();
    let mut tar = raw_entry(b"opt/file", b"original content");
    tar.extend_from_slice(&[0; 1024]);
    c.push_raw_artifact("acme/tamper", &tar);
    // Replace the stored layer blob with other valid gzip bytes.
    let m: serde_json::Value = serde_json::from_slice(&crate::harness::skopeo_inspect_raw(
        &format!("docker://{}/acme/tamper:1", c.reg.host()),
        None,
    ))
    .unwrap();
    let layer = m["layers"][0]["digest"].as_str().unwrap();
    let mut other = raw_entry(b"opt/file", b"tampered content");
    other.extend_from_slice(&[0; 1024]);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&other).unwrap();
    std::fs::write(c.reg.blob_data_path(layer), gz.finish().unwrap()).unwrap();
    let out = c.fails(&c.with_artifact("acme/tamper:1"), &[], 1);
    assert!(out.contains("does not match its digest"), "{out}");
}
