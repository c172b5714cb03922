//! Org extensions (DESIGN.md §11): each registration's spec with a revision, the digest its
//! reference was resolved to, and whether the worker could use it (`pending` until a worker
//! loaded it, `ready`, or `invalid` with the reason). Changing one re-queues nothing: its
//! digest and settings are part of each build's fingerprint.

use tailor_spec::ExtensionSpec;

use crate::db::{Db, Row, Value, in_tx};
use crate::error::{Result, StoreError};

#[derive(Debug, Clone, PartialEq)]
pub struct Extension {
    pub id: String,
    pub org: String,
    pub name: String,
    pub revision: i64,
    pub spec: ExtensionSpec,
    /// The manifest digest its reference resolved to (when a worker loaded it).
    pub digest: Option<String>,
    /// `pending`, `ready` or `invalid`.
    pub status: String,
    pub reason: Option<String>,
    pub checked_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

const COLUMNS: &str = "id, org, name, revision, spec, digest, status, reason, checked_at, created_at, updated_at";

fn from_row(row: &Row) -> Result<Extension> {
    let id = row.text("id")?;
    let spec =
        serde_json::from_value(row.json("spec")?).map_err(|e| StoreError::Corrupt(format!("extension {id}: {e}")))?;
    Ok(Extension {
        org: row.text("org")?,
        name: row.text("name")?,
        revision: row.int("revision")?,
        spec,
        digest: row.opt_text("digest")?,
        status: row.text("status")?,
        reason: row.opt_text("reason")?,
        checked_at: row.opt_int("checked_at")?,
        created_at: row.int("created_at")?,
        updated_at: row.int("updated_at")?,
        id,
    })
}

async fn fetch<D: Db>(db: &D, org: &str, id: &str) -> Result<Option<Extension>> {
    let rows = db
        .exec(&format!("SELECT {COLUMNS} FROM extensions WHERE org = ? AND id = ?"), &[org.into(), id.into()])
        .await?;
    rows.first().map(|r| from_row(&r)).transpose()
}

fn spec_text(spec: &ExtensionSpec) -> Result<String> {
    serde_json::to_string(spec).map_err(|e| StoreError::Corrupt(e.to_string()))
}

async fn check_name<D: Db>(db: &D, org: &str, name: &str, id: &str) -> Result<()> {
    let rows = db
        .exec("SELECT id FROM extensions WHERE org = ? AND name = ? AND id != ?", &[org.into(), name.into(), id.into()])
        .await?;
    match rows.first() {
        Some(r) => Err(StoreError::Exists { what: format!("an extension named {name}"), id: r.text("id")? }),
        None => Ok(()),
    }
}

/// Registers an extension (`pending` until a worker loads it).
pub async fn create_extension<D: Db>(db: &D, org: &str, id: &str, spec: &ExtensionSpec, now: i64) -> Result<Extension> {
    let text = spec_text(spec)?;
    in_tx(db, async |db| {
        check_name(db, org, &spec.name, id).await?;
        db.exec(
            "INSERT INTO extensions (id, org, name, revision, spec, digest, status, reason, checked_at, created_at, updated_at) \
             VALUES (?, ?, ?, 1, ?, NULL, 'pending', NULL, NULL, ?, ?)",
            &[id.into(), org.into(), spec.name.as_str().into(), text.as_str().into(), now.into(), now.into()],
        )
        .await?;
        fetch(db, org, id).await?.ok_or_else(|| StoreError::Corrupt(format!("extension {id} vanished")))
    })
    .await
}

pub async fn get_extension<D: Db>(db: &D, org: &str, id: &str) -> Result<Option<Extension>> {
    fetch(db, org, id).await
}

/// The org's extensions, in registration order.
pub async fn list_extensions<D: Db>(db: &D, org: &str) -> Result<Vec<Extension>> {
    let rows = db
        .exec(&format!("SELECT {COLUMNS} FROM extensions WHERE org = ? ORDER BY created_at, id"), &[org.into()])
        .await?;
    rows.iter().map(|r| from_row(&r)).collect()
}

/// Replaces the spec (revision + 1, `pending` again: a worker loads it before its next use).
/// `None` when there is no such extension; [`StoreError::Conflict`] when `if_match` is stale.
pub async fn replace_extension<D: Db>(
    db: &D,
    org: &str,
    id: &str,
    spec: &ExtensionSpec,
    if_match: Option<i64>,
    now: i64,
) -> Result<Option<Extension>> {
    let text = spec_text(spec)?;
    in_tx(db, async |db| {
        let Some(current) = fetch(db, org, id).await? else { return Ok(None) };
        if let Some(given) = if_match.filter(|g| *g != current.revision) {
            return Err(StoreError::Conflict { given, current: current.revision });
        }
        check_name(db, org, &spec.name, id).await?;
        db.exec(
            "UPDATE extensions SET name = ?, revision = ?, spec = ?, digest = NULL, status = 'pending', reason = NULL, \
             checked_at = NULL, updated_at = ? WHERE id = ? AND revision = ?",
            &[
                spec.name.as_str().into(),
                (current.revision + 1).into(),
                text.as_str().into(),
                now.into(),
                id.into(),
                Value::Integer(current.revision),
            ],
        )
        .await?;
        fetch(db, org, id).await
    })
    .await
}

/// `false` when there is no such extension.
pub async fn delete_extension<D: Db>(db: &D, org: &str, id: &str, if_match: Option<i64>) -> Result<bool> {
    in_tx(db, async |db| {
        let Some(current) = fetch(db, org, id).await? else { return Ok(false) };
        if let Some(given) = if_match.filter(|g| *g != current.revision) {
            return Err(StoreError::Conflict { given, current: current.revision });
        }
        db.exec("DELETE FROM extensions WHERE id = ?", &[id.into()]).await?;
        Ok(true)
    })
    .await
}

/// Records what a worker found loading revision `revision`: the digest and `ready`, or
/// `invalid` and why. Ignored when the extension changed meanwhile.
pub async fn record_extension_check<D: Db>(
    db: &D,
    id: &str,
    revision: i64,
    digest: Option<&str>,
    invalid: Option<&str>,
    now: i64,
) -> Result<()> {
    db.exec(
        "UPDATE extensions SET digest = ?, status = ?, reason = ?, checked_at = ? WHERE id = ? AND revision = ?",
        &[
            digest.into(),
            if invalid.is_some() { "invalid" } else { "ready" }.into(),
            invalid.into(),
            now.into(),
            id.into(),
            revision.into(),
        ],
    )
    .await?;
    Ok(())
}

/// Orgs with an extension no worker has loaded yet.
pub async fn orgs_with_pending_extensions<D: Db>(db: &D) -> Result<Vec<String>> {
    let rows = db.exec("SELECT DISTINCT org FROM extensions WHERE status = 'pending' ORDER BY org", &[]).await?;
    rows.iter().map(|r| r.text("org")).collect()
}
