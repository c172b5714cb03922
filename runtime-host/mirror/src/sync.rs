//! A sync: plan, then per tag (a few at a time) verify → copy → attach → move the tag. A
//! tag's failure is its own (reported with the reason); the destination tag moves only once
//! everything it names and everything attached to it is in place.

use std::sync::Arc;
use std::time::Instant;

use tailor_oci::{Client, Progress};
use tailor_sign::PublicKey;
use tailor_spec::MirrorSpec;

use crate::copy::Copier;
use crate::error::{MirrorError, Result};
use crate::plan::{TagState, plan};
use crate::report::{Action, SyncReport, TagOutcome};
use crate::{attach, parallel, verify};

/// The two sides of a mirror, each reached through a client scoped to exactly what it needs:
/// the upstream client reads only the source repository, the destination client writes only
/// the destination (and reads the source when both are on one registry, for mounts).
pub struct Endpoints {
    pub upstream: Arc<Client>,
    pub destination: Arc<Client>,
    /// Source and destination are on the same registry: blobs are mounted, not copied.
    pub same_registry: bool,
}

/// What to mirror.
pub struct Job {
    /// `HOST/REPOSITORY`, for messages.
    pub source_name: String,
    /// The repository upstream.
    pub source: String,
    pub destination: String,
    pub spec: MirrorSpec,
    pub keys: Vec<PublicKey>,
}

impl Job {
    /// The job of a validated, normalized spec (the destination filled in). A verification
    /// key that does not parse is a configuration error naming it.
    pub fn new(spec: &MirrorSpec) -> Result<Job> {
        let source = spec
            .source_ref()
            .ok_or_else(|| MirrorError::Config(format!("source {:?} is not a valid reference", spec.source)))?;
        let destination =
            spec.destination.clone().ok_or_else(|| MirrorError::Config("the mirror has no destination".to_owned()))?;
        let mut keys = Vec::new();
        for (i, pem) in spec.verify_keys.iter().enumerate() {
            keys.push(
                PublicKey::from_pem(pem, &format!("verify_keys[{i}]"))
                    .map_err(|e| MirrorError::Config(e.to_string()))?,
            );
        }
        Ok(Job { source_name: source.name(), source: source.repository, destination, spec: spec.clone(), keys })
    }
}

/// How a sync runs.
#[derive(Clone)]
pub struct Options {
    /// Requests in flight (tag resolution, blobs); tags are synced up to 4 at a time.
    pub threads: usize,
    pub progress: Arc<dyn Progress>,
    /// One line per step, for the sync's log.
    pub log: Arc<dyn Fn(&str) + Send + Sync>,
}

impl Default for Options {
    fn default() -> Options {
        Options { threads: 8, progress: Arc::new(tailor_oci::Quiet), log: Arc::new(|_| {}) }
    }
}

/// Syncs every upstream tag `job` copies into its destination. `Err` only when nothing could
/// be done (the upstream unreachable, its tag list unreadable); per-tag trouble is in the report.
pub fn sync(job: &Job, ep: &Endpoints, opts: &Options) -> Result<SyncReport> {
    let started = Instant::now();
    let log = |m: &str| (opts.log)(m);
    let plan = plan(job, ep, opts.threads)?;
    let states = plan.tags;
    let differ = states.iter().filter(|s| s.differs()).count();
    log(&format!("{}: {} tag(s) to mirror, {differ} differ from {}", job.source_name, states.len(), job.destination));
    let copier = Copier::new(job, ep, opts);
    let mut tags = parallel::map(&states, opts.threads.clamp(1, 4), |s| {
        let outcome = sync_tag(&copier, job, ep, s);
        let line = match &outcome.reason {
            Some(r) => format!("{}: {} ({r})", s.tag, outcome.action.as_str()),
            None => format!("{}: {} {}", s.tag, outcome.action.as_str(), s.upstream.digest),
        };
        log(&line);
        outcome
    });
    for (tag, e) in plan.unresolved {
        log(&format!("{tag}: failed ({e})"));
        tags.push(failed(TagOutcome::new(&tag, None, None, Action::Failed), &e));
    }
    tags.sort_by(|a, b| a.tag.cmp(&b.tag));
    let stats = copier.stats();
    Ok(SyncReport {
        source: job.source_name.clone(),
        destination: job.destination.clone(),
        tags,
        bytes_copied: stats.bytes_copied,
        bytes_existing: stats.bytes_existing,
        bytes_mounted: stats.bytes_mounted,
        blobs_copied: stats.blobs_copied,
        manifests_copied: stats.manifests_copied,
        duration_ms: started.elapsed().as_millis() as u64,
    })
}

fn sync_tag(c: &Copier, job: &Job, ep: &Endpoints, s: &TagState) -> TagOutcome {
    let digest = s.upstream.digest.clone();
    let mut outcome = TagOutcome::new(&s.tag, Some(digest.clone()), s.destination.clone(), Action::Unchanged);
    if s.differs() && !job.keys.is_empty() {
        match verify::check(job, ep, &digest) {
            Ok(Ok(())) => {}
            Ok(Err(refusal)) => {
                outcome.action = Action::Refused;
                outcome.reason = Some(refusal.reason);
                outcome.evidence = Some(refusal.evidence);
                return outcome;
            }
            Err(e) => return failed(outcome, &e),
        }
    }
    let copied = (|| -> Result<_> {
        let raw = ep.upstream.get_manifest(&job.source, digest.as_str())?;
        let tree = c.copy_tree(&raw)?;
        let attachments = attach::copy_attachments(c, &tree.digests)?;
        if s.differs() {
            ep.destination.put_manifest(&job.destination, &s.tag, &raw.media_type, &raw.bytes)?;
        }
        Ok((tree, attachments))
    })();
    match copied {
        Ok((tree, attachments)) => {
            outcome.action = if s.differs() { Action::Copied } else { Action::Unchanged };
            outcome.attachments = attachments;
            outcome.platforms = tree.platforms;
            outcome
        }
        Err(e) => failed(outcome, &e),
    }
}

fn failed(mut outcome: TagOutcome, e: &MirrorError) -> TagOutcome {
    outcome.action = Action::Failed;
    outcome.reason = Some(e.to_string());
    outcome.transient = e.is_transient();
    outcome
}
