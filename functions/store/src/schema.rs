//! The schema, as numbered migrations applied in order inside one transaction each.
//! A migration is never edited once released: a change is a new migration.

use crate::db::{Db, Dialect, Value, in_tx};
use crate::error::{Result, StoreError};

/// Migrations, the first being version 1.
const MIGRATIONS: &[&[&str]] = &[
    &[
        "CREATE TABLE tokens (
        hash TEXT PRIMARY KEY,
        org TEXT NOT NULL,
        role TEXT NOT NULL,
        name TEXT NOT NULL,
        created_at BIGINT NOT NULL)",
        "CREATE TABLE customizations (
        id TEXT PRIMARY KEY,
        org TEXT NOT NULL,
        name TEXT NOT NULL,
        source_repository TEXT NOT NULL,
        revision BIGINT NOT NULL,
        spec TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL)",
        "CREATE INDEX customizations_org ON customizations (org, source_repository)",
        // What a customization is built from (source and artifacts), for webhook fan-out.
        "CREATE TABLE dependencies (
        customization_id TEXT NOT NULL,
        repository TEXT NOT NULL,
        tag TEXT NOT NULL,
        role TEXT NOT NULL,
        PRIMARY KEY (customization_id, repository, tag, role))",
        "CREATE INDEX dependencies_tag ON dependencies (repository, tag)",
        "CREATE TABLE builds (
        customization_id TEXT NOT NULL,
        number BIGINT NOT NULL,
        status TEXT NOT NULL,
        reason TEXT NOT NULL,
        revision BIGINT NOT NULL,
        created_at BIGINT NOT NULL,
        started_at BIGINT,
        finished_at BIGINT,
        attempts BIGINT NOT NULL DEFAULT 0,
        requests BIGINT NOT NULL DEFAULT 1,
        fingerprint TEXT,
        inputs TEXT,
        outputs TEXT,
        error TEXT,
        log TEXT NOT NULL DEFAULT '',
        PRIMARY KEY (customization_id, number))",
        // One row per customization with pending or running work: the queue.
        "CREATE TABLE requests (
        customization_id TEXT PRIMARY KEY,
        org TEXT NOT NULL,
        queued_build BIGINT,
        queued_not_before BIGINT NOT NULL DEFAULT 0,
        running_build BIGINT,
        lease_owner TEXT,
        lease_until BIGINT,
        not_before BIGINT NOT NULL DEFAULT 0,
        requested_at BIGINT NOT NULL)",
        "CREATE TABLE catalog (
        repository TEXT NOT NULL,
        tag TEXT NOT NULL,
        digest TEXT,
        platforms TEXT,
        updated_at BIGINT NOT NULL,
        PRIMARY KEY (repository, tag))",
        // Host settings the functions read (e.g. the rebuild debounce).
        "CREATE TABLE settings (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
        "CREATE TABLE events (
        id TEXT PRIMARY KEY,
        endpoint TEXT NOT NULL,
        received_at BIGINT NOT NULL)",
    ],
    &[
        // OS variants of images (per tag and platform), learned by workers from the base's files.
        "CREATE TABLE image_variants (
        repository TEXT NOT NULL,
        tag TEXT NOT NULL,
        platform TEXT NOT NULL,
        variant TEXT NOT NULL,
        arch TEXT NOT NULL,
        updated_at BIGINT NOT NULL,
        PRIMARY KEY (repository, tag, platform))",
        "CREATE INDEX image_variants_variant ON image_variants (variant, arch)",
        // The package catalog of each variant: its indexes' identity and the newest of each package.
        "CREATE TABLE package_indexes (
        variant TEXT NOT NULL,
        arch TEXT NOT NULL,
        digest TEXT NOT NULL,
        packages BIGINT NOT NULL,
        updated_at BIGINT NOT NULL,
        PRIMARY KEY (variant, arch))",
        "CREATE TABLE packages (
        variant TEXT NOT NULL,
        arch TEXT NOT NULL,
        name TEXT NOT NULL,
        version TEXT NOT NULL,
        summary TEXT NOT NULL,
        PRIMARY KEY (variant, arch, name))",
    ],
    &[
        // Mirrors (DESIGN.md §9): their syncs are runs in `builds`/`requests` keyed by the mirror id.
        "CREATE TABLE mirrors (
        id TEXT PRIMARY KEY,
        org TEXT NOT NULL,
        source_host TEXT NOT NULL,
        source_repository TEXT NOT NULL,
        destination TEXT NOT NULL,
        revision BIGINT NOT NULL,
        spec TEXT NOT NULL,
        poll_interval_ms BIGINT NOT NULL,
        next_check BIGINT NOT NULL,
        last_checked BIGINT,
        created_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL)",
        "CREATE UNIQUE INDEX mirrors_destination ON mirrors (destination)",
        "CREATE INDEX mirrors_source ON mirrors (source_host, source_repository)",
        "CREATE INDEX mirrors_org ON mirrors (org)",
        // The latest outcome per mirrored tag (the poll skips a refusal that nothing changed).
        "CREATE TABLE mirror_tags (
        mirror_id TEXT NOT NULL,
        tag TEXT NOT NULL,
        digest TEXT,
        action TEXT NOT NULL,
        reason TEXT,
        evidence TEXT,
        updated_at BIGINT NOT NULL,
        PRIMARY KEY (mirror_id, tag))",
    ],
    &[
        // Chart customizations (DESIGN.md §10): one per chart repository. Their builds are runs
        // in `builds`/`requests`; their inputs are `dependencies` rows: the source repository
        // with tag '*' (any version) and the images their last build pinned.
        "CREATE TABLE chart_customizations (
        id TEXT PRIMARY KEY,
        org TEXT NOT NULL,
        name TEXT NOT NULL,
        source_repository TEXT NOT NULL,
        revision BIGINT NOT NULL,
        spec TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL)",
        "CREATE UNIQUE INDEX chart_customizations_source ON chart_customizations (source_repository)",
        "CREATE INDEX chart_customizations_org ON chart_customizations (org)",
    ],
    &[
        // What the web UI browses and the functions cannot read from a registry: the file tree of
        // an image tag per platform (`files`), the image references of a chart version
        // (`references`). Asked for by the API, read by a worker.
        "CREATE TABLE listings (
        repository TEXT NOT NULL,
        tag TEXT NOT NULL,
        platform TEXT NOT NULL,
        kind TEXT NOT NULL,
        status TEXT NOT NULL,
        digest TEXT,
        error TEXT,
        total BIGINT NOT NULL DEFAULT 0,
        truncated BIGINT NOT NULL DEFAULT 0,
        data TEXT,
        requested_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL,
        PRIMARY KEY (repository, tag, platform, kind))",
        "CREATE INDEX listings_status ON listings (status, requested_at)",
        "CREATE TABLE listing_files (
        repository TEXT NOT NULL,
        tag TEXT NOT NULL,
        platform TEXT NOT NULL,
        parent TEXT NOT NULL,
        name TEXT NOT NULL,
        kind TEXT NOT NULL,
        size BIGINT NOT NULL,
        target TEXT,
        PRIMARY KEY (repository, tag, platform, parent, name))",
    ],
    // 6: what a tag is — `image` (its platforms are known), `chart`, or `artifact` (another
    // OCI artifact: no platforms); NULL while not read.
    &["ALTER TABLE catalog ADD COLUMN kind TEXT"],
    // 7: org extensions (DESIGN.md §11), and what they said of each build.
    &[
        "CREATE TABLE extensions (
        id TEXT PRIMARY KEY,
        org TEXT NOT NULL,
        name TEXT NOT NULL,
        revision BIGINT NOT NULL,
        spec TEXT NOT NULL,
        digest TEXT,
        status TEXT NOT NULL,
        reason TEXT,
        checked_at BIGINT,
        created_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL,
        UNIQUE (org, name))",
        "ALTER TABLE builds ADD COLUMN extensions TEXT",
    ],
];

