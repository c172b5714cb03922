//! Listings the web UI browses and the functions cannot read from a registry (DESIGN.md §13):
//! the file tree of an image tag on one platform, the image references of a chart version, the
//! platforms of a tag just pushed, and the OS of each (what its package picker offers).
//! The API (or a push) asks for one ([`request_listing`]); a worker claims it
//! ([`claim_listings`]), reads the image and stores it ([`store_files`], [`store_data`],
//! [`fail_listing`]).

use serde_json::Value as Json;

use crate::db::{Db, Row, Value, in_tx};
use crate::error::Result;

/// What a listing is of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListingKind {
    Files,
    References,
    /// The platforms of a tag (recorded in the catalog too): asked for by each push.
    Platforms,
    /// The OS variant of each platform (recorded as image variants): asked for by the
    /// package picker of an image no build has read yet.
    Os,
}

impl ListingKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ListingKind::Files => "files",
            ListingKind::References => "references",
            ListingKind::Platforms => "platforms",
            ListingKind::Os => "os",
        }
    }
}

/// One listing's state.
#[derive(Debug, Clone, PartialEq)]
pub struct Listing {
    pub repository: String,
    pub tag: String,
    /// `linux/amd64` for files; empty for the other kinds.
    pub platform: String,
    pub kind: String,
    /// `requested`, `reading`, `ready` or `failed`.
    pub status: String,
    /// The manifest read (ready only).
    pub digest: Option<String>,
    pub error: Option<String>,
    pub total: i64,
    pub truncated: bool,
    /// References, platforms, OS: the JSON document.
    pub data: Option<Json>,
    pub requested_at: i64,
    pub updated_at: i64,
}

const COLUMNS: &str =
    "repository, tag, platform, kind, status, digest, error, total, truncated, data, requested_at, updated_at";

fn from_row(r: &Row) -> Result<Listing> {
    Ok(Listing {
        repository: r.text("repository")?,
        tag: r.text("tag")?,
        platform: r.text("platform")?,
        kind: r.text("kind")?,
        status: r.text("status")?,
        digest: r.opt_text("digest")?,
        error: r.opt_text("error")?,
        total: r.int("total")?,
        truncated: r.int("truncated")? != 0,
        data: r.opt_text("data")?.and_then(|t| serde_json::from_str(&t).ok()),
        requested_at: r.int("requested_at")?,
        updated_at: r.int("updated_at")?,
    })
}

/// The listing, whatever its state.
pub async fn get_listing<D: Db>(
    db: &D,
    repository: &str,
    tag: &str,
    platform: &str,
    kind: ListingKind,
) -> Result<Option<Listing>> {
    let rows = db
        .exec(
            &format!("SELECT {COLUMNS} FROM listings WHERE repository = ? AND tag = ? AND platform = ? AND kind = ?"),
            &[repository.into(), tag.into(), platform.into(), kind.as_str().into()],
        )
        .await?;
    rows.first().map(|r| from_row(&r)).transpose()
}

/// Asks for the listing to be read (again: its tag moved, it failed, it was never read). A
/// listing already requested or being read is left alone.
pub async fn request_listing<D: Db>(
    db: &D,
    repository: &str,
    tag: &str,
    platform: &str,
    kind: ListingKind,
    now: i64,
) -> Result<()> {
    db.exec(
        &format!(
            "INSERT INTO listings ({COLUMNS}) VALUES (?, ?, ?, ?, 'requested', NULL, NULL, 0, 0, NULL, ?, ?) {REREQUEST}"
        ),
        &[repository.into(), tag.into(), platform.into(), kind.as_str().into(), now.into(), now.into()],
    )
    .await?;
    Ok(())
}

/// [`request_listing`]'s statement made when the SQL expression `condition` holds
/// (PostgreSQL: the parameters are typed, as a SELECT cannot take their types from the columns).
pub(crate) fn listing_request_if(
    repository: &str,
    tag: &str,
    platform: &str,
    kind: ListingKind,
    now: i64,
    condition: &str,
) -> (String, Vec<Value>) {
    (
        format!(
            "INSERT INTO listings ({COLUMNS}) SELECT ?::text, ?::text, ?::text, ?::text, 'requested', NULL, NULL, 0, 0, \
             NULL, ?::bigint, ?::bigint WHERE {condition} {REREQUEST}"
        ),
        vec![repository.into(), tag.into(), platform.into(), kind.as_str().into(), now.into(), now.into()],
    )
}

/// A listing requested again unless it is being read or already requested.
const REREQUEST: &str = "ON CONFLICT (repository, tag, platform, kind) DO UPDATE SET status = 'requested', \
     requested_at = excluded.requested_at WHERE listings.status NOT IN ('requested', 'reading')";

