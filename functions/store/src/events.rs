//! Webhook event ids, for deduplication of redelivered notifications.

use crate::db::{Db, Unlocked};
use crate::error::Result;

/// Records event `id` from `endpoint`; `false` when it was seen before (a redelivery).
pub async fn record_event<D: Db>(db: &D, endpoint: &str, id: &str, now: i64) -> Result<bool> {
    let insert = insert_event(endpoint, id, now);
    let rows = db.exec(insert.sql, &insert.params).await?;
    Ok(!rows.rows.is_empty())
}

/// The statement that records event `id` from `endpoint`: it returns a row when the event is
/// new, none for a redelivery.
pub(crate) fn insert_event(endpoint: &str, id: &str, now: i64) -> Unlocked<'static> {
    Unlocked {
        sql: "INSERT INTO events (id, endpoint, received_at) VALUES (?, ?, ?) ON CONFLICT (id) DO NOTHING RETURNING id",
        params: vec![format!("{endpoint}/{id}").into(), endpoint.into(), now.into()],
    }
}

/// Forgets event ids received before `before` (redeliveries come within minutes).
pub async fn prune_events<D: Db>(db: &D, before: i64) -> Result<()> {
    db.exec("DELETE FROM events WHERE received_at < ?", &[before.into()]).await?;
    Ok(())
}
