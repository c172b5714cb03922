//! The plan of a sync (and all a poll does): the upstream tags the mirror copies, each
//! resolved to its digest next to where the destination tag points — HEADs in parallel.

use tailor_oci::{Digest, ManifestHead};

use crate::error::{MirrorError, Result};
use crate::parallel;
use crate::sync::{Endpoints, Job};

/// One upstream tag and the destination's tag of the same name.
#[derive(Debug, Clone)]
pub struct TagState {
    pub tag: String,
    pub upstream: ManifestHead,
    /// Where the destination tag points (None: no such tag there).
    pub destination: Option<Digest>,
}

impl TagState {
    /// Whether the destination tag points elsewhere (or nowhere).
    pub fn differs(&self) -> bool {
        self.destination.as_ref() != Some(&self.upstream.digest)
    }
}

/// The plan: the tags resolved, and those that could not be (with why).
#[derive(Debug, Default)]
pub struct Plan {
    pub tags: Vec<TagState>,
    pub unresolved: Vec<(String, MirrorError)>,
}

/// Lists the upstream tags `job` copies and resolves each (upstream and destination) with
/// `threads` requests in flight. Tags that vanish meanwhile are left out; a tag that cannot be
/// resolved is the tag's problem, not the sync's. `Err` only when the tag list is unreadable.
pub fn plan(job: &Job, ep: &Endpoints, threads: usize) -> Result<Plan> {
    plan_with(job, ep, threads, true)
}

/// [`plan`] without asking the destination (a poll compares with what the last sync recorded):
/// every `destination` is None.
pub fn plan_upstream(job: &Job, ep: &Endpoints, threads: usize) -> Result<Plan> {
    plan_with(job, ep, threads, false)
}

fn plan_with(job: &Job, ep: &Endpoints, threads: usize, destination: bool) -> Result<Plan> {
    let tags: Vec<String> =
        ep.upstream.list_tags(&job.source)?.into_iter().filter(|t| job.spec.copies_tag(t)).collect();
    let states = parallel::map(&tags, threads, |tag| -> Result<Option<TagState>> {
        let upstream = match ep.upstream.head_manifest(&job.source, tag) {
            Ok(Some(h)) => h,
            Ok(None) => return Ok(None),
            // A registry may fail a HEAD it cannot answer: the GET says why (or works).
            Err(tailor_oci::Error::Http { .. }) => {
                let m = ep.upstream.get_manifest(&job.source, tag)?;
                ManifestHead { size: m.bytes.len() as u64, digest: m.digest, media_type: m.media_type }
            }
            Err(e) => return Err(e.into()),
        };
        let destination =
            if destination { ep.destination.head_manifest(&job.destination, tag)?.map(|h| h.digest) } else { None };
        Ok(Some(TagState { tag: tag.clone(), upstream, destination }))
    });
    let mut plan = Plan::default();
    for (tag, state) in tags.into_iter().zip(states) {
        match state {
            Ok(Some(s)) => plan.tags.push(s),
            Ok(None) => {}
            Err(e) => plan.unresolved.push((tag, e)),
        }
    }
    Ok(plan)
}
