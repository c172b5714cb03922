//! A vendor's patch flows through with no person involved: the upstream registry notifies
//! tailor (an endpoint bound to that upstream), the mirror syncs the new digest, the sync
//! queues the customization built on the mirrored tag, and its result tag moves — once: the
//! org registry's own notification of the mirrored tag coalesces with the sync's cascade.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::{create_mirror, digest_of, vendor_push, wait_sync};
use crate::harness::service::{Service, ServiceOptions};
use crate::harness::{Registry, RegistryOptions, free_port, skopeo_inspect_raw};
use crate::service::{builds, wait_idle};

fn base(version: &str) -> Vec<(&'static str, String)> {
    vec![
        ("/etc/passwd", "root:x:0:0:root:/root:/bin/sh\n".into()),
        ("/etc/group", "root:x:0:\n".into()),
        ("/etc/os-release", format!("ID=vendor\nVERSION_ID={version}\n")),
    ]
}

#[test]
fn an_upstream_patch_flows_through_the_mirror_into_a_rebuilt_customization() {
    let work = tempfile::tempdir().unwrap();
    let port = free_port();
    let hook = |name: &str, secret: &str| RegistryOptions {
        notifications_url: Some(format!("http://127.0.0.1:{port}/v1/hooks/{name}")),
        notifications_headers: vec![("Authorization".into(), format!("Bearer {secret}"))],
        ..RegistryOptions::default()
    };
    let upstream = Registry::start_with(hook("vendor", "vendor-secret"));
    let org = Registry::start_with(hook("reg", "reg-secret"));
    let up = upstream.host();
    let push = |version: &str| {
        let f = base(version);
        let f: Vec<(&str, &str)> = f.iter().map(|(p, c)| (*p, c.as_str())).collect();
        vendor_push(&upstream, "vendor/base:1", "linux/amd64", &f)
    };
    let first = push("1");
    let host = Service::start(
        &work.path().join("data"),
        &ServiceOptions {
            registry: Some(org.url()),
            port: Some(port),
            webhooks: vec![("reg".into(), "reg-secret".into()), ("vendor".into(), "vendor-secret".into())],
            extra: vec![
                "--upstream".into(),
                format!("{up}={}", upstream.url()),
                "--webhook-upstream".into(),
                format!("vendor={up}"),
            ],
            ..ServiceOptions::default()
        },
    );
    let token = host.token("acme", "owner");
    let m = create_mirror(
        &host,
        &token,
        &json!({"source": format!("{up}/vendor/base"), "tags": ["1"], "poll_interval_s": 0}),
    );
    let mirror = m["id"].as_str().unwrap().to_owned();
    assert_eq!(wait_sync(&host, &token, &mirror, 1)["status"], "succeeded");
    let spec = json!({"name": "app", "source": "acme/dhi-base:1", "tag_suffix": "custom", "platforms": ["linux/amd64"],
        "files": [{"path": "/etc/app.conf", "content": "x=1\n", "uid": 0, "gid": 0, "mode": "0644"}]});
    let r = host.post_json("/v1/orgs/acme/customizations", &token, &spec);
    assert_eq!(r.status, 201, "{}", r.text());
    let id = r.json()["id"].as_str().unwrap().to_owned();
    let built = wait_idle(&host, &token, &id);
    assert_eq!(built[0]["status"], "succeeded", "{built:#?}");
    assert_eq!(built[0]["inputs"]["source"]["digest"], first.as_str());
    let result = "acme/dhi-base:1_custom";
    let before = digest_of(&org, result);

    // The vendor patches: notification → sync → cascade → rebuilt, signed, tag moved.
    let patched = push("2");
    let pushed = Instant::now();
    let moved = host.wait_for("the customized tag to move", Duration::from_secs(60), || {
        let now = digest_of(&org, result);
        (now != before).then_some(now)
    });
    let elapsed = pushed.elapsed();
    eprintln!("upstream push → customized tag moved: {} ms", elapsed.as_millis());
    let index: Value = serde_json::from_slice(&skopeo_inspect_raw(&format!("{}/{result}", org.host()), None)).unwrap();
    assert_eq!(index["annotations"]["org.opencontainers.image.base.digest"], patched.as_str());
    assert_eq!(digest_of(&org, "acme/dhi-base:1"), patched, "the mirror moved first");
    let syncs = host.get(&format!("/v1/orgs/acme/mirrors/{mirror}/syncs"), &token).json();
    let copying =
        syncs["syncs"].as_array().unwrap().iter().find(|s| s["tags"][0]["action"] == "copied" && s["number"] != 1);
    let copying = copying.unwrap_or_else(|| panic!("no sync copied the patch: {syncs:#}"));
    assert!(copying["reason"].as_str().unwrap().starts_with(&format!("push of {up}/vendor/base:1")), "{syncs:#}");
    // Exactly one build for the change, even after the org registry's notification arrived.
    std::thread::sleep(Duration::from_secs(3));
    let all = builds(&host, &token, &id);
    assert_eq!(all.len(), 2, "one build for one change: {all:#?}");
    assert_eq!(
        (all[0]["status"].as_str(), all[0]["inputs"]["source"]["digest"].as_str()),
        (Some("succeeded"), Some(patched.as_str()))
    );
    assert_eq!(all[0]["outputs"]["index_digest"], moved.as_str());
    assert!(elapsed < Duration::from_secs(30), "{elapsed:?}");
    assert!(!host.log().contains("panicked"), "{}", host.log());
}
