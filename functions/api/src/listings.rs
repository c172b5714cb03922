//! What the web UI browses but the functions cannot read from a registry: the file tree of an
//! image tag (to pick an artifact's include paths) and the image references of a chart version
//! (to offer as `from`s). Asking is enough: a listing not read yet (or of a tag that moved) is
//! requested here and answered 404 `not_indexed` until a worker has read it.

use serde_json::json;
use tailor_guest::{Detail, HttpResponse};
use tailor_spec::Platform;
use tailor_store::{CatalogTag, Db, ListingKind, get_listing, list_catalog, list_children, request_listing};

use crate::Ctx;
use crate::errors::{self, Reply};

/// A failed read is tried again when asked for after this long.
const RETRY_FAILED_MS: i64 = 60_000;

/// The catalog entry of the path's repository and tag; 404 when the org has no such tag.
async fn tag_of<D: Db>(ctx: &Ctx<'_, D>) -> Result<CatalogTag, HttpResponse> {
    let repository = format!("{}/{}", ctx.org(), ctx.params.get("name"));
    catalog_tag(ctx, &repository, ctx.params.get("tag")).await
}

/// The catalog entry of the org's `repository:tag`; 404 when the org has no such tag.
pub(crate) async fn catalog_tag<D: Db>(
    ctx: &Ctx<'_, D>,
    repository: &str,
    tag: &str,
) -> Result<CatalogTag, HttpResponse> {
    let org = ctx.org();
    let tags = list_catalog(ctx.db, org).await.map_err(errors::store)?;
    tags.into_iter().find(|t| t.repository == repository && t.tag == tag).ok_or_else(|| {
        HttpResponse::error(
            404,
            "not_found",
            format!(
                "no tag `{tag}` of repository `{repository}` is known: list the repository's tags with \
                 GET /v1/orgs/{org}/repositories/{}/tags",
                repository.split_once('/').map_or(repository, |(_, name)| name)
            ),
            vec![],
        )
    })
}

fn bad(field: &str, message: String) -> HttpResponse {
    HttpResponse::error(400, "bad_parameter", message.clone(), vec![Detail::new(field, message)])
}

/// `/a/b/` → `/a/b`; None for a relative path, `.`/`..` components or NUL.
fn normalize(path: &str) -> Option<String> {
    if !path.starts_with('/') || path.contains('\0') {
        return None;
    }
    let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    if parts.iter().any(|p| *p == "." || *p == "..") {
        return None;
    }
    Some(format!("/{}", parts.join("/")))
}

/// The listing of `kind` when it is there and current; being read or just asked for: the 404
/// `not_indexed` answer (asking for it when needed).
pub(crate) async fn ready<D: Db>(
    ctx: &Ctx<'_, D>,
    t: &CatalogTag,
    platform: &str,
    kind: ListingKind,
) -> Result<tailor_store::Listing, HttpResponse> {
    let listing = get_listing(ctx.db, &t.repository, &t.tag, platform, kind).await.map_err(errors::store)?;
    let what = match kind {
        ListingKind::Files => format!("the files of {}:{} ({platform})", t.repository, t.tag),
        ListingKind::References => format!("the image references of chart {}:{}", t.repository, t.tag),
        ListingKind::Platforms => format!("the platforms of {}:{}", t.repository, t.tag),
        ListingKind::Os => format!("the OS and package catalog of {}:{}", t.repository, t.tag),
    };
    let moved =
        |l: &tailor_store::Listing| t.digest.as_ref().is_some_and(|d| l.digest.as_deref().is_some_and(|ld| ld != d));
    match listing {
        Some(l) if l.status == "ready" && !moved(&l) => return Ok(l),
        Some(l) if l.status == "failed" && ctx.now - l.updated_at < RETRY_FAILED_MS && !moved(&l) => {
            return Err(HttpResponse::error(
                422,
                "unreadable",
                format!("{what} could not be read: {}", l.error.unwrap_or_default()),
                vec![],
            ));
        }
        Some(l) if matches!(l.status.as_str(), "requested" | "reading") => {}
        _ => request_listing(ctx.db, &t.repository, &t.tag, platform, kind, ctx.now).await.map_err(errors::store)?,
    }
    Err(HttpResponse::error(
        404,
        "not_indexed",
        format!("{what} are being read by a worker: ask again in a few seconds"),
        vec![],
    )
    .with_header("retry-after", "1"))
}

