#![allow(clippy::unwrap_used)]
//! The database each store test gets: a private in-memory SQLite, or, with
//! `TAILOR_TEST_STORE=postgres`, a private schema in the PostgreSQL at `TAILOR_TEST_POSTGRES`
//! (tests/run.sh runs the store's tests once on each).

use std::sync::atomic::{AtomicU64, Ordering};

use crate::*;

fn postgres() -> bool {
    match std::env::var("TAILOR_TEST_STORE").as_deref() {
        Ok("postgres") => true,
        Ok("sqlite") | Err(_) => false,
        Ok(other) => panic!("TAILOR_TEST_STORE={other}: expected sqlite or postgres"),
    }
}

pub fn fresh() -> NativeDb {
    let db = if postgres() {
        NativeDb::Postgres(Box::new(PgDb::connect(&schema_url()).unwrap()))
    } else {
        NativeDb::Sqlite(SqliteDb::memory().unwrap())
    };
    block_on(migrate(&db)).unwrap();
    db
}

/// A new database that several connections can open ([`NativeDb::open`]): a schema, or a file.
pub fn shared() -> String {
    if postgres() {
        return schema_url();
    }
    static N: AtomicU64 = AtomicU64::new(0);
    let path = std::env::temp_dir().join(format!(
        "tailor-store-{}-{}.db",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_file(&path);
    path.display().to_string()
}

/// A new, empty schema; the URL whose connections use it.
fn schema_url() -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    let url = std::env::var("TAILOR_TEST_POSTGRES")
        .expect("TAILOR_TEST_STORE=postgres needs TAILOR_TEST_POSTGRES=postgres://… (tests/run.sh starts a cluster)");
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    let schema = format!("t{}_{}_{nanos}", std::process::id(), N.fetch_add(1, Ordering::Relaxed));
    let admin = PgDb::connect(&url).unwrap();
    block_on(admin.exec(&format!("CREATE SCHEMA {schema}"), &[])).unwrap();
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}options=-c%20search_path%3D{schema}")
}
