//! One claimed build: parse the stored spec, check whether anything changed, build through a
//! scoped client while a heartbeat keeps the lease and streams the log, record the outcome.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::json;
use tailor_build::{Options, Report};
use tailor_spec::Customization;
use tailor_store::{
    BuildStatus, Claim, Kind, NativeDb, Outcome, block_on, finish, heartbeat, notify_moved, record_platforms,
    retry_later,
};

use crate::fingerprint::fingerprint;
use crate::worker::{WorkerConfig, now_ms};

/// A log shared between the build (which appends lines) and the heartbeat (which flushes).
#[derive(Clone, Default)]
pub(crate) struct Log(Arc<Mutex<String>>);

impl Log {
    pub(crate) fn line(&self, text: &str) {
        let mut log = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let secs = now_ms() / 1000;
        log.push_str(&format!("[{}] {text}\n", tailor_store::rfc3339_ms(secs * 1000).replace(".000Z", "Z")));
    }
    fn take(&self) -> String {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

/// How an attempt ended: with a status to record, or with an error worth another attempt.
pub(crate) enum Result_ {
    Done(BuildStatus, Outcome),
    Retry(String),
}

/// Runs `claim` to its end (recorded in the store). Returns the status recorded, if any.
pub fn run(db: &NativeDb, cfg: &WorkerConfig, owner: &str, claim: &Claim) -> Option<BuildStatus> {
    let log = Log::default();
    let run = if claim.kind == Kind::Mirror { "sync" } else { "build" };
    log.line(&format!(
        "{run} {} of {} (revision {}), attempt {}, by {owner}",
        claim.build, claim.customization_id, claim.revision, claim.attempt
    ));
    let lost = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicBool::new(false));
    let result = std::thread::scope(|s| {
        s.spawn(|| {
            // Heartbeat: renew the lease a few times per lease period, flush the log.
            let every = Duration::from_millis((cfg.lease_ms / 3).max(50) as u64);
            let mut last = Instant::now();
            while !done.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(20));
                if last.elapsed() < every {
                    continue;
                }
                last = Instant::now();
                let text = log.take();
                match block_on(heartbeat(
                    db,
                    &claim.customization_id,
                    claim.build,
                    owner,
                    &text,
                    now_ms(),
                    cfg.lease_ms,
                )) {
                    Ok(true) => {}
                    Ok(false) => lost.store(true, Ordering::Relaxed),
                    Err(e) => eprintln!("tailor worker: heartbeat: {e}"),
                }
            }
        });
        let r = match claim.kind {
            Kind::Customization => attempt(db, cfg, claim, &log),
            Kind::Mirror => crate::mirror::attempt(db, cfg, claim, &log),
            Kind::Chart => crate::chart::attempt(db, cfg, claim, &log),
        };
        done.store(true, Ordering::Relaxed);
        r
    });
    if lost.load(Ordering::Relaxed) {
        eprintln!("tailor worker: lost the lease of {}#{}; another worker has it", claim.customization_id, claim.build);
        return None;
    }
    let now = now_ms();
    let recorded = match result {
        Result_::Done(status, outcome) => {
            log.line(&format!("{run} {}", status.as_str()));
            block_on(finish(db, &claim.customization_id, claim.build, owner, status, &outcome, &log.take(), now))
                .map(|ok| ok.then_some(status))
        }
        Result_::Retry(error) if claim.attempt < cfg.max_attempts => {
            let delay = cfg.retry_base_ms.saturating_mul(1 << (claim.attempt - 1).clamp(0, 10));
            log.line(&format!("attempt {} failed: {error}; retrying in {} ms", claim.attempt, delay));
            block_on(retry_later(db, &claim.customization_id, claim.build, owner, &error, &log.take(), now, delay))
                .map(|ok| ok.then_some(BuildStatus::Queued))
        }
        Result_::Retry(error) => {
            log.line(&format!("attempt {} failed: {error}; giving up after {} attempts", claim.attempt, claim.attempt));
            let outcome = Outcome::failed(format!("{error} (after {} attempts)", claim.attempt));
            let failed = BuildStatus::Failed;
            block_on(finish(db, &claim.customization_id, claim.build, owner, failed, &outcome, &log.take(), now))
                .map(|ok| ok.then_some(failed))
        }
    };
    recorded.unwrap_or_else(|e| {
        eprintln!("tailor worker: recording {}#{}: {e}", claim.customization_id, claim.build);
        None
    })
}

