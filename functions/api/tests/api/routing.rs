//! Unknown routes, wrong methods, the OpenAPI document, oversized bodies, store failures.

use serde_json::Value as Json;
use tailor_api::MAX_BODY;
use tailor_guest::HttpRequest;
use tailor_store::SqliteDb;

use crate::*;

#[test]
fn unknown_paths_are_404_and_wrong_methods_405_with_allow() {
    let db = store();
    for path in ["/", "/v1", "/v1/orgs/acme", "/v2/token", "/v1/orgs/acme/customizations/c/builds/1/log/x"] {
        let response = send(&db, request("GET", path, OWNER));
        assert_eq!(error(&response), (404, "route_not_found".into()), "{path}");
    }
    assert_eq!(error(&send(&db, HttpRequest::new("GET", "/v1/nothing"))).0, 404, "before authentication");
    let cases = [
        ("DELETE", "/v1/token", "GET"),
        ("PUT", CUSTOMIZATIONS, "GET, POST"),
        ("POST", "/v1/orgs/acme/customizations/cus_1", "GET, PUT, PATCH, DELETE"),
        ("GET", "/v1/orgs/acme/customizations/cus_1/copy", "POST"),
        ("DELETE", "/v1/orgs/acme/customizations/cus_1/builds", "GET, POST"),
        ("POST", "/v1/orgs/acme/repositories/team/app/tags", "GET"),
        ("POST", "/v1/openapi.json", "GET"),
    ];
    for (method, path, allow) in cases {
        let response = send(&db, request(method, path, OWNER));
        assert_eq!(error(&response), (405, "method_not_allowed".into()), "{method} {path}");
        assert_eq!(response.header("allow"), Some(allow), "{method} {path}");
    }
}

#[test]
fn the_openapi_document_needs_no_token() {
    let db = store();
    let response = send(&db, HttpRequest::new("GET", "/v1/openapi.json"));
    assert_eq!((response.status, response.header("content-type")), (200, Some("application/json")));
    let doc: Json = serde_json::from_slice(&response.body).unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    assert!(doc["paths"]["/v1/orgs/{org}/customizations/{id}"]["patch"].is_object());
}

#[test]
fn bodies_over_1_mib_are_413() {
    let db = store();
    let big = vec![b' '; MAX_BODY + 1];
    let response = send(&db, request("POST", CUSTOMIZATIONS, OWNER).with_body(big));
    assert_eq!(error(&response), (413, "body_too_large".into()));
    // At the limit the body is read (and this one, being blank, does not parse).
    let limit = vec![b' '; MAX_BODY];
    let response = send(&db, request("POST", CUSTOMIZATIONS, OWNER).with_body(limit));
    assert_eq!(error(&response), (400, "malformed_body".into()));
    // A large but valid spec is fine.
    let mut large = spec("a");
    large["labels"] = serde_json::json!({"padding": "x".repeat(MAX_BODY / 2)});
    assert_eq!(send(&db, with_json("POST", CUSTOMIZATIONS, OWNER, &large)).status, 201);
}

#[test]
fn store_failures_are_500_internal() {
    // Not migrated: every query fails.
    let db = SqliteDb::memory().unwrap();
    let response = send(&db, request("GET", "/v1/token", OWNER));
    assert_eq!(error(&response), (500, "internal".into()));
    let message = body(&response)["error"]["message"].as_str().unwrap().to_owned();
    assert!(message.starts_with("store: "), "{message}");
    // The document does not need the store.
    assert_eq!(send(&db, HttpRequest::new("GET", "/v1/openapi.json")).status, 200);
}
