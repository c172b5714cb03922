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

    /// Exit code for the CLI: 2 when the user must fix the spec, 1 otherwise.
    pub fn exit_code(&self) -> i32 {
        if matches!(self, BuildError::Invalid { .. }) { 2 } else { 1 }
    }
}

pub type Result<T, E = BuildError> = std::result::Result<T, E>;
