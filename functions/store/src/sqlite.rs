//! The native executor: one rusqlite connection (WAL, busy timeout), for the worker, the
//! CLI and tests. Its futures never wait, so [`block_on`] runs them on the calling thread.

use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

use rusqlite::types::{Value as Sql, ValueRef};

use crate::db::{Db, Rows, Value};
use crate::error::{Result, StoreError};

pub struct SqliteDb {
    conn: Mutex<rusqlite::Connection>,
    path: std::path::PathBuf,
}

fn db_err(e: rusqlite::Error) -> StoreError {
    match e.sqlite_error_code() {
        Some(rusqlite::ErrorCode::DiskFull) => StoreError::Full(e.to_string()),
        _ => StoreError::from_text(e.to_string()),
    }
}

impl SqliteDb {
    /// Opens (creating) the database file in WAL mode.
    pub fn open(path: &Path) -> Result<SqliteDb> {
        let conn = rusqlite::Connection::open(path).map_err(|e| StoreError::Db(format!("{}: {e}", path.display())))?;
        Self::configure(conn, path)
    }

    /// A private in-memory database (tests).
    pub fn memory() -> Result<SqliteDb> {
        Self::configure(rusqlite::Connection::open_in_memory().map_err(db_err)?, Path::new(":memory:"))
    }

    fn configure(conn: rusqlite::Connection, path: &Path) -> Result<SqliteDb> {
        conn.busy_timeout(Duration::from_secs(10)).map_err(db_err)?;
        conn.pragma_update(None, "journal_mode", "WAL").map_err(db_err)?;
        conn.pragma_update(None, "synchronous", "NORMAL").map_err(db_err)?;
        Ok(SqliteDb { conn: Mutex::new(conn), path: path.to_owned() })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs one statement synchronously.
    pub fn exec_now(&self, sql: &str, params: &[Value]) -> Result<Rows> {
        let conn = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        exec(&conn, sql, params)
    }
}

/// Runs `sql` on `conn` (shared with the host's `spin:sqlite`).
pub fn exec(conn: &rusqlite::Connection, sql: &str, params: &[Value]) -> Result<Rows> {
    let mut stmt = conn.prepare_cached(sql).map_err(db_err)?;
    let columns: Vec<String> = stmt.column_names().iter().map(|c| c.to_string()).collect();
    let params: Vec<Sql> = params
        .iter()
        .map(|v| match v {
            Value::Null => Sql::Null,
            Value::Integer(i) => Sql::Integer(*i),
            Value::Real(f) => Sql::Real(*f),
            Value::Text(s) => Sql::Text(s.clone()),
            Value::Blob(b) => Sql::Blob(b.clone()),
        })
        .collect();
    let mut rows = stmt.query(rusqlite::params_from_iter(params)).map_err(db_err)?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(db_err)? {
        let mut values = Vec::with_capacity(columns.len());
        for i in 0..columns.len() {
            values.push(match row.get_ref(i).map_err(db_err)? {
                ValueRef::Null => Value::Null,
                ValueRef::Integer(i) => Value::Integer(i),
                ValueRef::Real(f) => Value::Real(f),
                ValueRef::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
                ValueRef::Blob(b) => Value::Blob(b.to_vec()),
            });
        }
        out.push(values);
    }
    Ok(Rows { columns, rows: out })
}

impl Db for SqliteDb {
    async fn exec(&self, sql: &str, params: &[Value]) -> Result<Rows> {
        self.exec_now(sql, params)
    }
}
