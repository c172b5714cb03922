//! Syncs of a mirror, shaped like builds: list, "sync now" (owners; requests coalesce into the
//! queued sync), one sync with its per-tag outcomes, its log. The mirror is looked up in the
//! caller's org first: other orgs' syncs are never reachable.

use serde_json::json;
use tailor_guest::HttpResponse;
use tailor_store::{Db, get_build, get_log, list_builds, queue_sync};

use crate::builds::limit;
use crate::errors::{self, Reply};
use crate::mirrors::load;
use crate::{Ctx, auth, views};

/// `GET …/mirrors/{id}/syncs[?limit=N]`: newest first.
pub async fn list<D: Db>(ctx: &Ctx<'_, D>) -> Reply {
    let limit = limit(ctx.req.query_param("limit").as_deref())?;
    let m = load(ctx).await?;
    let syncs = list_builds(ctx.db, &m.id, limit).await.map_err(errors::store)?;
    let list: Vec<_> = syncs.iter().map(|s| views::sync(&m, s)).collect();
    Ok(HttpResponse::json(200, &json!({"syncs": list})))
}

/// `POST …/mirrors/{id}/syncs` (owners): 202 with the queued sync.
pub async fn trigger<D: Db>(ctx: &Ctx<'_, D>) -> Reply {
    auth::require_owner(&ctx.caller, "sync mirrors")?;
    let m = load(ctx).await?;
    let reason = format!("requested by {}", ctx.caller.name);
    match queue_sync(ctx.db, &m.id, &reason, ctx.now, 0).await.map_err(errors::store)? {
        Some(sync) => Ok(HttpResponse::json(202, &views::sync(&m, &sync))),
        None => Err(errors::mirror_not_found(ctx.org(), ctx.id())),
    }
}

/// `GET …/mirrors/{id}/syncs/{number}`
pub async fn get<D: Db>(ctx: &Ctx<'_, D>) -> Reply {
    let (m, number) = located(ctx).await?;
    match get_build(ctx.db, &m.id, number).await.map_err(errors::store)? {
        Some(sync) => Ok(HttpResponse::json(200, &views::sync(&m, &sync))),
        None => Err(not_found(ctx)),
    }
}

/// `GET …/mirrors/{id}/syncs/{number}/log`: plain text.
pub async fn log<D: Db>(ctx: &Ctx<'_, D>) -> Reply {
    let (m, number) = located(ctx).await?;
    match get_log(ctx.db, &m.id, number).await.map_err(errors::store)? {
        Some(log) => Ok(HttpResponse::text(200, log)),
        None => Err(not_found(ctx)),
    }
}

async fn located<D: Db>(ctx: &Ctx<'_, D>) -> Result<(tailor_store::Mirror, i64), HttpResponse> {
    let m = load(ctx).await?;
    let number = ctx.params.get("number");
    match number.parse::<i64>() {
        Ok(n) if n > 0 && number.bytes().all(|b| b.is_ascii_digit()) => Ok((m, n)),
        _ => Err(not_found(ctx)),
    }
}

fn not_found<D>(ctx: &Ctx<'_, D>) -> HttpResponse {
    errors::sync_not_found(ctx.org(), ctx.id(), ctx.params.get("number"))
}
