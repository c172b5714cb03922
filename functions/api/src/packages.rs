//! The package catalog for the UI's picker: the OS packages a source image's variant can
//! install (name, newest version, summary), searchable — from the catalogs the workers keep in
//! the store (they learn an image's variant when they first build from it, or when asked here,
//! and re-read each variant's repositories at every poll).

use serde_json::json;
use tailor_guest::{Detail, HttpResponse};
use tailor_spec::Reference;
use tailor_store::{Db, ListingKind, package_index, rfc3339_ms, search_packages, variants_of};

use crate::Ctx;
use crate::builds::limit;
use crate::errors::{self, Reply};

fn bad(field: &str, message: String, problem: &str) -> HttpResponse {
    HttpResponse::error(400, "bad_parameter", message, vec![Detail::new(field, problem)])
}

fn not_indexed(message: String) -> HttpResponse {
    HttpResponse::error(404, "not_indexed", message, vec![]).with_header("retry-after", "2")
}

/// `GET /v1/orgs/{org}/packages?source=REF[&platform=P][&q=TEXT][&limit=N][&offset=N]`
pub async fn list<D: Db>(ctx: &Ctx<'_, D>) -> Reply {
    let org = ctx.org();
    let Some(source) = ctx.req.query_param("source").filter(|s| !s.is_empty()) else {
        return Err(bad(
            "source",
            format!("name the source image whose packages to list: ?source={org}/debian:12"),
            "required",
        ));
    };
    let reference = Reference::parse(&source).map_err(|m| bad("source", format!("source `{source}`: {m}"), &m))?;
    let Some(tag) = reference.tag.as_deref() else {
        return Err(bad(
            "source",
            format!("source `{source}` names no tag: give the tag, e.g. {}:12", reference.repository),
            "a tag is needed",
        ));
    };
    if !reference.repository.starts_with(&format!("{org}/")) {
        return Err(HttpResponse::error(
            404,
            "not_found",
            format!("`{}` is not a repository of org {org}", reference.repository),
            vec![],
        ));
    }
    let limit = limit(ctx.req.query_param("limit").as_deref())?;
    let offset = match ctx.req.query_param("offset") {
        None => 0,
        Some(o) => {
            o.parse::<i64>().ok().filter(|n| *n >= 0 && o.bytes().all(|b| b.is_ascii_digit())).ok_or_else(|| {
                bad("offset", format!("offset `{o}` is not a whole number ≥ 0"), "expected a whole number ≥ 0")
            })?
        }
    };
    let query = ctx.req.query_param("q").unwrap_or_default();

    let variants = variants_of(ctx.db, &reference.repository, tag).await.map_err(errors::store)?;
    if variants.is_empty() {
        // No build has read it: a worker reads its OS now (404 `not_indexed` until it has).
        let t = crate::listings::catalog_tag(ctx, &reference.repository, tag).await?;
        crate::listings::ready(ctx, &t, "", ListingKind::Os).await?;
        return Err(HttpResponse::error(
            404,
            "no_package_database",
            format!(
                "{source} has no package database tailor can install into (no dpkg or apk database of a Debian \
                 or Alpine release on any platform): it takes files and scripts, not packages"
            ),
            vec![Detail::new("source", "no package database")],
        ));
    }
    let v = match ctx.req.query_param("platform") {
        Some(p) => variants.iter().find(|v| v.platform == p).ok_or_else(|| {
            let known: Vec<&str> = variants.iter().map(|v| v.platform.as_str()).collect();
            bad(
                "platform",
                format!("{source} has no platform {p} with packages (known: {})", known.join(", ")),
                "unknown platform",
            )
        })?,
        None => variants.iter().find(|v| v.platform == "linux/amd64").unwrap_or(&variants[0]),
    };
    let Some(index) = package_index(ctx.db, &v.variant, &v.arch).await.map_err(errors::store)? else {
        return Err(not_indexed(format!(
            "the package catalog of {} ({}) is being read by a worker (workers read a release's catalog as soon \
             as they learn an image of it, and again at every poll; not with --poll-interval 0): ask again in a \
             few seconds",
            v.variant, v.arch
        )));
    };
    let found = search_packages(ctx.db, &v.variant, &v.arch, &query, limit, offset).await.map_err(errors::store)?;
    let packages: Vec<_> =
        found.packages.iter().map(|p| json!({"name": p.name, "version": p.version, "summary": p.summary})).collect();
    Ok(HttpResponse::json(
        200,
        &json!({
            "source": source,
            "platform": v.platform,
            "variant": v.variant,
            "arch": v.arch,
            "index": {"digest": index.digest, "packages": index.packages, "updated_at": rfc3339_ms(index.updated_at)},
            "query": query,
            "total": found.total,
            "packages": packages,
        }),
    ))
}
