//! Validation of a parsed spec: every problem is collected with its field path.

mod accounts;
mod contents;
mod files;
pub(crate) mod top;

use std::collections::HashMap;
use std::hash::Hash;

use crate::error::Problem;
use crate::model::Customization;
use crate::reference::Reference;

/// Collects problems.
#[derive(Default)]
pub(crate) struct Problems(Vec<Problem>);

impl Problems {
    pub(crate) fn push(&mut self, field: impl Into<String>, problem: impl Into<String>) {
        self.0.push(Problem::new(field, problem));
    }

    /// Records `result`'s error, if any, for `field`; returns whether it was fine.
    pub(crate) fn check(&mut self, field: impl Into<String>, result: Result<(), String>) -> bool {
        match result {
            Ok(()) => true,
            Err(problem) => {
                self.push(field, problem);
                false
            }
        }
    }
}

/// Remembers the first index of each key, to report later duplicates.
pub(crate) struct Seen<K>(HashMap<K, usize>);

impl<K: Eq + Hash> Seen<K> {
    pub(crate) fn new() -> Self {
        Self(HashMap::new())
    }

    /// `Some(first index)` if `key` was seen before, else records it at `index`.
    pub(crate) fn first(&mut self, key: K, index: usize) -> Option<usize> {
        match self.0.get(&key) {
            Some(first) => Some(*first),
            None => {
                self.0.insert(key, index);
                None
            }
        }
    }
}

/// What the checks of dependent fields need to know about the source.
pub(crate) struct Context {
    /// The parsed source, when it is valid.
    pub(crate) source: Option<Reference>,
}

impl Context {
    /// How the source's registry is named in messages.
    pub(crate) fn registry_name(&self) -> String {
        match self.source.as_ref().and_then(|s| s.registry.as_deref()) {
            Some(host) => format!("`{host}`"),
            None => "the configured registry (no host)".to_owned(),
        }
    }
}

/// Checks a string that has no other rule than "no NUL".
pub(crate) fn no_nul(value: &str) -> Result<(), String> {
    if value.contains('\0') { Err("must not contain NUL characters".to_owned()) } else { Ok(()) }
}

/// Field path of a map entry: `map.key`, or `map."key"` (escaped) when the key is empty or
/// contains whitespace or control characters.
pub(crate) fn key_path(map: &str, key: &str) -> String {
    if key.is_empty() || key.chars().any(|c| c.is_whitespace() || c.is_control()) {
        format!("{map}.{key:?}")
    } else {
        format!("{map}.{key}")
    }
}

pub(crate) fn validate(spec: &Customization) -> Result<(), Vec<Problem>> {
    let mut problems = Problems::default();
    let context = top::check(spec, &mut problems);
    contents::check(&spec.contents, &context, &mut problems);
    files::check(&spec.files, &mut problems);
    accounts::check(&spec.accounts, &mut problems);
    top::check_config(spec, &mut problems);
    if problems.0.is_empty() { Ok(()) } else { Err(problems.0) }
}
