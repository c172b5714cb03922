//! Customizations: list, create, read, replace (PUT), patch (JSON merge patch), delete and
//! copy. Every create or edit queues a build in the same transaction; the response carries it.

use serde_json::json;
use tailor_guest::{Detail, HttpRequest, HttpResponse, random_hex};
use tailor_spec::{Customization as Spec, Problem, Reference};
use tailor_store::{
    Build, Customization, Db, StoreError, create_customization, delete_customization, get_customization,
    get_customization_for_token, list_customizations, replace_customization,
};

use crate::errors::{self, Reply, etag};
use crate::router::{Params, Resource};
use crate::{Ctx, auth, body, views};

/// How often a PATCH without If-Match is re-applied when a concurrent edit got in between.
const PATCH_ATTEMPTS: u32 = 3;

/// `GET /v1/orgs/{org}/customizations[?source_repository=…]`
pub async fn list<D: Db>(ctx: &Ctx<'_, D>) -> Reply {
    let filter = ctx.req.query_param("source_repository").filter(|s| !s.is_empty());
    let found = list_customizations(ctx.db, ctx.org(), filter.as_deref()).await.map_err(errors::store)?;
    let list: Vec<_> = found.iter().map(|c| views::customization(c, None)).collect();
    Ok(HttpResponse::json(200, &json!({"customizations": list})))
}

/// `POST /v1/orgs/{org}/customizations`: 201 with the customization and its first build.
pub async fn create<D: Db>(ctx: &Ctx<'_, D>) -> Reply {
    let spec = body::spec(ctx.req)?;
    validate(&spec, ctx.org())?;
    insert(ctx, &spec).await
}

/// `GET …/customizations/{id}`, the hottest read (UIs and clients poll it), answered before the
/// usual authentication (lib.rs): the token and the customization in one statement, which reads
/// a customization only for a token of its org.
pub async fn get<D: Db>(db: &D, req: &HttpRequest, params: &Params) -> Reply {
    let (org, id) = (params.get("org"), params.get("id"));
    let (caller, found) = get_customization_for_token(db, auth::secret(req)?, org, id)
        .await
        .map_err(errors::store)?
        .ok_or_else(auth::unknown_token)?;
    auth::check_org(&caller, params, Resource::Customization)?;
    let c = found.ok_or_else(|| errors::customization_not_found(org, id))?;
    Ok(HttpResponse::json(200, &views::customization(&c, None)).with_header("etag", etag(c.revision)))
}

/// `PUT …/customizations/{id}`: the whole spec anew.
pub async fn replace<D: Db>(ctx: &Ctx<'_, D>) -> Reply {
    let if_match = if_match(ctx.req)?;
    let spec = body::spec(ctx.req)?;
    validate(&spec, ctx.org())?;
    match replace_customization(ctx.db, ctx.org(), ctx.id(), &spec, if_match, ctx.now).await.map_err(errors::store)? {
        Some((c, build)) => Ok(saved(200, &c, &build)),
        None => Err(not_found(ctx)),
    }
}

/// `PATCH …/customizations/{id}`: a JSON merge patch of the stored spec.
pub async fn patch<D: Db>(ctx: &Ctx<'_, D>) -> Reply {
    let if_match = if_match(ctx.req)?;
    let Some(patch) = body::merge_patch(ctx.req)? else {
        return Err(errors::malformed_body(
            "the body is empty: send a JSON merge patch of the fields to change, e.g. {\"tag_suffix\": \"fips\"}",
            vec![],
        ));
    };
    let mut attempt = 1;
    loop {
        let current = load(ctx).await?;
        if let Some(given) = if_match
            && given != current.revision
        {
            return Err(errors::revision_conflict(given, current.revision));
        }
        let spec = patched(&current, &patch)?;
        validate(&spec, ctx.org())?;
        // Replace exactly the revision that was patched; without If-Match, an edit that got in
        // between means patching that one instead.
        match replace_customization(ctx.db, ctx.org(), ctx.id(), &spec, Some(current.revision), ctx.now).await {
            Ok(Some((c, build))) => return Ok(saved(200, &c, &build)),
            Ok(None) => return Err(not_found(ctx)),
            Err(StoreError::Conflict { .. }) if if_match.is_none() && attempt < PATCH_ATTEMPTS => attempt += 1,
            Err(e) => return Err(errors::store(e)),
        }
    }
}

/// `DELETE …/customizations/{id}` (owners only): 204.
pub async fn delete<D: Db>(ctx: &Ctx<'_, D>) -> Reply {
    auth::require_owner(&ctx.caller, "delete customizations")?;
    let if_match = if_match(ctx.req)?;
    if delete_customization(ctx.db, ctx.org(), ctx.id(), if_match).await.map_err(errors::store)? {
        Ok(HttpResponse::empty(204))
    } else {
        Err(not_found(ctx))
    }
}

