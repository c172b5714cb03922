use thiserror::Error;

pub type Result<T, E = SignError> = std::result::Result<T, E>;

#[derive(Debug, Error)]
pub enum SignError {
    /// A key file or PEM text that is not what tailor reads.
    #[error("{what}: {problem}")]
    Key { what: String, problem: String },
    /// A signature that does not verify, or a payload that does not say what it must.
    #[error("{0}")]
    Invalid(String),
    #[error("{what}: {source}")]
    Io { what: String, source: std::io::Error },
    /// Reading or writing the registry (or layout) that holds signatures failed.
    #[error("signature store: {0}")]
    Store(#[from] tailor_oci::Error),
}

impl SignError {
    pub(crate) fn key(what: impl Into<String>, problem: impl ToString) -> SignError {
        SignError::Key { what: what.into(), problem: problem.to_string() }
    }
}
