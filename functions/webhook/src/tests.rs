//! `handle` over a real (in-memory) SQLite store: authentication, validation, deduplication,
//! fan-out to customizations, and that a rejected delivery records nothing.

use serde_json::{Value, json};
use tailor_guest::{HttpRequest, HttpResponse};
use tailor_spec::Customization as Spec;
use tailor_store::{
    BuildStatus, Outcome, SqliteDb, Value as Sql, block_on, claim, create_customization, finish, get_build,
    list_builds, list_catalog, migrate,
};

use crate::{Endpoints, MAX_BODY, handle, sign};

const SECRET: &str = "s3cr3t-Token_42";
const NOW: i64 = 1_700_000_000_000;
const DIGEST_A: &str = "sha256:6c3c624b58dbbcd3c0dd82b4c53f04194d1247c6eebdaab7c610cf7d66709b3b";
const DIGEST_B: &str = "sha256:ab2cb1d8a4bed8c13d1df9e3dc1ea5f2b5a4a3ed9b4a5da3b8b3c2f6a7e1d0c9";
const BLOB: &str = "sha256:0a8f3c1b2d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8";
const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";

fn db() -> SqliteDb {
    let db = SqliteDb::memory().unwrap();
    block_on(migrate(&db)).unwrap();
    db
}

fn endpoints() -> Endpoints {
    Endpoints::parse(&format!("registry={SECRET}\nhub=hub-secret")).unwrap()
}

/// One event as docker-registry 2.8 sends it (FACTS.md), with `target` as given.
fn event(id: &str, action: &str, target: Value) -> Value {
    json!({
        "id": id,
        "timestamp": "2025-01-20T10:11:12.123456789Z",
        "action": action,
        "target": target,
        "request": {"id": "4b7b3a52-5d1e-4b2f-9b8a-2f0e6f7d1c3a", "addr": "127.0.0.1:40312",
                    "host": "127.0.0.1:5000", "method": "PUT", "useragent": "skopeo/1.9.3"},
        "actor": {},
        "source": {"addr": "registry:5000", "instanceID": "b1f3c0a2-7d8e-4c5b-9a6f-3e2d1c0b9a87"}
    })
}

/// A manifest push of `repository:tag` at `digest`.
fn manifest_push(id: &str, repository: &str, tag: &str, digest: &str) -> Value {
    event(
        id,
        "push",
        json!({
            "mediaType": OCI_MANIFEST,
            "size": 708,
            "digest": digest,
            "length": 708,
            "repository": repository,
            "url": format!("http://127.0.0.1:5000/v2/{repository}/manifests/{digest}"),
            "tag": tag,
        }),
    )
}

fn envelope(events: Vec<Value>) -> Vec<u8> {
    serde_json::to_vec(&json!({ "events": events })).unwrap()
}

fn post(path: &str, body: Vec<u8>) -> HttpRequest {
    HttpRequest::new("POST", path)
        .with_header("Content-Type", "application/vnd.docker.distribution.events.v1+json")
        .with_body(body)
}

fn bearer(body: Vec<u8>) -> HttpRequest {
    post("/v1/hooks/registry", body).with_header("Authorization", &format!("Bearer {SECRET}"))
}

fn run(db: &SqliteDb, req: HttpRequest) -> HttpResponse {
    block_on(handle(db, &endpoints(), req, NOW))
}

fn json_of(r: &HttpResponse) -> Value {
    serde_json::from_slice(&r.body).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&r.body)))
}

fn error_code(r: &HttpResponse) -> String {
    json_of(r)["error"]["code"].as_str().unwrap_or_default().to_owned()
}

fn detail_fields(r: &HttpResponse) -> Vec<String> {
    json_of(r)["error"]["details"].as_array().unwrap().iter().map(|d| d["field"].as_str().unwrap().to_owned()).collect()
}

