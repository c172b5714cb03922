//! An edit that gets in between a PATCH's read and its write.

use std::cell::Cell;

use serde_json::json;
use tailor_store::{Db, Result, Rows, SqliteDb, Value, block_on};

use crate::*;

/// A store that, when armed, makes another edit of every customization (label
/// `concurrent: yes`, revision + 1) just before the next transaction begins.
struct Interfering {
    db: SqliteDb,
    armed: Cell<u32>,
}

impl Db for Interfering {
    async fn exec(&self, sql: &str, params: &[Value]) -> Result<Rows> {
        if sql.starts_with("BEGIN") && self.armed.get() > 0 {
            self.armed.set(self.armed.get() - 1);
            self.db.exec_now(
                "UPDATE customizations SET revision = revision + 1, spec = json_set(spec, '$.labels.concurrent', 'yes')",
                &[],
            )?;
        }
        self.db.exec(sql, params).await
    }
}

fn patch(db: &Interfering, this: &str, if_match: Option<&str>) -> tailor_guest::HttpResponse {
    let mut req = with_json("PATCH", this, OWNER, &json!({"tag_suffix": "fips"}));
    if let Some(value) = if_match {
        req = req.with_header("If-Match", value);
    }
    block_on(tailor_api::handle(db, req, NOW))
}

#[test]
fn a_patch_without_if_match_is_applied_to_the_newer_revision() {
    let db = Interfering { db: store(), armed: Cell::new(0) };
    let created = create(&db.db, &spec("a"));
    let this = path(&created["id"]);
    db.armed.set(1);
    let response = patch(&db, &this, None);
    assert_eq!(response.status, 200, "{}", String::from_utf8_lossy(&response.body));
    let view = body(&response);
    assert_eq!(view["revision"], 3, "1, the other edit's 2, then this one");
    assert_eq!(view["spec"]["labels"], json!({"concurrent": "yes"}), "the other edit is kept");
    assert_eq!(view["spec"]["tag_suffix"], "fips");
}

#[test]
fn a_patch_with_if_match_is_refused_and_endless_interference_ends() {
    let db = Interfering { db: store(), armed: Cell::new(0) };
    let created = create(&db.db, &spec("a"));
    let this = path(&created["id"]);
    db.armed.set(1);
    let response = patch(&db, &this, Some("\"1\""));
    assert_eq!(error(&response), (412, "revision_conflict".into()));
    assert!(body(&response)["error"]["message"].as_str().unwrap().contains("current revision 2"));

    db.armed.set(u32::MAX);
    let response = patch(&db, &this, None);
    assert_eq!(error(&response), (412, "revision_conflict".into()), "gives up after a few attempts");
    db.armed.set(0);
    assert_eq!(body(&send(&db.db, request("GET", &this, OWNER)))["spec"]["tag_suffix"], "custom");
}