/// `GET /v1/orgs/{org}/repositories/{name}/tags/{tag}/files[?platform=os/arch][&path=/dir]`
pub async fn files<D: Db>(ctx: &Ctx<'_, D>) -> Reply {
    let t = tag_of(ctx).await?;
    let platform = match ctx.req.query_param("platform").filter(|p| !p.is_empty()) {
        Some(given) => {
            let p = Platform::parse(&given)
                .map_err(|e| bad("platform", format!("platform `{given}`: {e}; e.g. linux/amd64")))?
                .key();
            if !t.platforms.is_empty() && !t.platforms.contains(&p) {
                return Err(HttpResponse::error(
                    404,
                    "not_found",
                    format!("{}:{} has no platform {p}; it has {}", t.repository, t.tag, t.platforms.join(", ")),
                    vec![Detail::new("platform", format!("one of {}", t.platforms.join(", ")))],
                ));
            }
            p
        }
        None => t.platforms.first().cloned().unwrap_or_else(|| "linux/amd64".to_owned()),
    };
    let raw = ctx.req.query_param("path").unwrap_or_else(|| "/".to_owned());
    let path = normalize(&raw).ok_or_else(|| {
        bad("path", format!("path `{raw}` is not an absolute path without `.` or `..`: e.g. /opt/app"))
    })?;
    let listing = ready(ctx, &t, &platform, ListingKind::Files).await?;
    let children = list_children(ctx.db, &t.repository, &t.tag, &platform, &path).await.map_err(errors::store)?;
    let entries: Vec<_> = children
        .iter()
        .map(|f| {
            let full = if path == "/" { format!("/{}", f.name) } else { format!("{path}/{}", f.name) };
            let mut e = json!({"name": f.name, "path": full, "kind": f.kind, "size": f.size});
            if let Some(t) = &f.target {
                e["target"] = json!(t);
            }
            e
        })
        .collect();
    Ok(HttpResponse::json(
        200,
        &json!({
            "repository": t.repository,
            "tag": t.tag,
            "platform": platform,
            "digest": listing.digest,
            "path": path,
            "entries": entries,
            "truncated": listing.truncated,
            "total": listing.total,
        }),
    ))
}

/// `GET /v1/orgs/{org}/repositories/{name}/tags/{tag}/references`: what a chart version deploys.
pub async fn references<D: Db>(ctx: &Ctx<'_, D>) -> Reply {
    let t = tag_of(ctx).await?;
    let listing = ready(ctx, &t, "", ListingKind::References).await?;
    let data = listing.data.unwrap_or_else(|| json!({}));
    Ok(HttpResponse::json(
        200,
        &json!({
            "repository": t.repository,
            "tag": t.tag,
            "digest": listing.digest,
            "references": data["references"].as_array().cloned().unwrap_or_default(),
            "literal_template_images": data["literal_template_images"].as_array().cloned().unwrap_or_default(),
        }),
    ))
}

#[cfg(test)]
mod tests {
    use super::normalize;

    #[test]
    fn paths() {
        assert_eq!(normalize("/").as_deref(), Some("/"));
        assert_eq!(normalize("/opt//app/").as_deref(), Some("/opt/app"));
        for bad in ["opt", "/opt/../etc", "/./x", "", "/a\0"] {
            assert_eq!(normalize(bad), None, "{bad}");
        }
    }
}