/// The version this program's schema has.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Brings the database to [`SCHEMA_VERSION`]; refuses a database from a newer tailor.
pub async fn migrate<D: Db>(db: &D) -> Result<i64> {
    if db.dialect() == Dialect::Postgres {
        // Processes starting together migrate one after the other (a session lock, taken
        // before the transaction so that its snapshot sees the previous migration).
        db.exec("SELECT pg_advisory_lock(?)", &[Value::Integer(MIGRATION_LOCK)]).await?;
        let result = migrate_now(db).await;
        db.exec("SELECT pg_advisory_unlock(?)", &[Value::Integer(MIGRATION_LOCK)]).await?;
        return result;
    }
    migrate_now(db).await
}

/// The advisory lock id migrations hold on PostgreSQL ("tailor" in ASCII).
const MIGRATION_LOCK: i64 = 0x7461_696c_6f72;

/// The schema version the database has (0 when empty), without changing anything.
pub async fn schema_version<D: Db>(db: &D) -> Result<i64> {
    let exists = match db.dialect() {
        Dialect::Sqlite => "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'",
        Dialect::Postgres => {
            "SELECT table_name FROM information_schema.tables \
                              WHERE table_schema = current_schema() AND table_name = 'schema_version'"
        }
    };
    if db.exec(exists, &[]).await?.rows.is_empty() {
        return Ok(0);
    }
    let rows = db.exec("SELECT MAX(version) AS version FROM schema_version", &[]).await?;
    Ok(rows.first().map(|r| r.opt_int("version")).transpose()?.flatten().unwrap_or(0))
}

async fn migrate_now<D: Db>(db: &D) -> Result<i64> {
    db.exec("CREATE TABLE IF NOT EXISTS schema_version (version BIGINT NOT NULL)", &[]).await?;
    in_tx(db, async |db| {
        let rows = db.exec("SELECT MAX(version) AS version FROM schema_version", &[]).await?;
        let found = rows.first().map(|r| r.opt_int("version")).transpose()?.flatten().unwrap_or(0);
        if found > SCHEMA_VERSION {
            return Err(StoreError::TooNew { found, known: SCHEMA_VERSION });
        }
        for (i, statements) in MIGRATIONS.iter().enumerate().skip(found as usize) {
            for sql in *statements {
                db.exec(sql, &[]).await?;
            }
            db.exec("INSERT INTO schema_version (version) VALUES (?)", &[Value::Integer(i as i64 + 1)]).await?;
        }
        Ok(SCHEMA_VERSION)
    })
    .await
}
