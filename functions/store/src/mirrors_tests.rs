#![allow(clippy::unwrap_used)]
//! Mirrors in the store: one per destination, syncs through the queue, polls claimed once,
//! tag outcomes, deletion.

use tailor_spec::MirrorSpec;

use crate::*;

fn db() -> NativeDb {
    crate::test_db::fresh()
}

fn spec(source: &str, destination: Option<&str>, poll: u64) -> MirrorSpec {
    let mut m = MirrorSpec::from_json(&format!(r#"{{"source": "{source}", "poll_interval_s": {poll}}}"#)).unwrap();
    m.destination = destination.map(str::to_owned);
    m.normalized("acme")
}

#[test]
fn create_queues_a_sync_and_destinations_are_unique() {
    let db = db();
    let (m, sync) = block_on(create_mirror(&db, "acme", "mir_1", &spec("dhi.io/python", None, 300), 1000)).unwrap();
    assert_eq!((m.destination.as_str(), m.source().as_str(), m.revision), ("acme/dhi-python", "dhi.io/python", 1));
    assert_eq!((m.next_check, m.poll_interval_ms), (301_000, 300_000));
    assert_eq!((sync.number, sync.status, sync.reason.as_str()), (1, BuildStatus::Queued, "created"));
    let err = block_on(create_mirror(&db, "acme", "mir_2", &spec("dhi.io/other", Some("acme/dhi-python"), 0), 1))
        .unwrap_err();
    assert!(matches!(&err, StoreError::Exists { id, .. } if id == "mir_1"), "{err}");
    assert!(block_on(get_mirror(&db, "acme", "mir_2")).unwrap().is_none(), "nothing half-created");

    // The queue hands out the sync as a mirror's run.
    let claim = block_on(claim(&db, "w1", 2000, 30_000, 3)).unwrap().unwrap();
    assert_eq!((claim.kind, claim.customization_id.as_str(), claim.org.as_str()), (Kind::Mirror, "mir_1", "acme"));
    assert_eq!(claim.spec["source"], "dhi.io/python");
    let outcome = Outcome { outputs: Some(serde_json::json!({"tags": []})), ..Outcome::default() };
    assert!(block_on(finish(&db, "mir_1", 1, "w1", BuildStatus::Partial, &outcome, "done\n", 2100)).unwrap());
    let last = block_on(last_sync(&db, "mir_1")).unwrap().unwrap();
    assert_eq!((last.number, last.status), (1, BuildStatus::Partial));
    assert_eq!(block_on(get_log(&db, "mir_1", 1)).unwrap().unwrap(), "done\n");
}

#[test]
fn syncs_coalesce_and_edits_bump_the_revision() {
    let db = db();
    block_on(create_mirror(&db, "acme", "mir_1", &spec("dhi.io/python", None, 300), 1000)).unwrap();
    for i in 0..3 {
        assert_eq!(block_on(queue_sync(&db, "mir_1", "push", 1001 + i, 300)).unwrap().unwrap().number, 1);
    }
    assert!(block_on(queue_sync(&db, "mir_9", "push", 1, 0)).unwrap().is_none());
    assert_eq!(block_on(get_build(&db, "mir_1", 1)).unwrap().unwrap().requests, 4);

    let edited = block_on(replace_mirror(&db, "acme", "mir_1", &spec("dhi.io/python", None, 60), Some(1), 5000))
        .unwrap()
        .unwrap();
    assert_eq!((edited.revision, edited.next_check), (2, 65_000));
    let stale = block_on(replace_mirror(&db, "acme", "mir_1", &spec("dhi.io/python", None, 60), Some(1), 5001));
    assert!(matches!(stale, Err(StoreError::Conflict { given: 1, current: 2 })));
    assert!(
        block_on(replace_mirror(&db, "other", "mir_1", &spec("dhi.io/python", None, 60), None, 1)).unwrap().is_none()
    );
    assert!(block_on(get_mirror(&db, "other", "mir_1")).unwrap().is_none(), "another org's mirror is invisible");
}

#[test]
fn polls_are_claimed_once_per_interval() {
    let db = db();
    block_on(create_mirror(&db, "acme", "mir_a", &spec("dhi.io/a", None, 60), 0)).unwrap();
    block_on(create_mirror(&db, "acme", "mir_b", &spec("dhi.io/b", None, 0), 0)).unwrap();
    assert!(block_on(claim_due_mirrors(&db, 59_999, 10)).unwrap().is_empty());
    let due = block_on(claim_due_mirrors(&db, 60_000, 10)).unwrap();
    assert_eq!(due.iter().map(|m| m.id.as_str()).collect::<Vec<_>>(), ["mir_a"], "poll_interval_s 0: never polled");
    assert!(block_on(claim_due_mirrors(&db, 60_001, 10)).unwrap().is_empty(), "claimed: not due again");
    assert_eq!(block_on(claim_due_mirrors(&db, 120_000, 10)).unwrap().len(), 1);
    // A sync counts as a poll.
    let t = MirrorTag {
        tag: "3.13".into(),
        digest: Some("sha256:1".into()),
        action: "refused".into(),
        reason: Some("unsigned".into()),
        evidence: None,
        updated_at: 130_000,
    };
    block_on(record_mirror_tags(&db, "mir_a", std::slice::from_ref(&t), 130_000)).unwrap();
    assert!(block_on(claim_due_mirrors(&db, 189_999, 10)).unwrap().is_empty());
    assert_eq!(block_on(mirror_tags(&db, "mir_a")).unwrap(), vec![t]);
}

#[test]
fn mirrors_are_found_by_source_and_destination_and_deleted_whole() {
    let db = db();
    block_on(create_mirror(&db, "acme", "mir_1", &spec("dhi.io/python", None, 300), 0)).unwrap();
    let mut other = spec("dhi.io/python", Some("zeta/python"), 300);
    other.destination = Some("zeta/python".into());
    block_on(create_mirror(&db, "zeta", "mir_2", &other, 0)).unwrap();
    let found = block_on(mirrors_of_source(&db, "dhi.io", "python")).unwrap();
    assert_eq!(found.iter().map(|m| m.org.as_str()).collect::<Vec<_>>(), ["acme", "zeta"]);
    assert!(block_on(mirrors_of_source(&db, "other.io", "python")).unwrap().is_empty());
    assert_eq!(block_on(mirror_of_destination(&db, "zeta/python")).unwrap().unwrap().id, "mir_2");
    assert_eq!(block_on(list_mirrors(&db, "acme")).unwrap().len(), 1);

    assert!(!block_on(delete_mirror(&db, "zeta", "mir_1", None)).unwrap(), "not zeta's");
    assert!(block_on(delete_mirror(&db, "acme", "mir_1", None)).unwrap());
    assert!(block_on(list_builds(&db, "mir_1", 10)).unwrap().is_empty());
    assert!(block_on(claim(&db, "w", 1, 1000, 3)).unwrap().is_some_and(|c| c.customization_id == "mir_2"));
    assert!(block_on(claim(&db, "w", 2, 1000, 3)).unwrap().is_none(), "the deleted mirror's sync is gone");
}
