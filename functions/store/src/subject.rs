//! What the queue runs: a customization's build or a mirror's sync. Both are rows of
//! `requests` and `builds` keyed by the customization's or the mirror's id (ids are unique
//! across both: `cus_…`, `mir_…`).

use serde_json::Value as Json;

use crate::db::Db;
use crate::error::Result;

/// The kind of thing a queued run belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Customization,
    Mirror,
}

/// The org, revision and spec of a customization or mirror.
pub(crate) struct Subject {
    pub kind: Kind,
    pub org: String,
    pub revision: i64,
    pub spec: Json,
}

/// The customization or mirror `id`, if it exists.
pub(crate) async fn find<D: Db>(db: &D, id: &str) -> Result<Option<Subject>> {
    let rows = db
        .exec(
            "SELECT 'customization' AS kind, org, revision, spec FROM customizations WHERE id = ? \
             UNION ALL SELECT 'mirror' AS kind, org, revision, spec FROM mirrors WHERE id = ?",
            &[id.into(), id.into()],
        )
        .await?;
    let Some(row) = rows.first() else { return Ok(None) };
    let kind = if row.text("kind")? == "mirror" { Kind::Mirror } else { Kind::Customization };
    Ok(Some(Subject { kind, org: row.text("org")?, revision: row.int("revision")?, spec: row.json("spec")? }))
}
