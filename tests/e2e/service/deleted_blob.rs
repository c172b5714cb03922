//! A worker remembers which blobs it saw in a repository, so the builds of a fan-out do not each
//! ask the registry about the layers they share. A blob deleted from the repository after that
//! must not break the next build: the real Distribution registry refuses the manifest that names
//! it, the worker asks again, uploads it and pushes the manifest, and the image is whole.

use std::process::Command;
use std::time::Duration;

use serde_json::{Value, json};

use super::builds;
use super::rebuild::{base_files, create_and_build, digest_of, skopeo_push};
use crate::harness::http::request;
use crate::harness::service::{Service, ServiceOptions};
use crate::harness::{Registry, RegistryOptions, free_port, run, skopeo_inspect_raw};

fn manifest(registry: &Registry, reference: &str) -> Value {
    serde_json::from_slice(&skopeo_inspect_raw(&format!("{}/{reference}", registry.host()), None)).unwrap()
}

#[test]
fn a_layer_deleted_from_the_repository_after_a_build_is_uploaded_again_by_the_next() {
    let work = tempfile::tempdir().unwrap();
    let port = free_port();
    let registry = Registry::start_with(RegistryOptions::notifying(port));
    let host = Service::start(&work.path().join("data"), &ServiceOptions::notified_by(&registry, port));
    let token = host.token("acme", "owner");
    skopeo_push(work.path(), &registry, "base", "1", &base_files("1"));
    skopeo_push(work.path(), &registry, "art", "1", &[("/opt/app/bin/app", "v1".into())]);
    let spec = json!({
        "name": "app", "source": "acme/base:1", "tag_suffix": "custom", "platforms": ["linux/amd64"],
        "contents": {"artifacts": [{"reference": "acme/art:1", "includes": ["/opt/app"]}]},
    });
    let (id, _) = create_and_build(&host, &token, &spec);

    // The artifact's layer (the image's last one) goes from acme/base; its manifest stays.
    let tag = "acme/base:1_custom";
    let index = manifest(&registry, tag);
    let platform = index["manifests"][0]["digest"].as_str().unwrap().to_owned();
    let layers = manifest(&registry, &format!("acme/base@{platform}"))["layers"].as_array().unwrap().clone();
    let layer = layers.last().unwrap()["digest"].as_str().unwrap().to_owned();
    let addr = registry.host();
    let blob = format!("/v2/acme/base/blobs/{layer}");
    assert_eq!(request(&addr, "DELETE", &blob, &[], b"").status, 202);
    assert_eq!(request(&addr, "HEAD", &blob, &[], b"").status, 404);

    // A new base: the rebuild has the same artifact layer, which the worker saw in acme/base.
    let base2 = skopeo_push(work.path(), &registry, "base", "1", &base_files("2"));
    let after = host.wait_for("a rebuild after the base push", Duration::from_secs(60), || {
        let b = builds(&host, &token, &id);
        (b.len() == 2 && b[0]["status"] != "queued" && b[0]["status"] != "running").then_some(b)
    });
    assert_eq!(after[0]["status"], "succeeded", "{after:#?}");
    assert_eq!(after[0]["inputs"]["source"]["digest"], base2.as_str());
    let number = after[0]["number"].as_u64().unwrap();
    let log = host.get(&format!("/v1/orgs/acme/customizations/{id}/builds/{number}/log"), &token).text();
    assert!(log.contains("the registry did not know a blob yet"), "the manifest was refused once: {log}");
    assert_eq!(request(&addr, "HEAD", &blob, &[], b"").status, 200, "the layer is back");
    let new_platform = manifest(&registry, tag)["manifests"][0]["digest"].as_str().unwrap().to_owned();
    let new_layers = manifest(&registry, &format!("acme/base@{new_platform}"))["layers"].clone();
    assert!(new_layers.as_array().unwrap().iter().any(|l| l["digest"] == layer.as_str()), "{new_layers}");
    // The whole image reads back: every blob of the tag is there.
    let out = tempfile::tempdir_in(work.path()).unwrap();
    run(Command::new("skopeo").args([
        "copy",
        "--all",
        "--quiet",
        "--src-tls-verify=false",
        "--src-no-creds",
        &format!("docker://{addr}/{tag}"),
        &format!("oci:{}:x", out.path().display()),
    ]));
    assert_eq!(digest_of(&registry, tag), after[0]["outputs"]["index_digest"].as_str().unwrap());
    assert!(!host.log().contains("panicked"), "{}", host.log());
}
