//! Host settings the functions read from the store (the host writes them at start).

use crate::db::Db;
use crate::error::Result;

/// Quiet time after a push before its rebuild starts, so bursts coalesce.
pub const DEBOUNCE: &str = "rebuild_debounce_ms";
/// Used when the host set nothing.
pub const DEFAULT_DEBOUNCE_MS: i64 = 300;

pub async fn set_setting<D: Db>(db: &D, name: &str, value: &str) -> Result<()> {
    db.exec(
        "INSERT INTO settings (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
        &[name.into(), value.into()],
    )
    .await?;
    Ok(())
}

pub async fn get_setting<D: Db>(db: &D, name: &str) -> Result<Option<String>> {
    let rows = db.exec("SELECT value FROM settings WHERE name = ?", &[name.into()]).await?;
    rows.first().map(|r| r.text("value")).transpose()
}

/// The rebuild debounce in milliseconds.
pub async fn debounce_ms<D: Db>(db: &D) -> Result<i64> {
    Ok(debounce_of(get_setting(db, DEBOUNCE).await?))
}

/// The debounce the stored setting `value` says (the default when unset or not a duration).
pub(crate) fn debounce_of(value: Option<String>) -> i64 {
    value.and_then(|v| v.parse().ok()).filter(|v: &i64| *v >= 0).unwrap_or(DEFAULT_DEBOUNCE_MS)
}
