//! How an extension fails: the classes the build record and the API show.

/// Why a call of an extension failed (the build fails closed, naming the extension).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// The wall-clock deadline passed (epoch interruption).
    Timeout,
    /// The call used its fuel.
    OutOfFuel,
    /// Linear memory (or tables, instances) would grow past the limit.
    MemoryLimit,
    /// The guest trapped (unreachable, a panic, a stack overflow, …).
    Trap,
    /// What it returned or wrote is over the limits or malformed.
    InvalidOutput,
    /// It cannot be used: not a component, not the world, imports what it may not have,
    /// its settings refused.
    Invalid,
    /// The image could not be read for it (the build's trouble, not the extension's).
    Image,
}

impl Failure {
    pub fn as_str(self) -> &'static str {
        match self {
            Failure::Timeout => "timeout",
            Failure::OutOfFuel => "out_of_fuel",
            Failure::MemoryLimit => "memory_limit",
            Failure::Trap => "trap",
            Failure::InvalidOutput => "invalid_output",
            Failure::Invalid => "invalid",
            Failure::Image => "image",
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("{}: {message}", class.as_str())]
pub struct Error {
    pub class: Failure,
    pub message: String,
}

impl Error {
    pub fn new(class: Failure, message: impl Into<String>) -> Error {
        Error { class, message: message.into() }
    }

    pub fn invalid(message: impl Into<String>) -> Error {
        Error::new(Failure::Invalid, message)
    }
}
