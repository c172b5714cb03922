//! `tailor up`: the real wasmtime host serving the real Spin components over HTTP, the worker,
//! and the registry's notifications (see `harness::service`).

mod api;
mod crash;
mod deleted_blob;
mod limits;
mod listings;
mod rebuild;
mod security;
mod webhook;

use std::time::Duration;

use serde_json::Value;

use crate::harness::Service;

/// The builds of customization `id`, newest first.
pub fn builds(host: &Service, token: &str, id: &str) -> Vec<Value> {
    let r = host.get(&format!("/v1/orgs/acme/customizations/{id}/builds"), token);
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()["builds"].as_array().cloned().unwrap_or_default()
}

/// Waits until no build of `id` is queued or running; the builds, newest first.
pub fn wait_idle(host: &Service, token: &str, id: &str) -> Vec<Value> {
    host.wait_for("the builds to finish", Duration::from_secs(120), || {
        let b = builds(host, token, id);
        (!b.is_empty() && b.iter().all(|b| b["status"] != "queued" && b["status"] != "running")).then_some(b)
    })
}
