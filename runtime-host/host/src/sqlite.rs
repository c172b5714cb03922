//! `spin:sqlite@3.1.0` over rusqlite: database `default` is one SQLite file (WAL) shared by
//! every instance through a small connection pool. A connection dropped inside a transaction
//! (a trapped or killed request) is rolled back before it goes back to the pool.
//!
//! Guests hold transactions across awaits, so SQLite's own locking would block async worker
//! threads: guest transactions (`BEGIN` … `COMMIT`/`ROLLBACK`) take an async write gate first
//! (one at a time, waiting without blocking a thread), and a statement that finds the database
//! locked by another process (the worker) is retried after an async sleep instead of waiting
//! in SQLite's busy handler, so the runtime never stalls.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rusqlite::types::{Value as Sql, ValueRef};
use wasmtime::component::{Accessor, FutureReader, HasData, Resource, ResourceTable, StreamReader};

use crate::bindings::spin::sqlite::sqlite::{self, Error, QueryResult, RowResult, Value};

/// Connections to one database file.
pub struct Pool {
    path: PathBuf,
    idle: Mutex<Vec<rusqlite::Connection>>,
    write_gate: Arc<tokio::sync::Mutex<()>>,
}

impl Pool {
    pub fn new(path: &Path) -> anyhow::Result<Arc<Pool>> {
        let pool = Arc::new(Pool {
            path: path.to_owned(),
            idle: Mutex::new(Vec::new()),
            write_gate: Arc::new(tokio::sync::Mutex::new(())),
        });
        let first = pool.take().map_err(|e| anyhow::anyhow!("opening {}: {e:?}", path.display()))?;
        pool.put(first);
        Ok(pool)
    }

    fn take(&self) -> Result<rusqlite::Connection, Error> {
        if let Some(c) = self.idle.lock().unwrap_or_else(|p| p.into_inner()).pop() {
            return Ok(c);
        }
        let io = |e: rusqlite::Error| Error::Io(e.to_string());
        let c = rusqlite::Connection::open(&self.path).map_err(io)?;
        c.busy_timeout(Duration::ZERO).map_err(io)?; // busy: retried asynchronously (see execute_async)
        c.pragma_update(None, "journal_mode", "WAL").map_err(io)?;
        c.pragma_update(None, "synchronous", "NORMAL").map_err(io)?;
        Ok(c)
    }

    fn put(&self, c: rusqlite::Connection) {
        if !c.is_autocommit() && c.execute_batch("ROLLBACK").is_err() {
            return; // a connection in an unknown state is closed, not reused
        }
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        if idle.len() < 16 {
            idle.push(c);
        }
    }
}

/// One open `connection` resource.
pub struct Connection {
    conn: Option<rusqlite::Connection>,
    pool: Arc<Pool>,
    /// Held from the guest's `BEGIN` to its `COMMIT`/`ROLLBACK` (or the connection's drop).
    gate: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl Drop for Connection {
    fn drop(&mut self) {
        if let Some(c) = self.conn.take() {
            self.pool.put(c); // rolls back an open transaction
        }
        self.gate = None;
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Begin,
    End,
    Other,
}

fn kind(statement: &str) -> Kind {
    let first = statement.trim_start().split(|c: char| !c.is_ascii_alphabetic()).next().unwrap_or("");
    match first.to_ascii_uppercase().as_str() {
        "BEGIN" | "SAVEPOINT" => Kind::Begin,
        "COMMIT" | "END" | "ROLLBACK" | "RELEASE" => Kind::End,
        _ => Kind::Other,
    }
}

/// The component's access: `None` when its manifest lists no sqlite database.
pub struct SqliteCtx {
    pub pool: Option<Arc<Pool>>,
}

pub struct SqliteView<'a> {
    pub ctx: &'a mut SqliteCtx,
    pub table: &'a mut ResourceTable,
}

pub struct SpinSqlite;

impl HasData for SpinSqlite {
    type Data<'a> = SqliteView<'a>;
}

fn open(view: &mut SqliteView<'_>, database: &str) -> wasmtime::Result<Result<Resource<Connection>, Error>> {
    let Some(pool) = view.ctx.pool.clone() else { return Ok(Err(Error::AccessDenied)) };
    if database != "default" {
        return Ok(Err(Error::NoSuchDatabase));
    }
    let conn = match pool.take() {
        Ok(c) => c,
        Err(e) => return Ok(Err(e)),
    };
    Ok(Ok(view.table.push(Connection { conn: Some(conn), pool, gate: None })?))
}

fn conn<'t>(table: &'t ResourceTable, r: &Resource<Connection>) -> Result<&'t rusqlite::Connection, Error> {
    table.get(r).ok().and_then(|c| c.conn.as_ref()).ok_or(Error::InvalidConnection)
}

