//! The webhook component served by the real host, over HTTP: Distribution envelopes and Docker
//! Hub webhooks authenticated by bearer secret, HMAC signature or path token are recorded in
//! the catalog and queue (or join) the builds of the customizations built from the pushed tag;
//! forged, unsigned, malformed, partly invalid or oversized deliveries record nothing.
//! No worker runs (`workers: 0`): builds stay `queued`.

use std::path::Path;

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::harness::http::Response;
use crate::harness::service::{Service, ServiceOptions};

const SECRET: &str = "s3cret";
const HOOK: &str = "/v1/hooks/reg";
const EVENTS_TYPE: &str = "application/vnd.docker.distribution.events.v1+json";

/// `hex(HMAC-SHA256(key, message))` (RFC 2104: 64-byte blocks, ipad 0x36, opad 0x5c).
fn hmac_sha256(key: &[u8], message: &[u8]) -> String {
    let mut block = [0u8; 64];
    if key.len() > 64 {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let pad = |byte: u8| block.iter().map(|b| b ^ byte).collect::<Vec<u8>>();
    let inner = Sha256::new().chain_update(pad(0x36)).chain_update(message).finalize();
    hex::encode(Sha256::new().chain_update(pad(0x5c)).chain_update(inner).finalize())
}

/// A delivery to refuse: what it is, its path, its headers and its body.
type Attempt<'a> = (&'a str, String, Vec<(&'a str, String)>, &'a [u8]);

fn start(dir: &Path, webhooks: &[(&str, &str)]) -> Service {
    let opts = ServiceOptions {
        workers: 0,
        webhooks: webhooks.iter().map(|(n, s)| (n.to_string(), s.to_string())).collect(),
        ..ServiceOptions::default()
    };
    Service::start(&dir.join("data"), &opts)
}

/// A digest that stands for version `n` of an index.
fn digest(n: u32) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(format!("index {n}"))))
}

/// A manifest push of `acme/base:1` as Distribution 2.8 notifies it.
fn push_event(id: &str, digest: &str) -> Value {
    json!({
        "id": id,
        "timestamp": "2026-11-26T15:04:05.123456789Z",
        "action": "push",
        "target": {
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "size": 856,
            "digest": digest,
            "length": 856,
            "repository": "acme/base",
            "url": format!("http://127.0.0.1:5000/v2/acme/base/manifests/{digest}"),
            "tag": "1",
        },
        "request": {"id": format!("req-{id}"), "addr": "127.0.0.1:41234", "host": "127.0.0.1:5000",
                    "method": "PUT", "useragent": "skopeo/1.13.3"},
        "actor": {},
        "source": {"addr": "registry:5000", "instanceID": "4b3c0c2e-7f6f-4d5e-9a49-2b8d6f1c0a11"},
    })
}

/// A blob push (no tag): ignored.
fn blob_event(id: &str) -> Value {
    json!({
        "id": id, "action": "push",
        "target": {"mediaType": "application/octet-stream", "size": 10, "digest": digest(999),
                   "length": 10, "repository": "acme/base"},
        "request": {"method": "PUT"}, "actor": {}, "source": {},
    })
}

fn envelope(events: &[Value]) -> Vec<u8> {
    json!({ "events": events }).to_string().into_bytes()
}

