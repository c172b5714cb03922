//! Floods and crashes (RELIABILITY.md): `tailor up` with the real registry and the real
//! components, fed 10,000 webhook events with duplicates and replays, and killed with SIGKILL
//! twenty times during fan-outs (on SQLite and on PostgreSQL). Nothing is lost or done twice:
//! one build per customization per distinct input change, build numbers without gaps or
//! repeats, every queued build completed, the database's own integrity checks clean.

mod crashes;
mod disk;
mod webhooks;

use std::time::Duration;

use serde_json::{Value, json};

use crate::harness::http::Response;
use crate::harness::{Registry, Service};

const SECRET: &str = "fl00d-secret";
const EVENTS_TYPE: &str = "application/vnd.docker.distribution.events.v1+json";

/// A small deterministic generator (the runs are reproducible).
pub struct Lcg(u64);

impl Lcg {
    pub fn new(seed: u64) -> Lcg {
        Lcg(seed)
    }
    /// A number in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % n
    }
}

/// Pushes version `n` of `acme/base:1` (one platform, a few files); its index digest.
pub fn push_base(registry: &Registry, n: u32) -> String {
    let release = format!("ID=testos\nVERSION_ID={n}\n");
    crate::harness::service::push_files(
        &registry.url(),
        "acme/base:1",
        "linux/amd64",
        &[("/etc/passwd", b"root:x:0:0::/root:/bin/sh\n"), ("/etc/os-release", release.as_bytes())],
    );
    crate::mirror::digest_of(registry, "acme/base:1")
}

/// A push of `repository:tag` at `digest` as Distribution notifies it, with event id `id`.
pub fn push_event(id: &str, repository: &str, tag: &str, digest: &str) -> Value {
    json!({
        "id": id,
        "timestamp": "2026-12-04T10:00:00.000000000Z",
        "action": "push",
        "target": {
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "size": 500, "length": 500, "digest": digest,
            "repository": repository, "tag": tag,
            "url": format!("http://127.0.0.1:5000/v2/{repository}/manifests/{digest}"),
        },
        "request": {"id": format!("req-{id}"), "method": "PUT", "useragent": "distribution"},
        "actor": {}, "source": {"addr": "registry:5000"},
    })
}

/// Delivers an envelope body to the `reg` endpoint with the bearer secret.
pub fn deliver(host: &Service, body: &[u8]) -> Response {
    host.request(
        "POST",
        "/v1/hooks/reg",
        None,
        &[("content-type", EVENTS_TYPE), ("authorization", &format!("Bearer {SECRET}"))],
        body,
    )
}

pub fn envelope(events: &[Value]) -> Vec<u8> {
    json!({ "events": events }).to_string().into_bytes()
}

/// Creates `n` customizations of `acme/base:1` (`c0`… with tag suffixes `c0`…); their ids.
pub fn create(host: &Service, token: &str, n: usize) -> Vec<String> {
    (0..n)
        .map(|i| {
            let spec = json!({
                "name": format!("c{i}"), "source": "acme/base:1", "tag_suffix": format!("c{i}"),
                "platforms": ["linux/amd64"],
                "files": [{"path": "/etc/motd", "content": format!("customization {i}\n")}],
            });
            let r = host.post_json("/v1/orgs/acme/customizations", token, &spec);
            assert_eq!(r.status, 201, "{}", r.text());
            r.json()["id"].as_str().unwrap().to_owned()
        })
        .collect()
}

/// Every build of every customization (newest first), once none is queued or running.
pub fn wait_all_idle(host: &Service, token: &str, ids: &[String], timeout: Duration) -> Vec<Vec<Value>> {
    host.wait_for("every build to finish", timeout, || {
        let all: Vec<Vec<Value>> = ids.iter().map(|id| crate::service::builds(host, token, id)).collect();
        let idle = all.iter().flatten().all(|b| b["status"] != "queued" && b["status"] != "running");
        idle.then_some(all)
    })
}

/// The build numbers of one customization are 1..=n, each once (newest first in `builds`).
pub fn assert_numbered(id: &str, builds: &[Value]) {
    let numbers: Vec<i64> = builds.iter().rev().map(|b| b["number"].as_i64().unwrap()).collect();
    let expected: Vec<i64> = (1..=builds.len() as i64).collect();
    assert_eq!(numbers, expected, "{id}: build numbers lost or repeated");
}
