//! Tokens: none, unknown, another org's (404 everywhere), and what a member may not do.

use serde_json::json;
use tailor_api::ROUTES;
use tailor_guest::HttpRequest;
use tailor_store::{block_on, record_platforms};

use crate::*;

#[test]
fn no_token_or_an_unknown_one_is_401_with_a_challenge() {
    let db = store();
    let requests = [
        HttpRequest::new("GET", "/v1/token"),
        HttpRequest::new("GET", CUSTOMIZATIONS),
        HttpRequest::new("POST", CUSTOMIZATIONS).with_body(spec("a").to_string()),
        request("GET", CUSTOMIZATIONS, "tlr_unknown"),
        // A customization is read alongside the token: still 401 first, never 404.
        HttpRequest::new("GET", &format!("{CUSTOMIZATIONS}/cus_0123456789")),
        request("GET", &format!("{CUSTOMIZATIONS}/cus_0123456789"), "tlr_unknown"),
        request("GET", "/v1/token", ""),
        HttpRequest::new("GET", CUSTOMIZATIONS).with_header("Authorization", &format!("Basic {OWNER}")),
        HttpRequest::new("GET", CUSTOMIZATIONS).with_header("Authorization", OWNER),
    ];
    for req in requests {
        let described = format!("{} {} {:?}", req.method, req.path, req.header("authorization"));
        let response = send(&db, req);
        assert_eq!(error(&response), (401, "unauthorized".into()), "{described}");
        assert_eq!(response.header("www-authenticate"), Some("Bearer realm=\"tailor\""), "{described}");
    }
    // Nothing was created by the unauthenticated POST.
    let list = send(&db, request("GET", CUSTOMIZATIONS, OWNER));
    assert_eq!(body(&list)["customizations"], json!([]));
}

#[test]
fn the_token_route_says_who_the_token_is() {
    let db = store();
    let owner = send(&db, request("GET", "/v1/token", OWNER));
    assert_eq!(owner.status, 200);
    assert_eq!(body(&owner), json!({"org": "acme", "role": "owner", "name": "alice"}));
    let member = send(&db, request("GET", "/v1/token", MEMBER).with_header("Authorization", "x"));
    assert_eq!(body(&member), json!({"org": "acme", "role": "member", "name": "ci"}), "the first header counts");
    let lowercase =
        send(&db, HttpRequest::new("GET", "/v1/token").with_header("authorization", &format!("bearer {OTHER}")));
    assert_eq!(body(&lowercase)["org"], "globex");
}

/// The concrete path of a route template for customization `id` of acme.
fn concrete(template: &str, id: &str) -> String {
    template
        .replace("{org}", "acme")
        .replace("{id}", id)
        .replace("{number}", "1")
        .replace("{name}", "debian")
        .replace("{tag}", "12")
}

#[test]
fn another_orgs_routes_are_404_like_missing_things_and_change_nothing() {
    let db = store();
    let created = create(&db, &spec("a"));
    let id = created["id"].as_str().unwrap().to_owned();
    block_on(record_platforms(&db, "acme/debian", "12", "sha256:aa", &["linux/amd64".into()], NOW)).unwrap();
    let org_routes: Vec<_> = ROUTES.iter().filter(|r| r.path.contains("{org}")).collect();
    assert_eq!(org_routes.len(), 40);
    for route in org_routes {
        for target in [id.as_str(), "cus_doesnotexist"] {
            let path = concrete(route.path, target);
            let req = with_json(route.method, &path, OTHER, &json!({"name": "x", "tag_suffix": "y"}));
            let response = send(&db, req);
            assert_eq!(error(&response), (404, "not_found".into()), "{} {path}", route.method);
        }
        // The answer for an existing customization is the one for a missing one, but for the id.
        let existing = send(&db, request(route.method, &concrete(route.path, &id), OTHER));
        let missing = send(&db, request(route.method, &concrete(route.path, "cus_doesnotexist"), OTHER));
        let shown = |r: &tailor_guest::HttpResponse| String::from_utf8_lossy(&r.body).replace(&id, "ID");
        assert_eq!(shown(&existing), shown(&missing).replace("cus_doesnotexist", "ID"), "{}", route.path);
    }
    // The customization of acme is as it was: revision 1, one build requested once.
    let after = send(&db, request("GET", &path(&created["id"]), OWNER));
    assert_eq!(body(&after)["revision"], 1);
    let builds = body(&send(&db, request("GET", &format!("{}/builds", path(&created["id"])), OWNER)));
    assert_eq!(builds["builds"].as_array().unwrap().len(), 1);
    assert_eq!(builds["builds"][0]["requests"], 1);
    // And acme's own 404 for a missing customization reads the same as globex's for acme's.
    let own = send(&db, request("GET", &format!("{CUSTOMIZATIONS}/cus_doesnotexist"), OWNER));
    let foreign = send(&db, request("GET", &format!("{CUSTOMIZATIONS}/cus_doesnotexist"), OTHER));
    assert_eq!(own.body, foreign.body);
}

#[test]
fn a_member_may_do_everything_but_delete() {
    let db = store();
    let created = create(&db, &spec("a"));
    let this = path(&created["id"]);
    let steps = [
        (with_json("POST", CUSTOMIZATIONS, MEMBER, &spec("b")), 201),
        (request("GET", &this, MEMBER), 200),
        (with_json("PUT", &this, MEMBER, &spec("a2")), 200),
        (with_json("PATCH", &this, MEMBER, &json!({"labels": {"team": "x"}})), 200),
        (with_json("POST", &format!("{this}/copy"), MEMBER, &json!({"tag_suffix": "c"})), 201),
        (request("POST", &format!("{this}/builds"), MEMBER), 202),
        (request("GET", &format!("{this}/builds"), MEMBER), 200),
        (request("GET", "/v1/orgs/acme/repositories", MEMBER), 200),
    ];
    for (req, status) in steps {
        let described = format!("{} {}", req.method, req.path);
        assert_eq!(send(&db, req).status, status, "{described}");
    }
    let denied = send(&db, request("DELETE", &this, MEMBER));
    assert_eq!(error(&denied), (403, "forbidden".into()));
    assert_eq!(send(&db, request("GET", &this, MEMBER)).status, 200, "still there");
    assert_eq!(send(&db, request("DELETE", &this, OWNER)).status, 204);
}