fn deliver(host: &Service, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Response {
    let mut all = vec![("content-type", EVENTS_TYPE)];
    all.extend_from_slice(headers);
    host.request("POST", path, None, &all, body)
}

fn bearer(host: &Service, body: &[u8]) -> Response {
    deliver(host, HOOK, &[("authorization", &format!("Bearer {SECRET}"))], body)
}

fn accepted(r: &Response) -> Value {
    assert_eq!(r.status, 202, "{}", r.text());
    r.json()
}

/// What a delivery can change: the catalog and the builds of customization `id`.
fn state(host: &Service, token: &str, id: &str) -> (Value, Vec<Value>) {
    let r = host.get("/v1/orgs/acme/repositories", token);
    assert_eq!(r.status, 200, "{}", r.text());
    (r.json(), super::builds(host, token, id))
}

/// The customization built from `acme/base:1`; its id.
fn customize_base(host: &Service, token: &str) -> String {
    let spec = json!({"name": "base", "source": "acme/base:1", "tag_suffix": "custom", "platforms": ["linux/amd64"]});
    let r = host.post_json("/v1/orgs/acme/customizations", token, &spec);
    assert_eq!(r.status, 201, "{}", r.text());
    r.json()["id"].as_str().unwrap().to_owned()
}

#[test]
fn the_hand_made_hmac_is_hmac_sha256() {
    // RFC 4231, test cases 2 and 6 (a key longer than the block).
    assert_eq!(
        hmac_sha256(b"Jefe", b"what do ya want for nothing?"),
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    );
    assert_eq!(
        hmac_sha256(&[0xaa; 131], b"Test Using Larger Than Block-Size Key - Hash Key First"),
        "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
    );
}

#[test]
fn authenticated_deliveries_are_recorded_and_queue_builds() {
    let dir = tempfile::tempdir().unwrap();
    let host = start(dir.path(), &[("reg", SECRET)]);
    let (owner, other) = (host.token("acme", "owner"), host.token("other", "owner"));
    let id = customize_base(&host, &owner);
    let joined = json!([{"customization_id": id, "build": 1}]);
    let requests = |host: &Service| super::builds(host, &owner, &id)[0]["requests"].as_i64().unwrap();
    assert_eq!(requests(&host), 1);

    // Bearer secret, with a blob push in the same envelope.
    let body = envelope(&[blob_event("ev-blob"), push_event("ev-1", &digest(1))]);
    let a = accepted(&bearer(&host, &body));
    assert_eq!(a, json!({"events": 2, "relevant": 1, "ignored": 1, "duplicates": 0, "builds": joined}));
    let (catalog, builds) = state(&host, &owner, &id);
    assert_eq!(catalog["repositories"][0]["repository"], "acme/base", "{catalog}");
    let tags = catalog["repositories"][0]["tags"].as_array().unwrap();
    assert_eq!((tags.len(), &tags[0]["tag"], tags[0]["digest"].as_str()), (1, &json!("1"), Some(digest(1).as_str())));
    assert_eq!(catalog["repositories"].as_array().unwrap().len(), 1, "{catalog}");
    assert_eq!(builds.len(), 1, "the push joined the queued build: {builds:?}");
    assert_eq!((builds[0]["status"].as_str(), builds[0]["requests"].as_i64()), (Some("queued"), Some(2)));
    let r = host.get("/v1/orgs/other/repositories", &other);
    assert_eq!(r.json(), json!({"repositories": []}), "acme's catalog is not other's");

    // HMAC signature of the exact body.
    let body = envelope(&[push_event("ev-2", &digest(2))]);
    let signature = format!("sha256={}", hmac_sha256(SECRET.as_bytes(), &body));
    let a = accepted(&deliver(&host, HOOK, &[("x-tailor-signature", &signature)], &body));
    assert_eq!((a["relevant"].as_i64(), &a["builds"]), (Some(1), &joined));
    assert_eq!(requests(&host), 3);

    // The secret as the last path segment.
    let body = envelope(&[push_event("ev-3", &digest(3))]);
    let a = accepted(&deliver(&host, &format!("{HOOK}/{SECRET}"), &[], &body));
    assert_eq!((a["relevant"].as_i64(), &a["builds"]), (Some(1), &joined));
    assert_eq!(requests(&host), 4);
    let (catalog, builds) = state(&host, &owner, &id);
    assert_eq!(catalog["repositories"][0]["tags"][0]["digest"].as_str(), Some(digest(3).as_str()), "{catalog}");
    assert_eq!(builds.len(), 1);

    // A redelivery of ev-3: a duplicate, nothing else.
    let a = accepted(&bearer(&host, &body));
    assert_eq!(a, json!({"events": 1, "relevant": 1, "ignored": 0, "duplicates": 1, "builds": []}));
    assert_eq!(state(&host, &owner, &id), (catalog.clone(), builds.clone()));
    // A new event id for the digest already recorded: nothing to build.
    let a = accepted(&bearer(&host, &envelope(&[push_event("ev-4", &digest(3))])));
    assert_eq!((a["duplicates"].as_i64(), &a["builds"]), (Some(0), &json!([])));
    assert_eq!(requests(&host), 4);

    // Docker Hub, through the path token: no digest, so always news.
    let hub = br#"{"push_data":{"tag":"1","pushed_at":1700000000,"pusher":"x"},"repository":{"repo_name":"acme/base","namespace":"acme","name":"base"}}"#;
    let r = host.request("POST", &format!("{HOOK}/{SECRET}"), None, &[("content-type", "application/json")], hub);
    assert_eq!(accepted(&r), json!({"events": 1, "relevant": 1, "ignored": 0, "duplicates": 0, "builds": joined}));
    assert_eq!(requests(&host), 5);
    let r = host.request("POST", &format!("{HOOK}/{SECRET}"), None, &[("content-type", "application/json")], hub);
    assert_eq!(accepted(&r)["duplicates"], 1, "the same Docker Hub push again");
    assert_eq!(requests(&host), 5);
    assert!(!host.log().contains("panicked"), "{}", host.log());
}

#[test]
fn rejected_deliveries_record_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let host = start(dir.path(), &[("reg", SECRET), ("hub", "0ther")]);
    let owner = host.token("acme", "owner");
    let id = customize_base(&host, &owner);
    accepted(&bearer(&host, &envelope(&[push_event("seed", &digest(1))])));
    let before = state(&host, &owner, &id);
    assert_eq!(before.1[0]["requests"], 2, "{:?}", before.1);
    let unchanged = |what: &str| assert_eq!(state(&host, &owner, &id), before, "{what} changed something");

    // Every delivery below would queue a build if it were accepted.
    let body = envelope(&[push_event("ev-new", &digest(2))]);
    let other_body = envelope(&[push_event("ev-other", &digest(3))]);
    let wrong_hmac = format!("sha256={}", hmac_sha256(b"not-the-secret", &body));
    let other_hmac = format!("sha256={}", hmac_sha256(SECRET.as_bytes(), &other_body));
    let hub_secret = hmac_sha256(b"0ther", &body);
    let unauthenticated: [Attempt; 8] = [
        ("forged bearer", HOOK.into(), vec![("authorization", "Bearer not-the-secret".into())], &body),
        ("unsigned", HOOK.into(), vec![], &body),
        ("wrong HMAC key", HOOK.into(), vec![("x-tailor-signature", wrong_hmac)], &body),
        ("HMAC of another body", HOOK.into(), vec![("x-tailor-signature", other_hmac)], &body),
        ("wrong path secret", format!("{HOOK}/not-the-secret"), vec![], &body),
        ("another endpoint's secret", format!("{HOOK}/0ther"), vec![], &body),
        ("another endpoint's HMAC", HOOK.into(), vec![("x-tailor-signature", format!("sha256={hub_secret}"))], &body),
        ("forged bearer, malformed body", HOOK.into(), vec![("authorization", "Bearer nope".into())], b"{"),
    ];
    for (what, path, headers, body) in &unauthenticated {
        let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let r = deliver(&host, path, &headers, body);
        assert_eq!((r.status, r.code().as_str()), (401, "unauthorized"), "{what}: {}", r.text());
        assert!(r.header("www-authenticate").is_some(), "{what}: {:?}", r.headers);
        unchanged(what);
    }

    let r = deliver(&host, "/v1/hooks/nope", &[("authorization", &format!("Bearer {SECRET}"))], &body);
    assert_eq!((r.status, r.code().as_str()), (404, "unknown_endpoint"), "{}", r.text());
    unchanged("an unknown endpoint");
    let r = host.request("GET", HOOK, None, &[("authorization", &format!("Bearer {SECRET}"))], b"");
    assert_eq!((r.status, r.code().as_str(), r.header("allow")), (405, "method_not_allowed", Some("POST")));

    let r = bearer(&host, b"{\"events\": [");
    assert_eq!((r.status, r.code().as_str()), (400, "malformed_body"), "{}", r.text());
    assert_eq!(r.json()["error"]["details"][0]["field"], "body", "{}", r.text());
    unchanged("malformed JSON");

    // The first event is valid, the second lacks its id: the whole envelope is refused.
    let mut second = push_event("ev-second", &digest(4));
    second.as_object_mut().unwrap().remove("id");
    let r = bearer(&host, &envelope(&[push_event("ev-first", &digest(4)), second]));
    assert_eq!((r.status, r.code().as_str()), (400, "malformed_body"), "{}", r.text());
    let details = r.json()["error"]["details"].as_array().cloned().unwrap_or_default();
    let fields: Vec<String> = details.iter().map(|d| d["field"].as_str().unwrap_or_default().to_owned()).collect();
    assert_eq!(fields, ["events[1].id"], "{}", r.text());
    unchanged("a partly invalid envelope");

    // Over 1 MiB, even with the right secret.
    let mut big = envelope(&[push_event("ev-big", &digest(5))]);
    big.resize((1 << 20) + 1, b' ');
    let r = bearer(&host, &big);
    assert_eq!((r.status, r.code().as_str()), (413, "body_too_large"), "{}", r.text());
    unchanged("an oversized body");

    // The host still serves, and the first event of the refused envelope was never recorded:
    // delivered alone, it is news, not a duplicate.
    let r = host.get("/v1/token", &owner);
    assert_eq!(r.status, 200, "{}", r.text());
    let a = accepted(&bearer(&host, &envelope(&[push_event("ev-first", &digest(4))])));
    assert_eq!(a["duplicates"], 0, "{a}");
    assert_eq!(a["builds"], json!([{"customization_id": id, "build": 1}]));
    assert!(!host.log().contains("panicked"), "{}", host.log());
}
