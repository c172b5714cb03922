//! The build-request queue: at most one row per customization, holding at most one queued
//! build and one running build. Requests made while a build is queued coalesce into it; a
//! request made while a build runs queues exactly one more. Workers claim with a lease that
//! they renew; an expired lease (a crashed worker) makes the build claimable again, and after
//! `max_attempts` claims the build fails.

use serde_json::Value as Json;

use crate::builds::{Build, BuildStatus};
use crate::db::{Db, Dialect, Isolation, Value, in_tx, in_tx_isolated};
use crate::error::{Result, StoreError};
use crate::subject::Kind;

async fn build_row<D: Db>(db: &D, id: &str, number: i64) -> Result<Build> {
    crate::builds::get_build(db, id, number)
        .await?
        .ok_or_else(|| StoreError::Corrupt(format!("build {id}#{number} missing")))
}

/// When a queued build becomes claimable after a push that waits `delay` ms for quiet (an SQL
/// expression; `from` adds the tables it reads): the latest of its time so far and
/// min(now + delay, queued + 10 × delay). Its parameters: `now` four times.
pub(crate) fn debounced_time(delay: &str, from: &str) -> String {
    let latest = format!(
        "(SELECT CASE WHEN ? + {delay} < b.created_at + 10 * {delay} THEN ? + {delay} ELSE b.created_at + 10 * {delay} \
         END FROM builds b{from} WHERE b.customization_id = requests.customization_id \
         AND b.number = requests.queued_build)"
    );
    format!("CASE WHEN queued_not_before > {latest} THEN queued_not_before ELSE {latest} END")
}

/// Enqueues a build of `customization_id` (inside the caller's transaction). A request with
/// `delay_ms` > 0 (pushes) waits for quiet: the queued build becomes claimable `delay_ms` after
/// the latest such request, but no later than `10 × delay_ms` after the build was queued, so a
/// burst of pushes becomes one build. A request without delay (people) makes it claimable now.
pub(crate) async fn enqueue_in<D: Db>(db: &D, id: &str, reason: &str, now: i64, delay_ms: i64) -> Result<Build> {
    // Coalesced into the queued build, if there is one: counted, and the build as it is now;
    // alongside (under the write lock on every push), the request's time: a request without
    // delay makes the build claimable now; a push waits for quiet, but no longer than 10 × the
    // delay after the build was queued (never earlier than before). Both change nothing when
    // no build is queued.
    let count_sql = format!(
        "UPDATE builds SET requests = requests + 1 WHERE customization_id = ? \
         AND number = (SELECT queued_build FROM requests WHERE customization_id = ?) RETURNING {}",
        crate::builds::BUILD_COLUMNS
    );
    let count_params = [id.into(), id.into()];
    let (sql, params): (String, Vec<Value>) = if delay_ms <= 0 {
        (
            "UPDATE requests SET queued_not_before = ? WHERE customization_id = ? AND queued_build IS NOT NULL".into(),
            vec![now.into(), id.into()],
        )
    } else {
        let sql = format!(
            "UPDATE requests SET queued_not_before = {} WHERE customization_id = ? AND queued_build IS NOT NULL",
            debounced_time(&format!("CAST({delay_ms} AS BIGINT)"), "")
        );
        (sql, vec![now.into(), now.into(), now.into(), now.into(), id.into()])
    };
    let coalesced = if db.dialect() == Dialect::Postgres {
        // One statement: the request's time as a data-modifying CTE of the count (both see one
        // snapshot; neither reads a column the other writes).
        let all = params.into_iter().chain(count_params).collect::<Vec<_>>();
        db.exec(&format!("WITH timed AS ({sql}) {count_sql}"), &all).await?
    } else {
        let (coalesced, timed) = crate::join::both(db.exec(&count_sql, &count_params), db.exec(&sql, &params)).await;
        timed?;
        coalesced?
    };
    if let Some(row) = coalesced.first() {
        return crate::builds::build_from(&row);
    }
    let subject = crate::subject::find(db, id).await?.ok_or_else(|| StoreError::Corrupt(format!("{id} missing")))?;
    let (org, revision) = (subject.org, subject.revision);
    let next = db
        .exec("SELECT COALESCE(MAX(number), 0) + 1 AS next FROM builds WHERE customization_id = ?", &[id.into()])
        .await?;
    let number = next.first().map(|r| r.int("next")).transpose()?.unwrap_or(1);
    let build = crate::builds::returning_build(
        db,
        "INSERT INTO builds (customization_id, number, status, reason, revision, created_at) \
         VALUES (?, ?, 'queued', ?, ?, ?) RETURNING",
        &[id.into(), number.into(), reason.into(), revision.into(), now.into()],
    )
    .await?;
    let not_before = now + delay_ms.max(0);
    if db.dialect() == Dialect::Postgres {
        // Wakes listening workers when the transaction commits (DESIGN.md §12).
        db.exec("SELECT pg_notify(?, '')", &[crate::QUEUE_CHANNEL_NAME.into()]).await?;
    }
    // The customization's request row, new or holding a running build (its org never changes).
    db.exec(
        "INSERT INTO requests (customization_id, org, queued_build, queued_not_before, requested_at) \
         VALUES (?, ?, ?, ?, ?) ON CONFLICT (customization_id) DO UPDATE SET queued_build = excluded.queued_build, \
         queued_not_before = excluded.queued_not_before, requested_at = excluded.requested_at",
        &[id.into(), org.into(), number.into(), not_before.into(), now.into()],
    )
    .await?;
    Ok(build)
}

