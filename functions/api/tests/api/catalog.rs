//! The catalog of the org's repositories and tags.

use serde_json::json;
use tailor_store::{block_on, record_artifact, record_platforms, record_push};

use crate::*;

#[test]
fn repositories_and_tags_of_the_org_only() {
    let db = store();
    let empty = send(&db, request("GET", "/v1/orgs/acme/repositories", MEMBER));
    assert_eq!((empty.status, body(&empty)), (200, json!({"repositories": []})));

    let platforms = ["linux/amd64".to_owned(), "linux/arm64".to_owned()];
    block_on(record_platforms(&db, "acme/debian", "13", "sha256:d13", &platforms, NOW)).unwrap();
    block_on(record_platforms(&db, "acme/debian", "12", "sha256:d12", &platforms[..1], NOW)).unwrap();
    block_on(record_platforms(&db, "acme/team/app", "1.0", "sha256:a1", &platforms, NOW)).unwrap();
    block_on(record_push(&db, "acme/pushed", "latest", None, NOW)).unwrap();
    block_on(record_artifact(&db, "acme/pushed", "chart-1", "sha256:c1", "chart", NOW)).unwrap();
    // Read again, unchanged: when the tag was last seen to move stays.
    block_on(record_platforms(&db, "acme/debian", "12", "sha256:d12", &platforms[..1], NOW + 5000)).unwrap();
    block_on(record_platforms(&db, "globex/debian", "12", "sha256:g", &platforms, NOW)).unwrap();
    block_on(record_platforms(&db, "acmeco/debian", "12", "sha256:c", &platforms, NOW)).unwrap();

    let listed = body(&send(&db, request("GET", "/v1/orgs/acme/repositories", MEMBER)));
    let repositories: Vec<_> =
        listed["repositories"].as_array().unwrap().iter().map(|r| r["repository"].as_str().unwrap()).collect();
    assert_eq!(repositories, ["acme/debian", "acme/pushed", "acme/team/app"]);
    assert_eq!(
        listed["repositories"][0]["tags"],
        json!([
            {"tag": "12", "digest": "sha256:d12", "platforms": ["linux/amd64"], "kind": "image", "updated_at": NOW_TEXT},
            {"tag": "13", "digest": "sha256:d13", "platforms": ["linux/amd64", "linux/arm64"], "kind": "image",
             "updated_at": NOW_TEXT},
        ])
    );
    assert_eq!(
        listed["repositories"][1]["tags"],
        json!([
            {"tag": "chart-1", "digest": "sha256:c1", "platforms": [], "kind": "chart", "updated_at": NOW_TEXT},
            {"tag": "latest", "digest": null, "platforms": [], "kind": null, "updated_at": NOW_TEXT},
        ])
    );

    let nested = send(&db, request("GET", "/v1/orgs/acme/repositories/team/app/tags", MEMBER));
    assert_eq!(nested.status, 200);
    assert_eq!(
        body(&nested),
        json!({"repository": "acme/team/app", "tags": [
            {"tag": "1.0", "digest": "sha256:a1", "platforms": ["linux/amd64", "linux/arm64"], "kind": "image",
             "updated_at": NOW_TEXT}
        ]})
    );
    let encoded = body(&send(&db, request("GET", "/v1/orgs/acme/repositories/team%2Fapp/tags", MEMBER)));
    assert_eq!(encoded["repository"], "acme/team/app");
    let debian = body(&send(&db, request("GET", "/v1/orgs/acme/repositories/debian/tags", OWNER)));
    assert_eq!(debian["tags"].as_array().unwrap().len(), 2);

    for unknown in ["team", "nothing", "acme/debian"] {
        let response = send(&db, request("GET", &format!("/v1/orgs/acme/repositories/{unknown}/tags"), OWNER));
        assert_eq!(error(&response), (404, "not_found".into()), "{unknown}");
    }
    let foreign = send(&db, request("GET", "/v1/orgs/globex/repositories", OWNER));
    assert_eq!(error(&foreign), (404, "not_found".into()));
    let globex = body(&send(&db, request("GET", "/v1/orgs/globex/repositories", OTHER)));
    assert_eq!(globex["repositories"].as_array().unwrap().len(), 1);
}
