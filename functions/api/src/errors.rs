//! The error responses shared by the handlers. Every message says what to do next.

use tailor_guest::{Detail, HttpResponse};
use tailor_store::StoreError;

/// What a handler returns: the response, or an error response to send instead.
pub type Reply = Result<HttpResponse, HttpResponse>;

/// 404 for a customization that does not exist — or exists in another org, which looks the same.
pub fn customization_not_found(org: &str, id: &str) -> HttpResponse {
    HttpResponse::error(
        404,
        "not_found",
        format!(
            "customization `{id}` does not exist in org `{org}`: list the org's customizations with \
             GET /v1/orgs/{org}/customizations"
        ),
        vec![],
    )
}

/// 404 for an org route of an org other than the token's (whether that org exists or not).
pub fn org_not_found(org: &str) -> HttpResponse {
    HttpResponse::error(
        404,
        "not_found",
        format!("org `{org}` does not exist or is not visible to this token: use your token's org (GET /v1/token)"),
        vec![],
    )
}

/// 404 for a build number that is not a number or not a build of the customization (`base`:
/// `customizations` or `chart-customizations`).
pub fn build_not_found(base: &str, org: &str, id: &str, number: &str) -> HttpResponse {
    let what = if base == "customizations" { "customization" } else { "chart customization" };
    HttpResponse::error(
        404,
        "not_found",
        format!("{what} `{id}` has no build `{number}`: list its builds with GET /v1/orgs/{org}/{base}/{id}/builds"),
        vec![],
    )
}

/// 404 for a chart customization that does not exist (or is another org's).
pub fn chart_not_found(org: &str, id: &str) -> HttpResponse {
    HttpResponse::error(
        404,
        "not_found",
        format!(
            "chart customization `{id}` does not exist in org `{org}`: list the org's chart customizations with \
             GET /v1/orgs/{org}/chart-customizations"
        ),
        vec![],
    )
}

pub fn extension_not_found(org: &str, id: &str) -> HttpResponse {
    HttpResponse::error(
        404,
        "not_found",
        format!(
            "extension `{id}` does not exist in org `{org}`: list the org's extensions with GET /v1/orgs/{org}/extensions"
        ),
        vec![],
    )
}

/// 404 for the thing a route's `{id}` names.
pub fn not_found_of(resource: crate::router::Resource, org: &str, id: &str) -> HttpResponse {
    match resource {
        crate::router::Resource::Mirror => mirror_not_found(org, id),
        crate::router::Resource::Chart => chart_not_found(org, id),
        crate::router::Resource::Extension => extension_not_found(org, id),
        crate::router::Resource::Customization => customization_not_found(org, id),
    }
}

/// 400 `malformed_body` with one detail per problem.
pub fn malformed_body(message: impl Into<String>, details: Vec<Detail>) -> HttpResponse {
    HttpResponse::error(400, "malformed_body", message, details)
}

/// 412 for an If-Match revision that is not the current one.
pub fn revision_conflict(given: i64, current: i64) -> HttpResponse {
    HttpResponse::error(
        412,
        "revision_conflict",
        format!(
            "revision {given} is not the current revision {current}: GET the customization, apply your change \
             to revision {current} and send it with If-Match: \"{current}\""
        ),
        vec![Detail::new("If-Match", format!("the current revision is {current}"))],
    )
    .with_header("etag", etag(current))
}

/// 404 for a mirror that does not exist — or exists in another org, which looks the same.
pub fn mirror_not_found(org: &str, id: &str) -> HttpResponse {
    HttpResponse::error(
        404,
        "not_found",
        format!("mirror `{id}` does not exist in org `{org}`: list the org's mirrors with GET /v1/orgs/{org}/mirrors"),
        vec![],
    )
}

/// 404 for a sync number that is not a number or not a sync of the mirror.
pub fn sync_not_found(org: &str, id: &str, number: &str) -> HttpResponse {
    HttpResponse::error(
        404,
        "not_found",
        format!("mirror `{id}` has no sync `{number}`: list its syncs with GET /v1/orgs/{org}/mirrors/{id}/syncs"),
        vec![],
    )
}

/// 422 `invalid_spec` with one detail per problem.
pub fn invalid_spec(problems: Vec<tailor_spec::Problem>) -> HttpResponse {
    let count = match problems.len() {
        1 => "a problem".to_owned(),
        n => format!("{n} problems"),
    };
    let details = problems.into_iter().map(|p| Detail::new(p.field, p.problem)).collect();
    HttpResponse::error(
        422,
        "invalid_spec",
        format!("the spec has {count}: fix each field named in details and send it again"),
        details,
    )
}

/// 507 `storage_full`: the service's database has no space left. `what` says what became of
/// the request (nothing of a refused transaction is kept).
pub fn storage_full(what: &str) -> HttpResponse {
    HttpResponse::error(
        507,
        "storage_full",
        format!(
            "the service's storage is full: {what}. The operator must free space in the data directory \
             (or on the database's disk); then send the request again"
        ),
        vec![],
    )
}

/// A store failure: a revision conflict is 412, a duplicate 409, a full disk 507, anything else
/// 500 `internal`.
pub fn store(error: StoreError) -> HttpResponse {
    match error {
        StoreError::Conflict { given, current } => revision_conflict(given, current),
        StoreError::Exists { what, id } => HttpResponse::error(
            409,
            "conflict",
            format!("{what} exists already: {id}; edit that one, or choose another destination"),
            vec![Detail::new("destination", format!("taken by {id}"))],
        ),
        StoreError::Full(_) => storage_full("nothing was changed"),
        other => HttpResponse::error(
            500,
            "internal",
            format!("store: {other}; try again later, and tell the operator if it persists"),
            vec![],
        ),
    }
}

/// The entity tag of a revision: `"3"`.
pub fn etag(revision: i64) -> String {
    format!("\"{revision}\"")
}
