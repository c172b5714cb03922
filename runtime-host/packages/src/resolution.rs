//! What the Debian and Alpine resolvers share: their error, and "did you mean" for unknown
//! names.

/// Why a request cannot be installed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResolveError {
    #[error("package {request:?}: {problem}")]
    BadRequest { request: String, problem: String },
    #[error("{}", unknown_message(name, close))]
    Unknown { name: String, close: Vec<String> },
    #[error("{name}={version} is not in the repositories (available: {})", available.join(", "))]
    NoSuchVersion { name: String, version: String, available: Vec<String> },
    #[error("{chain}: {problem}")]
    Unsatisfiable { chain: String, problem: String },
    #[error("{chain}: {package} conflicts with {other}")]
    Conflict { chain: String, package: String, other: String },
    #[error(
        "{chain}: the repositories' index is malformed here: {problem}; tell the repository's maintainer, or pin another version"
    )]
    BadIndex { chain: String, problem: String },
}

fn unknown_message(name: &str, close: &[String]) -> String {
    if close.is_empty() {
        format!("unknown package {name}: no package of that name (or providing it) in the repositories")
    } else {
        format!("unknown package {name}: did you mean {}?", close.join(", "))
    }
}

/// Of `names`, those close to `name` (for "did you mean"), closest first, at most five.
pub(crate) fn close_names<'a>(names: impl Iterator<Item = &'a str>, name: &str) -> Vec<String> {
    let mut scored: Vec<(usize, &str)> = names
        .map(|k| (edit_distance(name, k), k))
        .filter(|(d, k)| *d <= 2.max(name.len() / 4) || k.starts_with(name))
        .collect();
    scored.sort();
    scored.into_iter().take(5).map(|(_, k)| k.to_owned()).collect()
}

/// Levenshtein distance (names are short).
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for j in 0..b.len() {
            let cost = usize::from(ca != b[j]);
            let next = (prev + cost).min(row[j] + 1).min(row[j + 1] + 1);
            prev = row[j + 1];
            row[j + 1] = next;
        }
    }
    row[b.len()]
}
