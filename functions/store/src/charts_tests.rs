#![allow(clippy::unwrap_used)]
//! Chart customizations in the store: one per source repository, builds through the queue, the
//! source's every version and the pinned images as dependencies that rebuild it.

use tailor_spec::ChartSpec;

use crate::*;

fn db() -> NativeDb {
    crate::test_db::fresh()
}

fn spec(name: &str, source: &str) -> ChartSpec {
    ChartSpec::from_yaml(&format!(
        "name: {name}\nsource: {source}\ntag_suffix: custom\nreference_mapping: [{{from: dhi/nginx, to: acme/dhi-nginx}}]\n"
    ))
    .unwrap()
}

#[test]
fn one_per_source_and_builds_queue() {
    let db = db();
    let (c, b) = block_on(create_chart(&db, "acme", "chc_1", &spec("web", "acme/web-chart"), 1000)).unwrap();
    assert_eq!(
        (c.source_repository.as_str(), c.revision, b.number, b.reason.as_str()),
        ("acme/web-chart", 1, 1, "created")
    );
    let err = block_on(create_chart(&db, "acme", "chc_2", &spec("again", "acme/web-chart"), 1001)).unwrap_err();
    assert!(matches!(&err, StoreError::Exists { id, .. } if id == "chc_1"), "{err}");
    let claim = block_on(claim(&db, "w", 2000, 30_000, 3)).unwrap().unwrap();
    assert_eq!((claim.kind, claim.customization_id.as_str()), (Kind::Chart, "chc_1"));
    let outputs = serde_json::json!({"versions": [{"version": "1.0.0"}]});
    let outcome = Outcome { outputs: Some(outputs.clone()), ..Outcome::default() };
    assert!(block_on(finish(&db, "chc_1", 1, "w", BuildStatus::Succeeded, &outcome, "", 2100)).unwrap());
    assert_eq!(block_on(last_outputs(&db, "chc_1")).unwrap(), Some(outputs));
    let (c, b) =
        block_on(replace_chart(&db, "acme", "chc_1", &spec("web2", "acme/web-chart"), Some(1), 3000)).unwrap().unwrap();
    assert_eq!((c.revision, c.name.as_str(), b.number), (2, "web2", 2));
    assert!(block_on(get_chart(&db, "zeta", "chc_1")).unwrap().is_none());
    assert_eq!(block_on(list_charts(&db, "acme")).unwrap().len(), 1);
}

#[test]
fn new_versions_and_moved_images_rebuild_it() {
    let db = db();
    block_on(create_chart(&db, "acme", "chc_1", &spec("web", "acme/web-chart"), 0)).unwrap();
    let c = block_on(claim(&db, "w", 1, 30_000, 3)).unwrap().unwrap();
    block_on(finish(&db, &c.customization_id, c.build, "w", BuildStatus::Succeeded, &Outcome::default(), "", 2))
        .unwrap();
    block_on(set_chart_images(&db, "chc_1", &[("acme/dhi-nginx".into(), "1.25".into())])).unwrap();
    // A new chart version (any tag of the source).
    let o = block_on(notify_push(&db, "reg", "e1", "acme/web-chart", "1.1.0", Some("sha256:1"), 10)).unwrap();
    assert_eq!(o.builds, [("chc_1".to_owned(), 2)]);
    // A pinned image moved: joins the queued build.
    let o = block_on(notify_push(&db, "reg", "e2", "acme/dhi-nginx", "1.25", Some("sha256:2"), 11)).unwrap();
    assert_eq!(o.builds, [("chc_1".to_owned(), 2)]);
    assert!(
        block_on(notify_push(&db, "reg", "e3", "acme/dhi-nginx", "1.26", Some("sha256:3"), 12))
            .unwrap()
            .builds
            .is_empty()
    );
    assert_eq!(block_on(chart_sources(&db)).unwrap(), [("acme".to_owned(), "acme/web-chart".to_owned())]);
    let polled = block_on(dependency_tags(&db)).unwrap();
    assert_eq!(
        polled,
        [("acme".to_owned(), "acme/dhi-nginx".to_owned(), "1.25".to_owned())],
        "'*' is listed, not HEADed"
    );
    assert!(block_on(delete_chart(&db, "acme", "chc_1", None)).unwrap());
    assert!(
        block_on(notify_push(&db, "reg", "e4", "acme/web-chart", "1.2.0", Some("sha256:4"), 20))
            .unwrap()
            .builds
            .is_empty()
    );
}

#[test]
fn a_tag_tailor_moved_starts_the_builds_a_notification_queued_before() {
    let db = db();
    block_on(set_setting(&db, DEBOUNCE, "300")).unwrap();
    let c: tailor_spec::Customization = tailor_spec::Customization::parse_yaml(
        "name: a\nsource: acme/base:1\ntag_suffix: x\nplatforms: [linux/amd64]\n",
    )
    .unwrap();
    block_on(create_customization(&db, "acme", "cus_1", &c, 0)).unwrap();
    let first = block_on(claim(&db, "w", 1, 30_000, 3)).unwrap().unwrap();
    block_on(finish(&db, "cus_1", first.build, "w", BuildStatus::Succeeded, &Outcome::default(), "", 2)).unwrap();
    // The registry's notification arrives first: queued, waiting for the debounce.
    let o = block_on(notify_push(&db, "reg", "e1", "acme/base", "1", Some("sha256:1"), 1000)).unwrap();
    assert_eq!(o.builds.len(), 1);
    assert!(block_on(claim(&db, "w", 1001, 30_000, 3)).unwrap().is_none(), "debounced");
    // Then the mirror's sync says it moved the tag: no second build, but no waiting either.
    let o = block_on(notify_moved(&db, "mirror", "acme/base", "1", "sha256:1", 1002)).unwrap();
    assert!(!o.changed && o.builds.is_empty());
    assert!(block_on(claim(&db, "w", 1002, 30_000, 3)).unwrap().is_some());
}
