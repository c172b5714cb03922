//! dpkg's database after installing packages without running anything: the whole new
//! `/var/lib/dpkg/status` (the base's entries kept byte for byte, the new ones `install ok
//! installed`, every entry sorted by name as dpkg writes it) and each new package's
//! `info/<name>.list`, `.md5sums`, `.conffiles` and maintainer scripts (kept, as dpkg keeps
//! them when it unpacks, though tailor runs none). Deterministic bytes.

use std::collections::BTreeMap;

use super::{Stanzas, excerpt};

/// One package being installed, as its `.deb` describes it.
#[derive(Debug, Clone, Default)]
pub struct Unpacked {
    /// The `control` file of `control.tar`.
    pub control: String,
    /// The `md5sums` file: the package's own, or computed from its data when it has none
    /// (`dpkg --audit` reports a package with files and no md5sums as needing a reinstall).
    pub md5sums: Option<String>,
    /// Conffiles (absolute paths) with the MD5 (hex) of their content as shipped.
    pub conffiles: Vec<(String, String)>,
    /// Every path of the data tar, absolute, without a trailing `/`, in tar order.
    pub paths: Vec<String>,
    /// Maintainer scripts and other control members dpkg keeps (`postinst`, `triggers`, …).
    pub scripts: Vec<(String, Vec<u8>)>,
}

/// The database files to write, relative to `/var/lib/dpkg/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Database {
    pub status: String,
    pub info: BTreeMap<String, Vec<u8>>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DatabaseError {
    #[error("the base's dpkg status, line {line}: {problem}")]
    BaseStatus { line: usize, problem: String },
    #[error("the control file of package {package:?}: {problem}")]
    Control { package: String, problem: String },
}

/// Fields dpkg writes first, in this order; the others follow in the control file's order.
const ORDER: &[&str] = &[
    "Package",
    "Essential",
    "Status",
    "Priority",
    "Section",
    "Installed-Size",
    "Origin",
    "Maintainer",
    "Bugs",
    "Architecture",
    "Multi-Arch",
    "Source",
    "Version",
    "Replaces",
    "Provides",
    "Depends",
    "Pre-Depends",
    "Recommends",
    "Suggests",
    "Breaks",
    "Conflicts",
    "Enhances",
    "Conffiles",
    "Description",
];

/// A stanza's sort key: dpkg orders its status file by package name, then architecture.
fn key_of(fields: &[(String, String)]) -> (String, String) {
    let get =
        |n: &str| fields.iter().find(|(k, _)| k.eq_ignore_ascii_case(n)).map(|(_, v)| v.clone()).unwrap_or_default();
    (get("Package"), get("Architecture"))
}

/// `base_status` with `new` installed. `multiarch`: the base's `info/format` says `1` (every
/// Debian since 2012): `Multi-Arch: same` packages then have `info/<name>:<arch>.*` files.
pub fn install(base_status: &str, multiarch: bool, new: &[Unpacked]) -> Result<Database, DatabaseError> {
    // (name, arch) → stanza text, ending in one newline.
    let mut entries: BTreeMap<(String, String), String> = BTreeMap::new();
    for stanza in Stanzas::new(base_status) {
        let stanza = stanza.map_err(|e| DatabaseError::BaseStatus { line: e.line(), problem: e.to_string() })?;
        let fields: Vec<(String, String)> =
            stanza.fields.iter().map(|f| (f.name.to_string(), f.value.to_string())).collect();
        entries.insert(key_of(&fields), stanza.to_string());
    }
    let mut info = BTreeMap::new();
    for p in new {
        let stanza = Stanzas::new(&p.control)
            .next()
            .ok_or_else(|| DatabaseError::Control { package: String::new(), problem: "empty".into() })?
            .map_err(|e| DatabaseError::Control { package: excerpt(&p.control), problem: e.to_string() })?;
        let mut fields: Vec<(String, String)> = stanza
            .fields
            .iter()
            .filter(|f| !f.name.eq_ignore_ascii_case("Status") && !f.name.eq_ignore_ascii_case("Conffiles"))
            .map(|f| (f.name.to_string(), f.value.to_string()))
            .collect();
        let (name, arch) = key_of(&fields);
        if name.is_empty() {
            return Err(DatabaseError::Control { package: excerpt(&p.control), problem: "no Package field".into() });
        }
        fields.push(("Status".into(), "install ok installed".into()));
        if !p.conffiles.is_empty() {
            let lines: Vec<String> = p.conffiles.iter().map(|(path, md5)| format!(" {path} {md5}")).collect();
            fields.push(("Conffiles".into(), format!("\n{}", lines.join("\n"))));
        }
        entries.insert((name.clone(), arch.clone()), render(&fields));
        let same = fields.iter().any(|(k, v)| k.eq_ignore_ascii_case("Multi-Arch") && v == "same");
        let stem = if same && multiarch { format!("{name}:{arch}") } else { name.clone() };
        let mut list = String::from("/.\n");
        for path in &p.paths {
            if path != "/" && path != "/." {
                list.push_str(path);
                list.push('\n');
            }
        }
        info.insert(format!("info/{stem}.list"), list.into_bytes());
        if let Some(m) = &p.md5sums {
            info.insert(format!("info/{stem}.md5sums"), m.as_bytes().to_vec());
        }
        if !p.conffiles.is_empty() {
            let text: String = p.conffiles.iter().map(|(path, _)| format!("{path}\n")).collect();
            info.insert(format!("info/{stem}.conffiles"), text.into_bytes());
        }
        for (script, bytes) in &p.scripts {
            info.insert(format!("info/{stem}.{script}"), bytes.clone());
        }
    }
    let status = entries.into_values().collect::<Vec<_>>().join("\n");
    Ok(Database { status, info })
}

/// A stanza in dpkg's field order; values as the control file wrote them (continuation lines
/// keep their leading space).
fn render(fields: &[(String, String)]) -> String {
    let rank = |name: &str| ORDER.iter().position(|o| o.eq_ignore_ascii_case(name)).unwrap_or(ORDER.len());
    let mut sorted: Vec<(usize, usize, &(String, String))> =
        fields.iter().enumerate().map(|(i, f)| (rank(&f.0), i, f)).collect();
    sorted.sort_by_key(|(r, i, _)| (*r, *i));
    let mut out = String::new();
    for (_, _, (name, value)) in sorted {
        out.push_str(name);
        out.push(':');
        if !value.is_empty() && !value.starts_with('\n') {
            out.push(' ');
        }
        out.push_str(value);
        out.push('\n');
    }
    out
}

#[cfg(test)]
#[path = "database_tests.rs"]
mod tests;
