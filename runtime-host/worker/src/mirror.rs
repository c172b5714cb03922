//! One claimed mirror sync (DESIGN.md §9): through a client that reads only the source
//! repository on its declared upstream and one that writes only the destination, sync every
//! tag, record each tag's outcome, and — for every destination tag that moved — queue the
//! customizations built from it, from the sync itself (the registry's own notification, if it
//! comes, finds the tag unchanged and queues nothing more).

use std::sync::Arc;

use serde_json::json;
use tailor_mirror::{Action, Endpoints, Job, Options, SyncReport};
use tailor_oci::Scope;
use tailor_spec::{MirrorSpec, Reference};
use tailor_store::{
    BuildStatus, Claim, MirrorTag, NativeDb, Outcome, block_on, known_orgs, notify_moved, record_mirror_tags,
    record_platforms,
};

use crate::job::{Log, Result_};
use crate::worker::{WorkerConfig, now_ms};

/// The job and scoped clients of `org`'s mirror `spec`. Refuses (with the reason) a source on
/// a host the operator did not declare, a destination outside the org, and — when the source
/// is on the org registry itself — a source in another org's namespace.
pub fn endpoints(db: &NativeDb, cfg: &WorkerConfig, org: &str, spec: &MirrorSpec) -> Result<(Job, Endpoints), String> {
    let job = Job::new(spec).map_err(|e| e.to_string())?;
    let source = spec.source_ref().ok_or_else(|| format!("source {:?} is not a valid reference", spec.source))?;
    let host = source.registry.clone().unwrap_or_default();
    let upstream = cfg.upstreams.get(&host).ok_or_else(|| {
        format!(
            "registry host {host:?} is not a declared upstream (declared: {}): the operator declares upstreams with --upstream HOST=URL",
            if cfg.upstreams.is_empty() { "none".to_owned() } else { cfg.upstreams.hosts().join(", ") }
        )
    })?;
    let destination = Reference::parse(&job.destination).map_err(|e| format!("destination: {e}"))?;
    if destination.registry.is_some() || destination.namespace() != org || destination.repository == org {
        return Err(format!("destination {} is not in org {org}'s namespace", job.destination));
    }
    let same_registry = cfg.target.is_registry(&upstream.config);
    if same_registry {
        let orgs = block_on(known_orgs(db)).map_err(|e| e.to_string())?;
        let owner = source.namespace();
        if owner != org && orgs.iter().any(|o| o == owner) {
            return Err(format!(
                "{} is on the org registry in org {owner}'s namespace: a mirror may not read another org's repositories",
                spec.source
            ));
        }
    }
    let up = tailor_oci::Client::registry(
        upstream.config.clone(),
        Scope::repositories([job.source.clone()], Vec::<String>::new()),
    )
    .map_err(|e| format!("upstream {host}: {e}"))?;
    let reads = if same_registry { vec![job.source.clone()] } else { Vec::new() };
    let down = cfg
        .target
        .scoped(Scope::repositories(reads, [job.destination.clone()]))
        .map_err(|e| format!("destination: {e}"))?;
    Ok((job, Endpoints { upstream: Arc::new(up), destination: Arc::new(down), same_registry }))
}

