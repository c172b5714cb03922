//! Builds of a customization or a chart customization: list, trigger (requests coalesce into
//! the queued build), one build, its log. The owner is looked up in the caller's org first:
//! build numbers of other orgs' customizations are never reachable.

use serde_json::json;
use tailor_guest::{Detail, HttpResponse};
use tailor_store::{Db, enqueue, get_build, get_log, list_builds};

use crate::errors::{self, Reply};
use crate::router::Resource;
use crate::{Ctx, views};

/// The customization (or chart customization) whose builds the path names.
pub(crate) struct Owner {
    pub id: String,
    /// Its path, the builds' links start with it.
    pub path: String,
}

async fn load<D: Db>(ctx: &Ctx<'_, D>) -> Result<Owner, HttpResponse> {
    match ctx.endpoint.resource() {
        Resource::Chart => {
            let c = crate::charts::load(ctx).await?;
            Ok(Owner { path: views::chart_path(&c.org, &c.id), id: c.id })
        }
        _ => {
            let c = crate::customizations::load(ctx).await?;
            Ok(Owner { path: views::customization_path(&c.org, &c.id), id: c.id })
        }
    }
}

/// Builds listed when no `limit` is given.
pub const DEFAULT_LIMIT: i64 = 50;
/// The largest `limit` accepted.
pub const MAX_LIMIT: i64 = 500;

/// `GET …/{id}/builds[?limit=N]`: newest first.
pub async fn list<D: Db>(ctx: &Ctx<'_, D>) -> Reply {
    let limit = limit(ctx.req.query_param("limit").as_deref())?;
    let c = load(ctx).await?;
    let builds = list_builds(ctx.db, &c.id, limit).await.map_err(errors::store)?;
    let list: Vec<_> = builds.iter().map(|b| views::build_at(&c.path, b)).collect();
    Ok(HttpResponse::json(200, &json!({"builds": list})))
}

/// `POST …/{id}/builds`: 202 with the queued build (an existing one when requests coalesce).
pub async fn trigger<D: Db>(ctx: &Ctx<'_, D>) -> Reply {
    let c = load(ctx).await?;
    let reason = format!("requested by {}", ctx.caller.name);
    match enqueue(ctx.db, &c.id, &reason, ctx.now).await.map_err(errors::store)? {
        Some(build) => Ok(HttpResponse::json(202, &views::build_at(&c.path, &build))),
        // Deleted in between.
        None => Err(errors::not_found_of(ctx.endpoint.resource(), ctx.org(), ctx.id())),
    }
}

/// `GET …/{id}/builds/{number}`
pub async fn get<D: Db>(ctx: &Ctx<'_, D>) -> Reply {
    let (c, number) = located(ctx).await?;
    match get_build(ctx.db, &c.id, number).await.map_err(errors::store)? {
        Some(build) => Ok(HttpResponse::json(200, &views::build_at(&c.path, &build))),
        None => Err(not_found(ctx)),
    }
}

/// `GET …/{id}/builds/{number}/log`: plain text.
pub async fn log<D: Db>(ctx: &Ctx<'_, D>) -> Reply {
    let (c, number) = located(ctx).await?;
    match get_log(ctx.db, &c.id, number).await.map_err(errors::store)? {
        Some(log) => Ok(HttpResponse::text(200, log)),
        None => Err(not_found(ctx)),
    }
}

/// The customization and the build number of the path (404 for a number that is not one).
async fn located<D: Db>(ctx: &Ctx<'_, D>) -> Result<(Owner, i64), HttpResponse> {
    let c = load(ctx).await?;
    let number = ctx.params.get("number");
    match number.parse::<i64>() {
        Ok(n) if n > 0 && number.bytes().all(|b| b.is_ascii_digit()) => Ok((c, n)),
        _ => Err(not_found(ctx)),
    }
}

fn not_found<D>(ctx: &Ctx<'_, D>) -> HttpResponse {
    let base = match ctx.endpoint.resource() {
        Resource::Chart => "chart-customizations",
        _ => "customizations",
    };
    errors::build_not_found(base, ctx.org(), ctx.id(), ctx.params.get("number"))
}

/// The `limit` query parameter: 1 to [`MAX_LIMIT`], [`DEFAULT_LIMIT`] when absent.
pub(crate) fn limit(given: Option<&str>) -> Result<i64, HttpResponse> {
    let Some(text) = given else { return Ok(DEFAULT_LIMIT) };
    match text.parse::<i64>() {
        Ok(n) if (1..=MAX_LIMIT).contains(&n) && text.bytes().all(|b| b.is_ascii_digit()) => Ok(n),
        _ => Err(HttpResponse::error(
            400,
            "bad_parameter",
            format!("limit `{text}` is not a number from 1 to {MAX_LIMIT}: send e.g. ?limit=20"),
            vec![Detail::new("limit", format!("expected a whole number from 1 to {MAX_LIMIT}"))],
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits() {
        assert_eq!(limit(None).unwrap(), DEFAULT_LIMIT);
        assert_eq!(limit(Some("1")).unwrap(), 1);
        assert_eq!(limit(Some("500")).unwrap(), 500);
        for bad in ["0", "501", "-1", "+5", "", "ten", "1.5"] {
            assert_eq!(limit(Some(bad)).unwrap_err().status, 400, "{bad}");
        }
    }
}