/// Enqueues a run of `customization_id` (a customization's build, a mirror's sync) for
/// `reason`; returns the queued run (an existing one when the request coalesced), or `None`
/// when there is no such customization or mirror.
pub async fn enqueue<D: Db>(db: &D, customization_id: &str, reason: &str, now: i64) -> Result<Option<Build>> {
    in_tx(db, async |db| {
        if crate::subject::find(db, customization_id).await?.is_none() {
            return Ok(None);
        }
        enqueue_in(db, customization_id, reason, now, 0).await.map(Some)
    })
    .await
}

/// A claimed build.
#[derive(Debug, Clone)]
pub struct Claim {
    /// What to run: a customization's build or a mirror's sync.
    pub kind: Kind,
    /// The customization's (or mirror's) id.
    pub customization_id: String,
    pub org: String,
    pub build: i64,
    /// 1 for the first attempt.
    pub attempt: i64,
    pub revision: i64,
    /// The customization's spec (JSON form of the model), or the mirror's.
    pub spec: Json,
    /// Fingerprint of the last build that produced (or confirmed) the current result.
    pub last_fingerprint: Option<String>,
}

/// Claims the oldest claimable build for `owner` until `now + lease_ms`. Builds whose
/// lease expired `max_attempts` times are failed on the way.
pub async fn claim<D: Db>(db: &D, owner: &str, now: i64, lease_ms: i64, max_attempts: i64) -> Result<Option<Claim>> {
    // PostgreSQL: concurrent claimers skip each other's rows instead of waiting for them.
    let select = format!(
        "SELECT customization_id, org, queued_build, running_build FROM requests \
         WHERE (running_build IS NULL AND queued_build IS NOT NULL AND queued_not_before <= ?) \
            OR (running_build IS NOT NULL AND (lease_until IS NULL OR lease_until < ?) AND not_before <= ?) \
         ORDER BY requested_at, customization_id LIMIT 1{}",
        if db.dialect() == Dialect::Postgres { " FOR UPDATE SKIP LOCKED" } else { "" }
    );
    loop {
        // Claims run alongside each other (never alongside a writer), each on the row it locked.
        let step = in_tx_isolated(db, Isolation::Claim, async |db| {
            let rows = db.exec(&select, &[now.into(), now.into(), now.into()]).await?;
            let Some(row) = rows.first() else { return Ok(None) };
            let id = row.text("customization_id")?;
            let org = row.text("org")?;
            let build = match row.opt_int("running_build")? {
                Some(running) => running,
                None => {
                    let queued = row.int("queued_build")?;
                    db.exec(
                        "UPDATE requests SET running_build = ?, queued_build = NULL WHERE customization_id = ?",
                        &[queued.into(), id.as_str().into()],
                    )
                    .await?;
                    queued
                }
            };
            let b = build_row(db, &id, build).await?;
            if b.attempts >= max_attempts {
                let error = format!(
                    "gave up after {} attempts{}",
                    b.attempts,
                    b.error.as_deref().map(|e| format!("; last error: {e}")).unwrap_or_default()
                );
                finish_in(db, &id, build, BuildStatus::Failed, &Outcome::failed(error), "", now).await?;
                return Ok(Some(None));
            }
            let subject =
                crate::subject::find(db, &id).await?.ok_or_else(|| StoreError::Corrupt(format!("{id} missing")))?;
            let (kind, revision, spec) = (subject.kind, subject.revision, subject.spec);
            db.exec(
                "UPDATE requests SET lease_owner = ?, lease_until = ?, not_before = 0 WHERE customization_id = ?",
                &[owner.into(), (now + lease_ms).into(), id.as_str().into()],
            )
            .await?;
            db.exec(
                "UPDATE builds SET status = 'running', attempts = attempts + 1, revision = ?, \
                 started_at = COALESCE(started_at, ?) WHERE customization_id = ? AND number = ?",
                &[revision.into(), now.into(), id.as_str().into(), build.into()],
            )
            .await?;
            let last = db
                .exec(
                    "SELECT fingerprint FROM builds WHERE customization_id = ? AND status IN ('succeeded', 'skipped') \
                     AND fingerprint IS NOT NULL ORDER BY number DESC LIMIT 1",
                    &[id.as_str().into()],
                )
                .await?;
            let last_fingerprint = last.first().map(|r| r.text("fingerprint")).transpose()?;
            Ok(Some(Some(Claim {
                kind,
                customization_id: id,
                org,
                build,
                attempt: b.attempts + 1,
                revision,
                spec,
                last_fingerprint,
            })))
        })
        .await?;
        match step {
            None => return Ok(None),
            Some(Some(claim)) => return Ok(Some(claim)),
            Some(None) => continue,
        }
    }
}