/// Runs the sync of `claim` (a mirror's run).
pub(crate) fn attempt(db: &NativeDb, cfg: &WorkerConfig, claim: &Claim, log: &Log) -> Result_ {
    let spec: MirrorSpec = match serde_json::from_value(claim.spec.clone()) {
        Ok(s) => s,
        Err(e) => return Result_::Done(BuildStatus::Failed, Outcome::failed(format!("stored mirror unreadable: {e}"))),
    };
    let (job, ep) = match endpoints(db, cfg, &claim.org, &spec) {
        Ok(x) => x,
        Err(e) => {
            log.line(&format!("failed: {e}"));
            return Result_::Done(BuildStatus::Failed, Outcome::failed(e));
        }
    };
    log.line(&format!(
        "mirroring {} into {}: upstream {}; destination {}{}",
        job.source_name,
        job.destination,
        ep.upstream.scope(),
        ep.destination.scope(),
        if ep.same_registry { " (same registry: blobs are mounted)" } else { "" }
    ));
    let opts = Options {
        log: {
            let log = log.clone();
            Arc::new(move |m: &str| log.line(m))
        },
        ..Options::default()
    };
    let report = match tailor_mirror::sync(&job, &ep, &opts) {
        Ok(r) => r,
        Err(e) if e.is_transient() => return Result_::Retry(e.to_string()),
        Err(e) => {
            log.line(&format!("failed: {e}"));
            return Result_::Done(BuildStatus::Failed, Outcome::failed(e.to_string()));
        }
    };
    log.line(&report.summary());
    let failed: Vec<_> = report.tags.iter().filter(|t| t.action == Action::Failed).collect();
    if !failed.is_empty() && failed.iter().all(|t| t.transient) {
        let reasons: Vec<String> =
            failed.iter().map(|t| format!("{}: {}", t.tag, t.reason.as_deref().unwrap_or(""))).collect();
        record(db, claim, &report, false);
        return Result_::Retry(reasons.join("; "));
    }
    record(db, claim, &report, true);
    let status = match report.status() {
        "succeeded" => BuildStatus::Succeeded,
        "failed" => BuildStatus::Failed,
        _ => BuildStatus::Partial,
    };
    let error = (status != BuildStatus::Succeeded).then(|| {
        let bad: Vec<String> = report
            .tags
            .iter()
            .filter(|t| matches!(t.action, Action::Refused | Action::Failed))
            .map(|t| format!("{} {}: {}", t.tag, t.action.as_str(), t.reason.as_deref().unwrap_or("")))
            .collect();
        bad.join("; ")
    });
    Result_::Done(status, Outcome { outputs: Some(outputs(&report)), error, ..Outcome::default() })
}

/// The sync record's outputs: per tag, and what moved.
fn outputs(r: &SyncReport) -> serde_json::Value {
    json!({
        "source": r.source,
        "destination": r.destination,
        "tags": r.tags,
        "bytes_copied": r.bytes_copied,
        "bytes_existing": r.bytes_existing,
        "bytes_mounted": r.bytes_mounted,
        "blobs_copied": r.blobs_copied,
        "manifests_copied": r.manifests_copied,
        "duration_ms": r.duration_ms,
    })
}

/// Records each tag's outcome and the catalog's view of the destination; with `cascade`, every
/// destination tag that moved queues the customizations built from it.
fn record(db: &NativeDb, claim: &Claim, r: &SyncReport, cascade: bool) {
    let now = now_ms();
    let tags: Vec<MirrorTag> = r
        .tags
        .iter()
        .map(|t| MirrorTag {
            tag: t.tag.clone(),
            digest: t.digest.as_ref().map(|d| d.to_string()),
            action: t.action.as_str().to_owned(),
            reason: t.reason.clone(),
            evidence: t.evidence.clone(),
            updated_at: now,
        })
        .collect();
    if let Err(e) = block_on(record_mirror_tags(db, &claim.customization_id, &tags, now)) {
        eprintln!("tailor worker: recording the tags of mirror {}: {e}", claim.customization_id);
    }
    for t in &r.tags {
        let Some(digest) = t.digest.as_ref().map(|d| d.to_string()) else { continue };
        let moved = t.action == Action::Copied;
        if !(moved || t.action == Action::Unchanged) {
            continue;
        }
        if moved && cascade {
            match block_on(notify_moved(db, "mirror", &r.destination, &t.tag, &digest, now)) {
                Ok(o) if !o.builds.is_empty() => {
                    eprintln!("tailor worker: {}:{} moved; {} build(s) queued", r.destination, t.tag, o.builds.len())
                }
                Ok(_) => {}
                Err(e) => eprintln!("tailor worker: queueing builds of {}:{}: {e}", r.destination, t.tag),
            }
        }
        if t.platforms.is_empty() {
            // A single-platform image, a chart or another artifact: a worker reads which.
            let kind = tailor_store::ListingKind::Platforms;
            let _ = block_on(tailor_store::request_listing(db, &r.destination, &t.tag, "", kind, now));
        } else {
            let _ = block_on(record_platforms(db, &r.destination, &t.tag, &digest, &t.platforms, now));
        }
    }
}
