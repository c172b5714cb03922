use thiserror::Error;

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

#[derive(Debug, Error)]
pub enum StoreError {
    /// The database said no (I/O, constraint, syntax).
    #[error("database: {0}")]
    Db(String),
    /// A stored value has the wrong shape (a column missing or of another type).
    #[error("stored data is not as expected: {0}")]
    Corrupt(String),
    /// The revision given with If-Match is not the current one.
    #[error("revision {given} is not the current revision {current}")]
    Conflict { given: i64, current: i64 },
    /// Something with the same unique key exists (e.g. a second mirror to one destination).
    #[error("{what} exists already as {id}")]
    Exists { what: String, id: String },
    /// The transaction lost a conflict with a concurrent one (PostgreSQL's serialization
    /// failure or deadlock); [`crate::in_tx`] runs it again.
    #[error("database: {0} (the transaction conflicted with another; try again)")]
    Retry(String),
    /// The database schema is newer than this program.
    #[error("the database schema is version {found}; this tailor knows up to {known}: upgrade tailor")]
    TooNew { found: i64, known: i64 },
}
