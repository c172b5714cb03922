//! The catalog: the org's repositories and tags as tailor last saw them (from registry
//! notifications, polls and builds).

use serde_json::json;
use tailor_guest::HttpResponse;
use tailor_store::{Db, last_sync, list_catalog, list_mirrors};

use crate::errors::{self, Reply};
use crate::{Ctx, views};

/// `GET /v1/orgs/{org}/repositories`: with `mirror` on mirrored ones (also before their first tag).
pub async fn repositories<D: Db>(ctx: &Ctx<'_, D>) -> Reply {
    let tags = list_catalog(ctx.db, ctx.org()).await.map_err(errors::store)?;
    let mut repositories = views::repositories(&tags);
    for m in list_mirrors(ctx.db, ctx.org()).await.map_err(errors::store)? {
        let last = last_sync(ctx.db, &m.id).await.map_err(errors::store)?;
        let mirror = json!({
            "id": m.id,
            "source": m.source(),
            "last_sync": last.map(|b| json!({
                "number": b.number,
                "status": b.status.as_str(),
                "finished_at": b.finished_at.map(tailor_store::rfc3339_ms),
            })),
        });
        match repositories.iter_mut().find(|r| r["repository"] == m.destination.as_str()) {
            Some(r) => r["mirror"] = mirror,
            None => repositories.push(json!({"repository": m.destination, "tags": [], "mirror": mirror})),
        }
    }
    repositories.sort_by(|a, b| a["repository"].as_str().cmp(&b["repository"].as_str()));
    Ok(HttpResponse::json(200, &json!({"repositories": repositories})))
}

/// `GET /v1/orgs/{org}/repositories/{name}/tags`, `{name}` being the repository below the
/// org (`team/app` for `acme/team/app`).
pub async fn tags<D: Db>(ctx: &Ctx<'_, D>) -> Reply {
    let org = ctx.org();
    let repository = format!("{org}/{}", ctx.params.get("name"));
    let tags = list_catalog(ctx.db, org).await.map_err(errors::store)?;
    let tags: Vec<_> = tags.iter().filter(|t| t.repository == repository).map(views::tag).collect();
    if tags.is_empty() {
        return Err(HttpResponse::error(
            404,
            "not_found",
            format!(
                "no tag of repository `{repository}` is known: list the known repositories with \
                 GET /v1/orgs/{org}/repositories"
            ),
            vec![],
        ));
    }
    Ok(HttpResponse::json(200, &json!({"repository": repository, "tags": tags})))
}
