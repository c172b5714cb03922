//! `contents`: packages and artifacts.

use super::{Context, Problems, Seen};
use crate::error::shown;
use crate::model::{ArtifactSpec, Contents};
use crate::paths::{is_under, normalize_check};
use crate::reference::Reference;

pub(super) fn check(contents: &Contents, context: &Context, problems: &mut Problems) {
    let mut seen = Seen::new();
    for (i, package) in contents.packages.iter().enumerate() {
        let field = format!("contents.packages[{i}]");
        match check_package(package) {
            Err(err) => problems.push(field, err),
            Ok(name) => {
                if let Some(first) = seen.first(name, i) {
                    problems.push(
                        field,
                        format!("package {} is listed twice (see contents.packages[{first}])", shown(name)),
                    );
                }
            }
        }
    }
    for (i, artifact) in contents.artifacts.iter().enumerate() {
        check_artifact(artifact, &format!("contents.artifacts[{i}]"), context, problems);
    }
}

/// Checks `name` or `name=version`; returns the name.
fn check_package(package: &str) -> Result<&str, String> {
    let (name, version) = match package.split_once('=') {
        Some((name, version)) => (name, Some(version)),
        None => (package, None),
    };
    let bytes = name.as_bytes();
    if bytes.is_empty() {
        return Err("package name is empty; expected `name` or `name=version`".to_owned());
    }
    let first_ok = bytes.first().is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    let rest_ok =
        bytes.iter().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'+' | b'.' | b'_' | b'-'));
    if !(first_ok && rest_ok) {
        return Err(format!(
            "package name {} is invalid: use lowercase letters, digits, `+`, `.`, `_` and `-`, \
             starting with a letter or digit (expected `name` or `name=version`)",
            shown(name)
        ));
    }
    if let Some(version) = version {
        let version_ok = !version.is_empty()
            && version
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'+' | b'~' | b':' | b'_' | b'-'));
        if !version_ok {
            return Err(format!(
                "version {} of package {} is invalid: use letters, digits, `.`, `+`, `~`, `:`, \
                 `_` and `-`",
                shown(version),
                shown(name)
            ));
        }
    }
    Ok(name)
}

fn check_artifact(artifact: &ArtifactSpec, at: &str, context: &Context, problems: &mut Problems) {
    problems.check(format!("{at}.reference"), check_artifact_reference(&artifact.reference, context));

    if artifact.includes.is_empty() {
        problems.push(format!("{at}.includes"), "nothing is included by default: list the paths to include");
    }
    let includes_ok = check_path_list(&artifact.includes, &format!("{at}.includes"), problems);
    check_path_list(&artifact.excludes, &format!("{at}.excludes"), problems);
    if !includes_ok {
        // Whether an exclude lies under an include is only meaningful once the includes are.
        return;
    }
    for (i, exclude) in artifact.excludes.iter().enumerate() {
        let valid = normalize_check(exclude).is_ok();
        if valid && !artifact.includes.iter().any(|inc| is_under(exclude, inc)) {
            problems.push(
                format!("{at}.excludes[{i}]"),
                format!("{} is not under any include", exclude.escape_debug().collect::<String>()),
            );
        }
    }
}

fn check_artifact_reference(text: &str, context: &Context) -> Result<(), String> {
    const EXAMPLE: &str = "e.g. `acme/rootca:20250101`";
    let reference = Reference::parse(text).map_err(|err| format!("{err}; expected a reference, {EXAMPLE}"))?;
    if reference.tag.is_none() && reference.digest.is_none() {
        return Err(format!("needs a tag or a digest, {EXAMPLE}"));
    }
    let Some(source) = &context.source else {
        return Ok(());
    };
    if reference.registry != source.registry {
        return Err(format!("artifacts must come from the source's registry, {}", context.registry_name()));
    }
    if reference.namespace() != source.namespace() {
        return Err(format!("artifacts must be in the organization's namespace `{}`", source.namespace()));
    }
    Ok(())
}

/// Checks each path is absolute, normalized and listed once; returns whether all paths
/// are valid (duplicates aside).
fn check_path_list(paths: &[String], at: &str, problems: &mut Problems) -> bool {
    let mut all_ok = true;
    let mut seen = Seen::new();
    for (i, path) in paths.iter().enumerate() {
        let field = format!("{at}[{i}]");
        if !problems.check(field.clone(), normalize_check(path)) {
            all_ok = false;
        } else if let Some(first) = seen.first(path.as_str(), i) {
            problems.push(field, format!("{} is listed twice (see {at}[{first}])", shown(path)));
        }
    }
    all_ok
}