async fn owns<D: Db>(db: &D, id: &str, build: i64, owner: &str) -> Result<bool> {
    let rows = db
        .exec(
            "SELECT customization_id FROM requests WHERE customization_id = ? AND running_build = ? AND lease_owner = ?",
            &[id.into(), build.into(), owner.into()],
        )
        .await?;
    Ok(!rows.rows.is_empty())
}

/// Renews the lease and appends `log`; `false` when the lease is no longer `owner`'s (it
/// expired and another worker took the build, or the customization was deleted).
pub async fn heartbeat<D: Db>(
    db: &D,
    id: &str,
    build: i64,
    owner: &str,
    log: &str,
    now: i64,
    lease_ms: i64,
) -> Result<bool> {
    in_tx(db, async |db| {
        if !owns(db, id, build, owner).await? {
            return Ok(false);
        }
        db.exec(
            "UPDATE requests SET lease_until = ? WHERE customization_id = ?",
            &[(now + lease_ms).into(), id.into()],
        )
        .await?;
        if !log.is_empty() {
            db.exec(
                "UPDATE builds SET log = log || ? WHERE customization_id = ? AND number = ?",
                &[log.into(), id.into(), build.into()],
            )
            .await?;
        }
        Ok(true)
    })
    .await
}

/// How a build ended.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    pub fingerprint: Option<String>,
    pub inputs: Option<Json>,
    pub outputs: Option<Json>,
    pub error: Option<String>,
    /// The org's extensions that ran: verdicts, findings, fuel.
    pub extensions: Option<Json>,
}

impl Outcome {
    pub fn failed(error: impl Into<String>) -> Outcome {
        Outcome { error: Some(error.into()), ..Outcome::default() }
    }
}

fn json_text(v: &Option<Json>) -> Value {
    v.as_ref().map_or(Value::Null, |j| Value::Text(j.to_string()))
}

