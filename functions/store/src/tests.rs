#![allow(clippy::unwrap_used)]
//! The store over a real (in-memory) SQLite: queue coalescing, leases, conflicts, fan-out.

use tailor_spec::Customization as Spec;

use crate::*;

fn db() -> NativeDb {
    crate::test_db::fresh()
}

fn spec(name: &str, source: &str, artifacts: &[&str]) -> Spec {
    let mut yaml = format!("name: {name}\nsource: {source}\ntag_suffix: custom\nplatforms: [linux/amd64]\n");
    if !artifacts.is_empty() {
        yaml.push_str("contents:\n  artifacts:\n");
        for a in artifacts {
            yaml.push_str(&format!("    - {{reference: {a}, includes: [/opt]}}\n"));
        }
    }
    Spec::parse_yaml(&yaml).unwrap()
}

#[test]
fn migrate_is_idempotent_and_refuses_newer() {
    let db = db();
    assert_eq!(block_on(migrate(&db)).unwrap(), SCHEMA_VERSION);
    db.exec_now("INSERT INTO schema_version (version) VALUES (?)", &[Value::Integer(SCHEMA_VERSION + 1)]).unwrap();
    let err = block_on(migrate(&db)).unwrap_err();
    assert!(err.to_string().contains("upgrade tailor"), "{err}");
}

#[test]
fn create_enqueues_and_requests_coalesce() {
    let db = db();
    let (c, b) = block_on(create_customization(&db, "acme", "c1", &spec("a", "acme/debian:12", &[]), 1000)).unwrap();
    assert_eq!((c.revision, c.source_repository.as_str()), (1, "acme/debian"));
    assert_eq!((b.number, b.status, b.reason.as_str()), (1, BuildStatus::Queued, "created"));
    // Nine more requests while queued: the same build, counted.
    for i in 0..9 {
        let again = block_on(enqueue(&db, "c1", &format!("push {i}"), 1001 + i)).unwrap().unwrap();
        assert_eq!(again.number, 1);
    }
    let b = block_on(get_build(&db, "c1", 1)).unwrap().unwrap();
    assert_eq!(b.requests, 10);
    assert_eq!(block_on(list_builds(&db, "c1", 50)).unwrap().len(), 1);
    assert!(block_on(enqueue(&db, "nope", "x", 1)).unwrap().is_none());
}

#[test]
fn a_request_during_a_build_queues_exactly_one_more() {
    let db = db();
    block_on(create_customization(&db, "acme", "c1", &spec("a", "acme/debian:12", &[]), 1000)).unwrap();
    let claim = block_on(claim(&db, "w1", 2000, 30_000, 3)).unwrap().unwrap();
    assert_eq!((claim.build, claim.attempt, claim.org.as_str()), (1, 1, "acme"));
    assert!(block_on(crate::claim(&db, "w2", 2001, 30_000, 3)).unwrap().is_none(), "leased: nothing to claim");
    for i in 0..5 {
        assert_eq!(block_on(enqueue(&db, "c1", "push", 2100 + i)).unwrap().unwrap().number, 2);
    }
    assert!(block_on(crate::claim(&db, "w2", 2200, 30_000, 3)).unwrap().is_none(), "one build at a time");
    let outcome = Outcome { fingerprint: Some("fp1".into()), ..Outcome::default() };
    assert!(block_on(finish(&db, "c1", 1, "w1", BuildStatus::Succeeded, &outcome, "done\n", 2300)).unwrap());
    let next = block_on(crate::claim(&db, "w2", 2400, 30_000, 3)).unwrap().unwrap();
    assert_eq!((next.build, next.last_fingerprint.as_deref()), (2, Some("fp1")));
    assert!(block_on(finish(&db, "c1", 2, "w2", BuildStatus::Skipped, &outcome, "", 2500)).unwrap());
    assert!(block_on(crate::claim(&db, "w2", 2600, 30_000, 3)).unwrap().is_none());
    let statuses: Vec<_> = block_on(list_builds(&db, "c1", 10)).unwrap().iter().map(|b| b.status).collect();
    assert_eq!(statuses, [BuildStatus::Skipped, BuildStatus::Succeeded]);
    assert_eq!(block_on(get_log(&db, "c1", 1)).unwrap().unwrap(), "done\n");
}

