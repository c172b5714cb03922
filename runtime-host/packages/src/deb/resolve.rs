//! Which packages to install for a request, like `apt-get install --no-install-recommends`
//! on one architecture: the newest candidate of each name (or the pinned `name=version`),
//! `Pre-Depends` and `Depends` followed (alternatives in order, virtual packages through
//! `Provides`), packages the base already has kept as they are, `Conflicts`/`Breaks`
//! checked. Deterministic: the same index, base and request give the same answer. A
//! dependency that cannot be met is an error naming the chain that led to it.

use std::collections::BTreeMap;

pub use crate::resolution::ResolveError;
use crate::resolution::close_names;
use std::fmt;

use super::{Dependency, InstalledPackage, Package, PackageError, Relation, Version};

/// One requested package: `name` or `name=version`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub name: String,
    pub version: Option<Version>,
}

impl Request {
    /// `curl` or `curl=7.88.1-10+deb12u8`.
    pub fn parse(text: &str) -> Result<Request, ResolveError> {
        let text = text.trim();
        let (name, version) = match text.split_once('=') {
            Some((n, v)) => (n.trim(), Some(v.trim())),
            None => (text, None),
        };
        let valid = !name.is_empty()
            && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"+-.".contains(&b));
        if !valid {
            return Err(ResolveError::BadRequest {
                request: text.to_owned(),
                problem: "a package name is lowercase letters, digits, '+', '-' and '.'".into(),
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
}

impl fmt::Display for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.version {
            Some(v) => write!(f, "{}={}", self.name, v.as_str()),
            None => f.write_str(&self.name),
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
    arch: String,
    /// Name → candidates, newest first.
    by_name: BTreeMap<&'a str, Vec<&'a Package>>,
    /// Virtual name → (provider, the provide entry).
    providers: BTreeMap<&'a str, Vec<(&'a Package, &'a Relation)>>,
}

impl<'a> Universe<'a> {
    /// `packages`: the entries of every index of `arch` (and `all`); the same name and
    /// version in two indexes is one candidate.
    pub fn new(arch: &str, packages: impl IntoIterator<Item = &'a Package>) -> Universe<'a> {
        let mut by_name: BTreeMap<&str, Vec<&Package>> = BTreeMap::new();
        let mut providers: BTreeMap<&str, Vec<(&Package, &Relation)>> = BTreeMap::new();
        for p in packages.into_iter().filter(|p| p.architecture == arch || p.architecture == "all") {
            by_name.entry(p.package.as_str()).or_default().push(p);
            for provide in &p.provides {
                providers.entry(provide.name.as_str()).or_default().push((p, provide));
            }
        }
        for list in by_name.values_mut() {
            list.sort_by(|a, b| b.version.cmp(&a.version).then_with(|| a.filename.cmp(&b.filename)));
            list.dedup_by(|a, b| a.version == b.version);
        }
        for list in providers.values_mut() {
            list.sort_by(|(a, _), (b, _)| a.package.cmp(&b.package).then_with(|| b.version.cmp(&a.version)));
        }
        Universe { arch: arch.to_owned(), by_name, providers }
    }

    pub fn arch(&self) -> &str {
        &self.arch
    }

    /// Names close to `name` (for "did you mean").
    fn close_to(&self, name: &str) -> Vec<String> {
        close_names(self.by_name.keys().copied(), name)
    }
}

/// The base's installed packages, by name and by what they provide.
struct Base<'b> {
    by_name: BTreeMap<&'b str, &'b InstalledPackage>,
    provides: BTreeMap<&'b str, Vec<&'b Relation>>,
}

impl<'b> Base<'b> {
    fn new(installed: &'b [InstalledPackage]) -> Base<'b> {
        let mut by_name = BTreeMap::new();
        let mut provides: BTreeMap<&str, Vec<&Relation>> = BTreeMap::new();
        for p in installed.iter().filter(|p| p.is_installed()) {
            by_name.insert(p.package.as_str(), p);
            for r in &p.provides {
                provides.entry(r.name.as_str()).or_default().push(r);
            }
        }
        Base { by_name, provides }
    }

    fn satisfies(&self, r: &Relation) -> bool {
        self.by_name.get(r.name.as_str()).is_some_and(|p| p.version.as_ref().is_some_and(|v| r.satisfied_by(v)))
            || self.provides.get(r.name.as_str()).is_some_and(|ps| ps.iter().any(|p| r.satisfied_by_provide(p)))
    }
}

/// Resolves `requests` against `universe`, the base having `installed`.
pub fn resolve<'a>(
    universe: &Universe<'a>,
    installed: &[InstalledPackage],
    requests: &[Request],
) -> Result<Plan<'a>, ResolveError> {
    let base = Base::new(installed);
    let mut state = State { universe, base: &base, chosen: BTreeMap::new(), order: Vec::new() };
    let mut already = Vec::new();
    for req in requests {
        if let Some(p) = base.by_name.get(req.name.as_str())
            && let Some(v) = &p.version
            && req.version.as_ref().is_none_or(|want| want == v)
        {
            already.push((req.name.clone(), v.as_str().to_owned()));
            continue;
        }
        let pkg = match &req.version {
            Some(v) => pinned(universe, &req.name, v)?,
            None => match universe.by_name.get(req.name.as_str()).and_then(|c| c.first()) {
                Some(p) => *p,
                None => match universe.providers.get(req.name.as_str()).and_then(|ps| ps.first()) {
                    Some((p, _)) => *p,
                    None => {
                        return Err(ResolveError::Unknown {
                            name: req.name.clone(),
                            close: universe.close_to(&req.name),
                        });
                    }
                },
            },
        };
        state.add(pkg, &mut vec![req.to_string()])?;
    }
    Ok(Plan { install: state.order, already_installed: already })
}

fn pinned<'a>(universe: &Universe<'a>, name: &str, version: &Version) -> Result<&'a Package, ResolveError> {
    let candidates = universe
        .by_name
        .get(name)
        .ok_or_else(|| ResolveError::Unknown { name: name.to_owned(), close: universe.close_to(name) })?;
    candidates.iter().find(|p| &p.version == version).copied().ok_or_else(|| ResolveError::NoSuchVersion {
        name: name.to_owned(),
        version: version.as_str().to_owned(),
        available: candidates.iter().map(|p| p.version.as_str().to_owned()).collect(),
    })
}

