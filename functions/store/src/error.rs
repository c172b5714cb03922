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
    /// The database's storage is full (SQLite's SQLITE_FULL, PostgreSQL's 53100 disk_full):
    /// nothing of the statement's transaction was kept.
    #[error("database: {0} (its storage is full)")]
    Full(String),
    /// The database schema is newer than this program.
    #[error("the database schema is version {found}; this tailor knows up to {known}: upgrade tailor")]
    TooNew { found: i64, known: i64 },
}

impl StoreError {
    /// A database's error text: [`StoreError::Full`] when it says the storage is full (the
    /// words of SQLite, of PostgreSQL and of the OS; errors that cross the WIT boundary arrive
    /// as text), else [`StoreError::Db`].
    pub fn from_text(text: String) -> StoreError {
        const FULL: [&str; 3] = ["database or disk is full", "No space left on device", "could not extend file"];
        if FULL.iter().any(|w| text.contains(w)) { StoreError::Full(text) } else { StoreError::Db(text) }
    }
}

#[cfg(test)]
mod tests {
    use super::StoreError;

    #[test]
    fn a_full_storage_is_told_apart_from_other_failures() {
        for text in [
            "Io(\"database or disk is full\")",
            "INSERT INTO builds …: could not extend file \"base/16384/2619\": No space left on device",
            "write: No space left on device (os error 28)",
        ] {
            assert!(matches!(StoreError::from_text(text.into()), StoreError::Full(_)), "{text}");
        }
        for text in ["Io(\"disk I/O error\")", "UNIQUE constraint failed: builds.number", "database is locked"] {
            assert!(matches!(StoreError::from_text(text.into()), StoreError::Db(_)), "{text}");
        }
    }
}
