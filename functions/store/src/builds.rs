//! Build records: what was built, when, from what, with which result and log.

use serde::Serialize;
use serde_json::Value as Json;

use crate::db::{Db, Row};
use crate::error::Result;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum BuildStatus {
    Queued,
    Running,
    Succeeded,
    Failed,
    /// Nothing changed since the last successful build (same fingerprint): nothing built.
    Skipped,
    /// A mirror sync that copied some tags but refused or failed others.
    Partial,
}

impl BuildStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            BuildStatus::Queued => "queued",
            BuildStatus::Running => "running",
            BuildStatus::Succeeded => "succeeded",
            BuildStatus::Failed => "failed",
            BuildStatus::Skipped => "skipped",
            BuildStatus::Partial => "partial",
        }
    }
    pub fn parse(s: &str) -> Option<BuildStatus> {
        [
            BuildStatus::Queued,
            BuildStatus::Running,
            BuildStatus::Succeeded,
            BuildStatus::Failed,
            BuildStatus::Skipped,
            BuildStatus::Partial,
        ]
        .into_iter()
        .find(|b| b.as_str() == s)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Build {
    pub customization_id: String,
    pub number: i64,
    pub status: BuildStatus,
    /// Why it was requested (the first request; `requests` counts the coalesced ones).
    pub reason: String,
    pub requests: i64,
    pub revision: i64,
    pub created_at: i64,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
    pub attempts: i64,
    pub fingerprint: Option<String>,
    pub inputs: Option<Json>,
    pub outputs: Option<Json>,
    pub error: Option<String>,
    /// The org's extensions that ran (null when none did).
    pub extensions: Option<Json>,
}

pub(crate) const BUILD_COLUMNS: &str = "customization_id, number, status, reason, requests, revision, created_at, \
     started_at, finished_at, attempts, fingerprint, inputs, outputs, error, extensions";

pub(crate) fn build_from(row: &Row) -> Result<Build> {
    let json =
        |name: &str| -> Result<Option<Json>> { Ok(row.opt_text(name)?.and_then(|t| serde_json::from_str(&t).ok())) };
    let status = row.text("status")?;
    Ok(Build {
        customization_id: row.text("customization_id")?,
        number: row.int("number")?,
        status: BuildStatus::parse(&status)
            .ok_or_else(|| crate::StoreError::Corrupt(format!("build status {status:?}")))?,
        reason: row.text("reason")?,
        requests: row.int("requests")?,
        revision: row.int("revision")?,
        created_at: row.int("created_at")?,
        started_at: row.opt_int("started_at")?,
        finished_at: row.opt_int("finished_at")?,
        attempts: row.int("attempts")?,
        fingerprint: row.opt_text("fingerprint")?,
        inputs: json("inputs")?,
        outputs: json("outputs")?,
        error: row.opt_text("error")?,
        extensions: json("extensions")?,
    })
}

/// Runs `statement` (an INSERT or UPDATE of one build ending in `RETURNING`, to which the build's
/// columns are appended) and reads the build it returns.
pub(crate) async fn returning_build<D: Db>(db: &D, statement: &str, params: &[crate::Value]) -> Result<Build> {
    let rows = db.exec(&format!("{statement} {BUILD_COLUMNS}"), params).await?;
    let row = rows.first().ok_or_else(|| crate::StoreError::Corrupt(format!("no build from {statement}")))?;
    build_from(&row)
}

/// Builds of a customization, newest first (`limit` of them).
pub async fn list_builds<D: Db>(db: &D, customization_id: &str, limit: i64) -> Result<Vec<Build>> {
    let rows = db
        .exec(
            &format!("SELECT {BUILD_COLUMNS} FROM builds WHERE customization_id = ? ORDER BY number DESC LIMIT ?"),
            &[customization_id.into(), limit.into()],
        )
        .await?;
    rows.iter().map(|r| build_from(&r)).collect()
}

pub async fn get_build<D: Db>(db: &D, customization_id: &str, number: i64) -> Result<Option<Build>> {
    let rows = db
        .exec(
            &format!("SELECT {BUILD_COLUMNS} FROM builds WHERE customization_id = ? AND number = ?"),
            &[customization_id.into(), number.into()],
        )
        .await?;
    rows.first().map(|r| build_from(&r)).transpose()
}

pub async fn get_log<D: Db>(db: &D, customization_id: &str, number: i64) -> Result<Option<String>> {
    let rows = db
        .exec(
            "SELECT log FROM builds WHERE customization_id = ? AND number = ?",
            &[customization_id.into(), number.into()],
        )
        .await?;
    rows.first().map(|r| r.text("log")).transpose()
}
