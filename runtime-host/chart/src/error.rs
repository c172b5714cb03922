use thiserror::Error;

pub type Result<T, E = ChartError> = std::result::Result<T, E>;

/// Why a chart version was not customized. Messages name the chart, file and line involved.
#[derive(Debug, Error)]
pub enum ChartError {
    /// The registry (source chart, target image, destination) could not be read or written.
    #[error(transparent)]
    Store(#[from] tailor_oci::Error),
    /// A chart archive that is not acceptable (paths, links, sizes, format).
    #[error("{archive}: {problem}")]
    BadArchive { archive: String, problem: String },
    /// A chart's own file is malformed (Chart.yaml, values.yaml, the OCI config).
    #[error("{file}: {problem}")]
    BadChart { file: String, problem: String },
    /// The customization cannot be applied (a missing target, strict mode).
    #[error("{0}")]
    Refused(String),
    #[error("signing {what}: {source}")]
    Sign { what: String, source: tailor_sign::SignError },
    #[error("{0}")]
    Internal(String),
    /// A version in the source repository that tailor made (not customized again).
    #[error("{0}")]
    NotASource(String),
}

impl ChartError {
    pub fn bad_chart(file: impl Into<String>, problem: impl Into<String>) -> ChartError {
        ChartError::BadChart { file: file.into(), problem: problem.into() }
    }

    /// Whether another attempt may succeed: registry trouble (network, 5xx, 429) only.
    pub fn is_transient(&self) -> bool {
        let e = match self {
            ChartError::Store(e) => e,
            ChartError::Sign { source: tailor_sign::SignError::Store(e), .. } => e,
            _ => return false,
        };
        match e {
            tailor_oci::Error::Transport { .. } | tailor_oci::Error::Io { .. } => true,
            tailor_oci::Error::Http { status, .. } => *status >= 500 || *status == 429,
            _ => false,
        }
    }
}
