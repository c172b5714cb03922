//! The org's extensions at a build's checkpoints: [`OrgChecks`] implements the engine's
//! [`Checks`], calling each registered extension in order and keeping its run — verdict,
//! findings, fuel, error — for the build record, the log and the provenance.

use std::sync::{Arc, Mutex};

use tailor_build::checks::{Checkpoint, Checks, ExtensionRun, ImageView, Severity};

use crate::Runtime;
use crate::call::{BuildInfo, Loaded};

/// An extension registered by the org, as the worker loaded it.
#[derive(Clone)]
pub struct Registered {
    pub name: String,
    pub repository: String,
    /// The manifest digest it was resolved to.
    pub digest: String,
    /// `enforce` or `warn`.
    pub mode: String,
    /// Its settings, JSON.
    pub settings: String,
    /// The compiled component, or why it cannot be used.
    pub component: Result<Arc<Loaded>, String>,
}

pub struct OrgChecks {
    runtime: Arc<Runtime>,
    build: BuildInfo,
    extensions: Vec<Registered>,
    runs: Mutex<Vec<ExtensionRun>>,
    log: Arc<dyn Fn(&str) + Send + Sync>,
}

impl OrgChecks {
    pub fn new(
        runtime: Arc<Runtime>,
        build: BuildInfo,
        extensions: Vec<Registered>,
        log: Arc<dyn Fn(&str) + Send + Sync>,
    ) -> OrgChecks {
        let runs = extensions
            .iter()
            .map(|x| ExtensionRun {
                name: x.name.clone(),
                repository: x.repository.clone(),
                digest: x.digest.clone(),
                mode: x.mode.clone(),
                verdict: "pass".into(),
                findings: Vec::new(),
                fuel: 0,
                error: x.component.as_ref().err().map(|why| format!("invalid: {why}")),
            })
            .collect();
        OrgChecks { runtime, build, extensions, runs: Mutex::new(runs), log }
    }

    pub fn is_empty(&self) -> bool {
        self.extensions.is_empty()
    }
}

fn verdict(run: &ExtensionRun) -> &'static str {
    if run.error.is_some() {
        "error"
    } else if run.findings.iter().any(|f| f.severity == Severity::Deny) {
        if run.mode == "enforce" { "deny" } else { "warn" }
    } else if run.findings.is_empty() {
        "pass"
    } else {
        "warn"
    }
}

impl Checks for OrgChecks {
    fn check(&self, checkpoint: Checkpoint, platform: &str, view: &dyn ImageView) {
        for (i, x) in self.extensions.iter().enumerate() {
            let Ok(component) = &x.component else { continue };
            if self.runs.lock().unwrap_or_else(|p| p.into_inner())[i].error.is_some() {
                continue; // failed before: its build is failing (or it is only warning) already
            }
            let outcome = component.check(&self.runtime, checkpoint, &self.build, platform, &x.settings, view);
            for line in outcome.log.lines().filter(|l| !l.trim().is_empty()) {
                (self.log)(&format!("extension {} [{}{}]: {line}", x.name, checkpoint.as_str(), at(platform)));
            }
            let mut runs = self.runs.lock().unwrap_or_else(|p| p.into_inner());
            let run = &mut runs[i];
            run.fuel += outcome.fuel;
            match outcome.value {
                Ok(found) => run.findings.extend(found),
                Err(e) => {
                    (self.log)(&format!("extension {} [{}{}] failed: {e}", x.name, checkpoint.as_str(), at(platform)));
                    run.error = Some(e.to_string());
                }
            }
            run.verdict = verdict(run).into();
        }
    }

    fn runs(&self) -> Vec<ExtensionRun> {
        let mut runs = self.runs.lock().unwrap_or_else(|p| p.into_inner()).clone();
        for r in &mut runs {
            r.verdict = verdict(r).into();
        }
        runs
    }

    fn blocked(&self) -> Option<String> {
        let runs = self.runs();
        let mut why = Vec::new();
        for r in runs.iter().filter(|r| r.mode == "enforce") {
            if let Some(e) = &r.error {
                why.push(format!("extension {} failed ({e})", r.name));
                continue;
            }
            let denies: Vec<String> = r
                .findings
                .iter()
                .filter(|f| f.severity == Severity::Deny)
                .map(|f| {
                    let path = f.path.as_deref().map(|p| format!(" ({p})")).unwrap_or_default();
                    format!("{}: {}{path}{}", f.rule, f.message, at(&f.platform))
                })
                .collect();
            if !denies.is_empty() {
                let more = if denies.len() > 3 { format!("; and {} more", denies.len() - 3) } else { String::new() };
                why.push(format!(
                    "extension {} denied the build: {}{more}",
                    r.name,
                    denies.iter().take(3).cloned().collect::<Vec<_>>().join("; ")
                ));
            }
        }
        (!why.is_empty()).then(|| why.join("; "))
    }
}

fn at(platform: &str) -> String {
    if platform.is_empty() { String::new() } else { format!(" {platform}") }
}
