//! Org-scoped bearer tokens. Only the SHA-256 of a token is stored.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::db::{Db, Row};
use crate::error::Result;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Everything in the org, including deleting customizations.
    Owner,
    /// Reads, creates and edits customizations and triggers builds.
    Member,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Member => "member",
        }
    }
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "owner" => Some(Role::Owner),
            "member" => Some(Role::Member),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenInfo {
    pub org: String,
    pub role: Role,
    pub name: String,
}

/// The stored form of a token: lowercase hex SHA-256.
pub fn hash_token(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Stores `secret` (made by the caller from a good random source) for `org` with `role`.
pub async fn create_token<D: Db>(db: &D, secret: &str, org: &str, role: Role, name: &str, now: i64) -> Result<()> {
    db.exec(
        "INSERT INTO tokens (hash, org, role, name, created_at) VALUES (?, ?, ?, ?, ?)",
        &[hash_token(secret).into(), org.into(), role.as_str().into(), name.into(), now.into()],
    )
    .await?;
    Ok(())
}

/// Who `secret` belongs to, if anyone.
pub async fn lookup_token<D: Db>(db: &D, secret: &str) -> Result<Option<TokenInfo>> {
    let rows = db
        .exec(
            "SELECT org AS token_org, role AS token_role, name AS token_name FROM tokens WHERE hash = ?",
            &[hash_token(secret).into()],
        )
        .await?;
    rows.first().map(|row| token_from_row(&row)).transpose().map(Option::flatten)
}

/// The token of a row with the columns `token_org`, `token_role` and `token_name`; `None` for
/// a role this version does not know.
pub(crate) fn token_from_row(row: &Row) -> Result<Option<TokenInfo>> {
    let role = row.text("token_role")?;
    Ok(Role::parse(&role).map(|role| TokenInfo {
        org: row.text("token_org").unwrap_or_default(),
        role,
        name: row.text("token_name").unwrap_or_default(),
    }))
}
