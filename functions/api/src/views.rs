//! The JSON shapes of the API (see openapi.json): customizations, builds, catalog tags.
//! Times are RFC 3339 in UTC with milliseconds; absent values are `null`.

use serde_json::{Value as Json, json};
use tailor_spec::Customization as Spec;
use tailor_store::{Build, CatalogTag, Customization, rfc3339_ms};

/// `/v1/orgs/{org}/customizations/{id}`
pub fn customization_path(org: &str, id: &str) -> String {
    format!("/v1/orgs/{org}/customizations/{id}")
}

/// A customization, and with `build` the build its creation or edit queued.
pub fn customization(c: &Customization, build: Option<&Build>) -> Json {
    let this = customization_path(&c.org, &c.id);
    // The result reference; `null` if the stored spec no longer parses (it always should).
    let result = serde_json::from_value::<Spec>(c.spec.clone())
        .ok()
        .map(|spec| format!("{}:{}", spec.destination_repository(), spec.result_tag()));
    let mut view = json!({
        "id": c.id,
        "org": c.org,
        "name": c.name,
        "revision": c.revision,
        "source_repository": c.source_repository,
        "result": result,
        "spec": c.spec,
        "created_at": rfc3339_ms(c.created_at),
        "updated_at": rfc3339_ms(c.updated_at),
        "links": {"self": this, "builds": format!("{this}/builds")},
    });
    if let (Some(build), Json::Object(members)) = (build, &mut view) {
        members.insert("build".into(), self::build(&c.org, build));
    }
    view
}

/// A build of a customization of `org`.
pub fn build(org: &str, b: &Build) -> Json {
    let this = format!("{}/builds/{}", customization_path(org, &b.customization_id), b.number);
    json!({
        "number": b.number,
        "status": b.status.as_str(),
        "reason": b.reason,
        "requests": b.requests,
        "revision": b.revision,
        "attempts": b.attempts,
        "created_at": rfc3339_ms(b.created_at),
        "started_at": b.started_at.map(rfc3339_ms),
        "finished_at": b.finished_at.map(rfc3339_ms),
        "fingerprint": b.fingerprint,
        "inputs": b.inputs,
        "outputs": b.outputs,
        "error": b.error,
        "links": {"self": this, "log": format!("{this}/log")},
    })
}

/// One tag of the catalog (its repository is the enclosing object's).
pub fn tag(t: &CatalogTag) -> Json {
    json!({
        "tag": t.tag,
        "digest": t.digest,
        "platforms": t.platforms,
        "updated_at": rfc3339_ms(t.updated_at),
    })
}

/// Catalog tags (sorted by repository, as `list_catalog` returns them) grouped by repository.
pub fn repositories(tags: &[CatalogTag]) -> Vec<Json> {
    let mut out: Vec<(String, Vec<Json>)> = Vec::new();
    for t in tags {
        match out.last_mut() {
            Some((repository, list)) if *repository == t.repository => list.push(tag(t)),
            _ => out.push((t.repository.clone(), vec![tag(t)])),
        }
    }
    out.into_iter().map(|(repository, tags)| json!({"repository": repository, "tags": tags})).collect()
}