#[test]
fn expired_leases_are_reclaimed_and_give_up_after_max_attempts() {
    let db = db();
    block_on(create_customization(&db, "acme", "c1", &spec("a", "acme/debian:12", &[]), 0)).unwrap();
    let first = block_on(claim(&db, "dead", 10, 100, 2)).unwrap().unwrap();
    assert_eq!(first.attempt, 1);
    assert!(block_on(crate::claim(&db, "w2", 50, 100, 2)).unwrap().is_none(), "lease still valid");
    assert!(!block_on(heartbeat(&db, "c1", 1, "w2", "", 60, 100)).unwrap(), "not w2's lease");
    let second = block_on(crate::claim(&db, "w2", 200, 100, 2)).unwrap().unwrap();
    assert_eq!((second.build, second.attempt), (1, 2));
    // The dead worker's late finish is refused.
    assert!(!block_on(finish(&db, "c1", 1, "dead", BuildStatus::Succeeded, &Outcome::default(), "", 210)).unwrap());
    // w2 dies too: the third claim fails the build instead.
    assert!(block_on(crate::claim(&db, "w3", 400, 100, 2)).unwrap().is_none());
    let b = block_on(get_build(&db, "c1", 1)).unwrap().unwrap();
    assert_eq!(b.status, BuildStatus::Failed);
    assert!(b.error.unwrap().contains("gave up after 2 attempts"));
}

#[test]
fn retry_later_waits_and_release_owner_frees_at_once() {
    let db = db();
    block_on(create_customization(&db, "acme", "c1", &spec("a", "acme/debian:12", &[]), 0)).unwrap();
    block_on(claim(&db, "w1", 10, 1000, 5)).unwrap().unwrap();
    assert!(block_on(retry_later(&db, "c1", 1, "w1", "registry down", "attempt 1 failed\n", 20, 500)).unwrap());
    assert_eq!(block_on(get_build(&db, "c1", 1)).unwrap().unwrap().status, BuildStatus::Queued);
    assert!(block_on(crate::claim(&db, "w1", 100, 1000, 5)).unwrap().is_none(), "backoff");
    let again = block_on(crate::claim(&db, "w1", 600, 1000, 5)).unwrap().unwrap();
    assert_eq!(again.attempt, 2);
    assert_eq!(block_on(release_owner(&db, "w1", "shutting down\n", true)).unwrap(), 1);
    let third = block_on(crate::claim(&db, "w2", 700, 1000, 5)).unwrap().unwrap();
    assert_eq!(third.attempt, 2, "a graceful release does not count as an attempt");
}

#[test]
fn replace_checks_the_revision_and_delete_removes_everything() {
    let db = db();
    block_on(create_customization(&db, "acme", "c1", &spec("a", "acme/debian:12", &[]), 0)).unwrap();
    let err =
        block_on(replace_customization(&db, "acme", "c1", &spec("b", "acme/debian:13", &[]), Some(7), 5)).unwrap_err();
    assert!(matches!(err, StoreError::Conflict { given: 7, current: 1 }), "{err}");
    let (c, b) = block_on(replace_customization(&db, "acme", "c1", &spec("b", "acme/debian:13", &[]), Some(1), 5))
        .unwrap()
        .unwrap();
    assert_eq!((c.revision, c.name.as_str(), b.number), (2, "b", 1), "coalesced into the queued build");
    assert!(
        block_on(replace_customization(&db, "other", "c1", &spec("b", "acme/x:1", &[]), None, 6)).unwrap().is_none()
    );
    assert_eq!(block_on(affected_by(&db, "acme/debian", "13")).unwrap(), ["c1"]);
    assert!(block_on(affected_by(&db, "acme/debian", "12")).unwrap().is_empty());
    assert!(!block_on(delete_customization(&db, "other", "c1", None)).unwrap(), "another org sees nothing");
    assert!(block_on(delete_customization(&db, "acme", "c1", Some(2))).unwrap());
    assert!(block_on(affected_by(&db, "acme/debian", "13")).unwrap().is_empty());
    assert!(block_on(claim(&db, "w", 10, 10, 3)).unwrap().is_none(), "the request went with it");
    assert!(block_on(list_builds(&db, "c1", 10)).unwrap().is_empty());
}