fn count(db: &SqliteDb, table: &str) -> i64 {
    match db.exec_now(&format!("SELECT COUNT(*) AS n FROM {table}"), &[]).unwrap().rows[0][0] {
        Sql::Integer(n) => n,
        ref other => panic!("{other:?}"),
    }
}

/// Everything a delivery could have written.
fn recorded(db: &SqliteDb) -> (i64, i64, i64, i64) {
    (count(db, "catalog"), count(db, "events"), count(db, "builds"), count(db, "requests"))
}

fn spec(source: &str, artifacts: &[&str]) -> Spec {
    let mut yaml = format!("name: c\nsource: {source}\ntag_suffix: custom\nplatforms: [linux/amd64]\n");
    if !artifacts.is_empty() {
        yaml.push_str("contents:\n  artifacts:\n");
        for a in artifacts {
            yaml.push_str(&format!("    - {{reference: {a}, includes: [/opt]}}\n"));
        }
    }
    Spec::parse_yaml(&yaml).unwrap()
}

/// Creates customization `id` on `source` and finishes its first build, so a push queues build 2.
fn built_customization(db: &SqliteDb, id: &str, source: &str, artifacts: &[&str]) {
    block_on(create_customization(db, "acme", id, &spec(source, artifacts), 1)).unwrap();
    let claimed = block_on(claim(db, "w", 2, 60_000, 3)).unwrap().unwrap();
    assert_eq!((claimed.customization_id.as_str(), claimed.build), (id, 1));
    assert!(block_on(finish(db, id, 1, "w", BuildStatus::Succeeded, &Outcome::default(), "", 3)).unwrap());
    assert_eq!(count(db, "requests"), 0, "nothing pending before the push");
}

