//! The user an image runs as: a user name or `uid[:gid]`.

use std::fmt;

use crate::error::shown;

/// Largest user or group id accepted (`2^31 - 1`).
pub const MAX_ID: u64 = 2_147_483_647;
/// Longest user or group name accepted.
pub const MAX_ACCOUNT_NAME_LEN: usize = 32;

/// Who the image runs as.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum RunAs {
    /// A user name, of the base image or added by the spec.
    Name(String),
    /// Numeric ids.
    Id {
        /// User id.
        uid: u32,
        /// Group id, when given.
        gid: Option<u32>,
    },
}

impl RunAs {
    /// Parses a user name (`[a-z_][a-z0-9_-]*`, at most 32 characters), `uid` or `uid:gid`.
    pub fn parse(s: &str) -> Result<RunAs, String> {
        let numeric = |part: &str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
        let (uid, gid) = match s.split_once(':') {
            Some((uid, gid)) => (uid, Some(gid)),
            None => (s, None),
        };
        if numeric(uid) || gid.is_some() {
            let uid = parse_id(uid).map_err(|e| format!("uid {e}"))?;
            let gid = gid.map(|g| parse_id(g).map_err(|e| format!("gid {e}"))).transpose()?;
            return Ok(RunAs::Id { uid, gid });
        }
        check_account_name(s)?;
        Ok(RunAs::Name(s.to_owned()))
    }
}

impl fmt::Display for RunAs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RunAs::Name(name) => f.write_str(name),
            RunAs::Id { uid, gid: None } => write!(f, "{uid}"),
            RunAs::Id { uid, gid: Some(gid) } => write!(f, "{uid}:{gid}"),
        }
    }
}

/// Parses a decimal id in `0..=2147483647`.
fn parse_id(s: &str) -> Result<u32, String> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("{} is not a decimal number", shown(s)));
    }
    match s.parse::<u64>() {
        Ok(id) if id <= MAX_ID => u32::try_from(id).map_err(|_| id_range_message()),
        _ => Err(id_range_message()),
    }
}

/// Checks an id field value.
pub(crate) fn check_id(id: u64) -> Result<(), String> {
    if id <= MAX_ID { Ok(()) } else { Err(format!("{id} {}", id_range_message())) }
}

fn id_range_message() -> String {
    format!("is out of range: ids must be in 0..={MAX_ID}")
}

/// Checks a user or group name: `[a-z_][a-z0-9_-]*`, at most 32 characters.
pub(crate) fn check_account_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("name is empty".to_owned());
    }
    if name.len() > MAX_ACCOUNT_NAME_LEN {
        return Err(format!("name is {} characters long; at most {MAX_ACCOUNT_NAME_LEN} are allowed", name.len()));
    }
    let bytes = name.as_bytes();
    let first_ok = bytes.first().is_some_and(|b| b.is_ascii_lowercase() || *b == b'_');
    let rest_ok = bytes[1..].iter().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'_' | b'-'));
    if first_ok && rest_ok {
        Ok(())
    } else {
        Err(format!(
            "{} is not a valid account name: use lowercase letters, digits, `_` and `-`, \
             starting with a letter or `_`",
            shown(name)
        ))
    }
}
