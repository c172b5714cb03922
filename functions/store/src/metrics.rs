//! What the store tells /metrics: the queue, builds by status and how long they took, the
//! webhook events remembered for deduplication. One snapshot, read by any process.

use crate::db::{Db, Value};
use crate::error::Result;

/// Build duration buckets, seconds.
pub const BUILD_BUCKETS: &[i64] = &[1, 2, 5, 10, 30, 60, 120, 300, 600, 1800];

#[derive(Debug, Clone, Default)]
pub struct StoreMetrics {
    /// Builds and syncs waiting (queued), of which claimable now, and running.
    pub queued: i64,
    pub claimable: i64,
    pub running: i64,
    /// Milliseconds the oldest claimable request has waited (0 when none).
    pub oldest_claimable_ms: i64,
    /// (status, count) of every recorded build.
    pub builds: Vec<(String, i64)>,
    /// Cumulative counts of finished builds at most [`BUILD_BUCKETS`] seconds long, the count
    /// and the sum in milliseconds.
    pub duration_buckets: Vec<i64>,
    pub duration_count: i64,
    pub duration_sum_ms: i64,
    /// (endpoint, events) remembered for deduplication.
    pub events: Vec<(String, i64)>,
    pub customizations: i64,
    pub mirrors: i64,
    pub charts: i64,
}

async fn count<D: Db>(db: &D, sql: &str) -> Result<i64> {
    Ok(db.exec(sql, &[]).await?.first().map(|r| r.int("n")).transpose()?.unwrap_or(0))
}

pub async fn store_metrics<D: Db>(db: &D, now: i64) -> Result<StoreMetrics> {
    let mut m = StoreMetrics {
        queued: count(db, "SELECT COUNT(queued_build) AS n FROM requests").await?,
        running: count(db, "SELECT COUNT(running_build) AS n FROM requests").await?,
        customizations: count(db, "SELECT COUNT(*) AS n FROM customizations").await?,
        mirrors: count(db, "SELECT COUNT(*) AS n FROM mirrors").await?,
        charts: count(db, "SELECT COUNT(*) AS n FROM chart_customizations").await?,
        ..StoreMetrics::default()
    };
    let claimable = db
        .exec(
            "SELECT COUNT(*) AS n, MIN(requested_at) AS oldest FROM requests \
             WHERE running_build IS NULL AND queued_build IS NOT NULL AND queued_not_before <= ?",
            &[now.into()],
        )
        .await?;
    if let Some(r) = claimable.first() {
        m.claimable = r.int("n")?;
        m.oldest_claimable_ms = r.opt_int("oldest")?.map_or(0, |t| (now - t).max(0));
    }
    for r in db.exec("SELECT status, COUNT(*) AS n FROM builds GROUP BY status ORDER BY status", &[]).await?.iter() {
        m.builds.push((r.text("status")?, r.int("n")?));
    }
    let mut sql =
        String::from("SELECT COUNT(*) AS n, CAST(COALESCE(SUM(finished_at - started_at), 0) AS BIGINT) AS total");
    let mut params = Vec::new();
    for (i, b) in BUILD_BUCKETS.iter().enumerate() {
        sql.push_str(&format!(
            ", CAST(COALESCE(SUM(CASE WHEN finished_at - started_at <= ? THEN 1 ELSE 0 END), 0) AS BIGINT) AS b{i}"
        ));
        params.push(Value::Integer(b * 1000));
    }
    sql.push_str(" FROM builds WHERE started_at IS NOT NULL AND finished_at IS NOT NULL");
    if let Some(r) = db.exec(&sql, &params).await?.first() {
        m.duration_count = r.int("n")?;
        m.duration_sum_ms = r.int("total")?;
        for i in 0..BUILD_BUCKETS.len() {
            m.duration_buckets.push(r.int(&format!("b{i}"))?);
        }
    }
    for r in
        db.exec("SELECT endpoint, COUNT(*) AS n FROM events GROUP BY endpoint ORDER BY endpoint", &[]).await?.iter()
    {
        m.events.push((r.text("endpoint")?, r.int("n")?));
    }
    Ok(m)
}
