//! What can go wrong talking to the service, kept as the API said it (code, message, field
//! paths), and the exit status of each kind: scripts tell bad input from a sick server.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// One problem the API found, at a field path (`contents.artifacts[0].includes`), a header or
/// a parameter; empty for the whole body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Detail {
    pub field: String,
    pub problem: String,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The API answered with an error.
    #[error("{message}")]
    Api { status: u16, code: String, message: String, details: Vec<Detail> },
    /// The service could not be reached, or what answered is not tailor's API.
    #[error("{0}")]
    Transport(String),
    /// What was given on the command line is wrong (a file, a flag's value).
    #[error("{0}")]
    Input(String),
    /// No server or token is known.
    #[error("{0}")]
    NotSignedIn(String),
    /// A build or sync that was waited for ended without success.
    #[error("{0}")]
    Failed(String),
}

/// Exit statuses of the client commands (documented in `tailor --help` and the README).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Exit {
    Ok = 0,
    /// A build or sync waited for failed (or partly failed).
    Failed = 1,
    /// Invalid input: a bad flag or file, or the API refused the request as invalid (400, 413,
    /// 415, 422).
    Invalid = 2,
    /// Not signed in, a wrong or expired token, or a role that may not do this (401, 403).
    Denied = 3,
    /// No such thing in the org (404).
    NotFound = 4,
    /// The service failed or could not be reached (5xx, connection, an answer that is not the API).
    Server = 5,
    /// Someone else changed it first (409, 412): read it again and retry.
    Conflict = 6,
}

impl Error {
    pub fn exit(&self) -> Exit {
        match self {
            Error::Api { status, .. } => match status {
                401 | 403 => Exit::Denied,
                404 => Exit::NotFound,
                409 | 412 | 428 => Exit::Conflict,
                400..=499 => Exit::Invalid,
                _ => Exit::Server,
            },
            Error::Transport(_) => Exit::Server,
            Error::Input(_) => Exit::Invalid,
            Error::NotSignedIn(_) => Exit::Denied,
            Error::Failed(_) => Exit::Failed,
        }
    }

    /// The stable code: the API's, or the client's own for local failures.
    pub fn code(&self) -> &str {
        match self {
            Error::Api { code, .. } => code,
            Error::Transport(_) => "unreachable",
            Error::Input(_) => "invalid_input",
            Error::NotSignedIn(_) => "not_signed_in",
            Error::Failed(_) => "failed",
        }
    }

    pub fn details(&self) -> &[Detail] {
        match self {
            Error::Api { details, .. } => details,
            _ => &[],
        }
    }

    /// `{"error": {"code", "message", "details", "status"?}}`: the API's shape.
    pub fn to_json(&self) -> Value {
        let mut error = json!({"code": self.code(), "message": self.to_string(), "details": self.details()});
        if let Error::Api { status, .. } = self {
            error["status"] = json!(status);
        }
        json!({ "error": error })
    }

    /// For people: the message, then each field path and its problem, one per line.
    pub fn to_text(&self) -> String {
        let mut text = format!("error: {self}");
        for d in self.details() {
            if d.field.is_empty() {
                text.push_str(&format!("\n  {}", d.problem));
            } else {
                text.push_str(&format!("\n  {}: {}", d.field, d.problem));
            }
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(status: u16) -> Error {
        Error::Api { status, code: "x".into(), message: "m".into(), details: vec![] }
    }

    #[test]
    fn statuses_map_to_exits_scripts_can_tell_apart() {
        let exits: Vec<Exit> = [400, 401, 403, 404, 409, 412, 413, 415, 422, 500, 502].map(|s| api(s).exit()).to_vec();
        use Exit::*;
        assert_eq!(
            exits,
            [Invalid, Denied, Denied, NotFound, Conflict, Conflict, Invalid, Invalid, Invalid, Server, Server]
        );
        assert_eq!(Error::Transport("refused".into()).exit(), Server);
        assert_eq!(Error::Input("no file".into()).exit(), Invalid);
        assert_eq!(Error::NotSignedIn("login".into()).exit(), Denied);
        assert_eq!(Error::Failed("build 2 failed".into()).exit(), Failed);
    }

    #[test]
    fn field_paths_are_printed_as_the_api_gives_them() {
        let e = Error::Api {
            status: 422,
            code: "invalid_spec".into(),
            message: "the spec is invalid".into(),
            details: vec![
                Detail { field: "contents.packages[0]".into(), problem: "not a package name".into() },
                Detail { field: String::new(), problem: "and the body is odd".into() },
            ],
        };
        assert_eq!(
            e.to_text(),
            "error: the spec is invalid\n  contents.packages[0]: not a package name\n  and the body is odd"
        );
        assert_eq!(e.to_json()["error"]["details"][0]["field"], "contents.packages[0]");
        assert_eq!(e.to_json()["error"]["status"], 422);
        assert_eq!(Error::Input("x".into()).to_json()["error"]["code"], "invalid_input");
    }
}
