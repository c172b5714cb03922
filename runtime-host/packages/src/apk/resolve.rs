//! Which packages to install for a request, like `apk add` on one architecture: the newest
//! candidate of each name (or the pinned `name=version`), every `D:` atom followed — a real
//! package of that name first, else the provider of the name (`so:`, `cmd:`, `p:` entries) with
//! the highest provider priority (`k:`), then by name — `!name` conflicts checked, and `i:`
//! (install_if) packages added once all their conditions hold. Packages the base already has
//! are kept as they are. Deterministic; a dependency that cannot be met is an error naming the
//! chain that led to it.

use std::collections::BTreeMap;

pub use crate::resolution::ResolveError;
use crate::resolution::close_names;

use super::{Dependency, Package, Version};

/// One requested package: `name` or `name=version`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub name: String,
    pub version: Option<Version>,
}

impl Request {
    pub fn parse(text: &str) -> Result<Request, ResolveError> {
        let text = text.trim();
        let (name, version) = match text.split_once('=') {
            Some((n, v)) => (n.trim(), Some(v.trim())),
            None => (text, None),
        };
        let valid = !name.is_empty()
            && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"+-._:/".contains(&b))
            && name.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric() || b == b'/');
        if !valid {
            return Err(ResolveError::BadRequest {
                request: text.to_owned(),
                problem: "a package name is letters, digits, '+', '-', '.', '_' (and ':' or '/' in virtual names such as cmd:curl)".into(),
            });
        }
        let version = version
            .map(|v| {
                Version::parse(v)
                    .map_err(|e| ResolveError::BadRequest { request: text.to_owned(), problem: e.to_string() })
            })
            .transpose()?;
        Ok(Request { name: name.to_owned(), version })
    }

    fn label(&self) -> String {
        match &self.version {
            Some(v) => format!("{}={v}", self.name),
            None => self.name.clone(),
        }
    }
}

/// What to install, dependencies before what needs them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan<'a> {
    pub install: Vec<&'a Package>,
    /// Requested packages the base has already (name, installed version).
    pub already_installed: Vec<(String, String)>,
}

/// The packages of one architecture's indexes, by name and by what they provide.
pub struct Universe<'a> {
    by_name: BTreeMap<&'a str, Vec<&'a Package>>,
    providers: BTreeMap<&'a str, Vec<&'a Package>>,
    install_if: Vec<&'a Package>,
}

impl<'a> Universe<'a> {
    /// `packages`: the entries of every index for `arch` (and `noarch`).
    pub fn new(arch: &str, packages: &'a [Package]) -> Universe<'a> {
        let mut by_name: BTreeMap<&str, Vec<&Package>> = BTreeMap::new();
        let mut providers: BTreeMap<&str, Vec<&Package>> = BTreeMap::new();
        let mut install_if = Vec::new();
        let fits = |p: &Package| p.arch.as_deref().is_none_or(|a| a == arch || a == "noarch");
        for p in packages.iter().filter(|p| fits(p)) {
            by_name.entry(p.name.as_str()).or_default().push(p);
            for provide in &p.provides {
                providers.entry(provide.name.as_str()).or_default().push(p);
            }
            if !p.install_if.is_empty() {
                install_if.push(p);
            }
        }
        for list in by_name.values_mut() {
            list.sort_by(|a, b| b.version.cmp(&a.version));
            list.dedup_by(|a, b| a.version == b.version);
        }
        for list in providers.values_mut() {
            list.sort_by(|a, b| {
                b.provider_priority
                    .unwrap_or(0)
                    .cmp(&a.provider_priority.unwrap_or(0))
                    .then_with(|| a.name.cmp(&b.name))
                    .then_with(|| b.version.cmp(&a.version))
            });
        }
        install_if.sort_by(|a, b| a.name.cmp(&b.name).then_with(|| b.version.cmp(&a.version)));
        Universe { by_name, providers, install_if }
    }

    /// Names close to `name` (for "did you mean").
    fn close_to(&self, name: &str) -> Vec<String> {
        close_names(self.by_name.keys().copied(), name)
    }
}

/// Resolves `requests` against `universe`, the base having `installed` (its
/// `/lib/apk/db/installed` entries).
pub fn resolve<'a>(
    universe: &Universe<'a>,
    installed: &[Package],
    requests: &[Request],
) -> Result<Plan<'a>, ResolveError> {
    let base: BTreeMap<&str, &Package> = installed.iter().map(|p| (p.name.as_str(), p)).collect();
    let mut state = State { universe, base: &base, installed, chosen: BTreeMap::new(), order: Vec::new() };
    let mut already = Vec::new();
    for req in requests {
        if let Some(p) = base.get(req.name.as_str())
            && req.version.as_ref().is_none_or(|v| *v == p.version)
        {
            already.push((req.name.clone(), p.version.to_string()));
            continue;
        }
        let pkg = match &req.version {
            Some(v) => {
                let candidates =
                    universe.by_name.get(req.name.as_str()).ok_or_else(|| match base.get(req.name.as_str()) {
                        // The base has another version, the repositories none.
                        Some(p) => ResolveError::NoSuchVersion {
                            name: req.name.clone(),
                            version: v.to_string(),
                            available: vec![format!("{} (installed in the base)", p.version)],
                        },
                        None => ResolveError::Unknown { name: req.name.clone(), close: universe.close_to(&req.name) },
                    })?;
                *candidates.iter().find(|p| p.version == *v).ok_or_else(|| ResolveError::NoSuchVersion {
                    name: req.name.clone(),
                    version: v.to_string(),
                    available: candidates.iter().map(|p| p.version.to_string()).collect(),
                })?
            }
            None => match universe.by_name.get(req.name.as_str()).and_then(|c| c.first()) {
                Some(p) => *p,
                None => match universe.providers.get(req.name.as_str()).and_then(|ps| ps.first()) {
                    Some(p) => *p,
                    None => {
                        return Err(ResolveError::Unknown {
                            name: req.name.clone(),
                            close: universe.close_to(&req.name),
                        });
                    }
                },
            },
        };
        state.add(pkg, &mut vec![req.label()])?;
    }
    state.install_if()?;
    Ok(Plan { install: state.order, already_installed: already })
}

