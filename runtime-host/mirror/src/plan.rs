//! The plan of a sync (and all a poll does): the upstream tags the mirror copies, each
//! resolved to its digest next to where the destination tag points — HEADs in parallel.

use tailor_oci::{Digest, ManifestHead};

use crate::error::Result;
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

/// Lists the upstream tags `job` copies and resolves each (upstream and destination) with
/// `threads` requests in flight. Tags that vanish meanwhile are left out.
pub fn plan(job: &Job, ep: &Endpoints, threads: usize) -> Result<Vec<TagState>> {
    let tags: Vec<String> =
        ep.upstream.list_tags(&job.source)?.into_iter().filter(|t| job.spec.copies_tag(t)).collect();
    let states = parallel::map(&tags, threads, |tag| -> Result<Option<TagState>> {
        let Some(upstream) = ep.upstream.head_manifest(&job.source, tag)? else { return Ok(None) };
        let destination = ep.destination.head_manifest(&job.destination, tag)?.map(|h| h.digest);
        Ok(Some(TagState { tag: tag.clone(), upstream, destination }))
    });
    states.into_iter().filter_map(Result::transpose).collect()
}
