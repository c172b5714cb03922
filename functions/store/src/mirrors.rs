//! Mirrors per org (DESIGN.md §9): the spec with a revision, the destination (unique: one
//! mirror per destination), when to poll next, and the latest outcome per tag. Syncs are
//! runs of the queue (`requests`/`builds`, keyed by the mirror id); creating a mirror queues
//! its first sync in the same transaction.

use serde_json::Value as Json;
use tailor_spec::MirrorSpec;

use crate::builds::Build;
use crate::db::{Db, Row, Value, in_tx};
use crate::error::{Result, StoreError};
use crate::queue::enqueue_in;

#[derive(Debug, Clone, PartialEq)]
pub struct Mirror {
    pub id: String,
    pub org: String,
    /// `HOST/REPOSITORY` upstream.
    pub source_host: String,
    pub source_repository: String,
    pub destination: String,
    pub revision: i64,
    /// The stored spec (JSON of [`MirrorSpec`], destination filled in).
    pub spec: Json,
    pub poll_interval_ms: i64,
    pub next_check: i64,
    pub last_checked: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Mirror {
    pub fn source(&self) -> String {
        format!("{}/{}", self.source_host, self.source_repository)
    }

    /// The stored spec, parsed.
    pub fn parsed(&self) -> Result<MirrorSpec> {
        serde_json::from_value(self.spec.clone()).map_err(|e| StoreError::Corrupt(format!("mirror {}: {e}", self.id)))
    }
}

const COLUMNS: &str = "id, org, source_host, source_repository, destination, revision, spec, poll_interval_ms, \
     next_check, last_checked, created_at, updated_at";

fn from_row(row: &Row) -> Result<Mirror> {
    Ok(Mirror {
        id: row.text("id")?,
        org: row.text("org")?,
        source_host: row.text("source_host")?,
        source_repository: row.text("source_repository")?,
        destination: row.text("destination")?,
        revision: row.int("revision")?,
        spec: row.json("spec")?,
        poll_interval_ms: row.int("poll_interval_ms")?,
        next_check: row.int("next_check")?,
        last_checked: row.opt_int("last_checked")?,
        created_at: row.int("created_at")?,
        updated_at: row.int("updated_at")?,
    })
}

/// What the columns hold for a validated, normalized spec.
struct Columns {
    host: String,
    repository: String,
    destination: String,
    spec: String,
    poll_ms: i64,
}

fn columns(spec: &MirrorSpec) -> Result<Columns> {
    let source =
        spec.source_ref().ok_or_else(|| StoreError::Db(format!("mirror source {} is invalid", spec.source)))?;
    let destination =
        spec.destination.clone().ok_or_else(|| StoreError::Db("mirror spec without destination".into()))?;
    Ok(Columns {
        host: source.registry.clone().unwrap_or_default(),
        repository: source.repository,
        destination,
        spec: serde_json::to_string(spec).map_err(|e| StoreError::Db(format!("mirror spec to JSON: {e}")))?,
        poll_ms: (spec.poll_interval_s as i64).saturating_mul(1000),
    })
}

async fn fetch<D: Db>(db: &D, org: &str, id: &str) -> Result<Option<Mirror>> {
    let rows =
        db.exec(&format!("SELECT {COLUMNS} FROM mirrors WHERE org = ? AND id = ?"), &[org.into(), id.into()]).await?;
    rows.first().map(|r| from_row(&r)).transpose()
}

/// Refuses a second mirror to `destination` (other than `except`), naming the existing one.
async fn check_destination<D: Db>(db: &D, destination: &str, except: &str) -> Result<()> {
    let rows = db
        .exec("SELECT id FROM mirrors WHERE destination = ? AND id <> ?", &[destination.into(), except.into()])
        .await?;
    match rows.first() {
        Some(r) => Err(StoreError::Exists { what: format!("a mirror to {destination}"), id: r.text("id")? }),
        None => Ok(()),
    }
}

/// Creates mirror `id` of `org` from a validated spec (destination filled in) and queues its
/// first sync. [`StoreError::Exists`] when another mirror has the destination.
pub async fn create_mirror<D: Db>(db: &D, org: &str, id: &str, spec: &MirrorSpec, now: i64) -> Result<(Mirror, Build)> {
    let c = columns(spec)?;
    in_tx(db, async |db| {
        check_destination(db, &c.destination, id).await?;
        db.exec(
            &format!("INSERT INTO mirrors ({COLUMNS}) VALUES (?, ?, ?, ?, ?, 1, ?, ?, ?, NULL, ?, ?)"),
            &[
                id.into(),
                org.into(),
                c.host.as_str().into(),
                c.repository.as_str().into(),
                c.destination.as_str().into(),
                c.spec.as_str().into(),
                c.poll_ms.into(),
                now.saturating_add(c.poll_ms).into(),
                now.into(),
                now.into(),
            ],
        )
        .await?;
        let sync = enqueue_in(db, id, "created", now, 0).await?;
        let m = fetch(db, org, id).await?.ok_or_else(|| StoreError::Db("mirror vanished".into()))?;
        Ok((m, sync))
    })
    .await
}

pub async fn get_mirror<D: Db>(db: &D, org: &str, id: &str) -> Result<Option<Mirror>> {
    fetch(db, org, id).await
}

/// The mirror whose destination is `repository`, if any.
pub async fn mirror_of_destination<D: Db>(db: &D, repository: &str) -> Result<Option<Mirror>> {
    let rows = db.exec(&format!("SELECT {COLUMNS} FROM mirrors WHERE destination = ?"), &[repository.into()]).await?;
    rows.first().map(|r| from_row(&r)).transpose()
}

/// Mirrors of `org`, oldest first.
pub async fn list_mirrors<D: Db>(db: &D, org: &str) -> Result<Vec<Mirror>> {
    let rows =
        db.exec(&format!("SELECT {COLUMNS} FROM mirrors WHERE org = ? ORDER BY created_at, id"), &[org.into()]).await?;
    rows.iter().map(|r| from_row(&r)).collect()
}

/// Mirrors (of every org) of the upstream repository `host/repository`: a push there syncs them.
pub async fn mirrors_of_source<D: Db>(db: &D, host: &str, repository: &str) -> Result<Vec<Mirror>> {
    let rows = db
        .exec(
            &format!("SELECT {COLUMNS} FROM mirrors WHERE source_host = ? AND source_repository = ? ORDER BY id"),
            &[host.into(), repository.into()],
        )
        .await?;
    rows.iter().map(|r| from_row(&r)).collect()
}

/// Replaces the spec (revision + 1; the next poll is counted from now). `None` when there is no
/// such mirror; [`StoreError::Conflict`] when `if_match` is not the current revision. Editing
/// queues nothing: "sync now" does.
pub async fn replace_mirror<D: Db>(
    db: &D,
    org: &str,
    id: &str,
    spec: &MirrorSpec,
    if_match: Option<i64>,
    now: i64,
) -> Result<Option<Mirror>> {
    let c = columns(spec)?;
    in_tx(db, async |db| {
        let Some(current) = fetch(db, org, id).await? else { return Ok(None) };
        if let Some(given) = if_match.filter(|g| *g != current.revision) {
            return Err(StoreError::Conflict { given, current: current.revision });
        }
        check_destination(db, &c.destination, id).await?;
        db.exec(
            "UPDATE mirrors SET source_host = ?, source_repository = ?, destination = ?, revision = ?, spec = ?, \
             poll_interval_ms = ?, next_check = ?, updated_at = ? WHERE id = ? AND revision = ?",
            &[
                c.host.as_str().into(),
                c.repository.as_str().into(),
                c.destination.as_str().into(),
                (current.revision + 1).into(),
                c.spec.as_str().into(),
                c.poll_ms.into(),
                now.saturating_add(c.poll_ms).into(),
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

/// Deletes the mirror, its pending syncs, their records and its tag states (nothing in any
/// registry). `false` when there is no such mirror.
pub async fn delete_mirror<D: Db>(db: &D, org: &str, id: &str, if_match: Option<i64>) -> Result<bool> {
    in_tx(db, async |db| {
        let Some(current) = fetch(db, org, id).await? else { return Ok(false) };
        if let Some(given) = if_match.filter(|g| *g != current.revision) {
            return Err(StoreError::Conflict { given, current: current.revision });
        }
        db.exec("DELETE FROM requests WHERE customization_id = ?", &[id.into()]).await?;
        db.exec("DELETE FROM builds WHERE customization_id = ?", &[id.into()]).await?;
        db.exec("DELETE FROM mirror_tags WHERE mirror_id = ?", &[id.into()]).await?;
        db.exec("DELETE FROM mirrors WHERE id = ?", &[id.into()]).await?;
        Ok(true)
    })
    .await
}

/// Queues a sync of `mirror` after `delay_ms` of quiet (a push) or now (people), coalescing
/// with a queued one. `None` when the mirror is gone.
pub async fn queue_sync<D: Db>(db: &D, id: &str, reason: &str, now: i64, delay_ms: i64) -> Result<Option<Build>> {
    in_tx(db, async |db| {
        let exists = db.exec("SELECT id FROM mirrors WHERE id = ?", &[id.into()]).await?;
        if exists.rows.is_empty() {
            return Ok(None);
        }
        enqueue_in(db, id, reason, now, delay_ms).await.map(Some)
    })
    .await
}

/// Mirrors whose poll is due at `now` (at most `limit`), each claimed for this caller: its next
/// poll is moved one interval ahead, so another worker does not poll it too.
pub async fn claim_due_mirrors<D: Db>(db: &D, now: i64, limit: i64) -> Result<Vec<Mirror>> {
    in_tx(db, async |db| {
        let rows = db
            .exec(
                &format!(
                    "SELECT {COLUMNS} FROM mirrors WHERE poll_interval_ms > 0 AND next_check <= ? \
                     ORDER BY next_check, id LIMIT ?"
                ),
                &[now.into(), limit.into()],
            )
            .await?;
        let due: Vec<Mirror> = rows.iter().map(|r| from_row(&r)).collect::<Result<_>>()?;
        for m in &due {
            db.exec(
                "UPDATE mirrors SET next_check = ?, last_checked = ? WHERE id = ?",
                &[now.saturating_add(m.poll_interval_ms).into(), now.into(), m.id.as_str().into()],
            )
            .await?;
        }
        Ok(due)
    })
    .await
}

/// The outcome of one tag in a sync.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MirrorTag {
    pub tag: String,
    /// The upstream digest the sync saw.
    pub digest: Option<String>,
    /// `copied`, `unchanged`, `refused` or `failed`.
    pub action: String,
    pub reason: Option<String>,
    /// For a refusal: what it was based on (the digest of the upstream signature tag, if any),
    /// so a poll asks again only when that moved.
    pub evidence: Option<String>,
    pub updated_at: i64,
}

/// Records the latest outcome of each tag a sync of `mirror_id` looked at; the sync also counts
/// as a poll (the next one is an interval from now).
pub async fn record_mirror_tags<D: Db>(db: &D, mirror_id: &str, tags: &[MirrorTag], now: i64) -> Result<()> {
    in_tx(db, async |db| {
        for t in tags {
            db.exec(
                "INSERT INTO mirror_tags (mirror_id, tag, digest, action, reason, evidence, updated_at) \
                 VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (mirror_id, tag) DO UPDATE SET digest = excluded.digest, \
                 action = excluded.action, reason = excluded.reason, evidence = excluded.evidence, \
                 updated_at = excluded.updated_at",
                &[
                    mirror_id.into(),
                    t.tag.as_str().into(),
                    t.digest.clone().into(),
                    t.action.as_str().into(),
                    t.reason.clone().into(),
                    t.evidence.clone().into(),
                    t.updated_at.into(),
                ],
            )
            .await?;
        }
        db.exec(
            "UPDATE mirrors SET last_checked = ?, next_check = ? + poll_interval_ms WHERE id = ?",
            &[now.into(), now.into(), mirror_id.into()],
        )
        .await?;
        Ok(())
    })
    .await
}

/// The latest outcome of each tag of `mirror_id`, by tag.
pub async fn mirror_tags<D: Db>(db: &D, mirror_id: &str) -> Result<Vec<MirrorTag>> {
    let rows = db
        .exec(
            "SELECT tag, digest, action, reason, evidence, updated_at FROM mirror_tags WHERE mirror_id = ? ORDER BY tag",
            &[mirror_id.into()],
        )
        .await?;
    rows.iter()
        .map(|r| {
            Ok(MirrorTag {
                tag: r.text("tag")?,
                digest: r.opt_text("digest")?,
                action: r.text("action")?,
                reason: r.opt_text("reason")?,
                evidence: r.opt_text("evidence")?,
                updated_at: r.int("updated_at")?,
            })
        })
        .collect()
}

/// The newest sync of `mirror_id` that ended, if any.
pub async fn last_sync<D: Db>(db: &D, mirror_id: &str) -> Result<Option<Build>> {
    let rows = db
        .exec(
            &format!(
                "SELECT {} FROM builds WHERE customization_id = ? AND finished_at IS NOT NULL \
                 ORDER BY number DESC LIMIT 1",
                crate::builds::BUILD_COLUMNS
            ),
            &[mirror_id.into()],
        )
        .await?;
    rows.first().map(|r| crate::builds::build_from(&r)).transpose()
}

/// Every org the store knows (from tokens, customizations and mirrors): a mirror whose source
/// is on the org registry itself must not read another org's namespace.
pub async fn known_orgs<D: Db>(db: &D) -> Result<Vec<String>> {
    let rows = db
        .exec(
            "SELECT org FROM tokens UNION SELECT org FROM customizations UNION SELECT org FROM mirrors \
             UNION SELECT org FROM chart_customizations ORDER BY org",
            &[],
        )
        .await?;
    rows.iter().map(|r| r.text("org")).collect()
}

/// What one upstream push notification did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UpstreamPush {
    /// The event id was seen before: nothing else was done.
    pub duplicate: bool,
    /// (mirror id, sync number) of the syncs the push queued or joined.
    pub syncs: Vec<(String, i64)>,
}

/// Records a push of `repository:tag` on upstream `host` (event `event_id` from `endpoint`)
/// and queues, after the debounce, a sync of every mirror that copies it — of any org: they
/// all mirror that upstream. An `attachment` (a signature pushed after its image) concerns
/// every mirror of the repository. One transaction, like [`crate::notify_push`].
#[allow(clippy::too_many_arguments)]
pub async fn notify_upstream_push<D: Db>(
    db: &D,
    endpoint: &str,
    event_id: &str,
    host: &str,
    repository: &str,
    tag: &str,
    attachment: bool,
    now: i64,
) -> Result<UpstreamPush> {
    in_tx(db, async |db| {
        if !event_id.is_empty() && !crate::events::record_event(db, endpoint, event_id, now).await? {
            return Ok(UpstreamPush { duplicate: true, ..UpstreamPush::default() });
        }
        let debounce = crate::settings::debounce_ms(db).await?;
        let mut syncs = Vec::new();
        for m in mirrors_of_source(db, host, repository).await? {
            if !attachment && !m.parsed()?.copies_tag(tag) {
                continue;
            }
            let reason = format!("push of {host}/{repository}:{tag}");
            let sync = enqueue_in(db, &m.id, &reason, now, debounce).await?;
            syncs.push((m.id, sync.number));
        }
        Ok(UpstreamPush { duplicate: false, syncs })
    })
    .await
}
