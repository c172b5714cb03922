//! The catalog: the org's repositories and tags as tailor last saw them (from registry
//! notifications, polls and builds).

use serde_json::json;
use tailor_guest::HttpResponse;
use tailor_store::{Db, list_catalog};

use crate::errors::{self, Reply};
use crate::{Ctx, views};

/// `GET /v1/orgs/{org}/repositories`
pub async fn repositories<D: Db>(ctx: &Ctx<'_, D>) -> Reply {
    let tags = list_catalog(ctx.db, ctx.org()).await.map_err(errors::store)?;
    Ok(HttpResponse::json(200, &json!({"repositories": views::repositories(&tags)})))
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