/// `POST …/customizations/{id}/copy`: a new customization from this one's spec, with an
/// optional JSON merge patch applied (e.g. another name and tag suffix).
pub async fn copy<D: Db>(ctx: &Ctx<'_, D>) -> Reply {
    let original = load(ctx).await?;
    let spec = match body::merge_patch(ctx.req)? {
        Some(patch) => patched(&original, &patch)?,
        None => body::spec_from_json(&original.spec)?,
    };
    validate(&spec, ctx.org())?;
    insert(ctx, &spec).await
}

/// The customization of the path; 404 `not_found` when there is none.
pub async fn load<D: Db>(ctx: &Ctx<'_, D>) -> Result<Customization, HttpResponse> {
    get_customization(ctx.db, ctx.org(), ctx.id()).await.map_err(errors::store)?.ok_or_else(|| not_found(ctx))
}

fn not_found<D>(ctx: &Ctx<'_, D>) -> HttpResponse {
    errors::customization_not_found(ctx.org(), ctx.id())
}

/// Stores a new customization under a fresh id: 201 with `location` and `etag`.
async fn insert<D: Db>(ctx: &Ctx<'_, D>, spec: &Spec) -> Reply {
    let id = format!("cus_{}", random_hex(10));
    let (c, build) = create_customization(ctx.db, ctx.org(), &id, spec, ctx.now).await.map_err(errors::store)?;
    Ok(saved(201, &c, &build).with_header("location", views::customization_path(&c.org, &c.id)))
}

/// The customization with the build its change queued, and its entity tag.
fn saved(status: u16, c: &Customization, build: &Build) -> HttpResponse {
    HttpResponse::json(status, &views::customization(c, Some(build))).with_header("etag", etag(c.revision))
}

/// The stored spec with `patch` merged in, parsed (not validated).
fn patched(current: &Customization, patch: &serde_json::Value) -> Result<Spec, HttpResponse> {
    body::patched(current.spec.clone(), patch, Spec::from_json)
}

/// 422 `invalid_spec` with every problem: the spec's own, and a source or destination outside
/// the org's namespace (the spec already keeps artifacts and destination in the source's
/// namespace; a field it already faults is not faulted twice).
fn validate(spec: &Spec, org: &str) -> Result<(), HttpResponse> {
    let mut problems = spec.validate().err().unwrap_or_default();
    for (field, value) in [("source", Some(&spec.source)), ("destination", spec.destination.as_ref())] {
        if let Some(value) = value
            && let Ok(reference) = Reference::parse(value)
            && reference.namespace() != org
            && !problems.iter().any(|p| p.field == field)
        {
            problems.push(Problem::new(
                field,
                format!(
                    "`{value}` is in namespace `{}`, not in org `{org}`'s: use a repository under `{org}/`",
                    reference.namespace()
                ),
            ));
        }
    }
    if problems.is_empty() { Ok(()) } else { Err(errors::invalid_spec(problems)) }
}

/// The revision of an `If-Match` header: `"3"`, `3` or `W/"3"`; `*` (any revision) and no
/// header are `None`. Anything else is 400 `bad_header`.
pub(crate) fn if_match(req: &HttpRequest) -> Result<Option<i64>, HttpResponse> {
    let Some(value) = req.header("if-match").map(str::trim) else { return Ok(None) };
    if value == "*" {
        return Ok(None);
    }
    let bare = value.strip_prefix("W/").unwrap_or(value);
    let bare = bare.strip_prefix('"').and_then(|v| v.strip_suffix('"')).unwrap_or(bare);
    // Digits, at most 18 after leading zeros (openapi.json's pattern says the same).
    let significant = bare.trim_start_matches('0');
    match significant.parse::<i64>() {
        Ok(revision) if revision > 0 && significant.len() <= 18 && bare.bytes().all(|b| b.is_ascii_digit()) => {
            Ok(Some(revision))
        }
        _ => Err(HttpResponse::error(
            400,
            "bad_header",
            format!(
                "If-Match `{value}` is not a revision: send the ETag of the customization (e.g. If-Match: \"3\"), \
                 or * for any revision"
            ),
            vec![Detail::new("If-Match", "expected a revision such as \"3\", or *")],
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_match_forms() {
        let with = |value: &str| if_match(&HttpRequest::new("PUT", "/").with_header("If-Match", value));
        assert_eq!(with("\"3\"").unwrap(), Some(3));
        assert_eq!(with("3").unwrap(), Some(3));
        assert_eq!(with(" W/\"12\" ").unwrap(), Some(12));
        assert_eq!(with("*").unwrap(), None);
        assert_eq!(if_match(&HttpRequest::new("PUT", "/")).unwrap(), None);
        assert_eq!(with("\"007\"").unwrap(), Some(7));
        for bad in ["\"3", "abc", "\"\"", "", "-1", "0", "+3", "\"1\", \"2\"", "1000000000000000000", "W/*"] {
            let err = with(bad).unwrap_err();
            assert_eq!((err.status, err.body.is_empty()), (400, false), "{bad}");
        }
    }
}
