//! The database a native process opens: a SQLite file (the default) or PostgreSQL.

use std::path::Path;
use std::time::Duration;

use crate::db::{Db, Dialect, Rows, Value};
use crate::error::Result;
use crate::postgres::{PgDb, is_postgres_url};
use crate::sqlite::SqliteDb;

pub enum NativeDb {
    Sqlite(SqliteDb),
    Postgres(Box<PgDb>),
}

impl NativeDb {
    /// Opens `location`: a `postgres://` URL, or else the path of a SQLite file.
    pub fn open(location: &str) -> Result<NativeDb> {
        if is_postgres_url(location) {
            PgDb::connect(location).map(|db| NativeDb::Postgres(Box::new(db)))
        } else {
            SqliteDb::open(Path::new(location)).map(NativeDb::Sqlite)
        }
    }

    /// Runs one statement, blocking.
    pub fn exec_now(&self, sql: &str, params: &[Value]) -> Result<Rows> {
        crate::block_on(self.exec(sql, params))
    }

    /// Where the database is, without secrets.
    pub fn location(&self) -> String {
        match self {
            NativeDb::Sqlite(db) => db.path().display().to_string(),
            NativeDb::Postgres(db) => db.location(),
        }
    }

    /// PostgreSQL: subscribe to the queue's notifications (SQLite has none; workers poll).
    pub fn listen_queue(&self) -> Result<()> {
        match self {
            NativeDb::Sqlite(_) => Ok(()),
            NativeDb::Postgres(db) => crate::block_on(db.listen(crate::QUEUE_CHANNEL_NAME)),
        }
    }

    /// Waits up to `timeout` for new work: a queue notification on PostgreSQL, the timeout on SQLite.
    pub fn wait_for_work(&self, timeout: Duration) {
        match self {
            NativeDb::Sqlite(_) => std::thread::sleep(timeout),
            NativeDb::Postgres(db) => {
                db.wait_notification(timeout);
            }
        }
    }
}

impl Db for NativeDb {
    async fn exec(&self, sql: &str, params: &[Value]) -> Result<Rows> {
        match self {
            NativeDb::Sqlite(db) => db.exec(sql, params).await,
            NativeDb::Postgres(db) => db.exec(sql, params).await,
        }
    }
    fn dialect(&self) -> Dialect {
        match self {
            NativeDb::Sqlite(db) => db.dialect(),
            NativeDb::Postgres(db) => db.dialect(),
        }
    }
    fn backoff(&self, attempt: usize) {
        if let NativeDb::Postgres(db) = self {
            db.backoff(attempt);
        }
    }
}