fn builds_of(r: &HttpResponse) -> Vec<(String, i64)> {
    json_of(r)["builds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| (b["customization_id"].as_str().unwrap().to_owned(), b["build"].as_i64().unwrap()))
        .collect()
}

fn counts(r: &HttpResponse) -> (i64, i64, i64) {
    let v = json_of(r);
    (v["events"].as_i64().unwrap(), v["relevant"].as_i64().unwrap(), v["duplicates"].as_i64().unwrap())
}

#[test]
fn each_authentication_method_is_accepted() {
    let body = |id: &str| envelope(vec![manifest_push(id, "acme/debian", "12", DIGEST_A)]);
    let db = db();
    let by_bearer = run(&db, bearer(body("e1")));
    assert_eq!(by_bearer.status, 202, "{}", String::from_utf8_lossy(&by_bearer.body));
    assert_eq!(counts(&by_bearer), (1, 1, 0));

    let signed = body("e2");
    let sig = sign(SECRET, &signed);
    let by_signature =
        run(&db, post("/v1/hooks/registry", signed).with_header("X-Tailor-Signature", &format!("sha256={sig}")));
    assert_eq!(by_signature.status, 202);
    assert_eq!(counts(&by_signature), (1, 1, 0));

    let by_path = run(&db, post(&format!("/v1/hooks/registry/{SECRET}"), body("e3")));
    assert_eq!(by_path.status, 202);
    assert_eq!(counts(&by_path), (1, 1, 0));

    assert_eq!(count(&db, "events"), 3, "three distinct events recorded");
    let catalog = block_on(list_catalog(&db, "acme")).unwrap();
    assert_eq!(catalog.len(), 1);
    assert_eq!((catalog[0].repository.as_str(), catalog[0].tag.as_str()), ("acme/debian", "12"));
    assert_eq!(catalog[0].digest.as_deref(), Some(DIGEST_A));
    assert_eq!(catalog[0].updated_at, NOW);
}

#[test]
fn failed_authentication_records_nothing() {
    let db = db();
    built_customization(&db, "c1", "acme/debian:12", &[]);
    let before = recorded(&db);
    let body = envelope(vec![manifest_push("e1", "acme/debian", "12", DIGEST_A)]);
    let wrong_sig = sign("not-the-secret", &body);
    let right_sig_of_other_body = sign(SECRET, b"{\"events\":[]}");
    let attempts = [
        ("unsigned", post("/v1/hooks/registry", body.clone())),
        ("wrong bearer", post("/v1/hooks/registry", body.clone()).with_header("authorization", "Bearer s3cr3t")),
        (
            "other endpoint's secret",
            post("/v1/hooks/registry", body.clone()).with_header("authorization", "Bearer hub-secret"),
        ),
        ("basic", post("/v1/hooks/registry", body.clone()).with_header("authorization", &format!("Basic {SECRET}"))),
        (
            "forged signature",
            post("/v1/hooks/registry", body.clone()).with_header("x-tailor-signature", &format!("sha256={wrong_sig}")),
        ),
        (
            "signature of another body",
            post("/v1/hooks/registry", body.clone())
                .with_header("x-tailor-signature", &format!("sha256={right_sig_of_other_body}")),
        ),
        ("wrong path secret", post("/v1/hooks/registry/s3cr3t-Token_43", body.clone())),
        ("secret of the wrong endpoint", post(&format!("/v1/hooks/hub/{SECRET}"), body.clone())),
    ];
    for (what, req) in attempts {
        let r = run(&db, req);
        assert_eq!(r.status, 401, "{what}");
        assert_eq!(error_code(&r), "unauthorized", "{what}");
        assert!(r.header("www-authenticate").is_some(), "{what}");
    }
    assert_eq!(recorded(&db), before);
    assert!(block_on(list_catalog(&db, "acme")).unwrap().is_empty());
    assert_eq!(block_on(list_builds(&db, "c1", 10)).unwrap().len(), 1);
}

#[test]
fn a_push_of_a_dependency_queues_a_build() {
    let db = db();
    built_customization(&db, "c1", "acme/debian:12", &[]);
    block_on(create_customization(&db, "acme", "other", &spec("acme/debian:13", &[]), 4)).unwrap();
    let r = run(&db, bearer(envelope(vec![manifest_push("e1", "acme/debian", "12", DIGEST_A)])));
    assert_eq!(r.status, 202);
    assert_eq!(builds_of(&r), [("c1".to_string(), 2)]);
    let build = block_on(get_build(&db, "c1", 2)).unwrap().unwrap();
    assert_eq!(build.status, BuildStatus::Queued);
    assert!(build.reason.contains("push of acme/debian:12"), "{}", build.reason);
    assert_eq!(block_on(list_builds(&db, "other", 10)).unwrap().len(), 1, "13 was not pushed");
}

#[test]
fn a_replayed_event_is_a_duplicate_and_enqueues_nothing() {
    let db = db();
    built_customization(&db, "c1", "acme/debian:12", &[]);
    let body = envelope(vec![manifest_push("e1", "acme/debian", "12", DIGEST_A)]);
    assert_eq!(builds_of(&run(&db, bearer(body.clone()))), [("c1".to_string(), 2)]);
    let replay = run(&db, bearer(body));
    assert_eq!(replay.status, 202);
    assert_eq!(counts(&replay), (1, 1, 1));
    assert!(builds_of(&replay).is_empty());
    assert_eq!(block_on(get_build(&db, "c1", 2)).unwrap().unwrap().requests, 1, "not even joined");
    assert_eq!(count(&db, "events"), 1);

    // The same push under a new event id: recorded, but the digest did not change.
    let same = run(&db, bearer(envelope(vec![manifest_push("e2", "acme/debian", "12", DIGEST_A)])));
    assert_eq!(counts(&same), (1, 1, 0));
    assert!(builds_of(&same).is_empty());
    assert_eq!(block_on(get_build(&db, "c1", 2)).unwrap().unwrap().requests, 1);
    assert_eq!(block_on(list_builds(&db, "c1", 10)).unwrap().len(), 2);

    // Another digest: joins the queued build 2.
    let moved = run(&db, bearer(envelope(vec![manifest_push("e3", "acme/debian", "12", DIGEST_B)])));
    assert_eq!(builds_of(&moved), [("c1".to_string(), 2)]);
    assert_eq!(block_on(get_build(&db, "c1", 2)).unwrap().unwrap().requests, 2);
}

#[test]
fn pulls_blobs_mounts_deletes_and_digest_only_pushes_are_ignored() {
    let db = db();
    built_customization(&db, "c1", "acme/debian:12", &[]);
    let before = recorded(&db);
    let manifest_target = json!({"mediaType": OCI_MANIFEST, "digest": DIGEST_A, "repository": "acme/debian",
                                 "url": "http://127.0.0.1:5000/v2/acme/debian/manifests/12", "tag": "12", "size": 708});
    let events = vec![
        event("p1", "pull", manifest_target.clone()),
        event(
            "b1",
            "push",
            json!({"mediaType": "application/octet-stream", "size": 1234, "digest": BLOB,
                                    "length": 1234, "repository": "acme/debian",
                                    "url": format!("http://127.0.0.1:5000/v2/acme/debian/blobs/{BLOB}")}),
        ),
        event(
            "m1",
            "mount",
            json!({"mediaType": "application/octet-stream", "digest": BLOB, "repository": "acme/debian",
                                     "fromRepository": "acme/base"}),
        ),
        event("d1", "delete", json!({"digest": DIGEST_A, "repository": "acme/debian"})),
        // A manifest pushed by digest only (no tag), e.g. the platform manifests of an index.
        event(
            "n1",
            "push",
            json!({"mediaType": OCI_MANIFEST, "digest": DIGEST_B, "repository": "acme/debian",
                                    "url": format!("http://127.0.0.1:5000/v2/acme/debian/manifests/{DIGEST_B}")}),
        ),
        event(
            "n2",
            "push",
            json!({"mediaType": OCI_MANIFEST, "digest": DIGEST_B, "repository": "acme/debian",
                                    "tag": ""}),
        ),
        // Docker schema 1 and a tagged blob-like type are not manifests tailor follows.
        event(
            "s1",
            "push",
            json!({"mediaType": "application/vnd.docker.distribution.manifest.v1+prettyjws",
                                    "digest": DIGEST_B, "repository": "acme/debian", "tag": "12"}),
        ),
    ];
    let r = run(&db, bearer(envelope(events)));
    assert_eq!(r.status, 202);
    assert_eq!(counts(&r), (7, 0, 0));
    assert_eq!(json_of(&r)["ignored"], 7);
    assert!(builds_of(&r).is_empty());
    assert_eq!(recorded(&db), before, "ignored events are not even recorded as seen");
}

#[test]
fn every_manifest_media_type_counts() {
    let db = db();
    let events = crate::MANIFEST_MEDIA_TYPES
        .iter()
        .enumerate()
        .map(|(i, m)| {
            event(
                &format!("e{i}"),
                "push",
                json!({"mediaType": m, "digest": DIGEST_A, "repository": "acme/x",
                                                    "tag": format!("t{i}")}),
            )
        })
        .collect();
    let r = run(&db, bearer(envelope(events)));
    assert_eq!(counts(&r), (4, 4, 0));
    assert_eq!(block_on(list_catalog(&db, "acme")).unwrap().len(), 4);
}

#[test]
fn one_envelope_with_several_pushes_lists_each_build_once() {
    let db = db();
    built_customization(&db, "c1", "acme/debian:12", &["acme/art:1"]);
    let r = run(
        &db,
        bearer(envelope(vec![
            manifest_push("e1", "acme/debian", "12", DIGEST_A),
            manifest_push("e2", "acme/art", "1", DIGEST_B),
            event("e3", "pull", json!({"repository": "acme/art"})),
        ])),
    );
    assert_eq!(counts(&r), (3, 2, 0));
    assert_eq!(builds_of(&r), [("c1".to_string(), 2)]);
    assert_eq!(block_on(get_build(&db, "c1", 2)).unwrap().unwrap().requests, 2);
}

#[test]
fn malformed_bodies_are_rejected_whole_naming_the_field() {
    let db = db();
    built_customization(&db, "c1", "acme/debian:12", &[]);
    let before = recorded(&db);
    let good = manifest_push("ok", "acme/debian", "12", DIGEST_A);
    let mut no_id = manifest_push("x", "acme/debian", "12", DIGEST_A);
    no_id.as_object_mut().unwrap().remove("id");
    let mut numeric_tag = manifest_push("x", "acme/debian", "12", DIGEST_A);
    numeric_tag["target"]["tag"] = json!(12);
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("not JSON", b"{\"events\": [".to_vec(), "body"),
        ("not UTF-8", vec![0xff, 0xfe, 0x00], "body"),
        ("empty", Vec::new(), "body"),
        ("an array", b"[]".to_vec(), "body"),
        ("another object", b"{\"hello\": \"world\"}".to_vec(), "body"),
        ("events not an array", b"{\"events\": {}}".to_vec(), "events"),
        ("an event without id after a good one", envelope(vec![good.clone(), good.clone(), no_id]), "events[2].id"),
        ("a numeric id", envelope(vec![json!({"id": 5, "action": "push"})]), "events[0].id"),
        ("a numeric tag", envelope(vec![good.clone(), numeric_tag]), "events[1].target.tag"),
        ("an event that is a string", envelope(vec![good.clone(), json!("push")]), "events[1]"),
        (
            "too many events",
            envelope((0..1001).map(|i| manifest_push(&format!("e{i}"), "acme/debian", "12", DIGEST_A)).collect()),
            "events",
        ),
        (
            "docker hub without tag",
            serde_json::to_vec(&json!({"push_data": {"pushed_at": 1}, "repository": {"repo_name": "acme/debian"}}))
                .unwrap(),
            "push_data.tag",
        ),
    ];
    for (what, body, field) in cases {
        let r = run(&db, bearer(body));
        assert_eq!(r.status, 400, "{what}: {}", String::from_utf8_lossy(&r.body));
        assert_eq!(error_code(&r), "malformed_body", "{what}");
        assert_eq!(detail_fields(&r).first().map(String::as_str), Some(field), "{what}");
    }
    assert_eq!(recorded(&db), before, "nothing from the good events before a bad one");
}

