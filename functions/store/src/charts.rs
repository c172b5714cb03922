//! Chart customizations per org (DESIGN.md §10): one per chart repository, a spec with a
//! revision, builds through the queue (creating or editing one queues its build in the same
//! transaction), and the dependencies that rebuild it: every version of its source repository
//! (tag '*') and the images its last build pinned.

use serde_json::Value as Json;
use tailor_spec::ChartSpec;

use crate::builds::Build;
use crate::db::{Db, Row, Value, in_tx};
use crate::error::{Result, StoreError};
use crate::queue::enqueue_in;

#[derive(Debug, Clone, PartialEq)]
pub struct ChartCustomization {
    pub id: String,
    pub org: String,
    pub name: String,
    pub source_repository: String,
    pub revision: i64,
    pub spec: Json,
    pub created_at: i64,
    pub updated_at: i64,
}

const COLUMNS: &str = "id, org, name, source_repository, revision, spec, created_at, updated_at";

fn from_row(row: &Row) -> Result<ChartCustomization> {
    Ok(ChartCustomization {
        id: row.text("id")?,
        org: row.text("org")?,
        name: row.text("name")?,
        source_repository: row.text("source_repository")?,
        revision: row.int("revision")?,
        spec: row.json("spec")?,
        created_at: row.int("created_at")?,
        updated_at: row.int("updated_at")?,
    })
}

fn source_of(spec: &ChartSpec) -> Result<String> {
    spec.source_repository().ok_or_else(|| StoreError::Db(format!("chart source {} is invalid", spec.source)))
}

fn text_of(spec: &ChartSpec) -> Result<String> {
    serde_json::to_string(spec).map_err(|e| StoreError::Db(format!("chart spec to JSON: {e}")))
}

async fn fetch<D: Db>(db: &D, org: &str, id: &str) -> Result<Option<ChartCustomization>> {
    let rows = db
        .exec(&format!("SELECT {COLUMNS} FROM chart_customizations WHERE org = ? AND id = ?"), &[org.into(), id.into()])
        .await?;
    rows.first().map(|r| from_row(&r)).transpose()
}

/// One chart customization per source repository: [`StoreError::Exists`] names the other one.
async fn check_source<D: Db>(db: &D, source: &str, except: &str) -> Result<()> {
    let rows = db
        .exec(
            "SELECT id FROM chart_customizations WHERE source_repository = ? AND id <> ?",
            &[source.into(), except.into()],
        )
        .await?;
    match rows.first() {
        Some(r) => Err(StoreError::Exists { what: format!("a chart customization of {source}"), id: r.text("id")? }),
        None => Ok(()),
    }
}

/// The source dependency (every version); the images stay as the last build pinned them.
async fn set_source<D: Db>(db: &D, id: &str, source: &str) -> Result<()> {
    db.exec("DELETE FROM dependencies WHERE customization_id = ? AND role = 'chart'", &[id.into()]).await?;
    db.exec(
        "INSERT INTO dependencies (customization_id, repository, tag, role) VALUES (?, ?, '*', 'chart')",
        &[id.into(), source.into()],
    )
    .await?;
    Ok(())
}

/// Creates chart customization `id` from a validated spec and queues its first build.
pub async fn create_chart<D: Db>(
    db: &D,
    org: &str,
    id: &str,
    spec: &ChartSpec,
    now: i64,
) -> Result<(ChartCustomization, Build)> {
    let (source, text) = (source_of(spec)?, text_of(spec)?);
    in_tx(db, async |db| {
        check_source(db, &source, id).await?;
        db.exec(
            &format!("INSERT INTO chart_customizations ({COLUMNS}) VALUES (?, ?, ?, ?, 1, ?, ?, ?)"),
            &[
                id.into(),
                org.into(),
                spec.name.as_str().into(),
                source.as_str().into(),
                text.as_str().into(),
                now.into(),
                now.into(),
            ],
        )
        .await?;
        set_source(db, id, &source).await?;
        let build = enqueue_in(db, id, "created", now, 0).await?;
        let c = fetch(db, org, id).await?.ok_or_else(|| StoreError::Db("chart customization vanished".into()))?;
        Ok((c, build))
    })
    .await
}

pub async fn get_chart<D: Db>(db: &D, org: &str, id: &str) -> Result<Option<ChartCustomization>> {
    fetch(db, org, id).await
}

/// Chart customizations of `org`, oldest first.
pub async fn list_charts<D: Db>(db: &D, org: &str) -> Result<Vec<ChartCustomization>> {
    let rows = db
        .exec(
            &format!("SELECT {COLUMNS} FROM chart_customizations WHERE org = ? ORDER BY created_at, id"),
            &[org.into()],
        )
        .await?;
    rows.iter().map(|r| from_row(&r)).collect()
}

