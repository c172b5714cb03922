//! The JSON shapes of the API (see openapi.json): customizations, builds, catalog tags.
//! Times are RFC 3339 in UTC with milliseconds; absent values are `null`.

use serde_json::{Value as Json, json};
use tailor_spec::Customization as Spec;
use tailor_store::{Build, CatalogTag, ChartCustomization, Customization, Mirror, rfc3339_ms};

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
    build_at(&customization_path(org, &b.customization_id), b)
}

/// A build of whatever lives at `owner` (a customization's or chart customization's path).
pub fn build_at(owner: &str, b: &Build) -> Json {
    let this = format!("{owner}/builds/{}", b.number);
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
        "extensions": b.extensions,
        "links": {"self": this, "log": format!("{this}/log")},
    })
}

/// `/v1/orgs/{org}/extensions/{id}`
pub fn extension_path(org: &str, id: &str) -> String {
    format!("/v1/orgs/{org}/extensions/{id}")
}

/// A registered extension: its spec's fields and what the worker found loading it.
pub fn extension(x: &tailor_store::Extension) -> Json {
    json!({
        "id": x.id,
        "org": x.org,
        "name": x.name,
        "reference": x.spec.reference,
        "settings": x.spec.settings,
        "mode": x.spec.mode,
        "applies_to": x.spec.applies_to,
        "revision": x.revision,
        "status": x.status,
        "reason": x.reason,
        "digest": x.digest,
        "checked_at": x.checked_at.map(rfc3339_ms),
        "created_at": rfc3339_ms(x.created_at),
        "updated_at": rfc3339_ms(x.updated_at),
        "links": {"self": extension_path(&x.org, &x.id)},
    })
}

/// One tag of the catalog (its repository is the enclosing object's).
pub fn tag(t: &CatalogTag) -> Json {
    json!({
        "tag": t.tag,
        "digest": t.digest,
        "platforms": t.platforms,
        "kind": t.kind,
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

/// `/v1/orgs/{org}/mirrors/{id}`
pub fn mirror_path(org: &str, id: &str) -> String {
    format!("/v1/orgs/{org}/mirrors/{id}")
}

/// The few facts about a sync that lists show.
fn sync_brief(m: &Mirror, b: &Build) -> Json {
    json!({
        "number": b.number,
        "status": b.status.as_str(),
        "finished_at": b.finished_at.map(rfc3339_ms),
        "error": b.error,
        "links": {"self": format!("{}/syncs/{}", mirror_path(&m.org, &m.id), b.number)},
    })
}

/// A mirror: its fields, when it was last checked, its last sync that ended, and with `queued`
/// the sync its creation queued.
pub fn mirror(m: &Mirror, last: Option<&Build>, queued: Option<&Build>) -> Json {
    let this = mirror_path(&m.org, &m.id);
    let field = |name: &str| m.spec.get(name).cloned().unwrap_or(Json::Null);
    let mut view = json!({
        "id": m.id,
        "org": m.org,
        "source": m.source(),
        "destination": m.destination,
        "tags": field("tags"),
        "verify_keys": field("verify_keys"),
        "poll_interval_s": field("poll_interval_s"),
        "revision": m.revision,
        "created_at": rfc3339_ms(m.created_at),
        "updated_at": rfc3339_ms(m.updated_at),
        "last_checked": m.last_checked.map(rfc3339_ms),
        "last_sync": last.map(|b| sync_brief(m, b)),
        "links": {"self": this, "syncs": format!("{this}/syncs")},
    });
    if let (Some(sync), Json::Object(members)) = (queued, &mut view) {
        members.insert("sync".into(), self::sync(m, sync));
    }
    view
}

/// A sync of a mirror: shaped like a build, with each tag's outcome at the top.
pub fn sync(m: &Mirror, b: &Build) -> Json {
    let this = format!("{}/syncs/{}", mirror_path(&m.org, &m.id), b.number);
    let tags = b.outputs.as_ref().and_then(|o| o.get("tags")).cloned().unwrap_or_else(|| json!([]));
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
        "tags": tags,
        "outputs": b.outputs,
        "error": b.error,
        "links": {"self": this, "log": format!("{this}/log")},
    })
}

/// `/v1/orgs/{org}/chart-customizations/{id}`
pub fn chart_path(org: &str, id: &str) -> String {
    format!("/v1/orgs/{org}/chart-customizations/{id}")
}

/// A chart customization, and with `build` the build its creation or edit queued.
pub fn chart(c: &ChartCustomization, build: Option<&Build>) -> Json {
    let this = chart_path(&c.org, &c.id);
    let destination = c.spec.get("destination").and_then(Json::as_str).unwrap_or(&c.source_repository).to_owned();
    let mut view = json!({
        "id": c.id,
        "org": c.org,
        "name": c.name,
        "revision": c.revision,
        "source_repository": c.source_repository,
        "destination": destination,
        "spec": c.spec,
        "created_at": rfc3339_ms(c.created_at),
        "updated_at": rfc3339_ms(c.updated_at),
        "links": {"self": this, "builds": format!("{this}/builds")},
    });
    if let (Some(b), Json::Object(members)) = (build, &mut view) {
        members.insert("build".into(), build_at(&this, b));
    }
    view
}
