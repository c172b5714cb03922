//! What a mirror refuses, and hostile upstreams: each ends in a clear error with the
//! destination tag where it was. Refused over the API: an undeclared upstream, a destination
//! outside the org, a member creating, unknown or another org's mirrors. Failed syncs: an
//! unreachable upstream, one answering 5xx, a blob whose bytes do not match its digest, an
//! oversized manifest, a manifest naming a blob the upstream does not have.

use serde_json::json;

use super::{action, create_mirror, digest_of, vendor_push, wait_sync};
use crate::harness::faults::{Fault, FaultProxy};
use crate::harness::service::{Service, ServiceOptions};
use crate::harness::{Registry, free_port, http};

#[test]
fn bad_mirrors_and_hostile_upstreams_fail_clearly_and_leave_the_destination() {
    let work = tempfile::tempdir().unwrap();
    let (upstream, org) = (Registry::start(), Registry::start());
    // tailor reads the upstream through a proxy that serves hostile content for some paths,
    // and through another that answers 503 to everything.
    let proxy = FaultProxy::start(&upstream.host());
    let failing = FaultProxy::start(&upstream.host());
    failing.on("", "", Fault::Status(503));
    let dead = format!("127.0.0.1:{}", free_port());
    let up = proxy.host();
    let host = Service::start(
        &work.path().join("data"),
        &ServiceOptions {
            registry: Some(org.url()),
            extra: vec![
                "--upstream".into(),
                format!("{up}={}", proxy.url()),
                "--upstream".into(),
                format!("{}={}", failing.host(), failing.url()),
                "--upstream".into(),
                format!("{dead}=http://{dead}"),
                "--max-attempts".into(),
                "1".into(),
            ],
            ..ServiceOptions::default()
        },
    );
    let (owner, member, other) =
        (host.token("acme", "owner"), host.token("acme", "member"), host.token("zeta", "owner"));

    // Refused over the API, nothing stored.
    let r = host.post_json("/v1/orgs/acme/mirrors", &owner, &json!({"source": "evil.example/x"}));
    assert_eq!((r.status, r.code()), (422, "invalid_spec".into()), "{}", r.text());
    assert!(r.text().contains("not a declared upstream") && r.text().contains(&up), "{}", r.text());
    let r = host.post_json(
        "/v1/orgs/acme/mirrors",
        &owner,
        &json!({"source": format!("{up}/vendor/x"), "destination": "zeta/x"}),
    );
    assert_eq!((r.status, r.json()["error"]["details"][0]["field"].as_str()), (422, Some("destination")));
    let r = host.post_json("/v1/orgs/acme/mirrors", &member, &json!({"source": format!("{up}/vendor/x")}));
    assert_eq!((r.status, r.code()), (403, "forbidden".into()));
    assert_eq!(host.get("/v1/orgs/acme/mirrors/mir_nope", &owner).status, 404);
    let declared = host.get("/v1/upstreams", &member).json();
    assert_eq!(declared["upstreams"].as_array().unwrap().len(), 3, "{declared}");

    // Hostile upstream content: set up good tags first, then break them upstream.
    let files = |v: &str| vec![("/opt/x", v.repeat(3000))];
    let push = |tag: &str, v: &str| {
        let f = files(v);
        let f: Vec<(&str, &str)> = f.iter().map(|(p, c)| (*p, c.as_str())).collect();
        vendor_push(&upstream, &format!("vendor/app:{tag}"), "linux/amd64", &f)
    };
    let good = push("tampered", "one");
    let m = create_mirror(&host, &owner, &json!({"source": format!("{up}/vendor/app"), "poll_interval_s": 0}));
    let id = m["id"].as_str().unwrap().to_owned();
    let s = wait_sync(&host, &owner, &id, 1);
    assert_eq!(s["status"], "succeeded", "{s:#}");
    // Another org does not see it.
    assert_eq!(host.get(&format!("/v1/orgs/acme/mirrors/{id}"), &other).status, 404);
    assert_eq!(host.get(&format!("/v1/orgs/zeta/mirrors/{id}"), &other).status, 404);

    // 1. A new version whose layer bytes were changed in the upstream's storage.
    let new = push("tampered", "two");
    let manifest: serde_json::Value = {
        let r = http::request(
            &upstream.host(),
            "GET",
            &format!("/v2/vendor/app/manifests/{new}"),
            &[("accept", "application/vnd.oci.image.index.v1+json")],
            b"",
        );
        let index = r.json();
        let m = index["manifests"][0]["digest"].as_str().unwrap().to_owned();
        http::request(
            &upstream.host(),
            "GET",
            &format!("/v2/vendor/app/manifests/{m}"),
            &[("accept", "application/vnd.oci.image.manifest.v1+json")],
            b"",
        )
        .json()
    };
    let layer = manifest["layers"][0]["digest"].as_str().unwrap();
    let path = upstream.blob_data_path(layer);
    let mut bytes = std::fs::read(&path).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0x55;
    std::fs::write(&path, bytes).unwrap();
    // 2. A manifest larger than 4 MiB (Distribution neither stores nor serves one: the proxy does).
    let huge = json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": manifest["config"], "layers": [], "annotations": {"x": "a".repeat(5 << 20)}});
    upstream.store_manifest_directly("vendor/app", "huge", &serde_json::to_vec(&manifest).unwrap());
    let body = serde_json::to_vec(&huge).unwrap();
    let huge_digest = format!("sha256:{}", hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&body)));
    let served = Fault::Body { content_type: "application/vnd.oci.image.manifest.v1+json".into(), body };
    proxy.on("", "/manifests/huge", served.clone()).on("", &format!("/manifests/{huge_digest}"), served);
    // 3. A manifest naming a blob the upstream does not have.
    let holey = json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": manifest["config"],
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "size": 5,
                    "digest": format!("sha256:{}", "7".repeat(64))}]});
    upstream.store_manifest_directly("vendor/app", "holey", &serde_json::to_vec(&holey).unwrap());

    let r = host.request("POST", &format!("/v1/orgs/acme/mirrors/{id}/syncs"), Some(&owner), &[], b"");
    assert_eq!(r.status, 202);
    let s = wait_sync(&host, &owner, &id, 2);
    assert_eq!(s["status"], "failed", "{s:#}\n{:#?}", proxy.requests());
    let reason = |tag: &str| {
        s["tags"].as_array().unwrap().iter().find(|t| t["tag"] == tag).unwrap()["reason"].as_str().unwrap().to_owned()
    };
    assert_eq!(
        (action(&s, "tampered"), action(&s, "huge"), action(&s, "holey")),
        ("failed".into(), "failed".into(), "failed".into())
    );
    assert!(reason("tampered").contains("does not match its digest"), "{s:#}");
    assert!(reason("huge").contains("larger than 4194304 bytes"), "{s:#}\n{:#?}", proxy.requests());
    assert!(reason("holey").contains("not found") && reason("holey").contains(&"7".repeat(64)), "{s:#}");
    assert!(s["error"].as_str().unwrap().contains("tampered failed"), "{s:#}");
    // The destination: the old version stays, nothing of the broken ones is tagged.
    assert_eq!(digest_of(&org, "acme/dhi-app:tampered"), good);
    for tag in ["huge", "holey"] {
        let r = http::request(&org.host(), "HEAD", &format!("/v2/acme/dhi-app/manifests/{tag}"), &[], b"");
        assert_eq!(r.status, 404, "{tag}");
    }

    // An unreachable upstream and one answering 503: the sync fails naming the cause.
    for (source, cause) in
        [(format!("{dead}/vendor/app"), "connection refused"), (format!("{}/vendor/app", failing.host()), "HTTP 503")]
    {
        let m = create_mirror(
            &host,
            &owner,
            &json!({"source": source, "destination": format!("acme/x-{}", free_port()), "poll_interval_s": 0}),
        );
        let s = wait_sync(&host, &owner, m["id"].as_str().unwrap(), 1);
        assert_eq!(s["status"], "failed", "{s:#}");
        assert!(s["error"].as_str().unwrap().contains(cause), "{cause}: {s:#}");
        let log = host.get(&format!("/v1/orgs/acme/mirrors/{}/syncs/1/log", m["id"].as_str().unwrap()), &owner).text();
        assert!(log.contains(cause), "{log}");
    }
    assert!(failing.faults() > 0 && proxy.faults() > 0);
}