/// How long a statement is retried while another process holds the database lock.
const BUSY_FOR: Duration = Duration::from_secs(10);

fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(e.sqlite_error_code(), Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked))
}

/// Runs one statement now; `Err(None)` when the database is locked (retry later).
fn execute(c: &rusqlite::Connection, sql: &str, params: Vec<Value>) -> Result<QueryResult, Option<Error>> {
    execute_now(c, sql, params).map_err(|e| match e {
        Failure::Busy => None,
        Failure::Other(e) => Some(e),
    })
}

enum Failure {
    Busy,
    Other(Error),
}

fn execute_now(c: &rusqlite::Connection, sql: &str, params: Vec<Value>) -> Result<QueryResult, Failure> {
    let err = |e: rusqlite::Error| if is_busy(&e) { Failure::Busy } else { Failure::Other(Error::Io(e.to_string())) };
    let mut stmt = c.prepare_cached(sql).map_err(err)?;
    let columns: Vec<String> = stmt.column_names().iter().map(|s| s.to_string()).collect();
    let params = params.into_iter().map(|v| match v {
        Value::Integer(i) => Sql::Integer(i),
        Value::Real(f) => Sql::Real(f),
        Value::Text(s) => Sql::Text(s),
        Value::Blob(b) => Sql::Blob(b),
        Value::Null => Sql::Null,
    });
    let mut rows = stmt.query(rusqlite::params_from_iter(params)).map_err(err)?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(err)? {
        let mut values = Vec::with_capacity(columns.len());
        for i in 0..columns.len() {
            values.push(match row.get_ref(i).map_err(err)? {
                ValueRef::Null => Value::Null,
                ValueRef::Integer(i) => Value::Integer(i),
                ValueRef::Real(f) => Value::Real(f),
                ValueRef::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
                ValueRef::Blob(b) => Value::Blob(b.to_vec()),
            });
        }
        out.push(RowResult { values });
    }
    Ok(QueryResult { columns, rows: out })
}

impl sqlite::Host for SqliteView<'_> {}

impl sqlite::HostConnection for SqliteView<'_> {
    fn open(&mut self, database: String) -> wasmtime::Result<Result<Resource<Connection>, Error>> {
        open(self, &database)
    }

    fn execute(
        &mut self,
        r: Resource<Connection>,
        statement: String,
        parameters: Vec<Value>,
    ) -> wasmtime::Result<Result<QueryResult, Error>> {
        let c = match conn(self.table, &r) {
            Ok(c) => c,
            Err(e) => return Ok(Err(e)),
        };
        let started = std::time::Instant::now();
        loop {
            match execute(c, &statement, parameters.clone()) {
                Ok(q) => return Ok(Ok(q)),
                Err(Some(e)) => return Ok(Err(e)),
                Err(None) if started.elapsed() < BUSY_FOR => std::thread::sleep(Duration::from_millis(1)),
                Err(None) => return Ok(Err(Error::Io("database is locked".into()))),
            }
        }
    }

    fn last_insert_rowid(&mut self, r: Resource<Connection>) -> wasmtime::Result<i64> {
        Ok(conn(self.table, &r).map(|c| c.last_insert_rowid()).unwrap_or(0))
    }

    fn changes(&mut self, r: Resource<Connection>) -> wasmtime::Result<u64> {
        Ok(conn(self.table, &r).map(|c| c.changes()).unwrap_or(0))
    }

    fn drop(&mut self, r: Resource<Connection>) -> wasmtime::Result<()> {
        self.table.delete(r)?;
        Ok(())
    }
}