#[test]
fn fan_out_lists_and_catalog() {
    let db = db();
    block_on(create_customization(&db, "acme", "c1", &spec("a", "acme/debian:12", &["acme/art:1"]), 0)).unwrap();
    block_on(create_customization(&db, "acme", "c2", &spec("b", "acme/debian:12", &[]), 1)).unwrap();
    block_on(create_customization(&db, "other", "c3", &spec("c", "other/debian:12", &[]), 2)).unwrap();
    assert_eq!(block_on(affected_by(&db, "acme/debian", "12")).unwrap(), ["c1", "c2"]);
    assert_eq!(block_on(affected_by(&db, "acme/art", "1")).unwrap(), ["c1"]);
    let listed = block_on(list_customizations(&db, "acme", Some("acme/debian"))).unwrap();
    assert_eq!(listed.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(), ["c1", "c2"]);
    assert!(block_on(list_customizations(&db, "acme", Some("acme/other"))).unwrap().is_empty());
    assert_eq!(block_on(dependency_tags(&db)).unwrap().len(), 3);

    assert!(block_on(record_push(&db, "acme/debian", "12", Some("sha256:a"), 10)).unwrap());
    assert!(!block_on(record_push(&db, "acme/debian", "12", Some("sha256:a"), 11)).unwrap(), "same digest");
    assert!(block_on(record_push(&db, "acme/debian", "12", Some("sha256:b"), 12)).unwrap());
    assert!(block_on(record_push(&db, "acme/debian", "12", None, 13)).unwrap(), "no digest: assume news");
    block_on(record_platforms(&db, "acme/debian", "12", "sha256:b", &["linux/amd64".into()], 14)).unwrap();
    block_on(record_push(&db, "acmeco/x", "1", Some("sha256:c"), 15)).unwrap();
    let cat = block_on(list_catalog(&db, "acme")).unwrap();
    assert_eq!(cat.len(), 1, "acmeco is another org: {cat:?}");
    assert_eq!(
        (cat[0].digest.as_deref(), cat[0].platforms.as_slice()),
        (Some("sha256:b"), &["linux/amd64".to_string()][..])
    );
    // A build read the tag after a push and before the push's notification: the notification
    // is still news, and every dependent is queued (a worker's reading must not swallow it).
    block_on(record_platforms(&db, "acme/debian", "12", "sha256:d", &["linux/amd64".into()], 16)).unwrap();
    let pushed = block_on(notify_push(&db, "reg", "e-d", "acme/debian", "12", Some("sha256:d"), 17)).unwrap();
    assert!(pushed.changed, "{pushed:?}");
    let queued: Vec<&str> = pushed.builds.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(queued, ["c1", "c2"]);
    block_on(record_platforms(&db, "acme/debian", "12", "sha256:d", &["linux/arm64".into()], 18)).unwrap();
    let cat = block_on(list_catalog(&db, "acme")).unwrap();
    assert_eq!(
        (cat[0].digest.as_deref(), cat[0].platforms.as_slice()),
        (Some("sha256:d"), &["linux/arm64".into()][..])
    );
    // A tag nothing depends on is only browsed: the latest reading is shown.
    block_on(record_push(&db, "acme/tools", "1", Some("sha256:e"), 19)).unwrap();
    block_on(record_platforms(&db, "acme/tools", "1", "sha256:f", &["linux/amd64".into()], 20)).unwrap();
    let cat = block_on(list_catalog(&db, "acme")).unwrap();
    let tools = cat.iter().find(|t| t.repository == "acme/tools").unwrap();
    assert_eq!(tools.digest.as_deref(), Some("sha256:f"));
}