/// Claims up to `limit` requested listings (and any stuck `reading` for `stale_ms`: a worker died).
pub async fn claim_listings<D: Db>(db: &D, now: i64, stale_ms: i64, limit: i64) -> Result<Vec<Listing>> {
    in_tx(db, async |db| {
        let rows = db
            .exec(
                &format!(
                    "SELECT {COLUMNS} FROM listings WHERE status = 'requested' OR (status = 'reading' AND updated_at < ?) \
                     ORDER BY requested_at LIMIT ?"
                ),
                &[(now - stale_ms).into(), limit.into()],
            )
            .await?;
        let claimed: Vec<Listing> = rows.iter().map(|r| from_row(&r)).collect::<Result<_>>()?;
        for l in &claimed {
            db.exec(
                "UPDATE listings SET status = 'reading', updated_at = ? WHERE repository = ? AND tag = ? AND platform = ? AND kind = ?",
                &[now.into(), l.repository.as_str().into(), l.tag.as_str().into(), l.platform.as_str().into(), l.kind.as_str().into()],
            )
            .await?;
        }
        Ok(claimed)
    })
    .await
}

/// One file of a tree: its parent directory (`/opt`), name, kind, size, link target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedFile {
    pub parent: String,
    pub name: String,
    pub kind: String,
    pub size: i64,
    pub target: Option<String>,
}

fn key(l: &Listing) -> [Value; 4] {
    [l.repository.as_str().into(), l.tag.as_str().into(), l.platform.as_str().into(), l.kind.as_str().into()]
}

/// Stores a file tree read from `digest` (replacing an earlier one), in one transaction.
pub async fn store_files<D: Db>(
    db: &D,
    l: &Listing,
    digest: &str,
    files: &[ListedFile],
    total: i64,
    truncated: bool,
    now: i64,
) -> Result<()> {
    in_tx(db, async |db| {
        let [r, t, p, k] = key(l);
        db.exec("DELETE FROM listing_files WHERE repository = ? AND tag = ? AND platform = ?", &[r.clone(), t.clone(), p.clone()]).await?;
        for f in files {
            db.exec(
                "INSERT INTO listing_files (repository, tag, platform, parent, name, kind, size, target) VALUES (?, ?, ?, ?, ?, ?, ?, ?) \
                 ON CONFLICT (repository, tag, platform, parent, name) DO NOTHING",
                &[
                    r.clone(),
                    t.clone(),
                    p.clone(),
                    f.parent.as_str().into(),
                    f.name.as_str().into(),
                    f.kind.as_str().into(),
                    f.size.into(),
                    f.target.clone().into(),
                ],
            )
            .await?;
        }
        db.exec(
            "UPDATE listings SET status = 'ready', digest = ?, error = NULL, total = ?, truncated = ?, updated_at = ? \
             WHERE repository = ? AND tag = ? AND platform = ? AND kind = ?",
            &[digest.into(), total.into(), i64::from(truncated).into(), now.into(), r, t, p, k],
        )
        .await?;
        Ok(())
    })
    .await
}

/// Stores what was read from `digest` (a chart's references, a tag's platforms or OS).
pub async fn store_data<D: Db>(db: &D, l: &Listing, digest: &str, data: &Json, now: i64) -> Result<()> {
    let [r, t, p, k] = key(l);
    db.exec(
        "UPDATE listings SET status = 'ready', digest = ?, error = NULL, data = ?, updated_at = ? \
         WHERE repository = ? AND tag = ? AND platform = ? AND kind = ?",
        &[digest.into(), data.to_string().into(), now.into(), r, t, p, k],
    )
    .await?;
    Ok(())
}

/// Records why a listing could not be read.
pub async fn fail_listing<D: Db>(db: &D, l: &Listing, error: &str, now: i64) -> Result<()> {
    let [r, t, p, k] = key(l);
    db.exec(
        "UPDATE listings SET status = 'failed', error = ?, updated_at = ? WHERE repository = ? AND tag = ? AND platform = ? AND kind = ?",
        &[error.into(), now.into(), r, t, p, k],
    )
    .await?;
    Ok(())
}

/// The children of directory `parent` (`/` for the root) of a ready file tree: directories
/// first, then by name.
pub async fn list_children<D: Db>(
    db: &D,
    repository: &str,
    tag: &str,
    platform: &str,
    parent: &str,
) -> Result<Vec<ListedFile>> {
    let rows = db
        .exec(
            "SELECT parent, name, kind, size, target FROM listing_files WHERE repository = ? AND tag = ? AND platform = ? \
             AND parent = ? ORDER BY CASE kind WHEN 'directory' THEN 0 ELSE 1 END, name",
            &[repository.into(), tag.into(), platform.into(), parent.into()],
        )
        .await?;
    rows.iter()
        .map(|r| {
            Ok(ListedFile {
                parent: r.text("parent")?,
                name: r.text("name")?,
                kind: r.text("kind")?,
                size: r.int("size")?,
                target: r.opt_text("target")?,
            })
        })
        .collect()
}
