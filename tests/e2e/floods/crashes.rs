//! `kill -9` of `tailor up` at pseudo-random moments during fan-outs, twenty times, on SQLite
//! and on PostgreSQL: after every kill the database's integrity check is clean; after every
//! restart the queued and interrupted builds go on; at the end every build has completed, no
//! build number is lost or repeated, and every customization's tag holds a complete image
//! built from the last base.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use super::{Lcg, SECRET, assert_numbered, create, deliver, envelope, push_base, push_event, wait_all_idle};
use crate::harness::service::{Service, ServiceOptions};
use crate::harness::{Registry, postgres, run};

const CUSTOMIZATIONS: usize = 40;
const KILLS: u32 = 20;

#[test]
fn twenty_kills_during_fan_outs_lose_nothing_on_sqlite() {
    crashes(None);
}

#[test]
fn twenty_kills_during_fan_outs_lose_nothing_on_postgres() {
    crashes(Some(postgres::database()));
}

fn crashes(database: Option<String>) {
    let work = tempfile::tempdir().unwrap();
    let registry = Registry::start();
    let mut last = push_base(&registry, 0);
    let data = work.path().join("data");
    let opts = ServiceOptions {
        registry: Some(registry.url()),
        database: database.clone(),
        webhooks: vec![("reg".into(), SECRET.into())],
        workers: 2,
        // Kills count as attempts (a build that crashes its host every time must end); here
        // the host is killed from outside, so allow more than twenty.
        extra: vec!["--max-attempts".into(), "50".into(), "--debounce".into(), "0s".into()],
        ..ServiceOptions::default()
    };
    let mut host = Service::start(&data, &opts);
    let token = host.token("acme", "owner");
    let ids = create(&host, &token, CUSTOMIZATIONS);
    let mut rng = Lcg::new(u64::from(database.is_some()) + 7);
    for kill in 0..KILLS {
        if kill % 4 == 3 {
            // A new base, announced: every customization is queued again.
            last = push_base(&registry, kill + 1);
            let r = deliver(&host, &envelope(&[push_event(&format!("kill-{kill}"), "acme/base", "1", &last)]));
            assert_eq!(r.status, 202, "{}", r.text());
            assert_eq!(r.json()["builds"].as_array().unwrap().len(), CUSTOMIZATIONS, "{}", r.text());
        }
        std::thread::sleep(Duration::from_millis(50 + rng.below(1500)));
        host.kill9();
        check_integrity(&data, database.as_deref());
        host = Service::start(&data, &opts);
    }
    let all = wait_all_idle(&host, &token, &ids, Duration::from_secs(600));
    for (id, builds) in ids.iter().zip(&all) {
        assert_numbered(id, builds);
        for b in builds {
            assert!(b["status"] == "succeeded" || b["status"] == "skipped", "{id}: a build did not complete: {b:#}");
        }
        // A build resumed after a push may build the new base itself; the build that push
        // queued then finds nothing new (skipped).
        let newest = builds.iter().find(|b| b["status"] == "succeeded").unwrap();
        assert_eq!(newest["inputs"]["source"]["digest"], last.as_str(), "{id}: built from the last base");
    }
    // The kills did land in the middle of builds: those were taken up again after a restart.
    let resumed = all.iter().flatten().filter(|b| b["attempts"].as_i64().unwrap() > 1).count();
    assert!(resumed > 0, "no kill landed during a build");
    eprintln!("{} builds in all; {resumed} interrupted by a kill and completed after a restart", all.concat().len());
    // Every tag holds a complete image; each customization's from the last base.
    let tags = crate::faults::check_every_tag(&registry);
    for i in 0..CUSTOMIZATIONS {
        assert!(tags.contains(&format!("acme/base:1_c{i}")), "{tags:?}");
        let r = crate::harness::http::request(
            &registry.host(),
            "GET",
            &format!("/v2/acme/base/manifests/1_c{i}"),
            &[("accept", "application/vnd.oci.image.index.v1+json")],
            b"",
        );
        assert_eq!(r.json()["annotations"]["org.opencontainers.image.base.digest"], last.as_str());
    }
    host.kill9();
    check_integrity(&data, database.as_deref());
    assert!(!host.log().contains("panicked"), "{}", host.log());
}

/// SQLite's `PRAGMA integrity_check` (and foreign keys) on the data directory's database, or
/// PostgreSQL's amcheck on every B-tree index and every table's heap.
fn check_integrity(data: &Path, database: Option<&str>) {
    match database {
        None => {
            let db = data.join("tailor.db");
            for pragma in ["PRAGMA integrity_check", "PRAGMA foreign_key_check"] {
                let out = run(Command::new("sqlite3").arg(&db).arg(pragma));
                let text = String::from_utf8_lossy(&out.stdout).trim().to_owned();
                let clean = if pragma.ends_with("integrity_check") { text == "ok" } else { text.is_empty() };
                assert!(clean, "{pragma}: {text}");
            }
        }
        Some(url) => {
            postgres::query(url, "CREATE EXTENSION IF NOT EXISTS amcheck");
            let indexes = postgres::query(
                url,
                "SELECT count(bt_index_parent_check(c.oid, true)) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid \
                 JOIN pg_am a ON a.oid = c.relam WHERE a.amname = 'btree' AND c.relnamespace = 'public'::regnamespace",
            );
            assert!(indexes.parse::<u32>().unwrap() > 0, "no index checked: {indexes}");
            let heap = postgres::query(
                url,
                "SELECT c.relname || ': ' || v.msg FROM pg_class c, LATERAL verify_heapam(c.oid) v \
                 WHERE c.relkind = 'r' AND c.relnamespace = 'public'::regnamespace",
            );
            assert!(heap.is_empty(), "verify_heapam: {heap}");
        }
    }
}
