//! The catalog: repositories and tags as last seen (from notifications, polls and builds),
//! and which customizations depend on a repository:tag.

use std::collections::HashMap;

use crate::db::{Db, Dialect, Rows, Value};
use crate::error::Result;
use crate::listings::ListingKind;

#[derive(Debug, Clone, PartialEq)]
pub struct CatalogTag {
    pub repository: String,
    pub tag: String,
    pub digest: Option<String>,
    pub platforms: Vec<String>,
    /// `image`, `chart` or `artifact`; None while no worker has read it.
    pub kind: Option<String>,
    pub updated_at: i64,
}

/// Records that `repository:tag` now points at `digest` (unknown for senders that give
/// none). Returns whether this is news: a new tag, another digest, or an unknown digest.
pub async fn record_push<D: Db>(db: &D, repository: &str, tag: &str, digest: Option<&str>, now: i64) -> Result<bool> {
    let rows = db.exec(RECORD_PUSH, &[repository.into(), tag.into(), digest.into(), now.into()]).await?;
    Ok(!rows.rows.is_empty())
}

/// [`record_push`]'s statement (it runs under the store's write lock on every webhook event):
/// the row is written, and returned, only when this is news.
const RECORD_PUSH: &str = "INSERT INTO catalog (repository, tag, digest, platforms, updated_at) VALUES (?, ?, ?, NULL, ?) \
     ON CONFLICT (repository, tag) DO UPDATE SET digest = excluded.digest, platforms = NULL, kind = NULL, \
     updated_at = excluded.updated_at \
     WHERE catalog.digest IS NULL OR excluded.digest IS NULL OR catalog.digest <> excluded.digest \
     RETURNING tag";

/// Records the digest and platforms of image `repository:tag` as resolved by a worker.
pub async fn record_platforms<D: Db>(
    db: &D,
    repository: &str,
    tag: &str,
    digest: &str,
    platforms: &[String],
    now: i64,
) -> Result<()> {
    record(db, repository, tag, digest, platforms, "image", now).await
}

/// Records that `repository:tag` is a Helm chart (`chart`) or another OCI artifact
/// (`artifact`) at `digest`: no platforms.
pub async fn record_artifact<D: Db>(
    db: &D,
    repository: &str,
    tag: &str,
    digest: &str,
    kind: &str,
    now: i64,
) -> Result<()> {
    record(db, repository, tag, digest, &[], kind, now).await
}

/// `updated_at` is when the tag was last seen to move: reading an unchanged digest again (its
/// platforms, its kind) keeps it. A digest other than the catalog's is not written for a tag
/// something depends on: the catalog's digest is what a push notification or the poll compares
/// with to decide that the tag moved and its dependents must be rebuilt, and a build that read
/// the tag after a push but before its notification must not make that push look like old news.
/// (A tag nothing depends on is only browsed: the latest reading wins.)
async fn record<D: Db>(
    db: &D,
    repository: &str,
    tag: &str,
    digest: &str,
    platforms: &[String],
    kind: &str,
    now: i64,
) -> Result<()> {
    let platforms = serde_json::to_string(platforms).unwrap_or_else(|_| "[]".into());
    db.exec(
        "INSERT INTO catalog (repository, tag, digest, platforms, kind, updated_at) VALUES (?, ?, ?, ?, ?, ?) \
         ON CONFLICT (repository, tag) DO UPDATE SET digest = excluded.digest, platforms = excluded.platforms, \
         kind = excluded.kind, \
         updated_at = CASE WHEN catalog.digest = excluded.digest THEN catalog.updated_at ELSE excluded.updated_at END \
         WHERE catalog.digest IS NULL OR catalog.digest = excluded.digest OR NOT EXISTS (SELECT 1 FROM dependencies d \
           WHERE d.repository = excluded.repository AND (d.tag = excluded.tag OR d.tag = '*'))",
        &[repository.into(), tag.into(), digest.into(), platforms.into(), kind.into(), now.into()],
    )
    .await?;
    Ok(())
}