#[test]
fn bodies_over_one_mebibyte_are_refused() {
    let db = db();
    // Valid JSON padded with whitespace, signed: the size alone is the problem.
    let mut body = envelope(vec![manifest_push("e1", "acme/debian", "12", DIGEST_A)]);
    body.resize(MAX_BODY + 1, b' ');
    let r = run(&db, bearer(body.clone()));
    assert_eq!(r.status, 413);
    assert_eq!(error_code(&r), "body_too_large");
    assert_eq!(count(&db, "events"), 0);
    body.truncate(MAX_BODY);
    assert_eq!(run(&db, bearer(body)).status, 202, "exactly the limit is fine");
}

#[test]
fn unknown_routes_endpoints_and_methods() {
    let db = db();
    let body = envelope(vec![manifest_push("e1", "acme/debian", "12", DIGEST_A)]);
    for path in ["/", "/v1/hooks", "/v1/hook/registry", "/v1/hooks/registry/a/b", "/v2/hooks/registry"] {
        let r = run(&db, bearer(body.clone()));
        assert_eq!(r.status, 202, "control");
        let r = run(&db, HttpRequest { path: path.into(), ..bearer(body.clone()) });
        assert_eq!((r.status, error_code(&r)), (404, "route_not_found".into()), "{path}");
    }
    let r = run(&db, post("/v1/hooks/nope", body.clone()).with_header("authorization", &format!("Bearer {SECRET}")));
    assert_eq!((r.status, error_code(&r)), (404, "unknown_endpoint".into()));
    let r = run(&db, post(&format!("/v1/hooks/Registry/{SECRET}"), body.clone()));
    assert_eq!(r.status, 404, "names are exact");
    for method in ["GET", "PUT", "DELETE", "HEAD", "PATCH"] {
        let r = run(&db, HttpRequest { method: method.into(), ..bearer(body.clone()) });
        assert_eq!((r.status, error_code(&r)), (405, "method_not_allowed".into()), "{method}");
        assert_eq!(r.header("allow"), Some("POST"));
    }
    assert_eq!(count(&db, "events"), 1, "only the control deliveries (one event id) were recorded");
}

