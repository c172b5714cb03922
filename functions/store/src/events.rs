//! Webhook event ids, for deduplication of redelivered notifications.

use crate::db::Db;
use crate::error::Result;

/// Records event `id` from `endpoint`; `false` when it was seen before (a redelivery).
pub async fn record_event<D: Db>(db: &D, endpoint: &str, id: &str, now: i64) -> Result<bool> {
    let rows = db
        .exec(
            "INSERT INTO events (id, endpoint, received_at) VALUES (?, ?, ?) ON CONFLICT (id) DO NOTHING RETURNING id",
            &[format!("{endpoint}/{id}").into(), endpoint.into(), now.into()],
        )
        .await?;
    Ok(!rows.rows.is_empty())
}

/// Forgets event ids received before `before` (redeliveries come within minutes).
pub async fn prune_events<D: Db>(db: &D, before: i64) -> Result<()> {
    db.exec("DELETE FROM events WHERE received_at < ?", &[before.into()]).await?;
    Ok(())
}
