//! The REST API component served by the real host, over HTTP: the routes are exactly those of
//! the OpenAPI document it serves; tokens see only their org and members cannot delete;
//! customizations are created (JSON, YAML), validated, edited under If-Match, patched, copied
//! and listed; builds queue and coalesce; bodies over 1 MiB are refused by the host.
//! No worker runs (`workers: 0`): every build stays `queued`.

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::{Value, json};

use crate::harness::http::Response;
use crate::harness::service::{Service, ServiceOptions};

const CUSTOMIZATIONS: &str = "/v1/orgs/acme/customizations";
/// The methods probed on every documented path.
const METHODS: [&str; 6] = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];

/// `tailor up` without workers, with the webhook endpoint `reg`.
fn start(dir: &Path) -> Service {
    let opts =
        ServiceOptions { workers: 0, webhooks: vec![("reg".into(), "s3cret".into())], ..ServiceOptions::default() };
    Service::start(&dir.join("data"), &opts)
}

fn spec(name: &str, source: &str) -> Value {
    json!({"name": name, "source": source, "tag_suffix": "custom", "platforms": ["linux/amd64"]})
}

/// `method path` with `token` and a body of `content_type`.
fn send(host: &Service, method: &str, path: &str, token: &str, content_type: &str, body: &[u8]) -> Response {
    host.request(method, path, Some(token), &[("content-type", content_type)], body)
}

/// (status, error code) of an error response.
fn error(r: &Response) -> (u16, String) {
    (r.status, r.code())
}

/// The `field` of every detail of an error response.
fn fields(r: &Response) -> BTreeSet<String> {
    let details = r.json()["error"]["details"].as_array().cloned().unwrap_or_default();
    details.iter().map(|d| d["field"].as_str().unwrap_or_default().to_owned()).collect()
}

/// Creates `spec` (201); the response.
fn create(host: &Service, token: &str, spec: &Value) -> Response {
    let r = host.post_json(CUSTOMIZATIONS, token, spec);
    assert_eq!(r.status, 201, "{}", r.text());
    r
}

fn id_of(r: &Response) -> String {
    r.json()["id"].as_str().unwrap().to_owned()
}

fn list(host: &Service, token: &str, query: &str) -> Vec<String> {
    let r = host.get(&format!("{CUSTOMIZATIONS}{query}"), token);
    assert_eq!(r.status, 200, "{}", r.text());
    let all = r.json()["customizations"].as_array().cloned().unwrap();
    all.iter().map(|c| c["id"].as_str().unwrap().to_owned()).collect()
}

/// A documented path with real values for its parameters.
fn concrete(template: &str, id: &str) -> String {
    template
        .replace("{org}", "acme")
        .replace("{id}", id)
        .replace("{number}", "1")
        .replace("{name}", "debian")
        .replace("{tag}", "12")
        .replace("{endpoint}", "reg")
        .replace("{secret}", "not-the-secret")
}

