//! Org extensions end to end (DESIGN.md §11): components built for wasm32-wasip2, pushed with
//! `tailor extension push` to the real registry, registered over the API of `tailor up`, run
//! by its worker at the build's checkpoints.

mod examples;
mod hostile;

use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use serde_json::{Value, json};

use crate::build::fixtures::{stderr, tailor};
use crate::harness::service::{Service, build_components, wasm};
use crate::harness::{Registry, http};

/// A file of a test image: path, content, mode (a symlink when the content starts with `->`).
pub type Entry<'a> = (&'a str, &'a str, u32);

/// `tailor artifact push` of a tree made of `entries` as `reference` (linux/amd64).
pub fn push_tree(registry: &Registry, reference: &str, entries: &[Entry]) -> String {
    let src = tempfile::tempdir().unwrap();
    for (path, content, mode) in entries {
        let p = src.path().join(path.trim_start_matches('/'));
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        if let Some(target) = content.strip_prefix("->") {
            std::os::unix::fs::symlink(target, &p).unwrap();
            continue;
        }
        std::fs::write(&p, content).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(*mode)).unwrap();
    }
    let o = tailor(
        &[
            "artifact",
            "push",
            src.path().to_str().unwrap(),
            "--tag",
            reference,
            "--platform",
            "linux/amd64",
            "--registry",
            &registry.url(),
            "-q",
        ],
        &[],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    crate::mirror::digest_of(registry, reference)
}

/// `tailor extension push` of the component of `crate_snake` as `reference`; its digest.
pub fn push_extension(registry: &Registry, crate_snake: &str, reference: &str) -> String {
    build_components();
    let file = wasm(crate_snake);
    let o = tailor(
        &[
            "extension",
            "push",
            file.to_str().unwrap(),
            "--tag",
            reference,
            "--registry",
            &registry.url(),
            "--output",
            "json",
        ],
        &[],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    v["digest"].as_str().unwrap_or_else(|| panic!("no digest in {v}")).to_owned()
}

/// Registers an extension in `org`; its id.
pub fn register(host: &Service, token: &str, org: &str, body: &Value) -> String {
    let r = host.post_json(&format!("/v1/orgs/{org}/extensions"), token, body);
    assert_eq!(r.status, 201, "{}", r.text());
    r.json()["id"].as_str().unwrap().to_owned()
}

/// Creates an image customization; its id.
pub fn customize(host: &Service, token: &str, org: &str, spec: &Value) -> String {
    let r = host.post_json(&format!("/v1/orgs/{org}/customizations"), token, spec);
    assert_eq!(r.status, 201, "{}", r.text());
    r.json()["id"].as_str().unwrap().to_owned()
}

/// The builds of customization `id` of `org`, newest first.
pub fn builds(host: &Service, token: &str, org: &str, id: &str) -> Vec<Value> {
    let r = host.get(&format!("/v1/orgs/{org}/customizations/{id}/builds"), token);
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()["builds"].as_array().cloned().unwrap_or_default()
}

/// Waits for `count` builds of `id`, all finished; the builds, newest first.
pub fn finished(host: &Service, token: &str, org: &str, id: &str, count: usize) -> Vec<Value> {
    host.wait_for(&format!("{count} finished build(s) of {id}"), Duration::from_secs(120), || {
        let b = builds(host, token, org, id);
        (b.len() >= count && b.iter().all(|b| b["status"] != "queued" && b["status"] != "running")).then_some(b)
    })
}

/// The build's log.
pub fn log(host: &Service, token: &str, org: &str, id: &str, number: i64) -> String {
    let r = host.get(&format!("/v1/orgs/{org}/customizations/{id}/builds/{number}/log"), token);
    assert_eq!(r.status, 200, "{}", r.text());
    r.text()
}

/// The manifest digest `reference` (repo:tag) has, or None.
pub fn head(registry: &Registry, reference: &str) -> Option<String> {
    let (repo, tag) = reference.split_once(':').unwrap();
    let r = http::request(
        &registry.host(),
        "HEAD",
        &format!("/v2/{repo}/manifests/{tag}"),
        &[("accept", "application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json")],
        b"",
    );
    (r.status == 200).then(|| r.header("docker-content-digest").unwrap().to_owned())
}

/// A plain base image's files.
pub fn base() -> Vec<Entry<'static>> {
    vec![
        ("/etc/passwd", "root:x:0:0:image-root:/root:/bin/sh\n", 0o644),
        ("/etc/group", "root:x:0:\n", 0o644),
        ("/etc/hostname", "image-host\n", 0o644),
    ]
}

/// A customization of `source` (linux/amd64) with `extra` fields.
pub fn spec(name: &str, source: &str, extra: Value) -> Value {
    let mut s = json!({"name": name, "source": source, "tag_suffix": "custom", "platforms": ["linux/amd64"]});
    if let (Some(s), Value::Object(extra)) = (s.as_object_mut(), extra) {
        s.extend(extra);
    }
    s
}