#[test]
fn tokens_are_stored_hashed_and_events_deduplicate() {
    let db = db();
    block_on(create_token(&db, "tlr_secret", "acme", Role::Member, "ci", 0)).unwrap();
    let info = block_on(lookup_token(&db, "tlr_secret")).unwrap().unwrap();
    assert_eq!((info.org.as_str(), info.role), ("acme", Role::Member));
    assert!(block_on(lookup_token(&db, "tlr_other")).unwrap().is_none());
    let stored = db.exec_now("SELECT hash FROM tokens", &[]).unwrap();
    assert_eq!(stored.rows[0][0], Value::Text(hash_token("tlr_secret")));
    assert!(block_on(record_event(&db, "reg", "e1", 0)).unwrap());
    assert!(!block_on(record_event(&db, "reg", "e1", 1)).unwrap());
    assert!(block_on(record_event(&db, "hub", "e1", 1)).unwrap(), "ids are per endpoint");
}

#[test]
fn a_customization_is_read_with_its_token_only_within_the_tokens_org() {
    let db = db();
    block_on(create_token(&db, "tlr_acme", "acme", Role::Owner, "ops", 0)).unwrap();
    block_on(create_token(&db, "tlr_globex", "globex", Role::Member, "ci", 0)).unwrap();
    block_on(create_customization(&db, "acme", "c1", &spec("a", "acme/debian:12", &[]), 5)).unwrap();
    let read = |secret: &str, org: &str, id: &str| block_on(get_customization_for_token(&db, secret, org, id)).unwrap();

    let (token, found) = read("tlr_acme", "acme", "c1").unwrap();
    assert_eq!((token.org.as_str(), token.role, token.name.as_str()), ("acme", Role::Owner, "ops"));
    assert_eq!(found, block_on(get_customization(&db, "acme", "c1")).unwrap(), "the same customization as alone");
    assert!(found.is_some());
    let (_, found) = read("tlr_acme", "acme", "c2").unwrap();
    assert!(found.is_none(), "no such id");
    let (token, found) = read("tlr_globex", "acme", "c1").unwrap();
    assert_eq!(token.org, "globex");
    assert!(found.is_none(), "another org's customization is not read");
    let (_, found) = read("tlr_globex", "globex", "c1").unwrap();
    assert!(found.is_none(), "ids are per org");
    assert!(read("tlr_unknown", "acme", "c1").is_none(), "an unknown token reads nothing");
}

#[test]
fn a_failed_transaction_leaves_nothing() {
    let db = db();
    block_on(create_customization(&db, "acme", "c1", &spec("a", "acme/debian:12", &[]), 0)).unwrap();
    // Same id again: the insert fails, and no second build or request appears.
    assert!(block_on(create_customization(&db, "acme", "c1", &spec("a", "acme/debian:12", &[]), 0)).is_err());
    assert_eq!(block_on(list_builds(&db, "c1", 10)).unwrap().len(), 1);
    let n = db.exec_now("SELECT COUNT(*) AS n FROM requests", &[]).unwrap();
    assert_eq!(n.rows[0][0], Value::Integer(1));
}

