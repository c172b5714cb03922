use tailor_spec::Problem;

/// Why a build did not produce an image. `Invalid` problems are the user's to fix in the
/// customization (exit code 2); everything else is a build failure (exit code 1).
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("the customization is invalid:\n{}", problems.iter().map(|p| format!("  - {p}")).collect::<Vec<_>>().join("\n"))]
    Invalid { problems: Vec<Problem> },
    #[error("{0} is not supported yet")]
    Unsupported(String),
    #[error(transparent)]
    Store(#[from] tailor_oci::Error),
    /// An input (base or artifact) is malformed: names the input and the problem.
    #[error("{input}: {message}")]
    BadInput { input: String, message: String },
    /// Signing or attesting the result failed (the tag was not moved).
    #[error("{what}: {source}")]
    Sign { what: String, source: tailor_sign::SignError },
    /// An org's extension denied the build (or, enforcing, failed): nothing was published.
    #[error("{0}")]
    Denied(String),
    #[error("{0}")]
    Internal(String),
}

impl BuildError {
    pub fn invalid(field: impl Into<String>, problem: impl Into<String>) -> BuildError {
        BuildError::Invalid { problems: vec![Problem::new(field, problem)] }
    }

    pub fn bad_input(input: impl Into<String>, message: impl ToString) -> BuildError {
        BuildError::BadInput { input: input.into(), message: message.to_string() }
    }

    /// Whether another attempt may succeed: registry trouble (network, I/O, 5xx, 429),
    /// including while signing; never a bad spec or input.
    pub fn is_transient(&self) -> bool {
        let store = match self {
            BuildError::Store(e) => e,
            BuildError::Sign { source: tailor_sign::SignError::Store(e), .. } => e,
            _ => return false,
        };
        match store {
            tailor_oci::Error::Transport { .. } | tailor_oci::Error::Io { .. } => true,
            tailor_oci::Error::Http { status, .. } => *status >= 500 || *status == 429,
            _ => false,
        }
    }

    /// Exit code for the CLI: 2 when the user must fix the spec, 1 otherwise.
    pub fn exit_code(&self) -> i32 {
        if matches!(self, BuildError::Invalid { .. }) { 2 } else { 1 }
    }
}

pub type Result<T, E = BuildError> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    fn http(status: u16) -> tailor_oci::Error {
        tailor_oci::Error::Http { method: "PUT".into(), url: "u".into(), status, message: "m".into() }
    }

    #[test]
    fn registry_trouble_is_transient_also_while_signing_and_bad_input_never() {
        assert!(BuildError::Store(http(503)).is_transient());
        assert!(BuildError::Store(http(429)).is_transient());
        assert!(!BuildError::Store(http(400)).is_transient());
        let sign = |e| BuildError::Sign { what: "signing".into(), source: tailor_sign::SignError::Store(e) };
        assert!(sign(http(502)).is_transient());
        assert!(!sign(http(404)).is_transient());
        let bad = BuildError::Sign { what: "signing".into(), source: tailor_sign::SignError::Invalid("x".into()) };
        assert!(!bad.is_transient());
        assert!(!BuildError::invalid("source", "missing").is_transient());
        assert!(!BuildError::bad_input("acme/x", "broken").is_transient());
        assert_eq!(sign(http(502)).to_string(), "signing: signature store: PUT u: HTTP 502: m");
    }
}