#[test]
fn the_routes_served_are_the_routes_of_the_openapi_document() {
    let dir = tempfile::tempdir().unwrap();
    let host = start(dir.path());
    let owner = host.token("acme", "owner");

    let r = host.request("GET", "/v1/openapi.json", None, &[], b"");
    assert_eq!((r.status, r.header("content-type")), (200, Some("application/json")), "no token needed");
    let doc = r.json();
    assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.1.")), "{}", doc["openapi"]);
    let id = id_of(&create(&host, &owner, &spec("routes", "acme/debian:12")));

    // (path, documented methods, documented statuses of each).
    let mut paths = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        let ops: Vec<(String, BTreeSet<String>)> = METHODS
            .iter()
            .filter_map(|m| item.get(m.to_ascii_lowercase()).map(|op| (m.to_string(), op)))
            .map(|(m, op)| (m, op["responses"].as_object().unwrap().keys().cloned().collect()))
            .collect();
        paths.push((path.clone(), ops));
    }
    assert!(paths.len() >= 12, "{paths:?}");
    let documented: usize = paths.iter().map(|(_, ops)| ops.len()).sum();
    assert!(documented >= 17, "{documented} operations");

    // Deletion last, so that every other route sees the customization.
    let mut probes = Vec::new();
    for (path, ops) in &paths {
        for method in METHODS {
            probes.push((method, path, ops));
        }
    }
    probes.sort_by_key(|(method, _, _)| *method == "DELETE");
    for (method, template, ops) in probes {
        let path = concrete(template, &id);
        let r = host.request(method, &path, Some(&owner), &[], b"");
        let allowed: Vec<&str> = ops.iter().map(|(m, _)| m.as_str()).collect();
        match ops.iter().find(|(m, _)| m == method) {
            Some((_, statuses)) => {
                assert!(
                    r.status != 405 && !(r.status == 404 && r.code() == "route_not_found"),
                    "{method} {path} is documented but not served: {} {}",
                    r.status,
                    r.text()
                );
                assert!(
                    statuses.contains(&r.status.to_string()) || statuses.contains("default"),
                    "{method} {path} answered {}, not a documented status {statuses:?}: {}",
                    r.status,
                    r.text()
                );
            }
            None => {
                assert_eq!(error(&r), (405, "method_not_allowed".into()), "{method} {path}: {}", r.text());
                let allow: BTreeSet<&str> = r.header("allow").unwrap_or_default().split(", ").collect();
                assert_eq!(allow, allowed.iter().copied().collect(), "allow of {method} {path}");
            }
        }
    }

    // Outside /v1 is the web UI (its pages are the app; it is read with GET only).
    for path in ["/", "/elsewhere", "/v2/token", "/customizations/cus_x"] {
        let r = host.request("GET", path, None, &[], b"");
        assert_eq!((r.status, r.header("content-type")), (200, Some("text/html; charset=utf-8")), "GET {path}");
        assert_eq!(host.request("POST", path, Some(&owner), &[], b"{}").status, 405, "POST {path}");
    }
    assert_eq!(host.request("GET", "/assets/nothing.js", None, &[], b"").status, 404);

    // Paths under /v1 that are not in the document are not routes, with or without a token.
    let undocumented = [
        "/v1",
        "/v1/orgs",
        "/v1/orgs/acme",
        "/v1/orgs/acme/nothing",
        "/v1/orgs/acme/repositories/tags",
        "/v1/orgs/acme/customizations/c/builds/1/log/x",
        "/v1/hooks",
        "/v1/hooks/reg/s3cret/x",
    ];
    for path in undocumented {
        for token in [Some(owner.as_str()), None] {
            let r = host.request("GET", path, token, &[], b"");
            assert_eq!(error(&r), (404, "route_not_found".into()), "GET {path}: {}", r.text());
        }
        let r = host.request("POST", path, Some(&owner), &[], b"{}");
        assert_eq!(error(&r), (404, "route_not_found".into()), "POST {path}: {}", r.text());
    }
}

