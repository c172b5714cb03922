//! Org extensions (DESIGN.md §11): owners register, change and remove the policy components
//! their builds run; members read them. The API records what was asked; a worker resolves the
//! reference, checks the component and its settings, and records `ready` or `invalid`.

use serde_json::json;
use tailor_guest::{HttpResponse, random_hex};
use tailor_spec::ExtensionSpec;
use tailor_store::{
    Db, Extension, StoreError, create_extension, delete_extension, get_extension, list_extensions, replace_extension,
};

use crate::customizations::if_match;
use crate::errors::{self, Reply, etag};
use crate::{Ctx, auth, body, views};

const PATCH_ATTEMPTS: u32 = 3;

/// `GET /v1/orgs/{org}/extensions`
pub async fn list<D: Db>(ctx: &Ctx<'_, D>) -> Reply {
    let found = list_extensions(ctx.db, ctx.org()).await.map_err(errors::store)?;
    let list: Vec<_> = found.iter().map(views::extension).collect();
    Ok(HttpResponse::json(200, &json!({"extensions": list})))
}

/// `POST /v1/orgs/{org}/extensions` (owners): 201, `pending` until a worker loaded it.
pub async fn create<D: Db>(ctx: &Ctx<'_, D>) -> Reply {
    auth::require_owner(&ctx.caller, "register extensions")?;
    let spec = body::parsed(ctx.req, ExtensionSpec::from_json, ExtensionSpec::from_yaml)?;
    spec.validate(ctx.org()).map_err(errors::invalid_spec)?;
    let id = format!("ext_{}", random_hex(10));
    let x = create_extension(ctx.db, ctx.org(), &id, &spec, ctx.now).await.map_err(|e| stored(e, &spec.name))?;
    Ok(HttpResponse::json(201, &views::extension(&x))
        .with_header("location", views::extension_path(&x.org, &x.id))
        .with_header("etag", etag(x.revision)))
}

/// `GET /v1/orgs/{org}/extensions/{id}`
pub async fn get<D: Db>(ctx: &Ctx<'_, D>) -> Reply {
    let x = load(ctx).await?;
    Ok(HttpResponse::json(200, &views::extension(&x)).with_header("etag", etag(x.revision)))
}

/// `PATCH /v1/orgs/{org}/extensions/{id}` (owners): a JSON merge patch of its fields. It is
/// loaded again before its next use; nothing is rebuilt because of the change (its digest and
/// settings are part of every build's fingerprint, so the next build of each customization
/// reflects it).
pub async fn patch<D: Db>(ctx: &Ctx<'_, D>) -> Reply {
    auth::require_owner(&ctx.caller, "change extensions")?;
    let if_match = if_match(ctx.req)?;
    let Some(patch) = body::merge_patch(ctx.req)? else {
        return Err(errors::malformed_body(
            "the body is empty: send a JSON merge patch of the fields to change, e.g. {\"mode\": \"warn\"}",
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
        let document = serde_json::to_value(&current.spec).unwrap_or_default();
        let spec = body::patched(document, &patch, ExtensionSpec::from_json)?;
        spec.validate(ctx.org()).map_err(errors::invalid_spec)?;
        match replace_extension(ctx.db, ctx.org(), ctx.id(), &spec, Some(current.revision), ctx.now).await {
            Ok(Some(x)) => {
                return Ok(HttpResponse::json(200, &views::extension(&x)).with_header("etag", etag(x.revision)));
            }
            Ok(None) => return Err(not_found(ctx)),
            Err(StoreError::Conflict { .. }) if if_match.is_none() && attempt < PATCH_ATTEMPTS => attempt += 1,
            Err(e) => return Err(stored(e, &spec.name)),
        }
    }
}

/// A store error, with a name already taken said as such.
fn stored(e: StoreError, name: &str) -> HttpResponse {
    match e {
        StoreError::Exists { id, .. } => HttpResponse::error(
            409,
            "conflict",
            format!("the org has an extension named {name} already ({id}): change that one, or choose another name"),
            vec![tailor_guest::Detail::new("name", format!("taken by {id}"))],
        ),
        e => errors::store(e),
    }
}

/// `DELETE /v1/orgs/{org}/extensions/{id}` (owners): 204; builds stop running it.
pub async fn delete<D: Db>(ctx: &Ctx<'_, D>) -> Reply {
    auth::require_owner(&ctx.caller, "remove extensions")?;
    let if_match = if_match(ctx.req)?;
    if delete_extension(ctx.db, ctx.org(), ctx.id(), if_match).await.map_err(errors::store)? {
        Ok(HttpResponse::empty(204))
    } else {
        Err(not_found(ctx))
    }
}

async fn load<D: Db>(ctx: &Ctx<'_, D>) -> Result<Extension, HttpResponse> {
    get_extension(ctx.db, ctx.org(), ctx.id()).await.map_err(errors::store)?.ok_or_else(|| not_found(ctx))
}

fn not_found<D>(ctx: &Ctx<'_, D>) -> HttpResponse {
    errors::extension_not_found(ctx.org(), ctx.id())
}
