//! Top-level fields: name, source, destination, tag_suffix, platforms, and the config
//! maps and lists (environment, labels, annotations, entrypoint, cmd).

use std::collections::BTreeMap;

use super::{Context, Problems, Seen, key_path, no_nul};
use crate::error::shown;
use crate::model::Customization;
use crate::platform::Platform;
use crate::reference::{MAX_TAG_LEN, Reference};

const MAX_NAME_LEN: usize = 63;
const SOURCE_EXAMPLE: &str = "e.g. `acme/dhi-python:3.13`";

/// Checks the fields that identify the images; returns what later checks need.
pub(super) fn check(spec: &Customization, problems: &mut Problems) -> Context {
    problems.check("name", check_name(&spec.name));
    let source = check_source(&spec.source, problems);
    let context = Context { source };
    if let Some(destination) = &spec.destination {
        problems.check("destination", check_destination(destination, &context));
    }
    problems.check("tag_suffix", check_tag_suffix(&spec.tag_suffix, &context));
    check_platforms(&spec.platforms, problems);
    context
}

/// Checks environment, labels, annotations, entrypoint and cmd.
pub(super) fn check_config(spec: &Customization, problems: &mut Problems) {
    for (key, value) in &spec.environment {
        let result = check_env_key(key).and_then(|()| no_nul(value));
        problems.check(key_path("environment", key), result);
    }
    for (map, entries) in [("labels", &spec.labels), ("annotations", &spec.annotations)] {
        check_metadata(map, entries, problems);
    }
    for (list, entries) in [("entrypoint", &spec.entrypoint), ("cmd", &spec.cmd)] {
        for (i, entry) in entries.iter().enumerate() {
            problems.check(format!("{list}[{i}]"), no_nul(entry));
        }
    }
}

pub(crate) fn check_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("must not be empty".to_owned());
    }
    if name.len() > MAX_NAME_LEN {
        return Err(format!("is {} characters long; at most {MAX_NAME_LEN} are allowed", name.len()));
    }
    let bytes = name.as_bytes();
    let first_ok = bytes.first().is_some_and(u8::is_ascii_alphanumeric);
    let rest_ok = bytes.iter().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if first_ok && rest_ok {
        Ok(())
    } else {
        Err(format!(
            "{} is invalid: use letters, digits, `.`, `_` and `-`, starting with a letter or digit",
            shown(name)
        ))
    }
}

fn check_source(source: &str, problems: &mut Problems) -> Option<Reference> {
    match Reference::parse(source) {
        Err(err) => {
            problems.push("source", format!("{err}; expected a repository with a tag, {SOURCE_EXAMPLE}"));
            None
        }
        Ok(reference) if reference.tag.is_none() => {
            problems.push(
                "source",
                format!(
                    "has no tag: name the tag to customize, {SOURCE_EXAMPLE} (a digest may \
                     follow as a pin: `acme/dhi-python:3.13@sha256:…`)"
                ),
            );
            None
        }
        Ok(reference) => Some(reference),
    }
}

fn check_destination(destination: &str, context: &Context) -> Result<(), String> {
    const EXAMPLE: &str = "e.g. `acme/dhi-python-custom`";
    let reference = Reference::parse(destination).map_err(|err| format!("{err}; expected a repository, {EXAMPLE}"))?;
    if reference.tag.is_some() || reference.digest.is_some() {
        return Err(format!(
            "must be a repository without tag or digest, {EXAMPLE} (the result is tagged \
             `<source tag>_<tag_suffix>`)"
        ));
    }
    let Some(source) = &context.source else {
        return Ok(());
    };
    if reference.registry != source.registry {
        return Err(format!("must be in the source's registry, {}", context.registry_name()));
    }
    if reference.namespace() != source.namespace() {
        return Err(format!("must be in the source's namespace `{}`", source.namespace()));
    }
    Ok(())
}

fn check_tag_suffix(suffix: &str, context: &Context) -> Result<(), String> {
    if suffix.is_empty() {
        return Err("must not be empty, e.g. `custom`".to_owned());
    }
    let charset_ok = suffix.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if !charset_ok {
        return Err(format!("{} is invalid: use letters, digits, `.`, `_` and `-`", shown(suffix)));
    }
    if let Some(tag) = context.source.as_ref().and_then(|s| s.tag.as_deref()) {
        let result = format!("{tag}_{suffix}");
        if result.len() > MAX_TAG_LEN {
            return Err(format!(
                "the resulting tag {} would be {} characters long; tags are at most \
                 {MAX_TAG_LEN}",
                shown(&result),
                result.len()
            ));
        }
    }
    Ok(())
}

fn check_platforms(platforms: &[String], problems: &mut Problems) {
    if platforms.is_empty() {
        problems.push("platforms", "at least one platform is required, e.g. `linux/amd64`");
    }
    let mut seen = Seen::new();
    for (i, text) in platforms.iter().enumerate() {
        let field = format!("platforms[{i}]");
        match Platform::parse(text) {
            Err(err) => problems.push(field, err),
            Ok(platform) => {
                if let Some(first) = seen.first(platform, i) {
                    problems.push(field, format!("{} is listed twice (see platforms[{first}])", shown(text)));
                }
            }
        }
    }
}

fn check_env_key(key: &str) -> Result<(), String> {
    let bytes = key.as_bytes();
    let first_ok = bytes.first().is_some_and(|b| b.is_ascii_alphabetic() || *b == b'_');
    let rest_ok = bytes.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'_');
    if first_ok && rest_ok {
        Ok(())
    } else {
        Err(format!(
            "{} is not a valid variable name: use letters, digits and `_`, not starting with a \
             digit",
            shown(key)
        ))
    }
}

fn check_metadata(map: &str, entries: &BTreeMap<String, String>, problems: &mut Problems) {
    for (key, value) in entries {
        let result = if key.is_empty() {
            Err("key must not be empty".to_owned())
        } else if key.contains('\0') {
            Err("key must not contain NUL characters".to_owned())
        } else if key.chars().any(char::is_whitespace) {
            Err("key must not contain whitespace".to_owned())
        } else {
            no_nul(value)
        };
        problems.check(key_path(map, key), result);
    }
}