#[test]
fn a_push_notification_fans_out_once() {
    let db = db();
    block_on(create_customization(&db, "acme", "c1", &spec("a", "acme/debian:12", &["acme/art:1"]), 0)).unwrap();
    block_on(create_customization(&db, "acme", "c2", &spec("b", "acme/debian:12", &[]), 1)).unwrap();
    for c in ["c1", "c2"] {
        let claim = block_on(claim(&db, "w", 5, 1000, 3)).unwrap().unwrap();
        assert_eq!(claim.customization_id, c);
        block_on(finish(&db, c, 1, "w", BuildStatus::Succeeded, &Outcome::default(), "", 6)).unwrap();
    }
    let out = block_on(notify_push(&db, "reg", "e1", "acme/debian", "12", Some("sha256:aa"), 10)).unwrap();
    assert_eq!(out.builds, [("c1".to_string(), 2), ("c2".to_string(), 2)]);
    // A redelivery changes nothing, even one that says otherwise (on PostgreSQL the statements
    // under the lock went out with the event's insert, and are rolled back).
    let again = block_on(notify_push(&db, "reg", "e1", "acme/debian", "12", Some("sha256:cc"), 11)).unwrap();
    assert!(again.duplicate && again.builds.is_empty());
    let same = block_on(notify_push(&db, "reg", "e2", "acme/debian", "12", Some("sha256:aa"), 12)).unwrap();
    assert!(!same.changed && same.builds.is_empty(), "same digest: nothing to rebuild");
    let art = block_on(notify_push(&db, "reg", "e3", "acme/art", "1", Some("sha256:bb"), 13)).unwrap();
    assert_eq!(art.builds, [("c1".to_string(), 2)], "joins the queued build");
    assert_eq!(block_on(get_build(&db, "c1", 2)).unwrap().unwrap().requests, 2);
}

#[test]
fn a_push_requests_its_platforms_listing_with_or_without_dependents() {
    let db = db();
    let status = |repository: &str| {
        block_on(get_listing(&db, repository, "1", "", ListingKind::Platforms)).unwrap().map(|l| l.status)
    };
    // c1's first build is still queued: the push coalesces into it (on PostgreSQL the listing
    // request goes in the coalescing statement), acme/other has no dependents.
    block_on(create_customization(&db, "acme", "c1", &spec("a", "acme/debian:1", &[]), 0)).unwrap();
    let out = block_on(notify_push(&db, "reg", "e1", "acme/debian", "1", Some("sha256:aa"), 10)).unwrap();
    assert_eq!(out.builds, [("c1".to_string(), 1)]);
    let out = block_on(notify_push(&db, "reg", "e2", "acme/other", "1", Some("sha256:aa"), 11)).unwrap();
    assert!(out.changed && out.builds.is_empty());
    assert_eq!(
        (status("acme/debian").as_deref(), status("acme/other").as_deref()),
        (Some("requested"), Some("requested"))
    );
    for l in block_on(claim_listings(&db, 12, 60_000, 10)).unwrap() {
        block_on(fail_listing(&db, &l, "unreachable", 12)).unwrap();
    }
    // A redelivery requests nothing (what it sent under the lock is rolled back), a new digest does.
    block_on(notify_push(&db, "reg", "e1", "acme/debian", "1", Some("sha256:bb"), 13)).unwrap();
    block_on(notify_push(&db, "reg", "e3", "acme/other", "1", Some("sha256:bb"), 13)).unwrap();
    assert_eq!(
        (status("acme/debian").as_deref(), status("acme/other").as_deref()),
        (Some("failed"), Some("requested"))
    );
    // A tag tailor moved itself is not listed for people.
    block_on(notify_moved(&db, "build", "acme/third", "1", "sha256:cc", 14)).unwrap();
    assert_eq!(status("acme/third"), None);
}

