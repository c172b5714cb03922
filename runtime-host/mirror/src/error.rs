use thiserror::Error;

pub type Result<T, E = MirrorError> = std::result::Result<T, E>;

/// Why a sync (or one of its tags) did not complete. Messages name the repository, tag or
/// digest involved.
#[derive(Debug, Error)]
pub enum MirrorError {
    /// Talking to the upstream or the destination failed.
    #[error(transparent)]
    Store(#[from] tailor_oci::Error),
    /// The upstream served something that is not what it claims to be.
    #[error("{0}")]
    BadContent(String),
    /// The configuration does not allow this (an undeclared upstream, a bad key).
    #[error("{0}")]
    Config(String),
    /// The same blob or manifest failed earlier in this sync (for another tag).
    #[error("{message}")]
    Earlier { message: String, transient: bool },
}

impl MirrorError {
    /// Whether another attempt may succeed: network trouble, 5xx and 429 — never bad content.
    pub fn is_transient(&self) -> bool {
        match self {
            MirrorError::Earlier { transient, .. } => *transient,
            MirrorError::Store(e) => match e {
                tailor_oci::Error::Transport { message, .. } => !message.contains("does not match its digest"),
                tailor_oci::Error::Http { status, .. } => *status >= 500 || *status == 429,
                _ => false,
            },
            _ => false,
        }
    }
}
