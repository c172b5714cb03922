//! Chart customizations (DESIGN.md §10): one per chart repository; list, create (JSON or
//! YAML), read, replace under If-Match, merge-patch, delete. Every create or edit queues a
//! build in the same transaction; the response carries it. Builds are served by `builds`.

use serde_json::json;
use tailor_guest::{HttpResponse, random_hex};
use tailor_spec::ChartSpec;
use tailor_store::{
    ChartCustomization, Db, StoreError, create_chart, delete_chart, get_chart, list_charts, replace_chart,
};

use crate::customizations::if_match;
use crate::errors::{self, Reply, etag};
use crate::{Ctx, auth, body, views};

const PATCH_ATTEMPTS: u32 = 3;

/// `GET /v1/orgs/{org}/chart-customizations`
pub async fn list<D: Db>(ctx: &Ctx<'_, D>) -> Reply {
    let found = list_charts(ctx.db, ctx.org()).await.map_err(errors::store)?;
    let list: Vec<_> = found.iter().map(|c| views::chart(c, None)).collect();
    Ok(HttpResponse::json(200, &json!({"chart_customizations": list})))
}

/// `POST /v1/orgs/{org}/chart-customizations`: 201 with the customization and its first build;
/// 409 when the source repository has one already.
pub async fn create<D: Db>(ctx: &Ctx<'_, D>) -> Reply {
    let spec = body::parsed(ctx.req, ChartSpec::from_json, ChartSpec::from_yaml)?;
    spec.validate(ctx.org()).map_err(errors::invalid_spec)?;
    let id = format!("chc_{}", random_hex(10));
    let (c, build) = create_chart(ctx.db, ctx.org(), &id, &spec, ctx.now).await.map_err(conflict)?;
    Ok(saved(201, &c, &build).with_header("location", views::chart_path(&c.org, &c.id)))
}

/// `GET …/chart-customizations/{id}`
pub async fn get<D: Db>(ctx: &Ctx<'_, D>) -> Reply {
    let c = load(ctx).await?;
    Ok(HttpResponse::json(200, &views::chart(&c, None)).with_header("etag", etag(c.revision)))
}

/// `PUT …/chart-customizations/{id}`: the whole spec anew.
pub async fn replace<D: Db>(ctx: &Ctx<'_, D>) -> Reply {
    let if_match = if_match(ctx.req)?;
    let spec = body::parsed(ctx.req, ChartSpec::from_json, ChartSpec::from_yaml)?;
    spec.validate(ctx.org()).map_err(errors::invalid_spec)?;
    match replace_chart(ctx.db, ctx.org(), ctx.id(), &spec, if_match, ctx.now).await.map_err(conflict)? {
        Some((c, build)) => Ok(saved(200, &c, &build)),
        None => Err(not_found(ctx)),
    }
}

/// `PATCH …/chart-customizations/{id}`: a JSON merge patch of the stored spec.
pub async fn patch<D: Db>(ctx: &Ctx<'_, D>) -> Reply {
    let if_match = if_match(ctx.req)?;
    let Some(patch) = body::merge_patch(ctx.req)? else {
        return Err(errors::malformed_body(
            "the body is empty: send a JSON merge patch of the fields to change, e.g. {\"versions\": [\"2.*\"]}",
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
        let spec = body::patched(current.spec.clone(), &patch, ChartSpec::from_json)?;
        spec.validate(ctx.org()).map_err(errors::invalid_spec)?;
        match replace_chart(ctx.db, ctx.org(), ctx.id(), &spec, Some(current.revision), ctx.now).await {
            Ok(Some((c, build))) => return Ok(saved(200, &c, &build)),
            Ok(None) => return Err(not_found(ctx)),
            Err(StoreError::Conflict { .. }) if if_match.is_none() && attempt < PATCH_ATTEMPTS => attempt += 1,
            Err(e) => return Err(conflict(e)),
        }
    }
}

/// `DELETE …/chart-customizations/{id}` (owners only): 204; nothing more is built.
pub async fn delete<D: Db>(ctx: &Ctx<'_, D>) -> Reply {
    auth::require_owner(&ctx.caller, "delete chart customizations")?;
    let if_match = if_match(ctx.req)?;
    if delete_chart(ctx.db, ctx.org(), ctx.id(), if_match).await.map_err(errors::store)? {
        Ok(HttpResponse::empty(204))
    } else {
        Err(not_found(ctx))
    }
}

/// The chart customization of the path; 404 `not_found` when there is none.
pub async fn load<D: Db>(ctx: &Ctx<'_, D>) -> Result<ChartCustomization, HttpResponse> {
    get_chart(ctx.db, ctx.org(), ctx.id()).await.map_err(errors::store)?.ok_or_else(|| not_found(ctx))
}

fn not_found<D>(ctx: &Ctx<'_, D>) -> HttpResponse {
    errors::chart_not_found(ctx.org(), ctx.id())
}

fn saved(status: u16, c: &ChartCustomization, build: &tailor_store::Build) -> HttpResponse {
    HttpResponse::json(status, &views::chart(c, Some(build))).with_header("etag", etag(c.revision))
}

/// A second customization of one chart repository is 409 naming the first.
fn conflict(e: StoreError) -> HttpResponse {
    match e {
        StoreError::Exists { what, id } => HttpResponse::error(
            409,
            "conflict",
            format!("{what} exists already: {id}; edit that one (one chart customization per chart repository)"),
            vec![tailor_guest::Detail::new("source", format!("customized by {id}"))],
        ),
        other => errors::store(other),
    }
}
