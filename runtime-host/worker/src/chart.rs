//! One claimed chart customization build (DESIGN.md §10): every selected version of the source
//! chart repository customized (or found unchanged) through a client that reads the org's
//! namespace and writes only the destination; the images the build pinned become the
//! customization's dependencies, so a rebuilt image rebuilds the chart.

use std::collections::BTreeMap;
use std::sync::Arc;

use sha2::{Digest as _, Sha256};
use tailor_chart::build::{Invocation, VersionState};
use tailor_spec::ChartSpec;
use tailor_store::{
    BuildStatus, Claim, NativeDb, Outcome, block_on, last_outputs, notify_moved, record_artifact, set_chart_images,
};

use crate::job::{Log, Result_};
use crate::worker::{WorkerConfig, now_ms};

/// What the last builds made, by source version.
fn previous(db: &NativeDb, id: &str) -> BTreeMap<String, VersionState> {
    let Ok(Some(outputs)) = block_on(last_outputs(db, id)) else { return BTreeMap::new() };
    outputs["versions"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|v| matches!(v["status"].as_str(), Some("built" | "unchanged")))
        .filter_map(|v| Some((v["version"].as_str()?.to_owned(), serde_json::from_value(v.clone()).ok()?)))
        .collect()
}

pub(crate) fn attempt(db: &NativeDb, cfg: &WorkerConfig, claim: &Claim, log: &Log) -> Result_ {
    let spec: ChartSpec = match serde_json::from_value(claim.spec.clone()) {
        Ok(s) => s,
        Err(e) => return Result_::Done(BuildStatus::Failed, Outcome::failed(format!("stored spec unreadable: {e}"))),
    };
    if let Err(problems) = spec.validate(&claim.org) {
        let text: Vec<String> = problems.iter().map(ToString::to_string).collect();
        return Result_::Done(
            BuildStatus::Failed,
            Outcome::failed(format!("the spec is invalid: {}", text.join("; "))),
        );
    }
    let client = match cfg.target.scoped(tailor_chart::build::scope(&claim.org, &spec)) {
        Ok(c) => c,
        Err(e) => return Result_::Retry(format!("registry: {e}")),
    };
    log.line(&format!("{}; scope: {}", client.describe(), client.scope()));
    let mut opts = tailor_chart::Options::new(Invocation {
        id: format!("{}/builds/{}", claim.customization_id, claim.build),
        revision: Some(claim.revision),
        builder_id: cfg.builder_id.clone(),
    });
    opts.registry_host = cfg.target.host();
    opts.signer = cfg.signer.clone();
    opts.previous = previous(db, &claim.customization_id);
    opts.log = {
        let log = log.clone();
        Arc::new(move |m: &str| log.line(m))
    };
    // The org's extensions: check-customization (a chart has no image to check) before anything.
    let runs = match checks(db, cfg, claim, &spec, log) {
        Ok(runs) => runs,
        Err(done) => return *done,
    };
    opts.extensions = runs.iter().filter_map(|r| serde_json::to_value(r).ok()).collect();
    let extensions = (!runs.is_empty()).then(|| serde_json::to_value(&runs).unwrap_or_default());
    let report = match tailor_chart::build(&spec, &client, &opts) {
        Ok(r) => r,
        Err(e) if e.is_transient() => return Result_::Retry(e.to_string()),
        Err(e) => {
            log.line(&format!("failed: {e}"));
            return Result_::Done(BuildStatus::Failed, Outcome::failed(e.to_string()));
        }
    };
    log.line(&report.summary());
    let failed: Vec<_> = report.versions.iter().filter(|v| v.status == "failed").collect();
    if !failed.is_empty() && failed.iter().all(|v| v.transient) {
        let reasons: Vec<String> =
            failed.iter().map(|v| format!("{}: {}", v.version, v.error.as_deref().unwrap_or(""))).collect();
        return Result_::Retry(reasons.join("; "));
    }
    // The images pinned (by the versions that ended well) rebuild the chart when they move.
    let mut images = Vec::new();
    for v in report.versions.iter().filter(|v| v.status != "failed") {
        for p in &v.changes.pins {
            images.push((p.repository.clone(), p.tag.clone().unwrap_or_default()));
        }
    }
    if let Err(e) = block_on(set_chart_images(db, &claim.customization_id, &images)) {
        log.line(&format!("recording the pinned images: {e}"));
    }
    let now = now_ms();
    // The catalog learns the source's versions (the UI lists them; their references can be read).
    for v in &report.versions {
        if let Some(d) = &v.source_digest {
            let _ = block_on(record_artifact(db, &report.source, &v.source_tag, d, "chart", now));
        }
    }
    for v in report.versions.iter().filter(|v| v.status == "built") {
        if let Some(d) = &v.digest {
            let _ = block_on(notify_moved(db, "chart", &report.destination, &v.tag, d, now));
        }
    }
    let mut h = Sha256::new();
    for v in &report.versions {
        h.update(v.fingerprint.as_deref().unwrap_or("-").as_bytes());
    }
    let status = if !failed.is_empty() {
        BuildStatus::Failed
    } else if !report.versions.is_empty() && report.versions.iter().all(|v| v.status == "unchanged") {
        BuildStatus::Skipped
    } else {
        BuildStatus::Succeeded
    };
    if report.versions.is_empty() {
        log.line("no version of the source matches `versions`: nothing to build");
    }
    let error = (!failed.is_empty()).then(|| {
        let list: Vec<String> =
            failed.iter().map(|v| format!("{}: {}", v.version, v.error.as_deref().unwrap_or(""))).collect();
        list.join("; ")
    });
    Result_::Done(
        status,
        Outcome {
            fingerprint: Some(format!("sha256:{}", hex::encode(h.finalize()))),
            inputs: None,
            outputs: serde_json::to_value(&report).ok(),
            error,
            extensions,
        },
    )
}

/// Runs the org's extensions at check-customization (platform empty); the runs, or the
/// build's end when one denied it or could not be used.
fn checks(
    db: &NativeDb,
    cfg: &WorkerConfig,
    claim: &Claim,
    spec: &ChartSpec,
    log: &Log,
) -> Result<Vec<tailor_build::checks::ExtensionRun>, Box<Result_>> {
    use tailor_build::checks::{Checkpoint, Checks, NoImage};
    let Some(rt) = &cfg.extensions else { return Ok(Vec::new()) };
    let source = spec.source.clone();
    let registered =
        crate::extensions::for_build(db, cfg, rt, &claim.org, &source).map_err(|e| Box::new(Result_::Retry(e)))?;
    if registered.is_empty() {
        return Ok(Vec::new());
    }
    let info = tailor_extension::call::BuildInfo {
        org: claim.org.clone(),
        customization: spec.name.clone(),
        spec_json: serde_json::to_string(spec).unwrap_or_default(),
    };
    let line = log.clone();
    let checks = tailor_extension::OrgChecks::new(rt.clone(), info, registered, Arc::new(move |m: &str| line.line(m)));
    checks.check(Checkpoint::CheckCustomization, "", &NoImage);
    let runs = checks.runs();
    for l in tailor_build::checks::log_lines(&runs) {
        log.line(&l);
    }
    match checks.blocked() {
        Some(why) => {
            log.line(&format!("failed: {why}; nothing is published"));
            let mut outcome = Outcome::failed(why);
            outcome.extensions = serde_json::to_value(&runs).ok();
            Err(Box::new(Result_::Done(BuildStatus::Failed, outcome)))
        }
        None => Ok(runs),
    }
}
