//! Org extensions: owners register, change and remove; members read; other orgs see nothing.

use serde_json::json;
use tailor_store::{block_on, record_extension_check};

use crate::*;

const EXTENSIONS: &str = "/v1/orgs/acme/extensions";

#[test]
fn owners_register_change_and_remove_extensions() {
    let db = store();
    let spec = json!({"name": "no-setuid", "reference": "acme/policies:1", "settings": {"allow": ["usr/bin/su"]}});
    let created = send(&db, with_json("POST", EXTENSIONS, OWNER, &spec));
    assert_eq!(created.status, 201, "{}", body(&created));
    let x = body(&created);
    let id = x["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("ext_"));
    assert_eq!(created.header("location"), Some(format!("{EXTENSIONS}/{id}").as_str()));
    assert_eq!(
        (x["status"].as_str(), x["mode"].as_str(), x["revision"].as_i64(), &x["digest"]),
        (Some("pending"), Some("enforce"), Some(1), &json!(null))
    );
    assert_eq!(x["applies_to"], json!([]));
    // Members read; they may not register, change or remove.
    let listed = body(&send(&db, request("GET", EXTENSIONS, MEMBER)));
    assert_eq!(listed["extensions"][0]["id"], id.as_str());
    assert_eq!(error(&send(&db, with_json("POST", EXTENSIONS, MEMBER, &spec))).0, 403);
    assert_eq!(
        error(&send(&db, with_json("PATCH", &format!("{EXTENSIONS}/{id}"), MEMBER, &json!({"mode": "warn"})))).0,
        403
    );
    assert_eq!(error(&send(&db, request("DELETE", &format!("{EXTENSIONS}/{id}"), MEMBER))).0, 403);
    // One name per org.
    let again = send(&db, with_json("POST", EXTENSIONS, OWNER, &spec));
    assert_eq!(error(&again), (409, "conflict".into()), "{}", body(&again));
    assert_eq!(fields(&again), ["name"]);
    // What the worker found is shown; a change makes it pending again.
    block_on(record_extension_check(&db, &id, 1, Some("sha256:abc"), None, NOW)).unwrap();
    let got = send(&db, request("GET", &format!("{EXTENSIONS}/{id}"), MEMBER));
    assert_eq!((body(&got)["status"].as_str(), body(&got)["digest"].as_str()), (Some("ready"), Some("sha256:abc")));
    assert_eq!(got.header("etag"), Some("\"1\""));
    let patched =
        send(&db, with_json("PATCH", &format!("{EXTENSIONS}/{id}"), OWNER, &json!({"mode": "warn", "settings": null})));
    let p = body(&patched);
    assert_eq!(
        (p["revision"].as_i64(), p["mode"].as_str(), p["status"].as_str()),
        (Some(2), Some("warn"), Some("pending"))
    );
    assert_eq!(p["settings"], json!({}), "null: back to the default");
    assert_eq!(p["digest"], json!(null));
    let stale = send(
        &db,
        with_json("PATCH", &format!("{EXTENSIONS}/{id}"), OWNER, &json!({"mode": "enforce"}))
            .with_header("If-Match", "\"1\""),
    );
    assert_eq!(error(&stale).0, 412);
    // Another org sees none of it.
    assert_eq!(error(&send(&db, request("GET", &format!("{EXTENSIONS}/{id}"), OTHER))).0, 404);
    assert_eq!(body(&send(&db, request("GET", "/v1/orgs/globex/extensions", OTHER)))["extensions"], json!([]));
    assert_eq!(send(&db, request("DELETE", &format!("{EXTENSIONS}/{id}"), OWNER)).status, 204);
    assert_eq!(error(&send(&db, request("GET", &format!("{EXTENSIONS}/{id}"), OWNER))).0, 404);
}

#[test]
fn bad_registrations_name_every_field() {
    let db = store();
    let bad = json!({"name": "No Good", "reference": "globex/p:1", "settings": [1], "mode": "audit",
                     "applies_to": ["globex/*"]});
    let r = send(&db, with_json("POST", EXTENSIONS, OWNER, &bad));
    assert_eq!(error(&r), (422, "invalid_spec".into()));
    assert_eq!(fields(&r), ["name", "reference", "settings", "mode", "applies_to[0]"]);
    let unknown =
        send(&db, with_json("POST", EXTENSIONS, OWNER, &json!({"name": "a", "reference": "acme/p:1", "x": 1})));
    assert_eq!((error(&unknown).0, fields(&unknown)), (400, vec!["x".to_string()]));
    let yaml = send(
        &db,
        request("POST", EXTENSIONS, OWNER)
            .with_header("content-type", "application/yaml")
            .with_body(b"name: labels\nreference: acme/p:2\nmode: warn\n".to_vec()),
    );
    assert_eq!(yaml.status, 201, "{}", body(&yaml));
}
