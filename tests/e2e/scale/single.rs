//! One process on PostgreSQL: `tailor up --database postgres://…` runs the functions through
//! `spin:postgres` and a worker on the same database; bad database settings are refused at
//! start, by name; readiness follows the schema.

use std::process::Command;
use std::time::Duration;

use serde_json::json;

use super::{builds, wait_all};
use crate::harness::postgres::{database, query};
use crate::harness::service::{Service, ServiceOptions, push_files};
use crate::harness::{Registry, run};

#[test]
fn tailor_up_on_postgres_builds_and_reports_readiness() {
    let work = tempfile::tempdir().unwrap();
    let registry = Registry::start();
    let database = database();
    let host = Service::start(
        &work.path().join("data"),
        &ServiceOptions {
            database: Some(database.clone()),
            registry: Some(registry.url()),
            ..ServiceOptions::default()
        },
    );
    assert!(!work.path().join("data/tailor.db").exists(), "no SQLite file when the store is PostgreSQL");
    let token = host.token("acme", "owner");
    push_files(&registry.url(), "acme/base:1", "linux/amd64", &[("/etc/passwd", b"root:x:0:0::/root:/bin/sh\n")]);
    let spec = json!({"name": "a", "source": "acme/base:1", "tag_suffix": "pg", "platforms": ["linux/amd64"]});
    let r = host.post_json("/v1/orgs/acme/customizations", &token, &spec);
    assert_eq!(r.status, 201, "{}", r.text());
    let id = r.json()["id"].as_str().unwrap().to_owned();
    let done = wait_all(&host, &token, std::slice::from_ref(&id), 1, Duration::from_secs(120));
    assert_eq!(done[0][0]["status"], "succeeded", "{:#?}", done[0]);
    // What the API wrote is in PostgreSQL.
    assert_eq!(query(&database, &format!("SELECT status FROM builds WHERE customization_id = '{id}'")), "succeeded");
    // A revision conflict is still a 412 (the merge-patch path through spin:postgres).
    let r = host.request(
        "PATCH",
        &format!("/v1/orgs/acme/customizations/{id}"),
        Some(&token),
        &[("content-type", "application/merge-patch+json"), ("if-match", "\"7\"")],
        br#"{"tag_suffix": "x"}"#,
    );
    assert_eq!(r.status, 412, "{}", r.text());
    assert_eq!(builds(&host, &token, &id).len(), 1);

    // Readiness follows the schema: a newer schema (another tailor migrated it) → 503.
    assert_eq!(host.request("GET", "/readyz", None, &[], b"").status, 200);
    query(&database, "INSERT INTO schema_version (version) VALUES (999)");
    let r = host.request("GET", "/readyz", None, &[], b"");
    assert_eq!(r.status, 503, "{}", r.text());
    assert!(r.text().contains("newer than this tailor"), "{}", r.text());
    // And a new process refuses to start on it, saying why.
    let o = crate::build::fixtures::tailor(&["migrate", "--database", &database], &[]);
    assert!(!o.status.success());
    assert!(crate::build::fixtures::stderr(&o).contains("upgrade tailor"), "{}", crate::build::fixtures::stderr(&o));
    query(&database, "DELETE FROM schema_version WHERE version = 999");
    let o = crate::build::fixtures::tailor(&["migrate", "--database", &database, "--output", "json"], &[]);
    assert!(o.status.success(), "{}", crate::build::fixtures::stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["schema_version"].as_i64(), Some(tailor_store::SCHEMA_VERSION), "{v}");
    assert!(!v["database"].as_str().unwrap().contains("secret"), "{v}");
}

#[test]
fn bad_database_settings_are_refused_at_start() {
    let work = tempfile::tempdir().unwrap();
    let tailor = crate::build::fixtures::tailor_bin();
    let free = crate::harness::free_port();
    for (url, expected) in [
        (format!("postgres://tailor:s3cret@127.0.0.1:{free}/tailor"), "connecting to postgres://tailor:***@127.0.0.1"),
        ("postgres://tailor@db.example/x?sslmode=require".to_owned(), "sslmode=require is not supported yet"),
        ("postgres://tailor@[bad/x".to_owned(), "database URL"),
    ] {
        let out = Command::new(tailor)
            .args(["serve", "--data"])
            .arg(work.path())
            .args(["--listen", "127.0.0.1:0", "--database", &url])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{url}: {err}");
        assert!(err.contains(expected), "{url}: expected {expected:?} in:\n{err}");
        assert!(!err.contains("s3cret"), "the password is never printed: {err}");
    }
    // `tailor token create` on PostgreSQL works without a data directory's SQLite.
    let database = database();
    let out = run(Command::new(tailor).args([
        "token",
        "create",
        "--org",
        "acme",
        "--output",
        "json",
        "--database",
        &database,
    ]));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["org"], "acme");
    assert_eq!(query(&database, "SELECT COUNT(*) FROM tokens"), "1");
}

#[test]
fn redelivered_events_change_nothing_through_spin_postgres() {
    // On PostgreSQL an event's statements under the write lock go out together with its dedup
    // insert; a redelivery drops them (the component cancels them in the host) and rolls back.
    let work = tempfile::tempdir().unwrap();
    let database = database();
    let host = Service::start(
        &work.path().join("data"),
        &ServiceOptions {
            command: "serve",
            database: Some(database.clone()),
            webhooks: vec![("reg".into(), "reg-secret".into())],
            ..ServiceOptions::default()
        },
    );
    let token = host.token("acme", "owner");
    let spec = json!({"name": "a", "source": "acme/base:1", "tag_suffix": "pg", "platforms": ["linux/amd64"]});
    let r = host.post_json("/v1/orgs/acme/customizations", &token, &spec);
    assert_eq!(r.status, 201, "{}", r.text());
    let deliver = |id: &str, digest: char| {
        let body = json!({"events": [{"id": id, "action": "push", "target": {
            "mediaType": "application/vnd.oci.image.index.v1+json", "repository": "acme/base", "tag": "1",
            "digest": format!("sha256:{}", digest.to_string().repeat(64))}}]});
        let headers = [
            ("authorization", "Bearer reg-secret"),
            ("content-type", "application/vnd.docker.distribution.events.v1+json"),
        ];
        let r = host.request("POST", "/v1/hooks/reg", None, &headers, body.to_string().as_bytes());
        assert_eq!(r.status, 202, "{id}: {}", r.text());
        r.json()
    };
    let first = deliver("e1", 'a');
    assert_eq!((first["duplicates"].as_u64(), first["builds"].as_array().map(Vec::len)), (Some(0), Some(1)), "{first}");
    for _ in 0..3 {
        // The same event again, once claiming another digest: a duplicate, nothing changes.
        for digest in ['a', 'b'] {
            let again = deliver("e1", digest);
            assert_eq!(again["duplicates"], 1, "{again}");
            assert_eq!(again["builds"], json!([]), "{again}");
        }
    }
    assert_eq!(
        query(&database, "SELECT digest FROM catalog WHERE repository = 'acme/base'"),
        format!("sha256:{}", "a".repeat(64))
    );
    // A new event of the digest the catalog has is no change; one of another digest is.
    let same = deliver("e2", 'a');
    assert_eq!((same["duplicates"].as_u64(), same["builds"].clone()), (Some(0), json!([])), "{same}");
    let next = deliver("e3", 'c');
    assert_eq!(next["builds"].as_array().map(Vec::len), Some(1), "{next}");
    assert_eq!(query(&database, "SELECT count(*) FROM events"), "3");
    let log = host.log();
    assert!(!log.contains("trap") && !log.contains("panicked"), "{log}");
}
