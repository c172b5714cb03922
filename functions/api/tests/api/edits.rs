//! PUT, PATCH (JSON merge patch), DELETE and copy, with If-Match.

use serde_json::json;

use crate::*;

#[test]
fn put_replaces_with_if_match_and_refuses_a_stale_revision() {
    let db = store();
    let created = create(&db, &spec("a"));
    let this = path(&created["id"]);
    let mut changed = spec("a");
    changed["tag_suffix"] = json!("v2");

    let response = send_at(&db, with_json("PUT", &this, OWNER, &changed).with_header("If-Match", "\"1\""), NOW + 1000);
    assert_eq!((response.status, response.header("etag")), (200, Some("\"2\"")));
    let view = body(&response);
    assert_eq!((view["revision"].as_i64(), view["result"].as_str()), (Some(2), Some("acme/debian:12_v2")));
    assert_eq!(view["updated_at"], "2026-11-26T15:04:06.123Z");
    assert_eq!(view["created_at"], NOW_TEXT);
    // The build queued by the creation is still queued: the edit joined it.
    assert_eq!((view["build"]["number"].as_i64(), view["build"]["requests"].as_i64()), (Some(1), Some(2)));

    let stale = send(&db, with_json("PUT", &this, OWNER, &spec("a")).with_header("If-Match", "\"1\""));
    assert_eq!(error(&stale), (412, "revision_conflict".into()));
    let message = body(&stale)["error"]["message"].as_str().unwrap().to_owned();
    assert!(message.contains("current revision 2"), "{message}");
    assert_eq!(stale.header("etag"), Some("\"2\""));

    for (if_match, expected) in [("W/\"2\"", 3), ("3", 4), ("*", 5)] {
        let response = send(&db, with_json("PUT", &this, OWNER, &spec("a")).with_header("If-Match", if_match));
        assert_eq!(response.status, 200, "{if_match}");
        assert_eq!(body(&response)["revision"], expected, "{if_match}");
    }
    let response = send(&db, with_json("PUT", &this, OWNER, &spec("a")));
    assert_eq!(body(&response)["revision"], 6, "If-Match is optional");

    let bad = send(&db, with_json("PUT", &this, OWNER, &spec("a")).with_header("If-Match", "revision-6"));
    assert_eq!((error(&bad), fields(&bad)), ((400, "bad_header".into()), vec!["If-Match".to_owned()]));
}

#[test]
fn put_validates_like_post_and_404s_a_missing_customization() {
    let db = store();
    let created = create(&db, &spec("a"));
    let this = path(&created["id"]);
    let mut invalid = spec("a");
    invalid["platforms"] = json!(["linux/amd64", "linux/amd64"]);
    let response = send(&db, with_json("PUT", &this, OWNER, &invalid));
    assert_eq!((error(&response), fields(&response)), ((422, "invalid_spec".into()), vec!["platforms[1]".to_owned()]));
    let yaml = request("PUT", &this, OWNER).with_header("Content-Type", "application/yaml").with_body("name: [");
    assert_eq!(error(&send(&db, yaml)), (400, "malformed_body".into()));
    let wrong = request("PUT", &this, OWNER).with_header("Content-Type", "text/plain").with_body("x");
    assert_eq!(error(&send(&db, wrong)), (415, "unsupported_media_type".into()));
    assert_eq!(body(&send(&db, request("GET", &this, OWNER)))["revision"], 1, "unchanged");

    let missing = send(&db, with_json("PUT", &format!("{CUSTOMIZATIONS}/cus_missing"), OWNER, &spec("a")));
    assert_eq!(error(&missing), (404, "not_found".into()));
}

#[test]
fn patch_merges_into_the_stored_spec() {
    let db = store();
    let mut original = spec("a");
    original["destination"] = json!("acme/debian-custom");
    original["labels"] = json!({"team": "payments", "tier": "1"});
    let created = create(&db, &original);
    let this = path(&created["id"]);

    let patch = json!({"tag_suffix": "fips", "labels": {"tier": null, "owner": "sec"}, "destination": null});
    let req = request("PATCH", &this, MEMBER)
        .with_header("Content-Type", "application/merge-patch+json")
        .with_header("If-Match", "\"1\"")
        .with_body(patch.to_string());
    let response = send(&db, req);
    assert_eq!(
        (response.status, response.header("etag")),
        (200, Some("\"2\"")),
        "{}",
        String::from_utf8_lossy(&response.body)
    );
    let view = body(&response);
    assert_eq!(view["result"], "acme/debian:12_fips", "destination removed: back to the source repository");
    assert_eq!(view["spec"]["labels"], json!({"team": "payments", "owner": "sec"}));
    assert_eq!(view["spec"]["platforms"], json!(["linux/amd64"]), "untouched fields stay");
    assert_eq!(view["build"]["number"], 1);

    // Without If-Match, plain application/json.
    let response = send(&db, with_json("PATCH", &this, MEMBER, &json!({"platforms": ["linux/arm64"]})));
    assert_eq!(body(&response)["spec"]["platforms"], json!(["linux/arm64"]));
    assert_eq!(body(&response)["revision"], 3);
}