#[test]
fn pushes_wait_for_quiet_but_not_forever_and_people_do_not_wait() {
    let db = db();
    block_on(create_customization(&db, "acme", "c1", &spec("a", "acme/debian:12", &[]), 0)).unwrap();
    block_on(claim(&db, "w", 1, 100_000, 3)).unwrap().unwrap();
    block_on(finish(&db, "c1", 1, "w", BuildStatus::Succeeded, &Outcome::default(), "", 2)).unwrap();
    block_on(set_setting(&db, DEBOUNCE, "500")).unwrap();
    let push = |i: i64, at: i64| {
        block_on(notify_push(&db, "reg", &format!("e{i}"), "acme/debian", "12", Some(&format!("sha256:{i:064}")), at))
            .unwrap()
    };
    assert_eq!(push(1, 1000).builds, [("c1".to_string(), 2)]);
    assert!(block_on(claim(&db, "w", 1400, 100_000, 3)).unwrap().is_none(), "quiet time not over");
    push(2, 1400);
    assert!(block_on(claim(&db, "w", 1800, 100_000, 3)).unwrap().is_none(), "a new push extends it");
    // Pushes every 400 ms forever: claimable at the latest 10 × 500 ms after the first.
    for (i, at) in (3..20).zip((1800..).step_by(400)) {
        push(i, at);
        if at >= 6000 {
            break;
        }
    }
    assert!(block_on(claim(&db, "w", 5999, 100_000, 3)).unwrap().is_none());
    let c = block_on(claim(&db, "w", 6000, 100_000, 3)).unwrap().unwrap();
    assert_eq!(c.build, 2);
    block_on(finish(&db, "c1", 2, "w", BuildStatus::Succeeded, &Outcome::default(), "", 6001)).unwrap();
    push(30, 7000);
    // A person asking joins the debounced build and makes it claimable now.
    let b = block_on(enqueue(&db, "c1", "requested", 7001)).unwrap().unwrap();
    assert_eq!(b.number, 3);
    assert!(block_on(claim(&db, "w", 7002, 100_000, 3)).unwrap().is_some());
    assert_eq!(block_on(debounce_ms(&db)).unwrap(), 500);
}

#[test]
fn racing_redeliveries_count_each_event_once() {
    // The event id is recorded before the store's write lock is taken: four connections
    // delivering the same 30 events in different orders still see each exactly once.
    let location = crate::test_db::shared();
    let db = NativeDb::open(&location).unwrap();
    block_on(migrate(&db)).unwrap();
    block_on(create_customization(&db, "acme", "c1", &spec("a", "acme/debian:12", &[]), 0)).unwrap();
    block_on(claim(&db, "w", 1, 100_000, 3)).unwrap().unwrap();
    block_on(finish(&db, "c1", 1, "w", BuildStatus::Succeeded, &Outcome::default(), "", 2)).unwrap();
    let firsts: usize = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..4_usize)
            .map(|t| {
                let location = location.clone();
                scope.spawn(move || {
                    let db = NativeDb::open(&location).unwrap();
                    let mut firsts = 0;
                    for k in 0..30_usize {
                        let i = (k * (2 * t + 1) + t) % 30;
                        let digest = format!("sha256:{i:064}");
                        let out =
                            block_on(notify_push(&db, "reg", &format!("e{i}"), "acme/debian", "12", Some(&digest), 10))
                                .unwrap();
                        if !out.duplicate {
                            assert!(out.changed, "e{i}: every event carries a new digest");
                            assert_eq!(out.builds, [("c1".to_string(), 2)], "e{i}");
                            firsts += 1;
                        }
                    }
                    firsts
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).sum()
    });
    assert_eq!(firsts, 30, "each event is news exactly once");
    let n = db.exec_now("SELECT COUNT(*) AS n FROM events", &[]).unwrap();
    assert_eq!(n.first().unwrap().int("n").unwrap(), 30);
    let b = block_on(get_build(&db, "c1", 2)).unwrap().unwrap();
    assert_eq!((b.status, b.requests), (BuildStatus::Queued, 30), "one build, every push counted once");
    assert!(block_on(get_build(&db, "c1", 3)).unwrap().is_none());
}

