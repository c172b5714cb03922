//! Polling mirrors (DESIGN.md §9): each mirror whose interval is due is claimed (so another
//! worker does not poll it too), its upstream tags are resolved — HEADs in parallel, across
//! mirrors too — and compared with what its last sync recorded (the destination is tailor's:
//! it is not asked); a sync is queued only when a tag differs. A tag refused earlier is asked
//! about again only when its signatures upstream changed, so an unsigned tag does not make a
//! sync every interval.

use std::time::Instant;

use tailor_mirror::{TagState, evidence, plan_upstream};
use tailor_spec::MirrorSpec;
use tailor_store::{Mirror, NativeDb, block_on, claim_due_mirrors, mirror_tags, queue_sync};

use crate::worker::{WorkerConfig, now_ms};

/// Mirrors polled per round (the rest are due again at the next round, a second later).
const ROUND: i64 = 200;
/// Mirrors checked at once; each resolves its tags with its own requests in flight.
const MIRRORS_AT_ONCE: usize = 8;
const REQUESTS_PER_MIRROR: usize = 8;

/// Polls every due mirror once; returns how many syncs were queued.
pub fn poll_mirrors(db: &NativeDb, cfg: &WorkerConfig) -> usize {
    let due = match block_on(claim_due_mirrors(db, now_ms(), ROUND)) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("tailor worker: mirror poll: {e}");
            return 0;
        }
    };
    if due.is_empty() {
        return 0;
    }
    let started = Instant::now();
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results: Vec<(String, Result<Vec<String>, String>)> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..MIRRORS_AT_ONCE.min(due.len()))
            .map(|_| {
                s.spawn(|| {
                    let mut out = Vec::new();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(m) = due.get(i) else { break };
                        out.push((m.id.clone(), changed_tags(db, cfg, m)));
                    }
                    out
                })
            })
            .collect();
        workers.into_iter().flat_map(|w| w.join().unwrap_or_default()).collect()
    });
    let mut queued = 0;
    let (mut tags_changed, mut failed) = (0, 0);
    for (id, result) in results {
        match result {
            Ok(changed) if changed.is_empty() => {}
            Ok(changed) => {
                tags_changed += changed.len();
                let reason = format!("poll: {} changed upstream", shorten(&changed));
                match block_on(queue_sync(db, &id, &reason, now_ms(), 0)) {
                    Ok(Some(_)) => queued += 1,
                    Ok(None) => {}
                    Err(e) => eprintln!("tailor worker: queueing a sync of {id}: {e}"),
                }
            }
            Err(e) => {
                failed += 1;
                eprintln!("tailor worker: mirror poll of {id}: {e}");
            }
        }
    }
    eprintln!(
        "tailor worker: polled {} mirror(s) in {} ms: {tags_changed} tag(s) changed, {queued} sync(s) queued{}",
        due.len(),
        started.elapsed().as_millis(),
        if failed > 0 { format!(", {failed} poll(s) failed") } else { String::new() }
    );
    queued
}

/// The tags of `m` a sync would change (not counting refusals nothing has changed since).
fn changed_tags(db: &NativeDb, cfg: &WorkerConfig, m: &Mirror) -> Result<Vec<String>, String> {
    let spec: MirrorSpec = m.parsed().map_err(|e| e.to_string())?;
    let (job, ep) = crate::mirror::endpoints(db, cfg, &m.org, &spec)?;
    let plan = plan_upstream(&job, &ep, REQUESTS_PER_MIRROR).map_err(|e| e.to_string())?;
    for (tag, e) in &plan.unresolved {
        eprintln!("tailor worker: mirror poll of {}: {tag}: {e}", m.id);
    }
    let states: Vec<TagState> = plan.tags;
    let known = block_on(mirror_tags(db, &m.id)).map_err(|e| e.to_string())?;
    let synced = |s: &TagState| {
        let digest = s.upstream.digest.as_str();
        known.iter().any(|k| {
            k.tag == s.tag && k.digest.as_deref() == Some(digest) && matches!(k.action.as_str(), "copied" | "unchanged")
        })
    };
    let mut changed = Vec::new();
    for s in states.iter().filter(|s| !synced(s)) {
        let digest = s.upstream.digest.to_string();
        let refused =
            known.iter().find(|k| k.tag == s.tag && k.action == "refused" && k.digest.as_deref() == Some(&digest));
        if let Some(k) = refused
            && let Ok(now) = evidence(&job, &ep, &s.upstream.digest)
            && k.evidence.as_deref() == Some(now.as_str())
        {
            continue;
        }
        changed.push(s.tag.clone());
    }
    Ok(changed)
}

/// `3.13, 3.12 and 5 more`.
fn shorten(tags: &[String]) -> String {
    match tags.len() {
        0..=3 => tags.join(", "),
        n => format!("{} and {} more", tags[..3].join(", "), n - 3),
    }
}