/// Replaces the spec (revision + 1) and queues a build; `None` without such a customization,
/// [`StoreError::Conflict`] when `if_match` is stale, [`StoreError::Exists`] when the new
/// source has its own chart customization.
pub async fn replace_chart<D: Db>(
    db: &D,
    org: &str,
    id: &str,
    spec: &ChartSpec,
    if_match: Option<i64>,
    now: i64,
) -> Result<Option<(ChartCustomization, Build)>> {
    let (source, text) = (source_of(spec)?, text_of(spec)?);
    in_tx(db, async |db| {
        let Some(current) = fetch(db, org, id).await? else { return Ok(None) };
        if let Some(given) = if_match.filter(|g| *g != current.revision) {
            return Err(StoreError::Conflict { given, current: current.revision });
        }
        check_source(db, &source, id).await?;
        let revision = current.revision + 1;
        db.exec(
            "UPDATE chart_customizations SET name = ?, source_repository = ?, revision = ?, spec = ?, updated_at = ? \
             WHERE id = ? AND revision = ?",
            &[
                spec.name.as_str().into(),
                source.as_str().into(),
                revision.into(),
                text.as_str().into(),
                now.into(),
                id.into(),
                Value::Integer(current.revision),
            ],
        )
        .await?;
        set_source(db, id, &source).await?;
        let build = enqueue_in(db, id, &format!("edited (revision {revision})"), now, 0).await?;
        let c = fetch(db, org, id).await?.ok_or_else(|| StoreError::Db("chart customization vanished".into()))?;
        Ok(Some((c, build)))
    })
    .await
}

/// Deletes the chart customization, its pending builds, records and dependencies (nothing in
/// the registry). `false` when there is none.
pub async fn delete_chart<D: Db>(db: &D, org: &str, id: &str, if_match: Option<i64>) -> Result<bool> {
    in_tx(db, async |db| {
        let Some(current) = fetch(db, org, id).await? else { return Ok(false) };
        if let Some(given) = if_match.filter(|g| *g != current.revision) {
            return Err(StoreError::Conflict { given, current: current.revision });
        }
        for sql in [
            "DELETE FROM requests WHERE customization_id = ?",
            "DELETE FROM dependencies WHERE customization_id = ?",
            "DELETE FROM builds WHERE customization_id = ?",
            "DELETE FROM chart_customizations WHERE id = ?",
        ] {
            db.exec(sql, &[id.into()]).await?;
        }
        Ok(true)
    })
    .await
}

/// Records the images a build of `id` pinned (repository, tag; "" for a digest-only pin): a
/// push of one of them rebuilds the chart.
pub async fn set_chart_images<D: Db>(db: &D, id: &str, images: &[(String, String)]) -> Result<()> {
    in_tx(db, async |db| {
        if db.exec("SELECT id FROM chart_customizations WHERE id = ?", &[id.into()]).await?.rows.is_empty() {
            return Ok(());
        }
        db.exec("DELETE FROM dependencies WHERE customization_id = ? AND role = 'image'", &[id.into()]).await?;
        let mut seen = std::collections::BTreeSet::new();
        for (repository, tag) in images {
            if seen.insert((repository, tag)) {
                db.exec(
                    "INSERT INTO dependencies (customization_id, repository, tag, role) VALUES (?, ?, ?, 'image')",
                    &[id.into(), repository.as_str().into(), tag.as_str().into()],
                )
                .await?;
            }
        }
        Ok(())
    })
    .await
}

/// The outputs of the newest finished build of `id` that has any (a chart build's per-version
/// states, for the next build).
pub async fn last_outputs<D: Db>(db: &D, id: &str) -> Result<Option<Json>> {
    let rows = db
        .exec(
            "SELECT outputs FROM builds WHERE customization_id = ? AND finished_at IS NOT NULL AND outputs IS NOT NULL \
             ORDER BY number DESC LIMIT 1",
            &[id.into()],
        )
        .await?;
    Ok(rows.first().map(|r| r.opt_text("outputs")).transpose()?.flatten().and_then(|t| serde_json::from_str(&t).ok()))
}

/// The source repositories of every chart customization, with their org: the poll lists
/// their tags (new chart versions).
pub async fn chart_sources<D: Db>(db: &D) -> Result<Vec<(String, String)>> {
    let rows = db
        .exec("SELECT DISTINCT org, source_repository FROM chart_customizations ORDER BY org, source_repository", &[])
        .await?;
    rows.iter().map(|r| Ok((r.text("org")?, r.text("source_repository")?))).collect()
}