#[test]
fn no_endpoints_configured_means_every_endpoint_is_unknown() {
    let db = db();
    let r = block_on(handle(&db, &Endpoints::parse("").unwrap(), bearer(envelope(vec![])), NOW));
    assert_eq!((r.status, error_code(&r)), (404, "unknown_endpoint".into()));
}

fn docker_hub(tag: &str, pushed_at: i64) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "callback_url": "https://registry.hub.docker.com/u/acme/debian/hook/2141b5bi5i5b02bec211i4eeih0242eg11000a/",
        "push_data": {"pushed_at": pushed_at, "pusher": "trustedbuilder", "tag": tag, "images": []},
        "repository": {
            "comment_count": 0, "date_created": 1_417_494_799, "description": "", "is_official": false,
            "is_private": true, "is_trusted": true, "name": "debian", "namespace": "acme", "owner": "acme",
            "repo_name": "acme/debian", "repo_url": "https://registry.hub.docker.com/u/acme/debian/",
            "star_count": 0, "status": "Active"
        }
    }))
    .unwrap()
}

#[test]
fn a_docker_hub_webhook_enqueues_and_is_deduplicated() {
    let db = db();
    built_customization(&db, "c1", "acme/debian:12", &[]);
    let r = run(&db, HttpRequest::new("POST", "/v1/hooks/hub/hub-secret").with_body(docker_hub("12", 1_417_566_161)));
    assert_eq!(r.status, 202, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(counts(&r), (1, 1, 0));
    assert_eq!(builds_of(&r), [("c1".to_string(), 2)]);
    let catalog = block_on(list_catalog(&db, "acme")).unwrap();
    assert_eq!((catalog[0].tag.as_str(), catalog[0].digest.as_deref()), ("12", None));
    let ids = db.exec_now("SELECT id FROM events", &[]).unwrap();
    assert_eq!(ids.rows, [[Sql::Text("hub/acme/debian:12:1417566161".into())]]);

    let again =
        run(&db, HttpRequest::new("POST", "/v1/hooks/hub/hub-secret").with_body(docker_hub("12", 1_417_566_161)));
    assert_eq!(counts(&again), (1, 1, 1));
    assert!(builds_of(&again).is_empty());
    assert_eq!(block_on(get_build(&db, "c1", 2)).unwrap().unwrap().requests, 1);

    // A later push of the same tag: no digest, so it is news and joins the queued build.
    let later =
        run(&db, HttpRequest::new("POST", "/v1/hooks/hub/hub-secret").with_body(docker_hub("12", 1_417_566_999)));
    assert_eq!(builds_of(&later), [("c1".to_string(), 2)]);
    assert_eq!(block_on(get_build(&db, "c1", 2)).unwrap().unwrap().requests, 2);
    // Another tag affects nobody.
    let other = run(&db, HttpRequest::new("POST", "/v1/hooks/hub/hub-secret").with_body(docker_hub("13", 1)));
    assert_eq!(counts(&other), (1, 1, 0));
    assert!(builds_of(&other).is_empty());
}

#[test]
fn a_store_failure_is_a_500_and_a_redelivery_recovers() {
    // No migration: the tables do not exist.
    let broken = SqliteDb::memory().unwrap();
    let body = envelope(vec![manifest_push("e1", "acme/debian", "12", DIGEST_A)]);
    let r = run(&broken, bearer(body.clone()));
    assert_eq!((r.status, error_code(&r)), (500, "internal".into()));
    // A delivery with nothing relevant does not touch the store.
    assert_eq!(run(&broken, bearer(envelope(vec![event("p", "pull", json!({}))]))).status, 202);
    // Once the store works, the sender's redelivery is recorded as new.
    block_on(migrate(&broken)).unwrap();
    let r = run(&broken, bearer(body));
    assert_eq!((r.status, counts(&r)), (202, (1, 1, 0)));
}

#[test]
fn no_input_makes_it_panic() {
    let db = db();
    let valid = envelope(vec![
        manifest_push("e1", "acme/debian", "12", DIGEST_A),
        event("p1", "pull", json!({"repository": "acme/debian"})),
    ]);
    // Every truncation and some byte flips of a valid body: 202 or 400, never a panic or 500.
    for end in 0..valid.len() {
        let r = run(&db, bearer(valid[..end].to_vec()));
        assert!(matches!(r.status, 202 | 400), "truncated at {end}: {}", r.status);
    }
    for at in (0..valid.len()).step_by(7) {
        for b in [b'"', b'{', b']', 0xc3, b'0'] {
            let mut body = valid.clone();
            body[at] = b;
            let r = run(&db, bearer(body));
            assert!(matches!(r.status, 202 | 400), "byte {at} = {b}: {}", r.status);
        }
    }
    // Odd but valid JSON in every field tailor reads.
    for odd in [json!(null), json!(true), json!(1.5), json!([]), json!({}), json!("é".repeat(300)), json!("")] {
        let mut e = manifest_push("e1", "acme/debian", "12", DIGEST_A);
        for field in ["mediaType", "repository", "tag", "digest"] {
            let mut e2 = e.clone();
            e2["target"][field] = odd.clone();
            let r = run(&db, bearer(envelope(vec![e2])));
            assert!(matches!(r.status, 202 | 400), "{field} = {odd}: {}", r.status);
        }
        e["id"] = odd.clone();
        assert!(matches!(run(&db, bearer(envelope(vec![e]))).status, 202 | 400));
        let hub = json!({"push_data": {"tag": odd, "pushed_at": odd}, "repository": {"repo_name": odd, "name": odd}});
        assert!(matches!(run(&db, bearer(serde_json::to_vec(&hub).unwrap())).status, 202 | 400));
    }
}

#[test]
fn endpoints_parse() {
    let e = Endpoints::parse(" registry = s3cr3t ,hub=a=b\n\n  mirror_2-x=xyz,\r\n").unwrap();
    assert_eq!(e.names().collect::<Vec<_>>(), ["registry", "hub", "mirror_2-x"]);
    assert_eq!(e.get("registry").unwrap().secret, "s3cr3t");
    assert_eq!(e.get("hub").unwrap().secret, "a=b", "base64 padding is fine");
    assert_eq!(e.get("mirror_2-x").unwrap().secret, "xyz");
    assert!(e.get("Registry").is_none());
    assert!(Endpoints::parse("").unwrap().is_empty());
    assert!(Endpoints::parse(" \n , \n").unwrap().is_empty());
    assert_eq!(Endpoints::parse("0=x").unwrap().len(), 1);
    assert!(!format!("{e:?}").contains("s3cr3t"), "Debug hides secrets");

    for (text, says) in [
        ("registry", "entry 1"),
        ("a=x,registry", "entry 2"),
        ("a=x\nb=", "entry 2 (b): the secret is empty"),
        ("Registry=x", "\"Registry\""),
        ("-reg=x", "\"-reg\""),
        ("re.g=x", "\"re.g\""),
        ("=x", "entry 1"),
        ("a=x y", "whitespace"),
        ("a=x\tb", "whitespace"),
        ("a=x,b=y,a=z", "entry 3 (a)"),
    ] {
        let err = Endpoints::parse(text).unwrap_err();
        assert!(err.contains(says), "{text:?}: {err}");
    }
    let err = Endpoints::parse("a=x,topsecretvalue").unwrap_err();
    assert!(!err.contains("topsecretvalue"), "errors do not repeat what may be a secret: {err}");
}

/// An endpoint bound to an upstream: its pushes sync the mirrors of that upstream repository
/// (every org's, those whose tag globs match; signatures pushed later too), deduplicated, and
/// touch neither the catalog nor any customization.
#[test]
fn an_upstream_endpoint_syncs_the_mirrors_of_the_pushed_repository() {
    use tailor_spec::MirrorSpec;
    use tailor_store::create_mirror;
    let db = db();
    let mirror = |org: &str, id: &str, tags: &str| {
        let json = format!(r#"{{"source": "127.0.0.1:5001/dhi/python", "destination": "{org}/{id}", "tags": {tags}}}"#);
        let spec = MirrorSpec::from_json(&json).unwrap().normalized(org);
        let (_, first) = block_on(create_mirror(&db, org, id, &spec, NOW - 10_000)).unwrap();
        // The first sync ran.
        let c = block_on(claim(&db, "w", NOW - 9_000, 30_000, 3)).unwrap().unwrap();
        assert_eq!((c.customization_id.as_str(), c.build), (id, first.number));
        block_on(finish(&db, id, 1, "w", BuildStatus::Succeeded, &Outcome::default(), "", NOW - 8_000)).unwrap();
    };
    mirror("acme", "mir_a", r#"["3.13*"]"#);
    mirror("zeta", "mir_z", r#"[]"#);
    mirror("acme", "mir_old", r#"["2.*"]"#);
    block_on(create_customization(&db, "dhi", "cus_1", &spec("dhi/python:3.13", &[]), NOW)).unwrap();
    let endpoints = Endpoints::parse(&format!("registry={SECRET}\nvendor=v-secret"))
        .unwrap()
        .with_upstreams("vendor=127.0.0.1:5001")
        .unwrap();
    let send = |body: Vec<u8>| {
        let req = post("/v1/hooks/vendor", body).with_header("Authorization", "Bearer v-secret");
        block_on(handle(&db, &endpoints, req, NOW))
    };
    let hex = "a".repeat(64);
    let r = send(envelope(vec![
        manifest_push("e1", "dhi/python", "3.13.1", DIGEST_A),
        manifest_push("e2", "dhi/python", &format!("sha256-{hex}.sig"), DIGEST_B),
        manifest_push("e3", "dhi/other", "3.13", DIGEST_A),
    ]));
    assert_eq!(r.status, 202);
    let body = json_of(&r);
    assert_eq!((body["relevant"].clone(), body["duplicates"].clone()), (json!(3), json!(0)));
    assert_eq!(
        body["syncs"],
        json!([{"mirror_id": "mir_a", "sync": 2}, {"mirror_id": "mir_z", "sync": 2}, {"mirror_id": "mir_old", "sync": 2}]),
        "3.13.1 syncs the mirrors whose globs match; the signature push syncs every mirror of dhi/python"
    );
    assert_eq!(body["builds"], json!([]), "the upstream's dhi/python is not the org registry's");
    assert!(block_on(list_catalog(&db, "dhi")).unwrap().is_empty(), "upstream tags stay out of the catalog");
    let sync = block_on(get_build(&db, "mir_a", 2)).unwrap().unwrap();
    assert_eq!((sync.reason.as_str(), sync.requests), ("push of 127.0.0.1:5001/dhi/python:3.13.1", 2));
    // A redelivery changes nothing.
    let again = json_of(&send(envelope(vec![manifest_push("e1", "dhi/python", "3.13.1", DIGEST_A)])));
    assert_eq!((again["duplicates"].clone(), again["syncs"].clone()), (json!(1), Value::Null));
    // A bad binding is refused by name.
    assert!(Endpoints::parse("a=s").unwrap().with_upstreams("b=dhi.io").unwrap_err().contains("no webhook endpoint"));
    assert!(Endpoints::parse("a=s").unwrap().with_upstreams("a=not a host").unwrap_err().contains("host"));
}