#[test]
fn tokens_see_only_their_org_and_members_cannot_delete() {
    let dir = tempfile::tempdir().unwrap();
    let host = start(dir.path());
    let (owner, member, other) =
        (host.token("acme", "owner"), host.token("acme", "member"), host.token("other", "owner"));
    let id = id_of(&create(&host, &owner, &spec("a", "acme/debian:12")));
    let this = format!("{CUSTOMIZATIONS}/{id}");

    // No token, or an unknown one: 401 with a challenge, and nothing is done.
    for token in [None, Some("tlr_unknown"), Some("")] {
        for (method, path) in [("GET", "/v1/token"), ("GET", CUSTOMIZATIONS), ("POST", CUSTOMIZATIONS)] {
            let r = host.request(method, path, token, &[], spec("b", "acme/debian:12").to_string().as_bytes());
            assert_eq!(error(&r), (401, "unauthorized".into()), "{method} {path} {token:?}");
            assert_eq!(r.header("www-authenticate"), Some("Bearer realm=\"tailor\""), "{method} {path}");
        }
    }
    assert_eq!(list(&host, &owner, ""), [id.as_str()], "nothing created without a token");

    // Another org's token: 404 on every route of acme, whatever it does.
    let doc = host.request("GET", "/v1/openapi.json", None, &[], b"").json();
    let mut checked = 0;
    for (template, item) in doc["paths"].as_object().unwrap() {
        for method in
            METHODS.iter().filter(|m| template.contains("{org}") && item.get(m.to_ascii_lowercase()).is_some())
        {
            for target in [id.as_str(), "cus_doesnotexist"] {
                let path = concrete(template, target);
                let body = json!({"name": "x", "tag_suffix": "y"}).to_string();
                let r = send(&host, method, &path, &other, "application/json", body.as_bytes());
                assert_eq!(error(&r), (404, "not_found".into()), "{method} {path} as `other`: {}", r.text());
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 80, "40 org routes (5 of them extensions), each for an existing and a missing resource");
    let whoami = host.get("/v1/token", &other).json();
    assert_eq!((whoami["org"].as_str(), whoami["role"].as_str()), (Some("other"), Some("owner")), "{whoami}");
    let r = host.get("/v1/orgs/other/customizations", &other);
    assert_eq!((r.status, r.json()), (200, json!({"customizations": []})), "`other` lists none of acme's");
    let r = host.get(&this, &owner);
    assert_eq!((r.status, r.json()["revision"].as_i64()), (200, Some(1)), "unchanged by `other`");
    let builds = super::builds(&host, &owner, &id);
    assert_eq!((builds.len(), builds[0]["requests"].as_i64()), (1, Some(1)), "{builds:?}");

    // A member creates, edits and triggers, but may not delete.
    create(&host, &member, &spec("b", "acme/debian:12"));
    let r = send(&host, "PUT", &this, &member, "application/json", spec("a2", "acme/debian:12").to_string().as_bytes());
    assert_eq!(r.status, 200, "{}", r.text());
    let r = send(&host, "PATCH", &this, &member, "application/merge-patch+json", br#"{"labels": {"team": "x"}}"#);
    assert_eq!(r.status, 200, "{}", r.text());
    let r = host.request("POST", &format!("{this}/copy"), Some(&member), &[], b"");
    assert_eq!(r.status, 201, "{}", r.text());
    let r = host.request("POST", &format!("{this}/builds"), Some(&member), &[], b"");
    assert_eq!(r.status, 202, "{}", r.text());
    let r = host.request("DELETE", &this, Some(&member), &[], b"");
    assert_eq!(error(&r), (403, "forbidden".into()), "{}", r.text());
    assert_eq!(host.get(&this, &member).status, 200, "still there");

    // An owner deletes: gone, builds included.
    let r = host.request("DELETE", &this, Some(&owner), &[], b"");
    assert_eq!((r.status, r.body.len()), (204, 0), "{}", r.text());
    assert_eq!(error(&host.get(&this, &owner)), (404, "not_found".into()));
    assert_eq!(error(&host.get(&format!("{this}/builds"), &owner)), (404, "not_found".into()));
    assert!(!list(&host, &owner, "").contains(&id));
}

#[test]
fn customizations_are_validated_edited_under_if_match_patched_and_copied() {
    let dir = tempfile::tempdir().unwrap();
    let host = start(dir.path());
    let owner = host.token("acme", "owner");

    // JSON.
    let r = create(&host, &owner, &spec("from-json", "acme/debian:12"));
    let view = r.json();
    let id = id_of(&r);
    let this = format!("{CUSTOMIZATIONS}/{id}");
    assert!(id.starts_with("cus_"), "{id}");
    assert_eq!((r.header("location"), r.header("etag")), (Some(this.as_str()), Some("\"1\"")));
    assert_eq!((view["revision"].as_i64(), view["result"].as_str()), (Some(1), Some("acme/debian:12_custom")));
    assert_eq!((view["build"]["number"].as_i64(), view["build"]["status"].as_str()), (Some(1), Some("queued")));
    assert_eq!(host.get(&this, &owner).json()["id"], id.as_str());

    // YAML.
    let yaml = "name: from-yaml\nsource: acme/alpine:3.20\ntag_suffix: fips\nplatforms: [linux/amd64, linux/arm64]\n";
    let r = send(&host, "POST", CUSTOMIZATIONS, &owner, "application/yaml", yaml.as_bytes());
    assert_eq!(r.status, 201, "{}", r.text());
    let yaml_id = id_of(&r);
    assert_eq!(r.header("location"), Some(format!("{CUSTOMIZATIONS}/{yaml_id}").as_str()));
    assert_eq!(r.header("etag"), Some("\"1\""));
    let view = r.json();
    assert_eq!((view["revision"].as_i64(), view["build"]["status"].as_str()), (Some(1), Some("queued")));
    assert_eq!(view["spec"]["platforms"], json!(["linux/amd64", "linux/arm64"]));

    // Refused bodies store nothing.
    let invalid = json!({
        "name": "a", "source": "acme/debian:12", "tag_suffix": "", "platforms": [],
        "contents": {"artifacts": [{"reference": "acme/rootca:1", "includes": []}]},
    });
    let r = host.post_json(CUSTOMIZATIONS, &owner, &invalid);
    assert_eq!(error(&r), (422, "invalid_spec".into()), "{}", r.text());
    let expected: BTreeSet<String> =
        ["platforms", "contents.artifacts[0].includes", "tag_suffix"].map(String::from).into();
    assert_eq!(fields(&r), expected, "{}", r.text());
    let r = send(&host, "POST", CUSTOMIZATIONS, &owner, "application/json", b"{\"name\": ");
    assert_eq!(error(&r), (400, "malformed_body".into()), "{}", r.text());
    let r = send(&host, "POST", CUSTOMIZATIONS, &owner, "application/yaml", b"name: a\nsource: [unclosed\n");
    assert_eq!(error(&r), (400, "malformed_body".into()), "{}", r.text());
    let r =
        send(&host, "POST", CUSTOMIZATIONS, &owner, "text/plain", spec("t", "acme/debian:12").to_string().as_bytes());
    assert_eq!(error(&r), (415, "unsupported_media_type".into()), "{}", r.text());
    let r = host.post_json(CUSTOMIZATIONS, &owner, &spec("foreign", "globex/debian:12"));
    assert_eq!(error(&r), (422, "invalid_spec".into()), "{}", r.text());
    assert_eq!(fields(&r), BTreeSet::from(["source".to_owned()]), "{}", r.text());
    assert_eq!(list(&host, &owner, ""), [id.as_str(), yaml_id.as_str()]);

    // PUT under If-Match: the current revision wins, a stale one is 412.
    let mut replaced = spec("from-json", "acme/debian:12");
    replaced["tag_suffix"] = json!("v2");
    let body = replaced.to_string();
    let put = |if_match: &str| {
        host.request(
            "PUT",
            &this,
            Some(&owner),
            &[("content-type", "application/json"), ("if-match", if_match)],
            body.as_bytes(),
        )
    };
    let r = put("\"1\"");
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!((r.json()["revision"].as_i64(), r.header("etag")), (Some(2), Some("\"2\"")));
    assert_eq!(r.json()["result"], "acme/debian:12_v2");
    let r = put("\"1\"");
    assert_eq!(error(&r), (412, "revision_conflict".into()), "{}", r.text());
    assert_eq!(r.header("etag"), Some("\"2\""));
    assert_eq!(host.get(&this, &owner).json()["revision"], 2, "the stale PUT changed nothing");

    // PATCH: one field changes, the others stay.
    let r = send(&host, "PATCH", &this, &owner, "application/merge-patch+json", br#"{"environment": {"TZ": "UTC"}}"#);
    assert_eq!(r.status, 200, "{}", r.text());
    let patched = r.json();
    assert_eq!((patched["revision"].as_i64(), r.header("etag")), (Some(3), Some("\"3\"")));
    let mut expected = replaced.clone();
    expected["environment"] = json!({"TZ": "UTC"});
    for field in ["name", "source", "tag_suffix", "platforms", "environment"] {
        assert_eq!(patched["spec"][field], expected[field], "{field}: {}", patched["spec"]);
    }

    // Copy: a new id, the same spec.
    let r = host.request("POST", &format!("{this}/copy"), Some(&owner), &[], b"");
    assert_eq!(r.status, 201, "{}", r.text());
    let copy = r.json();
    let copy_id = id_of(&r);
    assert_ne!(copy_id, id);
    assert_eq!(r.header("location"), Some(format!("{CUSTOMIZATIONS}/{copy_id}").as_str()));
    assert_eq!((copy["spec"].clone(), copy["revision"].as_i64()), (patched["spec"].clone(), Some(1)));

    // The source filter.
    assert_eq!(list(&host, &owner, "?source_repository=acme%2Falpine"), [yaml_id.as_str()]);
    assert_eq!(list(&host, &owner, "?source_repository=acme/debian"), [id.as_str(), copy_id.as_str()]);
    assert!(list(&host, &owner, "?source_repository=acme/nothing").is_empty());
    assert_eq!(list(&host, &owner, "").len(), 3);
}

#[test]
fn builds_queue_and_coalesce_and_the_host_caps_bodies_at_1_mib() {
    let dir = tempfile::tempdir().unwrap();
    let host = start(dir.path());
    let owner = host.token("acme", "owner");
    let id = id_of(&create(&host, &owner, &spec("a", "acme/debian:12")));
    let builds = format!("{CUSTOMIZATIONS}/{id}/builds");

    let listed = super::builds(&host, &owner, &id);
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!((listed[0]["number"].as_i64(), listed[0]["status"].as_str()), (Some(1), Some("queued")));
    let mut numbers = Vec::new();
    for requests in [2, 3] {
        let r = host.request("POST", &builds, Some(&owner), &[], b"");
        assert_eq!(r.status, 202, "{}", r.text());
        let b = r.json();
        assert_eq!((b["status"].as_str(), b["requests"].as_i64()), (Some("queued"), Some(requests)), "{b}");
        numbers.push(b["number"].as_i64().unwrap());
    }
    assert_eq!(numbers, [1, 1], "the requests join the queued build");
    assert_eq!(super::builds(&host, &owner, &id).len(), 1);
    let r = host.get(&format!("{builds}/1"), &owner);
    assert_eq!((r.status, r.json()["status"].as_str()), (200, Some("queued")), "{}", r.text());
    let r = host.get(&format!("{builds}/1/log"), &owner);
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r.header("content-type").is_some_and(|t| t.starts_with("text/plain")), "{:?}", r.headers);
    assert!(r.body.is_empty(), "a queued build has no log yet: {}", r.text());
    for path in [format!("{builds}/99"), format!("{builds}/99/log"), format!("{builds}/0")] {
        assert_eq!(error(&host.get(&path, &owner)), (404, "not_found".into()), "{path}");
    }

    // One byte over 1 MiB: 413 from the host; exactly 1 MiB reaches the API and is created.
    let mut big = spec("big", "acme/debian:12").to_string().into_bytes();
    big.resize(1 << 20, b' ');
    let mut over = big.clone();
    over.push(b' ');
    let r = send(&host, "POST", CUSTOMIZATIONS, &owner, "application/json", &over);
    assert_eq!(error(&r), (413, "body_too_large".into()), "{}", r.text());
    assert_eq!(list(&host, &owner, "").len(), 1, "nothing created");
    let r = send(&host, "POST", CUSTOMIZATIONS, &owner, "application/json", &big);
    assert_eq!(r.status, 201, "exactly 1 MiB is accepted: {}", r.text());
    let r = host.get("/v1/token", &owner);
    assert_eq!((r.status, r.json()["org"].as_str()), (200, Some("acme")), "the host still answers");
    assert!(!host.log().contains("panicked"), "{}", host.log());
}
