//! Builds: list (newest first, limit), trigger (coalescing), one build, its log.

use serde_json::json;
use tailor_store::{BuildStatus, Outcome, block_on, claim, finish};

use crate::*;

#[test]
fn triggers_coalesce_into_the_queued_build() {
    let db = store();
    let created = create(&db, &spec("a"));
    let builds = format!("{}/builds", path(&created["id"]));
    let first = send(&db, request("POST", &builds, MEMBER));
    assert_eq!(first.status, 202);
    let second = send(&db, request("POST", &builds, OWNER));
    assert_eq!(second.status, 202);
    let (first, second) = (body(&first), body(&second));
    assert_eq!((first["number"].as_i64(), second["number"].as_i64()), (Some(1), Some(1)));
    assert_eq!((first["requests"].as_i64(), second["requests"].as_i64()), (Some(2), Some(3)));
    assert_eq!(second["reason"], "created", "the first request names the build");
    assert_eq!(second["status"], "queued");

    // While build 1 runs, a request queues build 2, and further ones join it.
    let claimed = block_on(claim(&db, "worker", NOW + 10, 60_000, 3)).unwrap().unwrap();
    assert_eq!(claimed.build, 1);
    let third = body(&send(&db, request("POST", &builds, MEMBER)));
    assert_eq!((third["number"].as_i64(), third["reason"].as_str()), (Some(2), Some("requested by ci")));
    let fourth = body(&send(&db, request("POST", &builds, OWNER)));
    assert_eq!((fourth["number"].as_i64(), fourth["requests"].as_i64()), (Some(2), Some(2)));
}

#[test]
fn list_get_and_log() {
    let db = store();
    let created = create(&db, &spec("a"));
    let this = path(&created["id"]);
    let builds = format!("{this}/builds");
    block_on(claim(&db, "worker", NOW + 1000, 60_000, 3)).unwrap().unwrap();
    send(&db, request("POST", &builds, OWNER));
    let outcome = Outcome {
        fingerprint: Some("sha256:f1".into()),
        inputs: Some(json!({"source": "sha256:aa"})),
        outputs: Some(json!({"index": "sha256:bb"})),
        error: None,
        extensions: Some(json!([{"name": "no-setuid", "verdict": "pass"}])),
    };
    assert!(
        block_on(finish(
            &db,
            created["id"].as_str().unwrap(),
            1,
            "worker",
            BuildStatus::Succeeded,
            &outcome,
            "pulled\npushed\n",
            NOW + 2000
        ))
        .unwrap()
    );

    let list = send(&db, request("GET", &builds, MEMBER));
    assert_eq!(list.status, 200);
    let numbers: Vec<_> =
        body(&list)["builds"].as_array().unwrap().iter().map(|b| b["number"].as_i64().unwrap()).collect();
    assert_eq!(numbers, [2, 1], "newest first");
    let limited = body(&send(&db, request("GET", &format!("{builds}?limit=1"), MEMBER)));
    assert_eq!(limited["builds"].as_array().unwrap().len(), 1);
    assert_eq!(limited["builds"][0]["number"], 2);
    for bad in ["0", "501", "many", "-3"] {
        let response = send(&db, request("GET", &format!("{builds}?limit={bad}"), MEMBER));
        assert_eq!(
            (error(&response), fields(&response)),
            ((400, "bad_parameter".into()), vec!["limit".to_owned()]),
            "{bad}"
        );
    }
    assert_eq!(send(&db, request("GET", &format!("{builds}?limit=500"), MEMBER)).status, 200);

    let one = send(&db, request("GET", &format!("{builds}/1"), MEMBER));
    assert_eq!(one.status, 200);
    let one = body(&one);
    assert_eq!(one["status"], "succeeded");
    assert_eq!(one["attempts"], 1);
    assert_eq!(one["started_at"], "2026-11-26T15:04:06.123Z");
    assert_eq!(one["finished_at"], "2026-11-26T15:04:07.123Z");
    assert_eq!(one["fingerprint"], "sha256:f1");
    assert_eq!(one["inputs"], json!({"source": "sha256:aa"}));
    assert_eq!(one["outputs"], json!({"index": "sha256:bb"}));
    assert_eq!(one["error"], json!(null));
    assert_eq!(one["links"]["log"], format!("{builds}/1/log"));

    let log = send(&db, request("GET", &format!("{builds}/1/log"), MEMBER));
    assert_eq!(log.status, 200);
    assert_eq!(log.header("content-type"), Some("text/plain; charset=utf-8"));
    assert_eq!(log.body, b"pulled\npushed\n");
    let empty = send(&db, request("GET", &format!("{builds}/2/log"), MEMBER));
    assert_eq!((empty.status, empty.body.len()), (200, 0), "a queued build's log is empty");

    for number in ["3", "abc", "0", "-1", "1.0", "99999999999999999999"] {
        for suffix in ["", "/log"] {
            let response = send(&db, request("GET", &format!("{builds}/{number}{suffix}"), MEMBER));
            assert_eq!(error(&response), (404, "not_found".into()), "{number}{suffix}");
        }
    }
}

#[test]
fn builds_of_a_missing_customization_are_404() {
    let db = store();
    let builds = format!("{CUSTOMIZATIONS}/cus_missing/builds");
    for req in [
        request("GET", &builds, OWNER),
        request("POST", &builds, OWNER),
        request("GET", &format!("{builds}/1/log"), OWNER),
    ] {
        assert_eq!(error(&send(&db, req)), (404, "not_found".into()));
    }
}