struct State<'u, 'a, 'b> {
    universe: &'u Universe<'a>,
    base: &'u BTreeMap<&'b str, &'b Package>,
    installed: &'b [Package],
    chosen: BTreeMap<&'a str, &'a Package>,
    order: Vec<&'a Package>,
}

impl<'a> State<'_, 'a, '_> {
    /// Installed or chosen packages that provide what `dep` names.
    fn present(&self) -> impl Iterator<Item = &Package> {
        self.installed.iter().chain(self.chosen.values().copied())
    }

    fn satisfied(&self, dep: &Dependency) -> bool {
        self.present().any(|p| dep.provided_by(p))
    }

    fn candidate(&self, dep: &Dependency) -> Option<&'a Package> {
        if let Some(p) =
            self.universe.by_name.get(dep.name.as_str()).and_then(|c| c.iter().find(|p| dep.provided_by(p)))
        {
            return Some(p);
        }
        self.universe.providers.get(dep.name.as_str()).and_then(|ps| ps.iter().find(|p| dep.provided_by(p)).copied())
    }

    fn add(&mut self, pkg: &'a Package, chain: &mut Vec<String>) -> Result<(), ResolveError> {
        let label = format!("{} {}", pkg.name, pkg.version);
        if let Some(existing) = self.chosen.get(pkg.name.as_str()) {
            if existing.version == pkg.version {
                return Ok(());
            }
            return Err(ResolveError::Unsatisfiable {
                chain: chain.join(" → "),
                problem: format!("needs {label} but {} {} was chosen already", existing.name, existing.version),
            });
        }
        if let Some(b) = self.base.get(pkg.name.as_str()) {
            return Err(ResolveError::Unsatisfiable {
                chain: chain.join(" → "),
                problem: format!(
                    "needs {label} but the base has {} {} (tailor does not upgrade the base's packages)",
                    b.name, b.version
                ),
            });
        }
        self.check_conflicts(pkg, chain)?;
        self.chosen.insert(pkg.name.as_str(), pkg);
        for dep in pkg.depends.iter().filter(|d| !d.conflict) {
            if self.satisfied(dep) {
                continue;
            }
            chain.push(label.clone());
            let Some(next) = self.candidate(dep) else {
                let problem =
                    format!("depends on {dep}, which no package in the repositories provides{}", self.hint(dep));
                let err = ResolveError::Unsatisfiable { chain: chain.join(" → "), problem };
                chain.pop();
                return Err(err);
            };
            chain.push(dep.to_string());
            let r = self.add(next, chain);
            chain.pop();
            chain.pop();
            r?;
        }
        self.order.push(pkg);
        Ok(())
    }

    fn hint(&self, dep: &Dependency) -> String {
        if let Some(b) = self.base.get(dep.name.as_str()) {
            return format!(" (the base has {} {})", b.name, b.version);
        }
        let versions: Vec<String> =
            self.universe.by_name.get(dep.name.as_str()).into_iter().flatten().map(|p| p.version.to_string()).collect();
        if versions.is_empty() { String::new() } else { format!(" (available: {} {})", dep.name, versions.join(", ")) }
    }

    /// `!name` atoms, both ways: the new package's against what is present, and what is present
    /// against the new package.
    fn check_conflicts(&self, pkg: &'a Package, chain: &[String]) -> Result<(), ResolveError> {
        let conflict = |other: &Package| ResolveError::Conflict {
            chain: chain.join(" → "),
            package: format!("{} {}", pkg.name, pkg.version),
            other: format!("{} {}", other.name, other.version),
        };
        for dep in pkg.depends.iter().filter(|d| d.conflict) {
            if let Some(p) = self.present().find(|p| dep.provided_by(p)) {
                return Err(conflict(p));
            }
        }
        for p in self.present() {
            if p.depends.iter().any(|d| d.conflict && d.provided_by(pkg)) {
                return Err(conflict(p));
            }
        }
        Ok(())
    }

    /// Adds `i:` packages whose every condition holds, until nothing changes.
    fn install_if(&mut self) -> Result<(), ResolveError> {
        loop {
            let due: Vec<&'a Package> = self
                .universe
                .install_if
                .iter()
                .copied()
                .filter(|p| !self.chosen.contains_key(p.name.as_str()) && !self.base.contains_key(p.name.as_str()))
                .filter(|p| p.install_if.iter().all(|d| self.satisfied(d)))
                .collect();
            let Some(next) = due.first() else { return Ok(()) };
            let cause: Vec<String> = next.install_if.iter().map(ToString::to_string).collect();
            self.add(next, &mut vec![format!("install_if {}", cause.join(" "))])?;
        }
    }
}

#[cfg(test)]
#[path = "resolve_tests.rs"]
mod tests;