#[test]
fn patch_errors() {
    let db = store();
    let created = create(&db, &spec("a"));
    let this = path(&created["id"]);
    let patch = |body: &str, headers: &[(&str, &str)]| {
        let mut req = request("PATCH", &this, OWNER).with_body(body);
        for (name, value) in headers {
            req = req.with_header(name, value);
        }
        send(&db, req)
    };
    let response = patch("{\"platforms\": []}", &[]);
    assert_eq!((error(&response), fields(&response)), ((422, "invalid_spec".into()), vec!["platforms".to_owned()]));
    // A well-formed patch whose result is no spec (an unknown field, a wrong type) is 422
    // like any invalid spec; openapi.json's SpecPatch refuses both up front.
    let response = patch("{\"colour\": \"red\"}", &[]);
    assert_eq!((error(&response), fields(&response)), ((422, "invalid_spec".into()), vec!["colour".to_owned()]));
    let response = patch("{\"tag_suffix\": 5}", &[]);
    assert_eq!((error(&response), fields(&response)), ((422, "invalid_spec".into()), vec!["tag_suffix".to_owned()]));
    assert_eq!(error(&patch("{not json", &[])), (400, "malformed_body".into()));
    assert_eq!(error(&patch("", &[])), (400, "malformed_body".into()));
    assert_eq!(error(&patch("{}", &[("Content-Type", "application/yaml")])), (415, "unsupported_media_type".into()));
    assert_eq!(error(&patch("{}", &[("If-Match", "\"7\"")])), (412, "revision_conflict".into()));
    assert_eq!(error(&patch("{}", &[("If-Match", "seven")])), (400, "bad_header".into()));
    assert_eq!(body(&send(&db, request("GET", &this, OWNER)))["revision"], 1, "nothing changed");
    // An empty patch changes nothing in the spec but is an edit all the same.
    let response = patch("{}", &[("If-Match", "1")]);
    assert_eq!((response.status, body(&response)["revision"].as_i64()), (200, Some(2)));
    let missing = send(&db, with_json("PATCH", &format!("{CUSTOMIZATIONS}/cus_missing"), OWNER, &json!({})));
    assert_eq!(error(&missing), (404, "not_found".into()));
}

#[test]
fn delete_with_if_match_then_everything_is_404() {
    let db = store();
    let created = create(&db, &spec("a"));
    let this = path(&created["id"]);
    let stale = send(&db, request("DELETE", &this, OWNER).with_header("If-Match", "\"9\""));
    assert_eq!(error(&stale), (412, "revision_conflict".into()));
    let bad = send(&db, request("DELETE", &this, OWNER).with_header("If-Match", "W/"));
    assert_eq!(error(&bad), (400, "bad_header".into()));

    let deleted = send(&db, request("DELETE", &this, OWNER).with_header("If-Match", "\"1\""));
    assert_eq!((deleted.status, deleted.body.is_empty()), (204, true));
    for req in [
        request("GET", &this, OWNER),
        request("DELETE", &this, OWNER),
        request("GET", &format!("{this}/builds"), OWNER),
        request("GET", &format!("{this}/builds/1"), OWNER),
        request("POST", &format!("{this}/builds"), OWNER),
        request("POST", &format!("{this}/copy"), OWNER),
        with_json("PATCH", &this, OWNER, &json!({"name": "b"})),
    ] {
        let described = format!("{} {}", req.method, req.path);
        assert_eq!(error(&send(&db, req)), (404, "not_found".into()), "{described}");
    }
    assert_eq!(body(&send(&db, request("GET", CUSTOMIZATIONS, OWNER)))["customizations"], json!([]));
}

#[test]
fn copy_creates_a_new_customization_from_an_existing_one() {
    let db = store();
    let mut original = spec("a");
    original["environment"] = json!({"TZ": "UTC"});
    let created = create(&db, &original);
    let this = path(&created["id"]);

    let response =
        send(&db, with_json("POST", &format!("{this}/copy"), MEMBER, &json!({"name": "b", "tag_suffix": "fips"})));
    assert_eq!(response.status, 201, "{}", String::from_utf8_lossy(&response.body));
    let copy = body(&response);
    assert_ne!(copy["id"], created["id"]);
    assert_eq!(response.header("location"), Some(path(&copy["id"]).as_str()));
    assert_eq!(response.header("etag"), Some("\"1\""));
    assert_eq!((copy["name"].as_str(), copy["revision"].as_i64()), (Some("b"), Some(1)));
    assert_eq!(copy["result"], "acme/debian:12_fips");
    assert_eq!(copy["spec"]["environment"], json!({"TZ": "UTC"}), "the rest is copied");
    assert_eq!((copy["build"]["number"].as_i64(), copy["build"]["reason"].as_str()), (Some(1), Some("created")));
    let unchanged = body(&send(&db, request("GET", &this, OWNER)));
    assert_eq!((unchanged["name"].as_str(), unchanged["revision"].as_i64()), (Some("a"), Some(1)));

    // Without a body: the same spec under a new id.
    let response = send(&db, request("POST", &format!("{this}/copy"), OWNER));
    assert_eq!(response.status, 201);
    assert_eq!(body(&response)["spec"], created["spec"]);
    assert_eq!(body(&send(&db, request("GET", CUSTOMIZATIONS, OWNER)))["customizations"].as_array().unwrap().len(), 3);

    let invalid = send(&db, with_json("POST", &format!("{this}/copy"), OWNER, &json!({"source": "globex/debian:12"})));
    assert_eq!((error(&invalid), fields(&invalid)), ((422, "invalid_spec".into()), vec!["source".to_owned()]));
    let wrong =
        request("POST", &format!("{this}/copy"), OWNER).with_header("Content-Type", "text/yaml").with_body("a: b");
    assert_eq!(error(&send(&db, wrong)), (415, "unsupported_media_type".into()));
    let missing = send(&db, request("POST", &format!("{CUSTOMIZATIONS}/cus_missing/copy"), OWNER));
    assert_eq!(error(&missing), (404, "not_found".into()));
}