/// Tags of the repositories in `org`'s namespace, by repository then tag.
pub async fn list_catalog<D: Db>(db: &D, org: &str) -> Result<Vec<CatalogTag>> {
    let prefix = format!("{org}/");
    let rows = db
        .exec(
            "SELECT repository, tag, digest, platforms, kind, updated_at FROM catalog \
             WHERE SUBSTR(repository, 1, LENGTH(?)) = ? ORDER BY repository, tag",
            &[prefix.as_str().into(), prefix.into()],
        )
        .await?;
    rows.iter()
        .map(|r| {
            Ok(CatalogTag {
                repository: r.text("repository")?,
                tag: r.text("tag")?,
                digest: r.opt_text("digest")?,
                platforms: r.opt_text("platforms")?.and_then(|t| serde_json::from_str(&t).ok()).unwrap_or_default(),
                kind: r.opt_text("kind")?,
                updated_at: r.int("updated_at")?,
            })
        })
        .collect()
}

/// Customizations (id) that build from `repository:tag` — and the chart customizations of the
/// repository's charts (tag '*') when `tag` is a version they customize (not one of their
/// own outputs, nor a signature).
pub async fn affected_by<D: Db>(db: &D, repository: &str, tag: &str) -> Result<Vec<String>> {
    Ok(dependents(db, repository, tag).await?.0)
}

/// [`affected_by`] and, read in the same statement (one fewer per push event), the rebuild
/// debounce — the default when nothing is affected (nothing is queued then).
async fn dependents<D: Db>(db: &D, repository: &str, tag: &str) -> Result<(Vec<String>, i64)> {
    let rows = db.exec(&dependents_sql(""), &dependents_params(repository, tag)).await?;
    dependents_of(&rows, tag)
}

/// What a push of `repository:tag` did under the write lock: whether the tag changed
/// ([`record_push`]), and its [`dependents`] with the debounce — one statement on PostgreSQL
/// (the upsert a data-modifying CTE: the dependents do not read the catalog), two on SQLite.
async fn record_push_and_dependents<D: Db>(
    db: &D,
    repository: &str,
    tag: &str,
    digest: Option<&str>,
    now: i64,
) -> Result<(bool, Vec<String>, i64)> {
    if db.dialect() == Dialect::Sqlite {
        let (changed, dependents) =
            crate::join::both(record_push(db, repository, tag, digest, now), dependents(db, repository, tag)).await;
        let (changed, (affected, debounce)) = (changed?, dependents?);
        return Ok((changed, affected, debounce));
    }
    let sql =
        format!("WITH pushed AS ({RECORD_PUSH}) {}", dependents_sql("(SELECT COUNT(*) FROM pushed) AS changed, "));
    let params: Vec<Value> = [repository.into(), tag.into(), digest.into(), now.into()]
        .into_iter()
        .chain(dependents_params(repository, tag))
        .collect();
    let rows = db.exec(&sql, &params).await?;
    let changed = rows.first().map(|r| r.int("changed")).transpose()?.unwrap_or(0) > 0;
    let (affected, debounce) = dependents_of(&rows, tag)?;
    Ok((changed, affected, debounce))
}

/// The dependents of a repository:tag with the debounce setting, `columns` before them: one
/// row at least (an id of NULL when nothing depends on it).
fn dependents_sql(columns: &str) -> String {
    format!(
        "SELECT {columns}(SELECT value FROM settings WHERE name = ?) AS debounce, d.id AS id, d.tag AS tag, \
         d.spec AS spec FROM (SELECT 1 AS one) one LEFT JOIN (SELECT DISTINCT d.customization_id AS id, \
         d.tag AS tag, c.spec AS spec FROM dependencies d LEFT JOIN chart_customizations c ON c.id = d.customization_id \
         WHERE d.repository = ? AND (d.tag = ? OR d.tag = '*')) d ON 1 = 1 ORDER BY d.id"
    )
}

fn dependents_params(repository: &str, tag: &str) -> [Value; 3] {
    [crate::settings::DEBOUNCE.into(), repository.into(), tag.into()]
}

/// The customizations of [`dependents_sql`]'s rows that `tag` affects, and the debounce.
fn dependents_of(rows: &Rows, tag: &str) -> Result<(Vec<String>, i64)> {
    let debounce = crate::settings::debounce_of(rows.first().map(|r| r.opt_text("debounce")).transpose()?.flatten());
    let mut out = Vec::new();
    for r in rows.iter() {
        let Some(id) = r.opt_text("id")? else { continue };
        if r.text("tag")? == "*" {
            let spec = r.opt_text("spec")?.and_then(|s| serde_json::from_str::<tailor_spec::ChartSpec>(&s).ok());
            if !spec.is_some_and(|s| s.customizes_tag(tag)) {
                continue;
            }
        }
        if !out.contains(&id) {
            out.push(id);
        }
    }
    Ok((out, debounce))
}

