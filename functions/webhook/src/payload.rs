//! What a delivery says, whatever its sender: the body's format is detected from its JSON
//! content and the whole body is validated before anything is recorded.

use serde_json::{Map, Value};
use tailor_guest::Detail;

use crate::{distribution, dockerhub};

/// At most this many problems are reported for one body.
const MAX_DETAILS: usize = 50;

/// A manifest push of `repository:tag` that may change what customizations build from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Push {
    /// The sender's event id, for deduplication of redeliveries.
    pub event_id: String,
    pub repository: String,
    pub tag: String,
    /// The manifest digest, when the sender gives one.
    pub digest: Option<String>,
    /// A cosign signature, attestation or SBOM tag (`sha256-<hex>.sig`): no input of a build,
    /// but news for a mirror (a vendor signs after pushing).
    pub attachment: bool,
}

/// A validated delivery: how many events it carried and the relevant pushes among them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub events: usize,
    pub pushes: Vec<Push>,
}

/// Parses and validates a body; the problems name the offending fields.
pub fn parse(body: &[u8]) -> Result<Delivery, Vec<Detail>> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| vec![Detail::new("body", format!("the body is not valid JSON: {e}"))])?;
    let Value::Object(object) = value else {
        return Err(vec![Detail::new("body", format!("expected a JSON object, found {}", kind(&value)))]);
    };
    if object.contains_key("events") {
        distribution::parse(&object)
    } else if object.contains_key("push_data") && object.contains_key("repository") {
        dockerhub::parse(&object)
    } else {
        Err(vec![Detail::new(
            "body",
            "expected a Distribution notification envelope (an object with \"events\") or a Docker Hub webhook \
             (an object with \"push_data\" and \"repository\")",
        )])
    }
}

/// Collects problems, up to [`MAX_DETAILS`].
#[derive(Default)]
pub(crate) struct Problems(Vec<Detail>);

impl Problems {
    pub(crate) fn add(&mut self, detail: Detail) {
        if self.0.len() < MAX_DETAILS {
            self.0.push(detail);
        }
    }

    pub(crate) fn into_result<T>(self, ok: T) -> Result<T, Vec<Detail>> {
        if self.0.is_empty() { Ok(ok) } else { Err(self.0) }
    }
}

/// The JSON type of `value`, for messages.
pub(crate) fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Field `key` of `object` (at `field`) as a string; absent or null is `None`.
pub(crate) fn opt_str<'a>(object: &'a Map<String, Value>, key: &str, field: &str) -> Result<Option<&'a str>, Detail> {
    match object.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(Detail::new(field, format!("expected a string, found {}", kind(other)))),
    }
}

/// Field `key` of `object` (at `field`) as an object; absent or null is `None`.
pub(crate) fn opt_object<'a>(
    object: &'a Map<String, Value>,
    key: &str,
    field: &str,
) -> Result<Option<&'a Map<String, Value>>, Detail> {
    match object.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(o)) => Ok(Some(o)),
        Some(other) => Err(Detail::new(field, format!("expected an object, found {}", kind(other)))),
    }
}

/// Maximum length of a repository name (docker distribution limit).
const MAX_REPOSITORY_LEN: usize = 255;
/// Maximum length of an event id.
pub(crate) const MAX_EVENT_ID_LEN: usize = 512;

/// Checks a repository name (`acme/debian`), as the catalog and dependencies store them.
pub(crate) fn check_repository(repository: &str, field: &str) -> Result<(), Detail> {
    if repository.len() > MAX_REPOSITORY_LEN {
        return Err(Detail::new(field, format!("longer than {MAX_REPOSITORY_LEN} characters")));
    }
    if !tailor_spec::is_valid_repository(repository) {
        return Err(Detail::new(field, "not a valid repository name (lowercase path components like acme/debian)"));
    }
    Ok(())
}

/// Checks a tag (`[A-Za-z0-9_][A-Za-z0-9._-]{0,127}`).
pub(crate) fn check_tag(tag: &str, field: &str) -> Result<(), Detail> {
    if tailor_spec::is_valid_tag(tag) {
        Ok(())
    } else {
        Err(Detail::new(field, "not a valid tag ([A-Za-z0-9_][A-Za-z0-9._-], at most 128 characters)"))
    }
}

/// Checks a digest (`algorithm:encoded`, OCI grammar; sha256 needs 64 lowercase hex digits).
pub(crate) fn check_digest(digest: &str, field: &str) -> Result<(), Detail> {
    let bad = || Detail::new(field, "not a valid digest (like sha256:<64 lowercase hex digits>)");
    let Some((algorithm, encoded)) = digest.split_once(':') else { return Err(bad()) };
    let component_ok = |c: &str| !c.is_empty() && c.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    let algorithm_ok = algorithm.split(['+', '.', '_', '-']).all(component_ok);
    let encoded_ok = !encoded.is_empty()
        && encoded.len() <= 1024
        && encoded.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'=' | b'_' | b'-'));
    let sha256_ok = algorithm != "sha256"
        || (encoded.len() == 64 && encoded.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
    if algorithm_ok && encoded_ok && sha256_ok { Ok(()) } else { Err(bad()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests() {
        let hex64 = "a".repeat(64);
        assert!(check_digest(&format!("sha256:{hex64}"), "d").is_ok());
        assert!(check_digest(&format!("sha512+b64u:{hex64}"), "d").is_ok());
        for bad in [
            String::new(),
            "sha256".into(),
            "sha256:".into(),
            format!("sha256:{}", "A".repeat(64)),
            format!("sha256:{}", "a".repeat(63)),
            format!(":{hex64}"),
            format!("SHA256:{hex64}"),
            format!("sha256+:{hex64}"),
            format!("sha256:{}é", "a".repeat(63)),
        ] {
            assert!(check_digest(&bad, "d").is_err(), "{bad}");
        }
    }

    #[test]
    fn unknown_shapes_are_rejected_naming_the_body() {
        for body in [&b""[..], b"not json", b"[1]", b"\"s\"", b"{}", b"{\"push_data\":{}}", b"{\"repository\":{}}"] {
            let problems = parse(body).unwrap_err();
            assert_eq!(problems.len(), 1);
            assert_eq!(problems[0].field, "body", "{}", String::from_utf8_lossy(body));
        }
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        assert_eq!(parse(deep.as_bytes()).unwrap_err()[0].field, "body");
    }
}
