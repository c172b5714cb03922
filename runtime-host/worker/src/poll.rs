//! The slow poll: HEAD every tag some customization depends on and treat a changed digest
//! like a push notification (registries may send nothing, and Distribution's in-memory
//! notification queue may drop events).

use tailor_store::{NativeDb, block_on, chart_sources, dependency_tags, notify_push, prune_events};

use crate::worker::WorkerConfig;
use crate::worker::now_ms;

/// Also re-reads the package catalog of every known OS variant (a repository that published
/// queues the customizations installing packages there). Returns how many builds were queued
/// or joined.
pub fn poll(db: &NativeDb, cfg: &WorkerConfig, failed: &crate::catalog::Failed) -> usize {
    let target = &cfg.target;
    let tags = match block_on(dependency_tags(db)) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("tailor worker: poll: {e}");
            return 0;
        }
    };
    const WEEK_MS: i64 = 7 * 24 * 3600 * 1000;
    if let Err(e) = block_on(prune_events(db, now_ms() - WEEK_MS)) {
        eprintln!("tailor worker: pruning webhook event ids: {e}");
    }
    // Chart customizations follow every version of their source repository: list them.
    let mut tags = tags;
    for (org, repository) in block_on(chart_sources(db)).unwrap_or_default() {
        let Ok(client) = target.client(&org, &[]) else { continue };
        match client.list_tags(&repository) {
            Ok(list) => tags.extend(
                list.into_iter()
                    .filter(|t| !tailor_spec::is_attachment_tag(t))
                    .map(|t| (org.clone(), repository.clone(), t)),
            ),
            Err(e) if e.is_not_found() => {}
            Err(e) => eprintln!("tailor worker: poll {repository}: {e}"),
        }
    }
    let mut queued = 0;
    for (org, repository, tag) in tags {
        let Ok(client) = target.client(&org, &[]) else { continue };
        let digest = match client.head_manifest(&repository, &tag) {
            Ok(Some(head)) => head.digest.to_string(),
            Ok(None) => continue,
            Err(e) => {
                eprintln!("tailor worker: poll {repository}:{tag}: {e}");
                continue;
            }
        };
        match block_on(notify_push(db, "poll", "", &repository, &tag, Some(&digest), now_ms())) {
            Ok(outcome) => queued += outcome.builds.len(),
            Err(e) => eprintln!("tailor worker: poll {repository}:{tag}: {e}"),
        }
    }
    queued + crate::catalog::refresh_all(db, cfg, failed)
}