/// PostgreSQL, a push by someone (not tailor): the coalescing part of the enqueue of every
/// customization that depends on exactly `repository:tag`, and the push's listing request, as
/// one statement that needs no answer from before it — it goes out with the event's and the
/// upsert's statements, so the component waits once under the write lock instead of twice. It
/// acts only when this transaction changed the tag (the catalog row's `xmin` is the
/// transaction's: the upsert wrote it), with the debounce read as [`crate::settings::debounce_of`]
/// reads it (a setting of 19 digits aside: the default) and the time set as
/// [`crate::queue::debounced_time`] sets it. Returns the builds it coalesced into; the dependents
/// it did not (no build queued, or a chart's every-tag dependency) are enqueued after, as on SQLite.
async fn coalesce_pushed<D: Db>(db: &D, repository: &str, tag: &str, now: i64) -> Result<Vec<(String, i64)>> {
    let (listing, listing_params) = crate::listings::listing_request_if(
        repository,
        tag,
        "",
        ListingKind::Platforms,
        now,
        "EXISTS (SELECT 1 FROM changed)",
    );
    let debounced = crate::queue::debounced_time("d.ms", ", debounce d");
    let sql = format!(
        "WITH changed AS (SELECT 1 FROM catalog WHERE repository = ? AND tag = ? AND xmin = pg_current_xact_id()::xid), \
         debounce AS (SELECT COALESCE((SELECT CASE WHEN value ~ '^[+]?[0-9]{{1,18}}$' THEN value::bigint END \
           FROM settings WHERE name = ?), ?::bigint) AS ms), \
         deps AS (SELECT DISTINCT customization_id AS id FROM dependencies WHERE repository = ? AND tag = ? \
           AND EXISTS (SELECT 1 FROM changed)), \
         timed AS (UPDATE requests SET queued_not_before = CASE WHEN (SELECT ms FROM debounce) <= 0 THEN ?::bigint \
           ELSE {debounced} END \
           WHERE customization_id IN (SELECT id FROM deps) AND queued_build IS NOT NULL), \
         listing AS ({listing}) \
         UPDATE builds SET requests = requests + 1 WHERE customization_id IN (SELECT id FROM deps) \
         AND number = (SELECT queued_build FROM requests r WHERE r.customization_id = builds.customization_id) \
         RETURNING customization_id, number"
    );
    let params: Vec<Value> = [
        repository.into(),
        tag.into(),
        crate::settings::DEBOUNCE.into(),
        crate::settings::DEFAULT_DEBOUNCE_MS.into(),
        repository.into(),
        tag.into(),
        now.into(),
        now.into(),
        now.into(),
        now.into(),
        now.into(),
    ]
    .into_iter()
    .chain(listing_params)
    .collect();
    let rows = db.exec(&sql, &params).await?;
    rows.iter().map(|r| Ok((r.text("customization_id")?, r.int("number")?))).collect()
}

/// Every (org, repository, tag) some customization depends on, for the slow poll (the chart
/// sources' "every tag" is not among them: [`crate::chart_sources`]).
pub async fn dependency_tags<D: Db>(db: &D) -> Result<Vec<(String, String, String)>> {
    let rows = db
        .exec(
            "SELECT DISTINCT org, repository, tag FROM ( \
               SELECT c.org AS org, d.repository AS repository, d.tag AS tag FROM dependencies d \
               JOIN customizations c ON c.id = d.customization_id \
               UNION SELECT c.org AS org, d.repository AS repository, d.tag AS tag FROM dependencies d \
               JOIN chart_customizations c ON c.id = d.customization_id) deps \
             WHERE tag <> '' AND tag <> '*' ORDER BY org, repository, tag",
            &[],
        )
        .await?;
    rows.iter().map(|r| Ok((r.text("org")?, r.text("repository")?, r.text("tag")?))).collect()
}

/// What one push notification did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PushOutcome {
    /// The event id was seen before: nothing else was done.
    pub duplicate: bool,
    /// The tag is new or points elsewhere now (or the sender gave no digest).
    pub changed: bool,
    /// (customization id, build number) of the builds the push queued or joined.
    pub builds: Vec<(String, i64)>,
}