struct State<'u, 'a, 'b> {
    universe: &'u Universe<'a>,
    base: &'u Base<'b>,
    /// Name → the package chosen for it.
    chosen: BTreeMap<&'a str, &'a Package>,
    /// Install order (dependencies first).
    order: Vec<&'a Package>,
}

impl<'a> State<'_, 'a, '_> {
    fn satisfied(&self, r: &Relation) -> bool {
        self.base.satisfies(r)
            || self.chosen.get(r.name.as_str()).is_some_and(|p| r.satisfied_by(&p.version))
            || self.chosen.values().any(|p| p.provides.iter().any(|pr| r.satisfied_by_provide(pr)))
    }

    /// The best package for one alternative: a real package of that name (newest version that
    /// fits), else the first provider (by name) that fits.
    fn candidate(&self, r: &Relation) -> Option<&'a Package> {
        if let Some(p) =
            self.universe.by_name.get(r.name.as_str()).and_then(|c| c.iter().find(|p| r.satisfied_by(&p.version)))
        {
            return Some(p);
        }
        self.universe
            .providers
            .get(r.name.as_str())
            .and_then(|ps| ps.iter().find(|(_, provide)| r.satisfied_by_provide(provide)).map(|(p, _)| *p))
    }

    fn add(&mut self, pkg: &'a Package, chain: &mut Vec<String>) -> Result<(), ResolveError> {
        if let Some(existing) = self.chosen.get(pkg.package.as_str()) {
            if existing.version == pkg.version {
                return Ok(());
            }
            return Err(ResolveError::Unsatisfiable {
                chain: chain.join(" → "),
                problem: format!(
                    "needs {} {} but {} {} was chosen already",
                    pkg.package,
                    pkg.version.as_str(),
                    existing.package,
                    existing.version.as_str()
                ),
            });
        }
        if let Some(installed) = self.base.by_name.get(pkg.package.as_str()) {
            return Err(ResolveError::Unsatisfiable {
                chain: chain.join(" → "),
                problem: format!(
                    "needs {} {} but the base has {} (tailor does not upgrade the base's packages)",
                    pkg.package,
                    pkg.version.as_str(),
                    installed.version.as_ref().map_or("another version", |v| v.as_str())
                ),
            });
        }
        self.check_conflicts(pkg, chain)?;
        self.chosen.insert(pkg.package.as_str(), pkg);
        let bad = |e: PackageError| ResolveError::BadIndex { chain: chain.join(" → "), problem: e.to_string() };
        let groups: Vec<&Dependency> =
            pkg.pre_depends().map_err(bad)?.iter().chain(pkg.depends().map_err(bad)?).collect();
        for group in groups {
            if group.alternatives.iter().any(|r| self.satisfied(r)) {
                continue;
            }
            let pick = group.alternatives.iter().find_map(|r| self.candidate(r).map(|p| (r, p)));
            let Some((relation, dep)) = pick else {
                let wanted: Vec<String> = group.alternatives.iter().map(ToString::to_string).collect();
                chain.push(format!("{} {}", pkg.package, pkg.version.as_str()));
                let problem = format!(
                    "depends on {}, which no package in the repositories provides{}",
                    wanted.join(" | "),
                    self.available_hint(group)
                );
                let err = ResolveError::Unsatisfiable { chain: chain.join(" → "), problem };
                chain.pop();
                return Err(err);
            };
            chain.push(format!("{} {}", pkg.package, pkg.version.as_str()));
            chain.push(relation.to_string());
            let r = self.add(dep, chain);
            chain.pop();
            chain.pop();
            r?;
        }
        self.order.push(pkg);
        Ok(())
    }

    /// " (available: …)" for the versions a group's first alternative has, when it has any.
    fn available_hint(&self, group: &Dependency) -> String {
        let Some(first) = group.alternatives.first() else { return String::new() };
        let base = self.base.by_name.get(first.name.as_str()).and_then(|p| p.version.as_ref());
        let versions: Vec<&str> =
            self.universe.by_name.get(first.name.as_str()).into_iter().flatten().map(|p| p.version.as_str()).collect();
        match (base, versions.is_empty()) {
            (Some(v), _) => format!(" (the base has {} {})", first.name, v.as_str()),
            (None, false) => format!(" (available: {} {})", first.name, versions.join(", ")),
            (None, true) => String::new(),
        }
    }

    fn check_conflicts(&self, pkg: &'a Package, chain: &[String]) -> Result<(), ResolveError> {
        let conflict = |other: &str| ResolveError::Conflict {
            chain: chain.join(" → "),
            package: format!("{} {}", pkg.package, pkg.version.as_str()),
            other: other.to_owned(),
        };
        let bad = |e: PackageError| ResolveError::BadIndex { chain: chain.join(" → "), problem: e.to_string() };
        let relations = |p: &'a Package| -> Result<Vec<&'a Relation>, ResolveError> {
            Ok(p.conflicts().map_err(bad)?.iter().chain(p.breaks().map_err(bad)?).collect())
        };
        for r in relations(pkg)? {
            if r.name == pkg.package {
                continue;
            }
            if let Some(b) = self.base.by_name.get(r.name.as_str())
                && b.version.as_ref().is_some_and(|v| r.satisfied_by(v))
            {
                return Err(conflict(&format!(
                    "{} {} (in the base)",
                    b.package,
                    b.version.as_ref().map_or("", |v| v.as_str())
                )));
            }
            if let Some(c) = self.chosen.get(r.name.as_str())
                && r.satisfied_by(&c.version)
            {
                return Err(conflict(&format!("{} {}", c.package, c.version.as_str())));
            }
        }
        // And the other way round: something chosen or installed conflicting with this package.
        let hits = |rels: &[Relation]| rels.iter().any(|r| r.name == pkg.package && r.satisfied_by(&pkg.version));
        for c in self.chosen.values() {
            if relations(c)?.into_iter().any(|r| r.name == pkg.package && r.satisfied_by(&pkg.version)) {
                return Err(conflict(&format!("{} {}", c.package, c.version.as_str())));
            }
        }
        for b in self.base.by_name.values() {
            if hits(&b.conflicts) || hits(&b.breaks) {
                return Err(conflict(&format!("{} (in the base)", b.package)));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
#[path = "resolve_tests.rs"]
mod tests;
