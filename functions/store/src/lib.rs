//! tailor's store (DESIGN.md §2, issue B): the schema with its migrations, customizations with
//! revisions, the build-request queue (one request per customization, coalescing, leases),
//! build records, org tokens, the catalog of last-seen tags and webhook event ids.
//!
//! All SQL goes through the [`Db`] trait, so the same code runs in the Spin components (over
//! `spin:sqlite`), in the native worker (over rusqlite, feature `rusqlite`) and in tests. The
//! SQL is kept portable (SQLite ≥ 3.35 and PostgreSQL: `ON CONFLICT`, `RETURNING`, `?`
//! placeholders that a PostgreSQL executor numbers). Times are Unix milliseconds passed in by
//! the caller, so the logic is free of clocks and testable.

#![allow(async_fn_in_trait)]

mod builds;
mod catalog;
mod charts;
mod customizations;
mod db;
mod error;
mod events;
mod extensions;
mod join;
mod listings;
mod metrics;
mod mirrors;
mod packages;
mod placeholders;
mod queue;
mod schema;
mod settings;
mod subject;
mod time;
mod tokens;

#[cfg(feature = "rusqlite")]
mod block;
#[cfg(feature = "postgres")]
mod native;
#[cfg(feature = "postgres")]
mod postgres;
#[cfg(feature = "rusqlite")]
mod sqlite;

#[cfg(all(test, feature = "postgres"))]
mod charts_tests;
#[cfg(all(test, feature = "postgres"))]
mod mirrors_tests;
#[cfg(all(test, feature = "postgres"))]
mod test_db;
#[cfg(all(test, feature = "postgres"))]
mod tests;

pub use builds::{Build, BuildStatus, get_build, get_log, list_builds};
pub use catalog::{
    CatalogTag, PushOutcome, affected_by, dependency_tags, list_catalog, notify_moved, notify_push, record_artifact,
    record_platforms, record_push,
};
pub use charts::{
    ChartCustomization, chart_sources, create_chart, delete_chart, get_chart, last_outputs, list_charts, replace_chart,
    set_chart_images,
};
pub use customizations::{
    Customization, create_customization, delete_customization, get_customization, get_customization_for_token,
    list_customizations, replace_customization,
};
pub use db::{Db, Dialect, Row, Rows, Value, in_tx};
pub use error::{Result, StoreError};
pub use events::{prune_events, record_event};
pub use extensions::{
    Extension, create_extension, delete_extension, get_extension, list_extensions, orgs_with_pending_extensions,
    record_extension_check, replace_extension,
};
pub use listings::{
    ListedFile, Listing, ListingKind, claim_listings, fail_listing, get_listing, list_children, request_listing,
    store_data, store_files,
};
pub use metrics::{BUILD_BUCKETS, StoreMetrics, store_metrics};
pub use mirrors::{
    Mirror, MirrorTag, UpstreamPush, claim_due_mirrors, create_mirror, delete_mirror, get_mirror, known_orgs,
    last_sync, list_mirrors, mirror_of_destination, mirror_tags, mirrors_of_source, notify_upstream_push, queue_sync,
    record_mirror_tags, replace_mirror,
};
pub use packages::{
    CatalogPackage, CatalogUpdate, ImageVariant, PackageIndex, PackageMatches, known_variants, package_index,
    record_variant, replace_packages, search_packages, variants_of,
};
pub use placeholders::{numbered as numbered_placeholders, returns_no_rows};
/// The PostgreSQL NOTIFY channel on which enqueued work is announced.
pub const QUEUE_CHANNEL_NAME: &str = "tailor_queue";

pub use queue::{Claim, Outcome, claim, enqueue, finish, heartbeat, lease_owners, release_owner, retry_later};
pub use schema::{SCHEMA_VERSION, migrate, schema_version};
pub use settings::{DEBOUNCE, DEFAULT_DEBOUNCE_MS, debounce_ms, get_setting, set_setting};
pub use subject::Kind;
pub use time::rfc3339_ms;
pub use tokens::{Role, TokenInfo, create_token, hash_token, lookup_token};

#[cfg(feature = "rusqlite")]
pub use block::block_on;
#[cfg(feature = "postgres")]
pub use native::NativeDb;
#[cfg(feature = "postgres")]
pub use postgres::{PgDb, host_port as postgres_host_port, is_postgres_url, redact as redact_url};
#[cfg(feature = "rusqlite")]
pub use sqlite::{SqliteDb, exec as sqlite_exec};

#[cfg(all(test, feature = "postgres"))]
#[path = "packages_tests.rs"]
mod packages_tests;
