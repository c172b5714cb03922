//! Mirrors: created by owners from declared upstreams only, into the org's namespace, one per
//! destination; edited, listed, synced now, deleted; shown on the repositories; invisible to
//! other orgs.

use serde_json::{Value as Json, json};
use tailor_api::Settings;
use tailor_store::{BuildStatus, Outcome, block_on, claim, finish, record_platforms};

use crate::*;

const MIRRORS: &str = "/v1/orgs/acme/mirrors";

fn settings() -> Settings {
    Settings::from_variables("dhi.io, 127.0.0.1:5001")
}

fn call(db: &SqliteDb, req: tailor_guest::HttpRequest) -> tailor_guest::HttpResponse {
    block_on(tailor_api::handle_with(db, &settings(), req, NOW))
}

fn create(db: &SqliteDb, body: &Json) -> Json {
    let r = call(db, with_json("POST", MIRRORS, OWNER, body));
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    body_of(&r)
}

fn body_of(r: &tailor_guest::HttpResponse) -> Json {
    body(r)
}

#[test]
fn owners_create_mirrors_with_defaults_and_a_first_sync() {
    let db = store();
    let m = create(&db, &json!({"source": "dhi.io/python", "tags": ["3.13*"]}));
    assert!(m["id"].as_str().unwrap().starts_with("mir_"));
    assert_eq!(m["destination"], "acme/dhi-python");
    assert_eq!((m["poll_interval_s"].clone(), m["revision"].clone()), (json!(300), json!(1)));
    assert_eq!((m["sync"]["number"].clone(), m["sync"]["status"].clone()), (json!(1), json!("queued")));
    assert_eq!(m["sync"]["tags"], json!([]));
    assert_eq!(m["last_sync"], Json::Null);
    // YAML too.
    let yaml = request("POST", MIRRORS, OWNER)
        .with_header("Content-Type", "application/yaml")
        .with_body("source: 127.0.0.1:5001/vendor/web-chart\npoll_interval_s: 0\n");
    let r = call(&db, yaml);
    assert_eq!((r.status, body(&r)["destination"].clone()), (201, json!("acme/dhi-web-chart")));
    let listed = body(&call(&db, request("GET", MIRRORS, MEMBER)));
    assert_eq!(listed["mirrors"].as_array().unwrap().len(), 2);
    assert_eq!(
        body(&call(&db, request("GET", "/v1/upstreams", MEMBER))),
        json!({"upstreams": ["127.0.0.1:5001", "dhi.io"]})
    );
}

#[test]
fn bad_mirrors_are_refused_with_every_problem() {
    let db = store();
    let r =
        call(&db, with_json("POST", MIRRORS, OWNER, &json!({"source": "evil.example/x", "destination": "globex/x"})));
    assert_eq!(error(&r), (422, "invalid_spec".into()));
    assert_eq!(fields(&r), ["source", "destination"]);
    let text = String::from_utf8_lossy(&r.body).into_owned();
    assert!(text.contains("not a declared upstream") && text.contains("127.0.0.1:5001, dhi.io"), "{text}");
    let r = call(&db, with_json("POST", MIRRORS, OWNER, &json!({"source": "dhi.io/x", "mirror": true})));
    assert_eq!((error(&r), fields(&r)), ((400, "malformed_body".into()), vec!["mirror".to_owned()]));
    // Without declared upstreams, no source is acceptable, and the message says who declares them.
    let r = send(&db, with_json("POST", MIRRORS, OWNER, &json!({"source": "dhi.io/x"})));
    assert_eq!(error(&r).0, 422);
    assert!(String::from_utf8_lossy(&r.body).contains("--upstream HOST=URL"));
    // Members read but do not create; the same destination twice is a conflict naming the first.
    let r = call(&db, with_json("POST", MIRRORS, MEMBER, &json!({"source": "dhi.io/x"})));
    assert_eq!(error(&r), (403, "forbidden".into()));
    let first = create(&db, &json!({"source": "dhi.io/python"}));
    let r = call(
        &db,
        with_json("POST", MIRRORS, OWNER, &json!({"source": "dhi.io/other", "destination": "acme/dhi-python"})),
    );
    assert_eq!(error(&r), (409, "conflict".into()));
    assert!(String::from_utf8_lossy(&r.body).contains(first["id"].as_str().unwrap()));
    assert_eq!(body(&call(&db, request("GET", MIRRORS, OWNER)))["mirrors"].as_array().unwrap().len(), 1);
}

