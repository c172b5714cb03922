//! `kill -9` of `tailor up` while its worker is pushing: after a restart on the same data the
//! build resumes and completes, the request is not lost, and the tag never pointed at a
//! half-pushed image. Then SIGTERM while the resumed build pushes: the build in hand is
//! finished and the host exits 0.

use std::io::Read;
use std::process::Command;
use std::time::Duration;

use serde_json::json;

use super::builds;
use crate::harness::service::{Service, ServiceOptions, push_files};
use crate::harness::{Registry, run};

fn tag_exists(registry: &Registry, reference: &str) -> bool {
    Command::new("skopeo")
        .args(["inspect", "--raw", "--tls-verify=false", "--no-creds"])
        .arg(format!("docker://{}/{reference}", registry.host()))
        .output()
        .unwrap()
        .status
        .success()
}

#[test]
fn a_build_killed_while_pushing_completes_after_a_restart() {
    let work = tempfile::tempdir().unwrap();
    let registry = Registry::start();
    push_files(&registry.url(), "acme/base:1", "linux/amd64", &[("/etc/passwd", b"root:x:0:0::/root:/bin/sh\n")]);
    // Incompressible, so that compressing and uploading it takes a while.
    let mut big = vec![0u8; 64 << 20];
    std::fs::File::open("/dev/urandom").unwrap().read_exact(&mut big).unwrap();
    push_files(&registry.url(), "acme/big:1", "linux/amd64", &[("/opt/big/blob", &big)]);

    let data = work.path().join("data");
    let opts = ServiceOptions { registry: Some(registry.url()), ..ServiceOptions::default() };
    let mut host = Service::start(&data, &opts);
    let token = host.token("acme", "owner");
    let spec = json!({
        "name": "big", "source": "acme/base:1", "tag_suffix": "big", "platforms": ["linux/amd64"],
        "contents": {"artifacts": [{"reference": "acme/big:1", "includes": ["/opt/big"]}]}
    });
    let r = host.post_json("/v1/orgs/acme/customizations", &token, &spec);
    assert_eq!(r.status, 201, "{}", r.text());
    let id = r.json()["id"].as_str().unwrap().to_owned();

    // Kill the host the moment the registry holds an upload session for the result.
    host.wait_for("the worker to start uploading", Duration::from_secs(120), || {
        (!registry.open_uploads("acme/base").is_empty()).then_some(())
    });
    host.kill9();
    assert!(!tag_exists(&registry, "acme/base:1_big"), "the tag must not exist before the image is complete");
    let killed = registry.open_uploads("acme/base");

    // Restart: the build resumes. SIGTERM while it uploads again: it finishes, then exit 0.
    let mut host = Service::start(&data, &opts);
    host.wait_for("the resumed build to upload", Duration::from_secs(120), || {
        registry.open_uploads("acme/base").iter().any(|u| !killed.contains(u)).then_some(())
    });
    let status = host.terminate();
    assert!(status.success(), "SIGTERM during a build: {status}\n{}", host.log());
    assert!(host.log().contains("finishing builds in progress"), "{}", host.log());
    assert!(tag_exists(&registry, "acme/base:1_big"), "the build in hand was finished before exiting:\n{}", host.log());
    let resumed_log = host.log();

    let host = Service::start(&data, &opts);
    let done = host.wait_for("the resumed build", Duration::from_secs(180), || {
        let b = builds(&host, &token, &id);
        (b.len() == 1 && b[0]["status"] != "queued" && b[0]["status"] != "running").then_some(b)
    });
    assert_eq!(done[0]["status"], "succeeded", "{done:#?}\n{}", host.log());
    assert_eq!(done[0]["attempts"], 2, "the killed attempt counts: {done:#?}");
    assert!(resumed_log.contains("resumed 1 build"), "{resumed_log}");
    let log = host.get(&format!("/v1/orgs/acme/customizations/{id}/builds/1/log"), &token).text();
    assert!(log.contains("attempt 2"), "{log}");

    // The tag points at a complete image: every blob can be copied out.
    let out = work.path().join("copy");
    run(Command::new("skopeo")
        .args(["copy", "--all", "--quiet", "--src-tls-verify=false", "--src-no-creds"])
        .arg(format!("docker://{}/acme/base:1_big", registry.host()))
        .arg(format!("oci:{}:x", out.display())));
    assert_eq!(done[0]["outputs"]["tag"], "acme/base:1_big");
}