fn attempt(db: &NativeDb, cfg: &WorkerConfig, claim: &Claim, log: &Log) -> Result_ {
    let spec: Customization = match serde_json::from_value(claim.spec.clone()) {
        Ok(s) => s,
        Err(e) => return Result_::Done(BuildStatus::Failed, Outcome::failed(format!("stored spec unreadable: {e}"))),
    };
    let dest = spec.destination_repository();
    let client = match cfg.target.client(&claim.org, std::slice::from_ref(&dest)) {
        Ok(c) => c,
        Err(e) => return Result_::Retry(format!("registry: {e}")),
    };
    log.line(&format!("{}; scope: {}", client.describe(), client.scope()));
    let opts = Options {
        cache: cfg.cache.clone(),
        signer: cfg.signer.clone(),
        packages: cfg.packages.clone(),
        invocation: Some(tailor_build::provenance::Invocation {
            id: format!("{}/builds/{}", claim.customization_id, claim.build),
            revision: Some(claim.revision),
            builder_id: cfg.builder_id.clone(),
        }),
        registry_host: cfg.target.host(),
        log: {
            let log = log.clone();
            Arc::new(move |m: &str| log.line(m))
        },
        ..Options::default()
    };
    // The org's extensions that check this build, loaded (their digests count in the fingerprint).
    let source_repository = spec.source_ref().repository;
    let registered = match &cfg.extensions {
        Some(rt) => match crate::extensions::for_build(db, cfg, rt, &claim.org, &source_repository) {
            Ok(r) => r,
            Err(e) => return Result_::Retry(e),
        },
        None => match block_on(tailor_store::list_extensions(db, &claim.org)) {
            Ok(all) if all.iter().any(|x| x.spec.applies_to(&source_repository)) => {
                let why = "the org has extensions, and this worker was started without extension support";
                return Result_::Done(BuildStatus::Failed, Outcome::failed(why));
            }
            _ => Vec::new(),
        },
    };
    let parts = crate::extensions::fingerprint_parts(&registered);
    let checks: Option<Arc<tailor_extension::OrgChecks>> = match (&cfg.extensions, registered.is_empty()) {
        (Some(rt), false) => {
            let info = tailor_extension::call::BuildInfo {
                org: claim.org.clone(),
                customization: spec.name.clone(),
                spec_json: serde_json::to_string(&spec).unwrap_or_default(),
            };
            let line = log.clone();
            Some(Arc::new(tailor_extension::OrgChecks::new(
                rt.clone(),
                info,
                registered,
                Arc::new(move |m: &str| line.line(m)),
            )))
        }
        _ => None,
    };
    let opts = Options { checks: checks.clone().map(|c| c as Arc<dyn tailor_build::checks::Checks>), ..opts };
    let runs = || {
        use tailor_build::checks::Checks;
        checks.as_ref().map(|c| serde_json::to_value(c.runs()).unwrap_or_default())
    };
    // Skip when nothing changed: same fingerprint as the last good build, result still there.
    // Otherwise build from the inputs just resolved.
    let mut resolved = None;
    if let Some(last) = &claim.last_fingerprint {
        match tailor_build::resolve_inputs(&spec, &client, &opts) {
            Ok(r) => {
                let inputs = r.inputs();
                crate::catalog::record_variants(db, &inputs.source.reference, &r.variants);
                let fp = fingerprint(&spec, &inputs, &parts);
                if &fp == last && client.head_manifest(&dest, &spec.result_tag()).ok().flatten().is_some() {
                    log.line(&format!(
                        "inputs unchanged ({fp}); {dest}:{} is current: nothing to build",
                        spec.result_tag()
                    ));
                    let outcome = Outcome {
                        fingerprint: Some(fp),
                        inputs: serde_json::to_value(&inputs).ok(),
                        ..Outcome::default()
                    };
                    return Result_::Done(BuildStatus::Skipped, outcome);
                }
                resolved = Some(r);
            }
            Err(e) => log.line(&format!("resolving inputs: {e}; building to get the full error")),
        }
    }
    let built = match resolved {
        Some(r) => tailor_build::build_resolved(&spec, &client, &opts, r),
        None => tailor_build::build(&spec, &client, &opts),
    };
    match built {
        Ok(report) => {
            record_catalog(db, &report);
            // Whatever is built from the result (a chart pinning it) is rebuilt now.
            if let Some((repository, tag)) = report.tag.rsplit_once(':') {
                let digest = report.index_digest.to_string();
                if let Err(e) = block_on(notify_moved(db, "build", repository, tag, &digest, now_ms())) {
                    log.line(&format!("queueing what is built from {}: {e}", report.tag));
                }
            }
            crate::catalog::record_variants(db, &report.inputs.source.reference, &report.variants);
            for line in tailor_build::checks::log_lines(&report.extensions) {
                log.line(&line);
            }
            let mut outcome = success(&spec, &report, &parts);
            outcome.extensions = runs();
            Result_::Done(BuildStatus::Succeeded, outcome)
        }
        Err(tailor_build::BuildError::Denied(why)) => {
            if let Some(c) = &checks {
                use tailor_build::checks::Checks;
                for line in tailor_build::checks::log_lines(&c.runs()) {
                    log.line(&line);
                }
            }
            log.line(&format!("failed: {why}"));
            let mut outcome = Outcome::failed(why);
            outcome.extensions = runs();
            Result_::Done(BuildStatus::Failed, outcome)
        }
        Err(e) if e.is_transient() => Result_::Retry(e.to_string()),
        Err(e) => {
            log.line(&format!("failed: {e}"));
            Result_::Done(BuildStatus::Failed, Outcome::failed(e.to_string()))
        }
    }
}

fn success(spec: &Customization, r: &Report, extensions: &[String]) -> Outcome {
    Outcome {
        fingerprint: Some(fingerprint(spec, &r.inputs, extensions)),
        inputs: serde_json::to_value(&r.inputs).ok(),
        outputs: Some(json!({
            "tag": r.tag,
            "index_digest": r.index_digest,
            "manifests": r.manifests,
            "bytes_uploaded": r.bytes_uploaded,
            "bytes_reused": r.bytes_reused,
            "overridden_base_paths": r.overridden_base_paths,
            "duration_ms": r.duration_ms,
            "signatures": r.signatures,
            "attestations": r.attestations,
        })),
        error: None,
        extensions: None,
    }
}

/// The catalog learns the digests and platforms of what the build read (source and artifacts).
fn record_catalog(db: &NativeDb, r: &Report) {
    for input in std::iter::once(&r.inputs.source).chain(&r.inputs.artifacts) {
        let Ok(reference) = tailor_spec::Reference::parse(&input.reference) else { continue };
        let Some(tag) = &reference.tag else { continue };
        let now = now_ms();
        let digest = input.digest.as_str();
        let _ = block_on(record_platforms(db, &reference.repository, tag, digest, &input.platforms, now));
    }
}