type Streamed = (Vec<String>, StreamReader<RowResult>, FutureReader<Result<(), Error>>);

impl<T> sqlite::HostConnectionWithStore<T> for SpinSqlite {
    async fn open_async(
        accessor: &Accessor<T, Self>,
        database: String,
    ) -> wasmtime::Result<Result<Resource<Connection>, Error>> {
        accessor.with(|mut access| open(&mut access.get(), &database))
    }

    async fn execute_async(
        accessor: &Accessor<T, Self>,
        r: Resource<Connection>,
        statement: String,
        parameters: Vec<Value>,
    ) -> wasmtime::Result<Result<Streamed, Error>> {
        let kind = kind(&statement);
        if kind == Kind::Begin {
            let gate = accessor.with(|mut access| {
                let view = access.get();
                view.table.get(&r).ok().filter(|c| c.gate.is_none()).map(|c| c.pool.write_gate.clone())
            });
            if let Some(gate) = gate {
                let guard = gate.lock_owned().await;
                accessor.with(|mut access| {
                    if let Ok(c) = access.get().table.get_mut(&r) {
                        c.gate = Some(guard);
                    }
                });
            }
        }
        let started = std::time::Instant::now();
        loop {
            let step = accessor.with(|mut access| -> wasmtime::Result<Option<Result<Streamed, Error>>> {
                let result = match conn(access.get().table, &r) {
                    Ok(c) => execute(c, &statement, parameters.clone()),
                    Err(e) => Err(Some(e)),
                };
                let result = match result {
                    Err(None) if started.elapsed() < BUSY_FOR => return Ok(None),
                    Err(None) => Err(Error::Io("database is locked".into())),
                    Err(Some(e)) => Err(e),
                    Ok(q) => Ok(q),
                };
                let in_tx = conn(access.get().table, &r).map(|c| !c.is_autocommit()).unwrap_or(false);
                if (kind == Kind::End || kind == Kind::Begin)
                    && !in_tx
                    && let Ok(c) = access.get().table.get_mut(&r)
                {
                    c.gate = None; // the transaction ended (or never started)
                }
                match result {
                    Ok(q) => {
                        let rows = StreamReader::new(&mut access, q.rows)?;
                        let done = FutureReader::new(&mut access, async { wasmtime::Result::<_>::Ok(Ok(())) })?;
                        Ok(Some(Ok((q.columns, rows, done))))
                    }
                    Err(e) => Ok(Some(Err(e))),
                }
            })?;
            match step {
                Some(result) => return Ok(result),
                None => tokio::time::sleep(Duration::from_millis(1)).await,
            }
        }
    }

    async fn last_insert_rowid_async(accessor: &Accessor<T, Self>, r: Resource<Connection>) -> wasmtime::Result<i64> {
        accessor.with(|mut access| Ok(conn(access.get().table, &r).map(|c| c.last_insert_rowid()).unwrap_or(0)))
    }

    async fn changes_async(accessor: &Accessor<T, Self>, r: Resource<Connection>) -> wasmtime::Result<u64> {
        accessor.with(|mut access| Ok(conn(access.get().table, &r).map(|c| c.changes()).unwrap_or(0)))
    }
}

#[cfg(test)]
mod tests {
    use super::{Kind, kind};

    #[test]
    fn transaction_statements_are_recognized() {
        assert!(kind("BEGIN IMMEDIATE") == Kind::Begin);
        assert!(kind("  begin;") == Kind::Begin);
        assert!(kind("SAVEPOINT a") == Kind::Begin);
        for end in ["COMMIT", "end transaction", "ROLLBACK", "release a"] {
            assert!(kind(end) == Kind::End, "{end}");
        }
        for other in ["SELECT 1", "INSERT INTO begin_x VALUES (1)", "", "BEGINNING"] {
            assert!(kind(other) == Kind::Other, "{other}");
        }
    }
}
