//! The executor interface and typed access to result rows.

use crate::error::{Result, StoreError};
use crate::join::Decided;

/// A SQL value (the `spin:sqlite` value variant).
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Integer(i64),
    Real(f64),
    Text(String),
    Blob(Vec<u8>),
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::Text(s.to_owned())
    }
}
impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::Text(s)
    }
}
impl From<&String> for Value {
    fn from(s: &String) -> Value {
        Value::Text(s.clone())
    }
}
impl From<i64> for Value {
    fn from(i: i64) -> Value {
        Value::Integer(i)
    }
}
impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(o: Option<T>) -> Value {
        o.map_or(Value::Null, Into::into)
    }
}

/// One statement's result.
#[derive(Debug, Clone, Default)]
pub struct Rows {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Value>>,
}

/// A row with its column names, for access by name.
pub struct Row<'a> {
    columns: &'a [String],
    values: &'a [Value],
}

impl Rows {
    pub fn iter(&self) -> impl Iterator<Item = Row<'_>> {
        self.rows.iter().map(|values| Row { columns: &self.columns, values })
    }
    pub fn first(&self) -> Option<Row<'_>> {
        self.iter().next()
    }
}

impl Row<'_> {
    fn value(&self, name: &str) -> Result<&Value> {
        self.columns
            .iter()
            .position(|c| c == name)
            .and_then(|i| self.values.get(i))
            .ok_or_else(|| StoreError::Corrupt(format!("column {name} missing")))
    }
    pub fn text(&self, name: &str) -> Result<String> {
        match self.value(name)? {
            Value::Text(s) => Ok(s.clone()),
            other => Err(StoreError::Corrupt(format!("column {name}: expected text, found {other:?}"))),
        }
    }
    pub fn opt_text(&self, name: &str) -> Result<Option<String>> {
        match self.value(name)? {
            Value::Null => Ok(None),
            _ => self.text(name).map(Some),
        }
    }
    pub fn int(&self, name: &str) -> Result<i64> {
        match self.value(name)? {
            Value::Integer(i) => Ok(*i),
            other => Err(StoreError::Corrupt(format!("column {name}: expected integer, found {other:?}"))),
        }
    }
    pub fn opt_int(&self, name: &str) -> Result<Option<i64>> {
        match self.value(name)? {
            Value::Null => Ok(None),
            _ => self.int(name).map(Some),
        }
    }
    pub fn json<T: serde::de::DeserializeOwned>(&self, name: &str) -> Result<T> {
        let text = self.text(name)?;
        serde_json::from_str(&text).map_err(|e| StoreError::Corrupt(format!("column {name}: {e}")))
    }
}

/// The SQL dialect behind a [`Db`]: the store's SQL is portable, except how a transaction
/// starts and how a claim locks its row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

/// Something that runs one SQL statement with `?` parameters. Statements on one `Db` run on
/// one connection, so `BEGIN`/`COMMIT` through [`in_tx`] make a transaction.
pub trait Db {
    async fn exec(&self, sql: &str, params: &[Value]) -> Result<Rows>;
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }
    /// Waits a little before transaction attempt `attempt` + 1 after a conflict (executors
    /// that can block their thread spread retries apart; the default retries at once).
    fn backoff(&self, _attempt: usize) {}
}

/// What a transaction excludes on PostgreSQL. On SQLite every write transaction holds the
/// database's write lock (`BEGIN IMMEDIATE`); on PostgreSQL a transaction-level advisory lock
/// plays that part, so that transactions run one at a time there too and see each other's
/// writes (READ COMMITTED after the lock: every statement reads what committed before it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Isolation {
    /// One at a time: the lock in exclusive mode.
    Exclusive,
    /// A claim: the lock in shared mode, so claims run alongside each other but never alongside
    /// a writer; each changes only the rows it locked first (`FOR UPDATE SKIP LOCKED`).
    Claim,
}

/// The advisory lock id of write transactions on PostgreSQL.
const WRITE_LOCK: i64 = 0x7461_696c_6f77;

/// How often a transaction that lost a serialization conflict (PostgreSQL) is run again.
const TX_TRIES: usize = 50;

/// Runs `f` in a write transaction: committed when it returns `Ok`, rolled back otherwise.
/// Write transactions run one at a time on both backends (see [`Isolation`]); a deadlock or
/// serialization failure PostgreSQL still reports makes the whole of `f` run again.
pub async fn in_tx<D: Db, T>(db: &D, f: impl AsyncFn(&D) -> Result<T>) -> Result<T> {
    in_tx_isolated(db, Isolation::Exclusive, f).await
}

