//! Chart customizations: one per chart repository, validated with field paths, edited under
//! If-Match or by merge patch, built through the queue, deleted by owners, invisible to others.

use serde_json::{Value as Json, json};
use tailor_store::{BuildStatus, Outcome, block_on, claim, finish};

use crate::*;

const CHARTS: &str = "/v1/orgs/acme/chart-customizations";

const SPEC: &str = "name: web
source: acme/dhi-web-chart
versions: ['1.*']
tag_suffix: custom
reference_mapping:
  - {from: dhi/nginx, to: acme/dhi-nginx}
  - {from: docker.io/library/busybox, to: 'acme/dhi-busybox:1.36_custom'}
";

fn create_yaml(db: &SqliteDb, token: &str, yaml: &str) -> tailor_guest::HttpResponse {
    send(db, request("POST", CHARTS, token).with_header("Content-Type", "application/yaml").with_body(yaml))
}

#[test]
fn created_once_per_chart_repository_with_a_first_build() {
    let db = store();
    let r = create_yaml(&db, MEMBER, SPEC);
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    let c = body(&r);
    assert!(c["id"].as_str().unwrap().starts_with("chc_"));
    assert_eq!((c["destination"].clone(), c["revision"].clone()), (json!("acme/dhi-web-chart"), json!(1)));
    assert_eq!((c["build"]["number"].clone(), c["build"]["status"].clone()), (json!(1), json!("queued")));
    assert_eq!(r.header("etag"), Some("\"1\""));
    let again = create_yaml(&db, OWNER, &SPEC.replace("name: web", "name: other"));
    assert_eq!(error(&again), (409, "conflict".into()));
    assert!(String::from_utf8_lossy(&again.body).contains(c["id"].as_str().unwrap()));
    let listed = body(&send(&db, request("GET", CHARTS, MEMBER)));
    assert_eq!(listed["chart_customizations"].as_array().unwrap().len(), 1);
}

#[test]
fn bad_specs_name_every_field() {
    let db = store();
    let bad = json!({"name": "web", "source": "globex/chart", "tag_suffix": "a_b",
        "reference_mapping": [{"from": "nginx:1.25", "to": "globex/nginx"}]});
    let r = send(&db, with_json("POST", CHARTS, OWNER, &bad));
    assert_eq!(error(&r), (422, "invalid_spec".into()));
    assert_eq!(fields(&r), ["source", "tag_suffix", "reference_mapping[0].from", "reference_mapping[0].to"]);
    let r = send(
        &db,
        with_json("POST", CHARTS, OWNER, &json!({"name": "web", "source": "acme/c", "tag_suffix": "x", "mapping": []})),
    );
    assert_eq!((error(&r), fields(&r)), ((400, "malformed_body".into()), vec!["mapping".to_owned()]));
}

#[test]
fn edited_built_and_deleted() {
    let db = store();
    let c = body(&create_yaml(&db, OWNER, SPEC));
    let this = format!("{CHARTS}/{}", c["id"].as_str().unwrap());
    // PUT under If-Match, PATCH without.
    let mut spec: Json = c["spec"].clone();
    spec["versions"] = json!(["1.*", "2.*"]);
    let r = send(&db, with_json("PUT", &this, MEMBER, &spec).with_header("If-Match", "\"1\""));
    assert_eq!((r.status, body(&r)["revision"].clone()), (200, json!(2)), "{}", String::from_utf8_lossy(&r.body));
    let stale = send(&db, with_json("PUT", &this, MEMBER, &spec).with_header("If-Match", "\"1\""));
    assert_eq!(error(&stale).0, 412);
    let r = send(&db, with_json("PATCH", &this, MEMBER, &json!({"strict": true})));
    assert_eq!(
        (r.status, body(&r)["spec"]["strict"].clone(), body(&r)["build"]["number"].clone()),
        (200, json!(true), json!(1))
    );
    // A worker builds it; the build and its log are served like image builds.
    let claimed = block_on(claim(&db, "w", NOW, 30_000, 3)).unwrap().unwrap();
    let outputs = json!({"versions": [{"version": "1.0.0", "status": "built", "tag": "1.0.0_custom"}]});
    let outcome = Outcome { outputs: Some(outputs), ..Outcome::default() };
    block_on(finish(&db, &claimed.customization_id, 1, "w", BuildStatus::Succeeded, &outcome, "built 1.0.0\n", NOW))
        .unwrap();
    let b = body(&send(&db, request("GET", &format!("{this}/builds/1"), MEMBER)));
    assert_eq!(
        (b["status"].clone(), b["outputs"]["versions"][0]["tag"].clone()),
        (json!("succeeded"), json!("1.0.0_custom"))
    );
    assert_eq!(b["links"]["log"], format!("{this}/builds/1/log"));
    let log = send(&db, request("GET", &format!("{this}/builds/1/log"), MEMBER));
    assert_eq!(String::from_utf8_lossy(&log.body), "built 1.0.0\n");
    assert_eq!(send(&db, request("POST", &format!("{this}/builds"), MEMBER)).status, 202);
    assert_eq!(
        body(&send(&db, request("GET", &format!("{this}/builds"), MEMBER)))["builds"].as_array().unwrap().len(),
        2
    );
    let missing = send(&db, request("GET", &format!("{this}/builds/9"), MEMBER));
    assert!(String::from_utf8_lossy(&missing.body).contains("chart customization"));
    // Other orgs see nothing; members cannot delete; owners can.
    assert_eq!(error(&send(&db, request("GET", &this, OTHER))), (404, "not_found".into()));
    assert!(String::from_utf8_lossy(&send(&db, request("GET", &this, OTHER)).body).contains("chart customization"));
    assert_eq!(error(&send(&db, request("DELETE", &this, MEMBER))).0, 403);
    assert_eq!(send(&db, request("DELETE", &this, OWNER)).status, 204);
    assert_eq!(error(&send(&db, request("GET", &this, OWNER))).0, 404);
}
