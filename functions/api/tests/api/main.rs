//! The API over a real (in-memory) SQLite store, route by route.

mod auth;
mod builds;
mod catalog;
mod charts;
mod concurrency;
mod create;
mod edits;
mod extensions;
mod mirrors;
mod packages;
mod routing;

use serde_json::{Value as Json, json};
use tailor_guest::{HttpRequest, HttpResponse};
use tailor_store::{Role, SqliteDb, block_on, create_token, migrate};

/// An owner of `acme`, named `alice`.
pub const OWNER: &str = "tlr_owner_secret";
/// A member of `acme`, named `ci`.
pub const MEMBER: &str = "tlr_member_secret";
/// An owner of `globex`, named `bob`.
pub const OTHER: &str = "tlr_other_secret";
/// 2026-11-26T15:04:05.123Z
pub const NOW: i64 = 1_795_705_445_123;
pub const NOW_TEXT: &str = "2026-11-26T15:04:05.123Z";

pub const CUSTOMIZATIONS: &str = "/v1/orgs/acme/customizations";

/// A migrated store with the three tokens.
pub fn store() -> SqliteDb {
    let db = SqliteDb::memory().expect("an in-memory database");
    block_on(migrate(&db)).expect("migrations");
    block_on(create_token(&db, OWNER, "acme", Role::Owner, "alice", 0)).expect("owner token");
    block_on(create_token(&db, MEMBER, "acme", Role::Member, "ci", 0)).expect("member token");
    block_on(create_token(&db, OTHER, "globex", Role::Owner, "bob", 0)).expect("other token");
    db
}

/// A request with `token` as bearer token.
pub fn request(method: &str, path: &str, token: &str) -> HttpRequest {
    HttpRequest::new(method, path).with_header("Authorization", &format!("Bearer {token}"))
}

/// A request with a JSON body.
pub fn with_json(method: &str, path: &str, token: &str, body: &Json) -> HttpRequest {
    request(method, path, token).with_header("Content-Type", "application/json").with_body(body.to_string())
}

pub fn send(db: &SqliteDb, req: HttpRequest) -> HttpResponse {
    block_on(tailor_api::handle(db, req, NOW))
}

pub fn send_at(db: &SqliteDb, req: HttpRequest, now: i64) -> HttpResponse {
    block_on(tailor_api::handle(db, req, now))
}

pub fn body(response: &HttpResponse) -> Json {
    serde_json::from_slice(&response.body)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&response.body)))
}

/// The error code of an error response, checking the error format on the way.
pub fn code(response: &HttpResponse) -> String {
    let body = body(response);
    let error = &body["error"];
    assert!(error["message"].as_str().is_some_and(|m| !m.is_empty()), "{body}");
    assert!(error["details"].is_array(), "{body}");
    assert_eq!(response.header("content-type"), Some("application/json"));
    error["code"].as_str().unwrap_or_else(|| panic!("no error code: {body}")).to_owned()
}

/// (status, code) of an error response.
pub fn error(response: &HttpResponse) -> (u16, String) {
    (response.status, code(response))
}

/// The `field` of every detail of an error response.
pub fn fields(response: &HttpResponse) -> Vec<String> {
    body(response)["error"]["details"]
        .as_array()
        .expect("details")
        .iter()
        .map(|d| d["field"].as_str().expect("a field").to_owned())
        .collect()
}

/// A valid spec for `acme/debian:12`.
pub fn spec(name: &str) -> Json {
    json!({"name": name, "source": "acme/debian:12", "tag_suffix": "custom", "platforms": ["linux/amd64"]})
}

/// Creates a customization of `spec` as the owner; returns its view (with `build`).
pub fn create(db: &SqliteDb, spec: &Json) -> Json {
    let response = send(db, with_json("POST", CUSTOMIZATIONS, OWNER, spec));
    assert_eq!(response.status, 201, "{}", String::from_utf8_lossy(&response.body));
    body(&response)
}

/// The path of customization `id` of acme.
pub fn path(id: &Json) -> String {
    format!("{CUSTOMIZATIONS}/{}", id.as_str().expect("an id"))
}
