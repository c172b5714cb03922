use crate::Digest;

/// Everything that can go wrong talking to a store. Messages name the repository,
/// reference or blob involved and, where it helps, what to do.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{access} access to repository `{repository}` is outside this client's scope ({scope})")]
    OutOfScope { repository: String, access: &'static str, scope: String },
    #[error("{what} not found")]
    NotFound { what: String },
    #[error("invalid digest `{0}`: expected sha256:<64 lowercase hex>")]
    InvalidDigest(String),
    #[error("{what}: content digest is {actual}, expected {expected}")]
    DigestMismatch { what: String, expected: Digest, actual: Digest },
    #[error("{0}")]
    InvalidManifest(String),
    #[error("registry {registry} refused the credentials: {message}")]
    Unauthorized { registry: String, message: String },
    #[error("{method} {url}: HTTP {status}: {message}")]
    Http { method: String, url: String, status: u16, message: String },
    #[error("{method} {url}: {message}")]
    Transport { method: String, url: String, message: String },
    #[error("{what}: {source}")]
    Io { what: String, source: std::io::Error },
    #[error("{0} is not supported yet")]
    Unsupported(String),
}

impl Error {
    pub fn io(what: impl Into<String>, source: std::io::Error) -> Error {
        Error::Io { what: what.into(), source }
    }

    pub fn is_not_found(&self) -> bool {
        matches!(self, Error::NotFound { .. })
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
