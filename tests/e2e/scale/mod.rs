//! Scale-out (DESIGN.md §12, issue I): `tailor serve` and `tailor worker` processes on one
//! PostgreSQL and the real registry; the components reach PostgreSQL through `spin:postgres`.

mod chart;
mod fleet;
mod single;

use std::time::Duration;

use serde_json::Value;

use crate::harness::Service;

/// The builds of customization `id`, newest first.
fn builds(host: &Service, token: &str, id: &str) -> Vec<Value> {
    let r = host.get(&format!("/v1/orgs/acme/customizations/{id}/builds"), token);
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()["builds"].as_array().cloned().unwrap_or_default()
}

/// Waits until every customization in `ids` has `count` builds, none queued or running.
fn wait_all(host: &Service, token: &str, ids: &[String], count: usize, timeout: Duration) -> Vec<Vec<Value>> {
    host.wait_for(&format!("{} customizations to have {count} finished builds", ids.len()), timeout, || {
        let all: Vec<Vec<Value>> = ids.iter().map(|id| builds(host, token, id)).collect();
        all.iter()
            .all(|b| b.len() >= count && b.iter().all(|b| b["status"] != "queued" && b["status"] != "running"))
            .then_some(all)
    })
}