/// Records a manifest push of `repository:tag` (event `event_id` from `endpoint`) and, when
/// it changed the tag, enqueues every customization that builds from it — all in one
/// transaction, so a crash cannot record the event and lose the builds. An empty `event_id`
/// (the worker's poll) skips deduplication: the catalog's digest decides.
#[allow(clippy::too_many_arguments)]
pub async fn notify_push<D: Db>(
    db: &D,
    endpoint: &str,
    event_id: &str,
    repository: &str,
    tag: &str,
    digest: Option<&str>,
    now: i64,
) -> Result<PushOutcome> {
    notify(db, endpoint, event_id, repository, tag, digest, now, None).await
}

/// Like [`notify_push`] for a tag tailor itself just moved (a mirror's sync, a build's result):
/// the builds it queues are claimable at once — the move already ended any burst, so no
/// debounce is waited for (a registry notification of the same digest then changes nothing).
pub async fn notify_moved<D: Db>(
    db: &D,
    source: &str,
    repository: &str,
    tag: &str,
    digest: &str,
    now: i64,
) -> Result<PushOutcome> {
    notify(db, source, "", repository, tag, Some(digest), now, Some(0)).await
}

#[allow(clippy::too_many_arguments)]
async fn notify<D: Db>(
    db: &D,
    endpoint: &str,
    event_id: &str,
    repository: &str,
    tag: &str,
    digest: Option<&str>,
    now: i64,
    delay: Option<i64>,
) -> Result<PushOutcome> {
    // The event id is recorded before the write lock: its unique key decides a redelivery.
    // (On PostgreSQL the lock is taken in the same statement, and the statements under it go
    // out with it: `in_tx_staged`.)
    let event = (!event_id.is_empty()).then(|| crate::events::insert_event(endpoint, event_id, now));
    let duplicate = |fresh: usize| (fresh == 0).then(|| PushOutcome { duplicate: true, ..PushOutcome::default() });
    crate::db::in_tx_staged(db, crate::db::Isolation::Exclusive, event, duplicate, async |db| {
        // Under the write lock, on every event: the catalog's upsert and the dependents with
        // the debounce (a host setting). The dependents are read even when the digest did not
        // change; a cheap read, needed then too when tailor moved the tag.
        // On PostgreSQL a push by someone also coalesces, in a statement sent with these, into
        // the builds already queued (`coalesce_pushed`).
        let early = async {
            match (db.dialect(), delay) {
                (Dialect::Postgres, None) => coalesce_pushed(db, repository, tag, now).await.map(Some),
                _ => Ok(None),
            }
        };
        let (pushed, early) =
            crate::join::both(record_push_and_dependents(db, repository, tag, digest, now), early).await;
        let ((changed, affected, setting), early) = (pushed?, early?);
        let debounce = delay.unwrap_or(setting);
        let mut builds = Vec::new();
        if changed {
            if delay.is_none() && early.is_none() {
                // Someone pushed: learn the tag's platforms now, for people picking it as a source
                // (on PostgreSQL `coalesce_pushed` requested it).
                crate::listings::request_listing(db, repository, tag, "", ListingKind::Platforms, now).await?;
            }
            let early: HashMap<String, i64> = early.into_iter().flatten().collect();
            let short = digest.map(|d| format!(" ({})", d.chars().take(19).collect::<String>())).unwrap_or_default();
            let reason = format!("push of {repository}:{tag}{short}");
            for id in affected {
                let number = match early.get(&id) {
                    Some(number) => *number,
                    None => crate::queue::enqueue_in(db, &id, &reason, now, debounce).await?.number,
                };
                builds.push((id, number));
            }
        } else if delay == Some(0) {
            // tailor moved the tag and the registry's notification of it was first (it queued
            // the builds, waiting out the debounce): the move ended the burst, start them now.
            for id in affected {
                db.exec(
                    "UPDATE requests SET queued_not_before = ? WHERE customization_id = ? AND queued_build IS NOT NULL \
                     AND queued_not_before > ?",
                    &[now.into(), id.as_str().into(), now.into()],
                )
                .await?;
            }
        }
        Ok(PushOutcome { duplicate: false, changed, builds })
    })
    .await
}
