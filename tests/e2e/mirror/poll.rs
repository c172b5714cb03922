//! Polls (for upstreams that notify nobody) and mirrors within one registry. A due poll
//! resolves the upstream tags and queues a sync only when a tag differs — and not for a tag
//! refused earlier that nothing changed about, until the vendor signs it. A mirror whose source
//! is on the org registry itself mounts blobs instead of copying them, and may not read another
//! org's namespace there.

use std::process::Command;
use std::time::Duration;

use serde_json::json;

use super::{action, create_mirror, key, vendor_push, vendor_sign, wait_sync};
use crate::harness::service::{Service, ServiceOptions};
use crate::harness::{Registry, run};

/// Makes every mirror due for its poll now (the worker looks every second).
fn make_due(host: &Service) {
    let db = host.data.join("tailor.db");
    run(Command::new("python3").args([
        "-c",
        "import sqlite3, sys; c = sqlite3.connect(sys.argv[1], timeout=30); c.execute('UPDATE mirrors SET next_check = 0'); c.commit()",
        db.to_str().unwrap(),
    ]));
}

fn syncs(host: &Service, token: &str, id: &str) -> Vec<serde_json::Value> {
    host.get(&format!("/v1/orgs/acme/mirrors/{id}/syncs"), token).json()["syncs"].as_array().unwrap().clone()
}

/// The number of poll rounds the worker logged.
fn polls(host: &Service) -> usize {
    host.log().matches("tailor worker: polled ").count()
}

#[test]
fn polls_sync_what_changed_and_ask_again_about_a_refusal_only_when_signatures_change() {
    let work = tempfile::tempdir().unwrap();
    let (upstream, org) = (Registry::start(), Registry::start());
    let (vendor, _, vendor_pem) = key(work.path(), "vendor");
    let signed = vendor_push(&upstream, "vendor/app:1", "linux/amd64", &[("/app", "1")]);
    vendor_sign(&upstream, "vendor/app", &signed, &vendor);
    let unsigned = vendor_push(&upstream, "vendor/app:2", "linux/amd64", &[("/app", "2")]);
    let host = Service::start(
        &work.path().join("data"),
        &ServiceOptions {
            registry: Some(org.url()),
            extra: vec!["--upstream".into(), format!("{}={}", upstream.host(), upstream.url())],
            ..ServiceOptions::default()
        },
    );
    let token = host.token("acme", "owner");
    let body = json!({"source": format!("{}/vendor/app", upstream.host()), "verify_keys": [vendor_pem], "poll_interval_s": 30});
    let m = create_mirror(&host, &token, &body);
    let id = m["id"].as_str().unwrap().to_owned();
    let s = wait_sync(&host, &token, &id, 1);
    assert_eq!((action(&s, "1"), action(&s, "2")), ("copied".into(), "refused".into()), "{s:#}");

    // Nothing changed: a poll queues nothing (the refused tag is not asked about again).
    let before = polls(&host);
    make_due(&host);
    host.wait_for("a poll round", Duration::from_secs(30), || (polls(&host) > before).then_some(()));
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(syncs(&host, &token, &id).len(), 1, "{}", host.log());
    assert!(host.log().contains("0 tag(s) changed, 0 sync(s) queued"), "{}", host.log());

    // A new upstream tag (no notification): the next poll syncs it.
    vendor_push(&upstream, "vendor/app:3", "linux/amd64", &[("/app", "3")]);
    let three = super::digest_of(&upstream, "vendor/app:3");
    vendor_sign(&upstream, "vendor/app", &three, &vendor);
    make_due(&host);
    let s = wait_sync(&host, &token, &id, 2);
    assert!(s["reason"].as_str().unwrap().starts_with("poll: 3 changed upstream"), "{s:#}");
    assert_eq!(action(&s, "3"), "copied");

    // The vendor signs tag 2 after all: the poll notices the signature and the tag comes in.
    vendor_sign(&upstream, "vendor/app", &unsigned, &vendor);
    make_due(&host);
    let s = wait_sync(&host, &token, &id, 3);
    assert_eq!(action(&s, "2"), "copied", "{s:#}");
    assert_eq!(super::digest_of(&org, "acme/dhi-app:2"), unsigned);
}

#[test]
fn a_mirror_within_the_org_registry_mounts_and_stays_out_of_other_orgs() {
    let work = tempfile::tempdir().unwrap();
    let org = Registry::start();
    let big = "x".repeat(1 << 20);
    let digest = vendor_push(&org, "vendor/base:1", "linux/amd64,linux/arm64", &[("/big", &big)]);
    vendor_push(&org, "zeta/secret:1", "linux/amd64", &[("/secret", "zeta's")]);
    let host = Service::start(
        &work.path().join("data"),
        &ServiceOptions {
            registry: Some(org.url()),
            extra: vec!["--upstream".into(), format!("{}={}", org.host(), org.url())],
            ..ServiceOptions::default()
        },
    );
    let (token, _zeta) = (host.token("acme", "owner"), host.token("zeta", "owner"));
    let m =
        create_mirror(&host, &token, &json!({"source": format!("{}/vendor/base", org.host()), "poll_interval_s": 0}));
    let s = wait_sync(&host, &token, m["id"].as_str().unwrap(), 1);
    assert_eq!(s["status"], "succeeded", "{s:#}");
    assert_eq!(super::digest_of(&org, "acme/dhi-base:1"), digest);
    assert_eq!(s["outputs"]["blobs_copied"], 0, "{s:#}");
    assert!(s["outputs"]["bytes_mounted"].as_u64().unwrap() > 0, "{s:#}");

    let m =
        create_mirror(&host, &token, &json!({"source": format!("{}/zeta/secret", org.host()), "poll_interval_s": 0}));
    let s = wait_sync(&host, &token, m["id"].as_str().unwrap(), 1);
    assert_eq!(s["status"], "failed", "{s:#}");
    assert!(s["error"].as_str().unwrap().contains("another org's repositories"), "{s:#}");
    let r = crate::harness::http::request(&org.host(), "HEAD", "/v2/acme/dhi-secret/manifests/1", &[], b"");
    assert_eq!(r.status, 404);
}