#[test]
fn concurrent_workers_claim_each_build_exactly_once() {
    use std::sync::atomic::{AtomicBool, Ordering};
    let location = crate::test_db::shared();
    let db = NativeDb::open(&location).unwrap();
    block_on(migrate(&db)).unwrap();
    for i in 0..40 {
        let s = spec(&format!("c{i}"), "acme/debian:12", &[]);
        block_on(create_customization(&db, "acme", &format!("c{i}"), &s, 1000 + i)).unwrap();
    }
    // Four workers claim and finish while another connection keeps asking for more builds.
    let enqueuing = AtomicBool::new(true);
    let claimed: Vec<Vec<(String, i64)>> = std::thread::scope(|scope| {
        let enqueuing = &enqueuing;
        let location2 = location.clone();
        scope.spawn(move || {
            let db = NativeDb::open(&location2).unwrap();
            for round in 0..3 {
                for i in 0..40 {
                    block_on(enqueue(&db, &format!("c{i}"), &format!("push {round}"), 5000)).unwrap();
                }
            }
            enqueuing.store(false, Ordering::SeqCst);
        });
        let workers: Vec<_> = (0..4)
            .map(|w| {
                let location = location.clone();
                scope.spawn(move || {
                    let db = NativeDb::open(&location).unwrap();
                    let mut mine = Vec::new();
                    loop {
                        let more = enqueuing.load(Ordering::SeqCst);
                        match block_on(claim(&db, &format!("w{w}"), 5000, 30_000, 3)).unwrap() {
                            Some(c) => {
                                let done = Outcome { fingerprint: Some(format!("f{w}")), ..Outcome::default() };
                                let finished = block_on(finish(
                                    &db,
                                    &c.customization_id,
                                    c.build,
                                    &format!("w{w}"),
                                    BuildStatus::Succeeded,
                                    &done,
                                    "",
                                    5001,
                                ));
                                assert!(finished.unwrap(), "the lease was ours");
                                mine.push((c.customization_id, c.build));
                            }
                            None if more => std::thread::sleep(std::time::Duration::from_millis(1)),
                            None => break,
                        }
                    }
                    mine
                })
            })
            .collect();
        workers.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut all: Vec<(String, i64)> = claimed.into_iter().flatten().collect();
    all.sort();
    let before = all.len();
    all.dedup();
    assert_eq!(before, all.len(), "no build claimed twice: {all:?}");
    // Every build recorded was claimed and succeeded; each customization's numbers run 1..=n.
    let rows = db
        .exec_now("SELECT customization_id, number, status FROM builds ORDER BY customization_id, number", &[])
        .unwrap();
    let recorded: Vec<(String, i64)> =
        rows.iter().map(|r| (r.text("customization_id").unwrap(), r.int("number").unwrap())).collect();
    assert_eq!(recorded, all, "every build was claimed exactly once");
    assert!(rows.iter().all(|r| r.text("status").unwrap() == "succeeded"));
    for i in 0..40 {
        let numbers: Vec<i64> = all.iter().filter(|(id, _)| *id == format!("c{i}")).map(|(_, n)| *n).collect();
        assert_eq!(numbers, (1..=numbers.len() as i64).collect::<Vec<_>>(), "c{i}");
    }
    let n = db
        .exec_now("SELECT COUNT(*) AS n FROM requests WHERE queued_build IS NOT NULL OR running_build IS NOT NULL", &[])
        .unwrap();
    assert_eq!(n.first().unwrap().int("n").unwrap(), 0, "nothing left queued or running");
}

#[test]
fn metrics_count_the_queue_builds_and_durations() {
    let db = db();
    for i in 0..3 {
        block_on(create_customization(
            &db,
            "acme",
            &format!("c{i}"),
            &spec(&format!("c{i}"), "acme/debian:12", &[]),
            1000,
        ))
        .unwrap();
    }
    let c = block_on(claim(&db, "w", 2000, 30_000, 3)).unwrap().unwrap();
    block_on(finish(&db, &c.customization_id, c.build, "w", BuildStatus::Succeeded, &Outcome::default(), "", 4500))
        .unwrap();
    block_on(claim(&db, "w", 5000, 30_000, 3)).unwrap().unwrap();
    block_on(record_event(&db, "registry", "e1", 1000)).unwrap();
    let m = block_on(store_metrics(&db, 6000)).unwrap();
    assert_eq!((m.queued, m.claimable, m.running, m.oldest_claimable_ms), (1, 1, 1, 5000));
    assert_eq!(m.builds, vec![("queued".to_owned(), 1), ("running".to_owned(), 1), ("succeeded".to_owned(), 1)]);
    assert_eq!((m.duration_count, m.duration_sum_ms), (1, 2500));
    assert_eq!(&m.duration_buckets[..3], &[0, 0, 1], "2.5 s: in the 5 s bucket, not in 1 s or 2 s");
    assert_eq!(m.events, vec![("registry".to_owned(), 1)]);
    assert_eq!(m.customizations, 3);
}

#[test]
fn statements_issued_together_run_in_the_order_issued() {
    // On PostgreSQL each statement is prepared once per connection, the first time a round trip
    // of its own: a new statement issued before one prepared earlier must still run first.
    let db = db();
    db.exec_now("CREATE TABLE seen (n INTEGER)", &[]).unwrap();
    let count = "SELECT count(*) AS n FROM seen";
    db.exec_now(count, &[]).unwrap();
    for round in 1..=3i64 {
        let insert = format!("INSERT INTO seen (n) VALUES ({round})");
        let (inserted, counted) = block_on(crate::join::both(db.exec(&insert, &[]), db.exec(count, &[])));
        inserted.unwrap();
        assert_eq!(counted.unwrap().rows[0][0], Value::Integer(round), "round {round}: the count ran first");
    }
}

#[test]
fn simultaneous_pushes_queue_one_build_and_count_every_push() {
    // Write transactions run one at a time, the write lock now sent together with their first
    // statements: pushes of a customization's inputs arriving at once when no build is queued
    // make exactly one (two making their own would take the same number and one would fail),
    // the others join it.
    let location = crate::test_db::shared();
    let db = NativeDb::open(&location).unwrap();
    block_on(migrate(&db)).unwrap();
    // Each pusher pushes another of c1's inputs: different catalog rows, no row lock shared.
    let inputs = [("acme/debian", "12"), ("acme/a", "1"), ("acme/b", "1"), ("acme/c", "1")];
    let s = spec("a", "acme/debian:12", &["acme/a:1", "acme/b:1", "acme/c:1"]);
    block_on(create_customization(&db, "acme", "c1", &s, 1000)).unwrap();
    let mut now = 10_000_000;
    let mut next = 1;
    for round in 0..5 {
        // Nothing queued: the queued build is claimed and finished first.
        let c = block_on(claim(&db, "w", now, 30_000, 3)).unwrap().unwrap();
        assert_eq!(c.build, next);
        let done = Outcome { fingerprint: Some(format!("f{round}")), ..Outcome::default() };
        assert!(block_on(finish(&db, "c1", c.build, "w", BuildStatus::Succeeded, &done, "", now)).unwrap());
        let start = std::sync::Barrier::new(4);
        let outcomes: Vec<PushOutcome> = std::thread::scope(|scope| {
            let pushers: Vec<_> = (0..4)
                .map(|p| {
                    let (location, start, (repository, tag)) = (location.clone(), &start, inputs[p]);
                    scope.spawn(move || {
                        let db = NativeDb::open(&location).unwrap();
                        let digest = format!("sha256:{round:030}{p:034}");
                        start.wait();
                        block_on(notify_push(&db, "reg", &format!("r{round}p{p}"), repository, tag, Some(&digest), now))
                            .unwrap()
                    })
                })
                .collect();
            pushers.into_iter().map(|h| h.join().unwrap()).collect()
        });
        next += 1;
        for o in &outcomes {
            assert_eq!(o.builds, [("c1".to_owned(), next)], "round {round}: {outcomes:?}");
        }
        let b = block_on(get_build(&db, "c1", next)).unwrap().unwrap();
        assert_eq!((b.status, b.requests), (BuildStatus::Queued, 4), "round {round}: one build, four pushes");
        assert!(block_on(get_build(&db, "c1", next + 1)).unwrap().is_none());
        now += 10_000_000;
    }
}