async fn finish_in<D: Db>(
    db: &D,
    id: &str,
    build: i64,
    status: BuildStatus,
    outcome: &Outcome,
    log: &str,
    now: i64,
) -> Result<()> {
    db.exec(
        "UPDATE builds SET status = ?, finished_at = ?, fingerprint = ?, inputs = ?, outputs = ?, error = ?, \
         extensions = ?, log = log || ? WHERE customization_id = ? AND number = ?",
        &[
            status.as_str().into(),
            now.into(),
            outcome.fingerprint.clone().into(),
            json_text(&outcome.inputs),
            json_text(&outcome.outputs),
            outcome.error.clone().into(),
            json_text(&outcome.extensions),
            log.into(),
            id.into(),
            build.into(),
        ],
    )
    .await?;
    let r = db.exec("SELECT queued_build FROM requests WHERE customization_id = ?", &[id.into()]).await?;
    match r.first().map(|r| r.opt_int("queued_build")).transpose()?.flatten() {
        None => {
            db.exec("DELETE FROM requests WHERE customization_id = ?", &[id.into()]).await?;
        }
        Some(_) => {
            db.exec(
                "UPDATE requests SET running_build = NULL, lease_owner = NULL, lease_until = NULL, not_before = 0 \
                 WHERE customization_id = ?",
                &[id.into()],
            )
            .await?;
        }
    }
    Ok(())
}

/// Records the end of `owner`'s build (`status` succeeded, failed or skipped). `false` when
/// the lease was lost: nothing is recorded then.
#[allow(clippy::too_many_arguments)]
pub async fn finish<D: Db>(
    db: &D,
    id: &str,
    build: i64,
    owner: &str,
    status: BuildStatus,
    outcome: &Outcome,
    log: &str,
    now: i64,
) -> Result<bool> {
    in_tx(db, async |db| {
        if !owns(db, id, build, owner).await? {
            return Ok(false);
        }
        finish_in(db, id, build, status, outcome, log, now).await?;
        Ok(true)
    })
    .await
}

/// Gives the build back after a failed attempt, to be claimed again after `now + delay_ms`.
#[allow(clippy::too_many_arguments)]
pub async fn retry_later<D: Db>(
    db: &D,
    id: &str,
    build: i64,
    owner: &str,
    error: &str,
    log: &str,
    now: i64,
    delay_ms: i64,
) -> Result<bool> {
    in_tx(db, async |db| {
        if !owns(db, id, build, owner).await? {
            return Ok(false);
        }
        db.exec(
            "UPDATE requests SET lease_owner = NULL, lease_until = NULL, not_before = ? WHERE customization_id = ?",
            &[(now + delay_ms).into(), id.into()],
        )
        .await?;
        db.exec(
            "UPDATE builds SET status = 'queued', error = ?, log = log || ? WHERE customization_id = ? AND number = ?",
            &[error.into(), log.into(), id.into(), build.into()],
        )
        .await?;
        Ok(true)
    })
    .await
}

/// Releases every lease held by `owner`: its running builds become claimable at once. On a
/// graceful shutdown (`interrupted`) the attempt does not count; after a crash it does, so a
/// build that kills its worker every time still ends as failed.
pub async fn release_owner<D: Db>(db: &D, owner: &str, note: &str, interrupted: bool) -> Result<u64> {
    in_tx(db, async |db| {
        let rows = db
            .exec("SELECT customization_id, running_build FROM requests WHERE lease_owner = ?", &[owner.into()])
            .await?;
        let mut n = 0;
        for r in rows.iter() {
            let (id, build) = (r.text("customization_id")?, r.opt_int("running_build")?);
            db.exec(
                "UPDATE requests SET lease_owner = NULL, lease_until = NULL WHERE customization_id = ?",
                &[id.as_str().into()],
            )
            .await?;
            if let Some(build) = build {
                db.exec(
                    "UPDATE builds SET status = 'queued', log = log || ?, attempts = attempts - ? \
                     WHERE customization_id = ? AND number = ?",
                    &[note.into(), i64::from(interrupted).into(), id.as_str().into(), build.into()],
                )
                .await?;
            }
            n += 1;
        }
        Ok(n)
    })
    .await
}

/// Every worker that holds a lease now (to find leases of dead workers at startup).
pub async fn lease_owners<D: Db>(db: &D) -> Result<Vec<String>> {
    let rows = db
        .exec("SELECT DISTINCT lease_owner FROM requests WHERE lease_owner IS NOT NULL ORDER BY lease_owner", &[])
        .await?;
    rows.iter().map(|r| r.text("lease_owner")).collect()
}
