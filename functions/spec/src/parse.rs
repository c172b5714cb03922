//! Parsing YAML and JSON into the model, with field paths on errors.

use serde::de::DeserializeOwned;
use serde_path_to_error::{Path, Segment};

use crate::error::{Problem, Result, SpecError};
use crate::model::Customization;

/// Parses YAML into any spec type; syntax, type and unknown-field errors name the field path.
pub(crate) fn yaml<T: DeserializeOwned + serde::Serialize>(text: &str) -> Result<T> {
    let parsed = yaml_lenient::<T>(text)?;
    // serde_yaml reads `null`, `true` or `8080` where text is expected as that text: refuse
    // it, as JSON (and the API's schema, and Kubernetes) would.
    if let (Ok(raw), Ok(read)) = (serde_yaml::from_str::<serde_yaml::Value>(text), serde_json::to_value(&parsed))
        && let Some((path, kind)) = scalar_read_as_text(&raw, &read, &mut Vec::new())
    {
        return Err(SpecError::Parse(Problem::new(
            join(&path),
            format!("invalid type: {}, expected a string (quote it to mean text)", kind),
        )));
    }
    Ok(parsed)
}

/// Where YAML has null, a boolean or a number and the parsed value has a string.
fn scalar_read_as_text(
    raw: &serde_yaml::Value,
    read: &serde_json::Value,
    path: &mut Vec<String>,
) -> Option<(Vec<String>, &'static str)> {
    match (raw, read) {
        (serde_yaml::Value::Null, serde_json::Value::String(_)) => Some((path.clone(), "null")),
        (serde_yaml::Value::Bool(_), serde_json::Value::String(_)) => Some((path.clone(), "a boolean")),
        (serde_yaml::Value::Number(_), serde_json::Value::String(text)) if numeric_in_yaml_1_1(text) => {
            Some((path.clone(), "a number"))
        }
        (serde_yaml::Value::Sequence(items), serde_json::Value::Array(read)) => {
            items.iter().zip(read).enumerate().find_map(|(i, (raw, read))| {
                path.push(format!("[{i}]"));
                let found = scalar_read_as_text(raw, read, path);
                path.pop();
                found
            })
        }
        (serde_yaml::Value::Mapping(m), serde_json::Value::Object(read)) => m.iter().find_map(|(k, raw)| {
            let key = k.as_str()?;
            path.push(key.to_owned());
            let found = read.get(key).and_then(|read| scalar_read_as_text(raw, read, path));
            path.pop();
            found
        }),
        (serde_yaml::Value::Tagged(t), read) => scalar_read_as_text(&t.value, read, path),
        _ => None,
    }
}

/// Whether YAML 1.1 (what most emitters write, e.g. PyYAML) also reads `text` as a number:
/// `0e0` or `0o17` are numbers only in YAML 1.2, so an emitter writes such text unquoted.
fn numeric_in_yaml_1_1(text: &str) -> bool {
    let unsigned = text.strip_prefix(['+', '-']).unwrap_or(text);
    (!unsigned.is_empty() && unsigned.bytes().all(|b| b.is_ascii_digit()))
        || (unsigned.contains('.') && unsigned.parse::<f64>().is_ok())
        || matches!(unsigned, ".inf" | ".Inf" | ".INF" | ".nan" | ".NaN" | ".NAN")
}

fn yaml_lenient<T: DeserializeOwned>(text: &str) -> Result<T> {
    let deserializer = serde_yaml::Deserializer::from_str(text);
    serde_path_to_error::deserialize(deserializer).or_else(|err| {
        let first = parse_error(&segments(err.path()), &err.inner().to_string());
        // `gid: 1000.0` is the integer 1000 (as in JSON Schema): read again with such numbers
        // made integers; any other error stays the first one.
        if !err.inner().to_string().contains("floating point") {
            return Err(first);
        }
        let Ok(mut value) = serde_yaml::from_str::<serde_yaml::Value>(text) else { return Err(first) };
        integral_yaml(&mut value);
        serde_path_to_error::deserialize(value).map_err(|_| first)
    })
}

fn integral_yaml(v: &mut serde_yaml::Value) {
    match v {
        serde_yaml::Value::Number(n) => {
            if let Some(i) = n.as_f64().and_then(integral) {
                *n = i.map_or_else(serde_yaml::Number::from, serde_yaml::Number::from);
            }
        }
        serde_yaml::Value::Sequence(items) => items.iter_mut().for_each(integral_yaml),
        serde_yaml::Value::Mapping(m) => m.iter_mut().for_each(|(_, v)| integral_yaml(v)),
        serde_yaml::Value::Tagged(t) => integral_yaml(&mut t.value),
        _ => {}
    }
}

fn integral_json(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Number(n) if n.is_f64() => {
            if let Some(i) = n.as_f64().and_then(integral) {
                *n = i.map_or_else(serde_json::Number::from, serde_json::Number::from);
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(integral_json),
        serde_json::Value::Object(m) => m.values_mut().for_each(integral_json),
        _ => {}
    }
}

/// A float with no fraction as an integer (`Ok` non-negative, `Err` negative), when exact.
fn integral(f: f64) -> Option<std::result::Result<u64, i64>> {
    const EXACT: f64 = 9_007_199_254_740_992.0; // 2^53
    if f.fract() != 0.0 || !f.is_finite() || f.abs() > EXACT {
        return None;
    }
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    Some(if f >= 0.0 { Ok(f as u64) } else { Err(f as i64) })
}

/// Parses JSON into any spec type; errors as for [`yaml`].
pub(crate) fn json<T: DeserializeOwned>(text: &str) -> Result<T> {
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let spec: T = match serde_path_to_error::deserialize(&mut deserializer) {
        Ok(spec) => spec,
        Err(err) => {
            let first = parse_error(&segments(err.path()), &err.inner().to_string());
            // As for YAML: `1000.0` is the integer 1000.
            if !err.inner().to_string().contains("floating point") {
                return Err(first);
            }
            let Ok(mut value) = serde_json::from_str::<serde_json::Value>(text) else { return Err(first) };
            integral_json(&mut value);
            return serde_path_to_error::deserialize(value).map_err(|_| first);
        }
    };
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
