//! What the queue runs: a customization's build, a mirror's sync or a chart customization's
//! build. All are rows of `requests` and `builds` keyed by their id (unique across the
//! three: `cus_…`, `mir_…`, `chc_…`).

use serde_json::Value as Json;

use crate::db::Db;
use crate::error::Result;

/// The kind of thing a queued run belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Customization,
    Mirror,
    Chart,
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
             UNION ALL SELECT 'mirror' AS kind, org, revision, spec FROM mirrors WHERE id = ? \
             UNION ALL SELECT 'chart' AS kind, org, revision, spec FROM chart_customizations WHERE id = ?",
            &[id.into(), id.into(), id.into()],
        )
        .await?;
    let Some(row) = rows.first() else { return Ok(None) };
    let kind = match row.text("kind")?.as_str() {
        "mirror" => Kind::Mirror,
        "chart" => Kind::Chart,
        _ => Kind::Customization,
    };
    Ok(Some(Subject { kind, org: row.text("org")?, revision: row.int("revision")?, spec: row.json("spec")? }))
}