#[test]
fn mirrors_are_patched_synced_and_deleted_by_owners() {
    let db = store();
    let m = create(&db, &json!({"source": "dhi.io/python"}));
    let this = format!("{MIRRORS}/{}", m["id"].as_str().unwrap());
    let r = call(&db, with_json("PATCH", &this, MEMBER, &json!({"tags": ["3.12"]})));
    assert_eq!(error(&r), (403, "forbidden".into()));
    let r = call(&db, with_json("PATCH", &this, OWNER, &json!({"tags": ["3.12"], "poll_interval_s": 60})));
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!((body(&r)["tags"].clone(), body(&r)["revision"].clone()), (json!(["3.12"]), json!(2)));
    let r = call(&db, with_json("PATCH", &this, OWNER, &json!({"poll_interval_s": 5})));
    assert_eq!((error(&r), fields(&r)), ((422, "invalid_spec".into()), vec!["poll_interval_s".to_owned()]));
    let r = call(&db, with_json("PATCH", &this, OWNER, &json!({"tags": null})).with_header("If-Match", "\"1\""));
    assert_eq!(error(&r).0, 412);

    // Sync now (owners), coalescing with the queued first sync; members may list and read.
    assert_eq!(error(&call(&db, request("POST", &format!("{this}/syncs"), MEMBER))).0, 403);
    let r = call(&db, request("POST", &format!("{this}/syncs"), OWNER));
    assert_eq!((r.status, body(&r)["number"].clone(), body(&r)["requests"].clone()), (202, json!(1), json!(2)));
    // A worker runs it; the sync's tags and log are served.
    let c = block_on(claim(&db, "w", NOW, 30_000, 3)).unwrap().unwrap();
    let outputs = json!({"tags": [{"tag": "3.12", "digest": "sha256:aa", "action": "copied"}], "bytes_copied": 10});
    let outcome = Outcome { outputs: Some(outputs), ..Outcome::default() };
    assert!(
        block_on(finish(&db, &c.customization_id, 1, "w", BuildStatus::Succeeded, &outcome, "copied\n", NOW)).unwrap()
    );
    let s = body(&call(&db, request("GET", &format!("{this}/syncs/1"), MEMBER)));
    assert_eq!((s["status"].clone(), s["tags"][0]["action"].clone()), (json!("succeeded"), json!("copied")));
    let log = call(&db, request("GET", &format!("{this}/syncs/1/log"), MEMBER));
    assert_eq!((log.status, String::from_utf8_lossy(&log.body).into_owned()), (200, "copied\n".to_owned()));
    assert_eq!(error(&call(&db, request("GET", &format!("{this}/syncs/2"), MEMBER))), (404, "not_found".into()));
    assert_eq!(
        body(&call(&db, request("GET", &format!("{this}/syncs"), MEMBER)))["syncs"].as_array().unwrap().len(),
        1
    );
    assert_eq!(body(&call(&db, request("GET", &this, MEMBER)))["last_sync"]["status"], "succeeded");

    // The destination shows as a mirrored repository.
    block_on(record_platforms(&db, "acme/dhi-python", "3.12", "sha256:aa", &["linux/amd64".into()], NOW)).unwrap();
    let repos = body(&call(&db, request("GET", "/v1/orgs/acme/repositories", MEMBER)));
    assert_eq!(repos["repositories"][0]["repository"], "acme/dhi-python");
    assert_eq!(repos["repositories"][0]["mirror"]["source"], "dhi.io/python");
    assert_eq!(repos["repositories"][0]["tags"][0]["platforms"], json!(["linux/amd64"]));

    // Other orgs see nothing; members cannot delete; owners can, and it is gone.
    assert_eq!(error(&call(&db, request("GET", &this, OTHER))), (404, "not_found".into()));
    assert_eq!(error(&call(&db, request("GET", "/v1/orgs/globex/mirrors/x", OTHER))).0, 404);
    assert!(
        body(&call(&db, request("GET", "/v1/orgs/globex/mirrors", OTHER)))["mirrors"].as_array().unwrap().is_empty()
    );
    assert_eq!(error(&call(&db, request("DELETE", &this, MEMBER))).0, 403);
    assert_eq!(call(&db, request("DELETE", &this, OWNER)).status, 204);
    assert_eq!(error(&call(&db, request("GET", &this, OWNER))), (404, "not_found".into()));
    let missing = call(&db, request("GET", &format!("{MIRRORS}/mir_nope"), OWNER));
    assert!(String::from_utf8_lossy(&missing.body).contains("mirror `mir_nope` does not exist"));
}
