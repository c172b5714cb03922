//! The host keeps serving whatever one request does: a trap, an endless loop (time limit), an
//! unbounded allocation (memory limit), an oversized body, an unknown route; SIGTERM stops it
//! cleanly (exit 0).

use std::time::{Duration, Instant};

use crate::harness::service::{Service, ServiceOptions, wasm};

fn misbehaving(dir: &std::path::Path) -> Service {
    let manifest = dir.join("spin.toml");
    std::fs::write(
        &manifest,
        format!(
            "spin_manifest_version = 2\n[application]\nname = \"misbehave\"\n\
             [[trigger.http]]\nroute = \"/misbehave/...\"\ncomponent = \"misbehave\"\n\
             [component.misbehave]\nsource = {:?}\n",
            wasm("tailor_test_misbehave").display().to_string()
        ),
    )
    .unwrap();
    let opts = ServiceOptions {
        manifest: Some(manifest),
        workers: 0,
        extra: ["--request-timeout", "1s", "--request-memory", "32", "--max-body", "1000"].map(String::from).to_vec(),
        ..ServiceOptions::default()
    };
    Service::start(&dir.join("data"), &opts)
}

#[test]
fn a_misbehaving_request_gets_a_500_and_the_host_lives_on() {
    let dir = tempfile::tempdir().unwrap();
    let mut host = misbehaving(dir.path());
    let ok = |host: &Service| {
        let r = host.request("GET", "/misbehave/fine", None, &[], b"");
        assert_eq!((r.status, r.text().as_str()), (200, "ok\n"));
    };
    ok(&host);

    let r = host.request("GET", "/misbehave/trap", None, &[], b"");
    assert_eq!((r.status, r.code().as_str()), (500, "component_failed"), "{}", r.text());
    ok(&host);

    let started = Instant::now();
    let r = host.request("GET", "/misbehave/loop", None, &[], b"");
    assert_eq!((r.status, r.code().as_str()), (500, "timeout"), "{}", r.text());
    assert!(started.elapsed() < Duration::from_secs(5), "the 1 s limit stopped it: {:?}", started.elapsed());
    ok(&host);

    let r = host.request("GET", "/misbehave/oom", None, &[], b"");
    assert_eq!((r.status, r.code().as_str()), (500, "component_failed"), "{}", r.text());
    ok(&host);

    let r = host.request("POST", "/misbehave/fine", None, &[], &[b'x'; 1001]);
    assert_eq!((r.status, r.code().as_str()), (413, "body_too_large"), "{}", r.text());
    let r = host.request("POST", "/misbehave/fine", None, &[], &[b'x'; 1000]);
    assert_eq!(r.status, 200, "exactly the cap is accepted");

    let r = host.request("GET", "/elsewhere", None, &[], b"");
    assert_eq!((r.status, r.code().as_str()), (404, "route_not_found"));
    ok(&host);

    let status = host.terminate();
    assert!(status.success(), "SIGTERM: {status}\n{}", host.log());
}