/// [`in_tx`] taking the write lock in `isolation`'s mode on PostgreSQL.
pub(crate) async fn in_tx_isolated<D: Db, T>(
    db: &D,
    isolation: Isolation,
    f: impl AsyncFn(&D) -> Result<T>,
) -> Result<T> {
    in_tx_staged(db, isolation, None, |_| None, f).await
}

/// A statement of a transaction that runs before the write lock is taken (see [`in_tx_staged`]).
pub(crate) struct Unlocked<'a> {
    pub sql: &'a str,
    pub params: Vec<Value>,
}

/// [`in_tx`] whose first statement, `unlocked`, runs in the transaction before the write lock
/// is taken on PostgreSQL (SQLite's `BEGIN IMMEDIATE` has it already): for a statement that is
/// safe without it, such as an insert its unique key decides. `decide` gets the number of rows
/// `unlocked` returned; when it answers a value the transaction is rolled back and the value
/// returned — `unlocked` must then have written nothing to keep (a redelivered event: its
/// insert did nothing); otherwise `f`'s result is committed. On PostgreSQL `unlocked` and the
/// lock are one statement (the lock taken once `unlocked` ran), and `f`'s first statements go
/// out with it (executors send statements in the order issued, so PostgreSQL runs them after
/// it, once it holds the lock): one round trip for all, and none under the lock spent on the
/// lock itself. When `decide` answers a value, `f` is dropped and what it did rolled back. A
/// failure of `unlocked` or of the lock (a deadlock, a lost connection) is the cause of the
/// statements' after it: reported first.
pub(crate) async fn in_tx_staged<D: Db, T>(
    db: &D,
    isolation: Isolation,
    unlocked: Option<Unlocked<'_>>,
    decide: impl Fn(usize) -> Option<T>,
    f: impl AsyncFn(&D) -> Result<T>,
) -> Result<T> {
    let (begin, lock) = match (db.dialect(), isolation) {
        (Dialect::Sqlite, _) => ("BEGIN IMMEDIATE", None),
        (Dialect::Postgres, Isolation::Exclusive) => ("BEGIN", Some("pg_advisory_xact_lock")),
        (Dialect::Postgres, Isolation::Claim) => ("BEGIN", Some("pg_advisory_xact_lock_shared")),
    };
    // The statement the transaction starts with: `unlocked`, the lock, or both in one.
    let first = match (&unlocked, lock) {
        (Some(u), Some(lock)) => Some((
            format!(
                "WITH unlocked AS ({}) SELECT counted.n AS unlocked, {lock}(?) AS locked \
                 FROM (SELECT COUNT(*) AS n FROM unlocked) counted",
                u.sql
            ),
            u.params.iter().cloned().chain([Value::Integer(WRITE_LOCK)]).collect::<Vec<_>>(),
        )),
        (Some(u), None) => Some((u.sql.to_owned(), u.params.clone())),
        (None, Some(lock)) => Some((format!("SELECT {lock}(?)"), vec![Value::Integer(WRITE_LOCK)])),
        (None, None) => None,
    };
    let mut tries = 0;
    loop {
        tries += 1;
        db.exec(begin, &[]).await?;
        let first = async {
            let Some((sql, params)) = &first else { return Ok(None) };
            let rows = db.exec(sql, params).await?;
            if unlocked.is_none() {
                return Ok(None);
            }
            let n = match lock {
                Some(_) => usize::try_from(rows.first().map(|r| r.int("unlocked")).transpose()?.unwrap_or(0)),
                None => Ok(rows.rows.len()),
            };
            Ok(decide(n.unwrap_or(0)))
        };
        // SQLite: statements complete as they are polled, so `f` starts only once `first`
        // answered None.
        let result = async {
            // On the heap: both futures are alive at once, and deep (f is a whole transaction).
            let decided = crate::join::first_decides(Box::pin(first), Box::pin(f(db))).await?;
            if let Decided::Rest(_) = decided {
                db.exec("COMMIT", &[]).await?;
            }
            Ok(decided)
        }
        .await;
        match result {
            Ok(Decided::Rest(v)) => return Ok(v),
            Ok(Decided::First(v)) => {
                // Nothing to keep (see above): `f`'s statements, if it sent any, are undone.
                let _ = db.exec("ROLLBACK", &[]).await;
                return Ok(v);
            }
            Err(e) => {
                let _ = db.exec("ROLLBACK", &[]).await;
                if !matches!(e, StoreError::Retry(_)) || tries >= TX_TRIES {
                    return Err(e);
                }
                db.backoff(tries);
            }
        }
    }
}
