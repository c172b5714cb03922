//! Parsing YAML and JSON into the model, with field paths on errors.

use serde::de::DeserializeOwned;
use serde_path_to_error::{Path, Segment};

use crate::error::{Problem, Result, SpecError};
use crate::model::Customization;

/// Parses YAML into any spec type; syntax, type and unknown-field errors name the field path.
pub(crate) fn yaml<T: DeserializeOwned>(text: &str) -> Result<T> {
    let deserializer = serde_yaml::Deserializer::from_str(text);
    serde_path_to_error::deserialize(deserializer)
        .map_err(|err| parse_error(&segments(err.path()), &err.inner().to_string()))
}

/// Parses JSON into any spec type; errors as for [`yaml`].
pub(crate) fn json<T: DeserializeOwned>(text: &str) -> Result<T> {
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let spec: T = serde_path_to_error::deserialize(&mut deserializer)
        .map_err(|err| parse_error(&segments(err.path()), &err.inner().to_string()))?;
    deserializer.end().map_err(|err| parse_error(&[], &err.to_string()))?;
    Ok(spec)
}

impl Customization {
    /// Parses YAML without validating. Syntax, type and unknown-field errors name the field
    /// path (e.g. `contents.artifacts[0].include: unknown field …`).
    pub fn from_yaml(text: &str) -> Result<Self> {
        yaml(text)
    }

    /// Parses JSON without validating; errors as for [`Customization::from_yaml`].
    pub fn from_json(text: &str) -> Result<Self> {
        json(text)
    }

    /// Parses YAML and validates; all validation problems come back as [`SpecError::Invalid`].
    pub fn parse_yaml(text: &str) -> Result<Self> {
        Self::from_yaml(text)?.validated()
    }

    /// Parses JSON and validates; all validation problems come back as [`SpecError::Invalid`].
    pub fn parse_json(text: &str) -> Result<Self> {
        Self::from_json(text)?.validated()
    }

    fn validated(self) -> Result<Self> {
        match self.validate() {
            Ok(()) => Ok(self),
            Err(problems) => Err(SpecError::Invalid(problems)),
        }
    }
}

/// Builds a parse error at the field `segments` (as from [`segments`]). Missing and
/// duplicate fields are reported by serde at the enclosing struct, so their name is appended
/// (unknown fields already carry it, but the check is the same).
fn parse_error(segments: &[String], message: &str) -> SpecError {
    let message = strip_yaml_path(message, segments);
    let mut segments = segments.to_vec();
    let named = ["unknown field `", "missing field `", "duplicate field `"]
        .iter()
        .find_map(|prefix| message.strip_prefix(prefix))
        .and_then(|rest| rest.split_once('`'))
        .map(|(name, _)| name);
    if let Some(name) = named
        && segments.last().is_none_or(|last| last != name)
    {
        segments.push(name.to_owned());
    }
    SpecError::Parse(Problem::new(join(&segments), message))
}

/// The path as segments: `["contents", "artifacts", "[0]"]`; unknown positions are dropped.
fn segments(path: &Path) -> Vec<String> {
    path.iter()
        .filter_map(|segment| match segment {
            Segment::Seq { index } => Some(format!("[{index}]")),
            Segment::Map { key } => Some(key.clone()),
            Segment::Enum { variant } => Some(variant.clone()),
            Segment::Unknown => None,
        })
        .collect()
}

/// `a.b[0].c`
fn join(segments: &[String]) -> String {
    let mut out = String::new();
    for segment in segments {
        if !out.is_empty() && !segment.starts_with('[') {
            out.push('.');
        }
        out.push_str(segment);
    }
    out
}

/// serde_yaml prefixes its messages with its own path (`a.b[0]: …`), which is the field's
/// path or, for unknown fields, the enclosing struct's; drop it, since `field` has it.
fn strip_yaml_path<'a>(message: &'a str, segments: &[String]) -> &'a str {
    let own = join(segments);
    let parent = join(&segments[..segments.len().saturating_sub(1)]);
    [own, parent]
        .iter()
        .filter(|prefix| !prefix.is_empty())
        .find_map(|prefix| message.strip_prefix(prefix.as_str())?.strip_prefix(": "))
        .unwrap_or(message)
}
