//! Customizations per org, with a revision bumped on every edit and the dependencies
//! (source and artifact tags) that webhooks fan out over. Creating or editing one enqueues
//! its build in the same transaction.

use serde_json::Value as Json;
use tailor_spec::{Customization as Spec, Reference};

use crate::builds::Build;
use crate::db::{Db, Row, Value, in_tx};
use crate::error::{Result, StoreError};
use crate::queue::enqueue_in;
use crate::tokens::{TokenInfo, hash_token, token_from_row};

#[derive(Debug, Clone, PartialEq)]
pub struct Customization {
    pub id: String,
    pub org: String,
    pub name: String,
    pub source_repository: String,
    pub revision: i64,
    /// The spec as submitted (after parsing: JSON form of the model).
    pub spec: Json,
    pub created_at: i64,
    pub updated_at: i64,
}

const COLUMNS: &str = "id, org, name, source_repository, revision, spec, created_at, updated_at";

fn from_row(row: &Row) -> Result<Customization> {
    Ok(Customization {
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

/// The (repository, tag, role) a spec depends on; digest-pinned references have tag "".
fn dependencies(spec: &Spec) -> Vec<(String, String, &'static str)> {
    let mut deps = Vec::new();
    let mut add = |text: &str, role: &'static str| {
        if let Ok(r) = Reference::parse(text) {
            let tag = match (&r.tag, &r.digest) {
                (Some(t), _) => t.clone(),
                (None, Some(_)) => String::new(),
                (None, None) => "latest".to_owned(),
            };
            deps.push((r.repository, tag, role));
        }
    };
    add(&spec.source, "source");
    for a in &spec.contents.artifacts {
        add(&a.reference, "artifact");
    }
    deps.sort();
    deps.dedup();
    deps
}

fn spec_json(spec: &Spec) -> Result<String> {
    serde_json::to_string(spec).map_err(|e| StoreError::Db(format!("spec to JSON: {e}")))
}

async fn set_dependencies<D: Db>(db: &D, id: &str, spec: &Spec) -> Result<()> {
    db.exec("DELETE FROM dependencies WHERE customization_id = ?", &[id.into()]).await?;
    for (repository, tag, role) in dependencies(spec) {
        db.exec(
            "INSERT INTO dependencies (customization_id, repository, tag, role) VALUES (?, ?, ?, ?)",
            &[id.into(), repository.into(), tag.into(), role.into()],
        )
        .await?;
    }
    Ok(())
}

async fn fetch<D: Db>(db: &D, org: &str, id: &str) -> Result<Option<Customization>> {
    let rows = db
        .exec(&format!("SELECT {COLUMNS} FROM customizations WHERE org = ? AND id = ?"), &[org.into(), id.into()])
        .await?;
    rows.first().map(|r| from_row(&r)).transpose()
}

/// Creates customization `id` (chosen by the caller) from a validated spec and enqueues its
/// first build.
pub async fn create_customization<D: Db>(
    db: &D,
    org: &str,
    id: &str,
    spec: &Spec,
    now: i64,
) -> Result<(Customization, Build)> {
    let text = spec_json(spec)?;
    in_tx(db, async |db| {
        db.exec(
            &format!("INSERT INTO customizations ({COLUMNS}) VALUES (?, ?, ?, ?, 1, ?, ?, ?)"),
            &[
                id.into(),
                org.into(),
                spec.name.as_str().into(),
                spec.source_ref().repository.into(),
                text.as_str().into(),
                now.into(),
                now.into(),
            ],
        )
        .await?;
        set_dependencies(db, id, spec).await?;
        let build = enqueue_in(db, id, "created", now, 0).await?;
        let c = fetch(db, org, id).await?.ok_or_else(|| StoreError::Db("customization vanished".into()))?;
        Ok((c, build))
    })
    .await
}

pub async fn get_customization<D: Db>(db: &D, org: &str, id: &str) -> Result<Option<Customization>> {
    fetch(db, org, id).await
}

/// Who `secret` belongs to and, when that is someone of `org`, its customization `id`, in one
/// statement (the API's hottest read). `None` when the token is not known; a customization of
/// another org is never read.
pub async fn get_customization_for_token<D: Db>(
    db: &D,
    secret: &str,
    org: &str,
    id: &str,
) -> Result<Option<(TokenInfo, Option<Customization>)>> {
    let rows = db
        .exec(
            "SELECT t.org AS token_org, t.role AS token_role, t.name AS token_name, c.id, c.org, c.name, \
             c.source_repository, c.revision, c.spec, c.created_at, c.updated_at \
             FROM tokens t LEFT JOIN customizations c ON c.org = t.org AND c.org = ? AND c.id = ? \
             WHERE t.hash = ?",
            &[org.into(), id.into(), hash_token(secret).into()],
        )
        .await?;
    let Some(row) = rows.first() else { return Ok(None) };
    let Some(token) = token_from_row(&row)? else { return Ok(None) };
    let found = match row.opt_text("id")? {
        Some(_) => Some(from_row(&row)?),
        None => None,
    };
    Ok(Some((token, found)))
}

/// Customizations of `org`, oldest first, optionally only those of one source repository.
pub async fn list_customizations<D: Db>(
    db: &D,
    org: &str,
    source_repository: Option<&str>,
) -> Result<Vec<Customization>> {
    let rows = match source_repository {
        Some(repo) => {
            db.exec(
                &format!(
                    "SELECT {COLUMNS} FROM customizations WHERE org = ? AND source_repository = ? ORDER BY created_at, id"
                ),
                &[org.into(), repo.into()],
            )
            .await?
        }
        None => {
            db.exec(&format!("SELECT {COLUMNS} FROM customizations WHERE org = ? ORDER BY created_at, id"), &[org.into()])
                .await?
        }
    };
    rows.iter().map(|r| from_row(&r)).collect()
}

/// Replaces the spec (revision + 1) and enqueues a build. `None` when there is no such
/// customization; [`StoreError::Conflict`] when `if_match` is not the current revision.
pub async fn replace_customization<D: Db>(
    db: &D,
    org: &str,
    id: &str,
    spec: &Spec,
    if_match: Option<i64>,
    now: i64,
) -> Result<Option<(Customization, Build)>> {
    let text = spec_json(spec)?;
    in_tx(db, async |db| {
        let Some(current) = fetch(db, org, id).await? else { return Ok(None) };
        if let Some(given) = if_match.filter(|g| *g != current.revision) {
            return Err(StoreError::Conflict { given, current: current.revision });
        }
        let revision = current.revision + 1;
        db.exec(
            "UPDATE customizations SET name = ?, source_repository = ?, revision = ?, spec = ?, updated_at = ? \
             WHERE id = ? AND revision = ?",
            &[
                spec.name.as_str().into(),
                spec.source_ref().repository.into(),
                revision.into(),
                text.as_str().into(),
                now.into(),
                id.into(),
                Value::Integer(current.revision),
            ],
        )
        .await?;
        set_dependencies(db, id, spec).await?;
        let build = enqueue_in(db, id, &format!("edited (revision {revision})"), now, 0).await?;
        let c = fetch(db, org, id).await?.ok_or_else(|| StoreError::Db("customization vanished".into()))?;
        Ok(Some((c, build)))
    })
    .await
}

/// Deletes the customization, its pending requests, dependencies and build records.
/// `false` when there is no such customization.
pub async fn delete_customization<D: Db>(db: &D, org: &str, id: &str, if_match: Option<i64>) -> Result<bool> {
    in_tx(db, async |db| {
        let Some(current) = fetch(db, org, id).await? else { return Ok(false) };
        if let Some(given) = if_match.filter(|g| *g != current.revision) {
            return Err(StoreError::Conflict { given, current: current.revision });
        }
        for sql in [
            "DELETE FROM requests WHERE customization_id = ?",
            "DELETE FROM dependencies WHERE customization_id = ?",
            "DELETE FROM builds WHERE customization_id = ?",
            "DELETE FROM customizations WHERE id = ?",
        ] {
            db.exec(sql, &[id.into()]).await?;
        }
        Ok(true)
    })
    .await
}
