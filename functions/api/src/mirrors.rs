//! Mirrors (DESIGN.md §9): owners create, edit and delete them and ask for syncs; members read.
//! A mirror's source must be on an upstream the operator declared (the variable
//! `upstream_hosts`): the service never reaches an address a tenant chose.

use serde_json::json;
use tailor_guest::{HttpResponse, random_hex};
use tailor_spec::MirrorSpec;
use tailor_store::{
    Db, Mirror, StoreError, create_mirror, delete_mirror, get_mirror, last_sync, list_mirrors, replace_mirror,
};

use crate::customizations::if_match;
use crate::errors::{self, Reply, etag};
use crate::{Ctx, auth, body, views};

/// How often a PATCH without If-Match is re-applied when a concurrent edit got in between.
const PATCH_ATTEMPTS: u32 = 3;

/// `GET /v1/upstreams`: the registry hosts mirrors may copy from.
pub fn upstreams<D>(ctx: &Ctx<'_, D>) -> Reply {
    Ok(HttpResponse::json(200, &json!({"upstreams": ctx.settings.upstream_hosts})))
}

/// `GET /v1/orgs/{org}/mirrors`
pub async fn list<D: Db>(ctx: &Ctx<'_, D>) -> Reply {
    let found = list_mirrors(ctx.db, ctx.org()).await.map_err(errors::store)?;
    let mut list = Vec::new();
    for m in &found {
        let last = last_sync(ctx.db, &m.id).await.map_err(errors::store)?;
        list.push(views::mirror(m, last.as_ref(), None));
    }
    Ok(HttpResponse::json(200, &json!({"mirrors": list})))
}

/// `POST /v1/orgs/{org}/mirrors` (owners): 201 with the mirror and its first sync, queued.
pub async fn create<D: Db>(ctx: &Ctx<'_, D>) -> Reply {
    auth::require_owner(&ctx.caller, "create mirrors")?;
    let spec = body::parsed(ctx.req, MirrorSpec::from_json, MirrorSpec::from_yaml)?;
    validate(ctx, &spec)?;
    let id = format!("mir_{}", random_hex(10));
    let (m, sync) =
        create_mirror(ctx.db, ctx.org(), &id, &spec.normalized(ctx.org()), ctx.now).await.map_err(errors::store)?;
    Ok(HttpResponse::json(201, &views::mirror(&m, None, Some(&sync)))
        .with_header("location", views::mirror_path(&m.org, &m.id))
        .with_header("etag", etag(m.revision)))
}

/// `GET /v1/orgs/{org}/mirrors/{id}`
pub async fn get<D: Db>(ctx: &Ctx<'_, D>) -> Reply {
    let m = load(ctx).await?;
    let last = last_sync(ctx.db, &m.id).await.map_err(errors::store)?;
    Ok(HttpResponse::json(200, &views::mirror(&m, last.as_ref(), None)).with_header("etag", etag(m.revision)))
}

/// `PATCH /v1/orgs/{org}/mirrors/{id}` (owners): a JSON merge patch of the mirror's fields.
/// The next sync (poll, push or "sync now") uses it; nothing is synced because of the edit.
pub async fn patch<D: Db>(ctx: &Ctx<'_, D>) -> Reply {
    auth::require_owner(&ctx.caller, "edit mirrors")?;
    let if_match = if_match(ctx.req)?;
    let Some(patch) = body::merge_patch(ctx.req)? else {
        return Err(errors::malformed_body(
            "the body is empty: send a JSON merge patch of the fields to change, e.g. {\"tags\": [\"3.13*\"]}",
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
        let spec = body::patched(current.spec.clone(), &patch, MirrorSpec::from_json)?;
        validate(ctx, &spec)?;
        let spec = spec.normalized(ctx.org());
        match replace_mirror(ctx.db, ctx.org(), ctx.id(), &spec, Some(current.revision), ctx.now).await {
            Ok(Some(m)) => {
                let last = last_sync(ctx.db, &m.id).await.map_err(errors::store)?;
                return Ok(HttpResponse::json(200, &views::mirror(&m, last.as_ref(), None))
                    .with_header("etag", etag(m.revision)));
            }
            Ok(None) => return Err(not_found(ctx)),
            Err(StoreError::Conflict { .. }) if if_match.is_none() && attempt < PATCH_ATTEMPTS => attempt += 1,
            Err(e) => return Err(errors::store(e)),
        }
    }
}

/// `DELETE /v1/orgs/{org}/mirrors/{id}` (owners): 204. Syncing stops; nothing is deleted in
/// any registry.
pub async fn delete<D: Db>(ctx: &Ctx<'_, D>) -> Reply {
    auth::require_owner(&ctx.caller, "delete mirrors")?;
    let if_match = if_match(ctx.req)?;
    if delete_mirror(ctx.db, ctx.org(), ctx.id(), if_match).await.map_err(errors::store)? {
        Ok(HttpResponse::empty(204))
    } else {
        Err(not_found(ctx))
    }
}

/// The mirror of the path; 404 `not_found` when there is none.
pub async fn load<D: Db>(ctx: &Ctx<'_, D>) -> Result<Mirror, HttpResponse> {
    get_mirror(ctx.db, ctx.org(), ctx.id()).await.map_err(errors::store)?.ok_or_else(|| not_found(ctx))
}

fn not_found<D>(ctx: &Ctx<'_, D>) -> HttpResponse {
    errors::mirror_not_found(ctx.org(), ctx.id())
}

/// 422 `invalid_spec` with every problem (the source on a declared upstream, the destination
/// in the org).
fn validate<D>(ctx: &Ctx<'_, D>, spec: &MirrorSpec) -> Result<(), HttpResponse> {
    spec.validate(ctx.org(), &ctx.settings.upstream_hosts).map_err(errors::invalid_spec)
}
