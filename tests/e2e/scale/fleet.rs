//! Two `tailor serve` and three `tailor worker` processes on one PostgreSQL (a private cluster,
//! so that the test can restart it) and the real Distribution registry, whose notifications go
//! to the first serve process:
//! - customizations created through alternating serve processes are each built once;
//! - a base push fans out to all of them, and each is built exactly once more (no duplicate
//!   build numbers, each build by one worker, every tag at its build's result);
//! - `kill -9` of the worker pushing a build: its lease expires, another worker completes the
//!   build, and the tag never pointed at a half-pushed image;
//! - PostgreSQL restarted during a fan-out: the processes reconnect and nothing is lost;
//! - a serve process killed: the other answers.

use std::collections::BTreeMap;
use std::io::Read;
use std::process::Command;
use std::time::Duration;

use serde_json::json;

use super::{builds, wait_all};
use crate::harness::postgres::{Cluster, query};
use crate::harness::service::{Service, ServiceOptions, push_files};
use crate::harness::{Registry, RegistryOptions, free_port, run};

const N: usize = 12;

fn base(version: &str) -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("/etc/passwd", b"root:x:0:0:root:/root:/bin/sh\n".to_vec()),
        ("/etc/group", b"root:x:0:\n".to_vec()),
        ("/etc/os-release", format!("ID=testos\nVERSION_ID={version}\n").into_bytes()),
    ]
}

fn push_base(registry: &Registry, version: &str) {
    let files = base(version);
    let files: Vec<(&str, &[u8])> = files.iter().map(|(p, c)| (*p, c.as_slice())).collect();
    push_files(&registry.url(), "acme/base:1", "linux/amd64", &files);
}

fn tag_digest(registry: &Registry, reference: &str) -> Option<String> {
    let out = Command::new("skopeo")
        .args(["inspect", "--raw", "--tls-verify=false", "--no-creds"])
        .arg(format!("docker://{}/{reference}", registry.host()))
        .output()
        .unwrap();
    out.status.success().then(|| format!("sha256:{}", hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&out.stdout))))
}

/// `(customization, build)` pairs each worker's log reports, by worker.
fn built_by(workers: &[Service]) -> Vec<Vec<(String, String)>> {
    workers
        .iter()
        .map(|w| {
            w.log()
                .lines()
                .filter_map(|l| l.strip_prefix("tailor worker: "))
                .filter_map(|l| {
                    let mut p = l.split(' ');
                    let (id, kind, number) = (p.next()?, p.next()?, p.next()?);
                    (kind == "build" && id.starts_with("cus_"))
                        .then(|| (id.to_owned(), number.trim_end_matches(':').to_owned()))
                })
                .collect()
        })
        .collect()
}

#[test]
fn two_serves_and_three_workers_share_one_postgres() {
    let work = tempfile::tempdir().unwrap();
    let pg = Cluster::start();
    let database = pg.database("tailor");
    let hook_port = free_port();
    let registry = Registry::start_with(RegistryOptions::notifying(hook_port));
    let keys = work.path().join("keys");
    run(Command::new(crate::build::fixtures::tailor_bin()).args(["key", "generate", "--out"]).arg(&keys));
    let key = keys.join("tailor.key").display().to_string();
    let options = |command: &'static str, port: Option<u16>| ServiceOptions {
        command,
        database: Some(database.clone()),
        registry: Some(registry.url()),
        webhooks: if command == "serve" { vec![("reg".into(), "reg-secret".into())] } else { Vec::new() },
        port,
        extra: vec!["--key".into(), key.clone(), "--lease".into(), "3s".into(), "--debounce".into(), "200ms".into()],
        ..ServiceOptions::default()
    };
    let mut serve_a = Service::start(&work.path().join("serve-a"), &options("serve", Some(hook_port)));
    // One replica on one thread (`--threads 1`, as replicas sharing cores run): the same answers.
    let mut single = options("serve", None);
    single.extra.extend(["--threads".into(), "1".into()]);
    let serve_b = Service::start(&work.path().join("serve-b"), &single);
    let mut workers: Vec<Service> =
        (0..3).map(|i| Service::start(&work.path().join(format!("worker-{i}")), &options("worker", None))).collect();
    for p in workers.iter().chain([&serve_a, &serve_b]) {
        let r = p.request("GET", "/readyz", None, &[], b"");
        assert_eq!((r.status, r.text()), (200, "ready\n".to_owned()), "{}", p.log());
    }
    let token = serve_a.token("acme", "owner");

    push_base(&registry, "1");
    serve_b.wait_for("the registry's notification (through serve A)", Duration::from_secs(30), || {
        let r = serve_b.get("/v1/orgs/acme/repositories", &token);
        (r.json()["repositories"].as_array().is_some_and(|a| !a.is_empty())).then_some(())
    });

    // Created through alternating serve processes: each built once, by some worker.
    let ids: Vec<String> = (0..N)
        .map(|i| {
            let via = if i % 2 == 0 { &serve_a } else { &serve_b };
            let spec = json!({
                "name": format!("c{i}"), "source": "acme/base:1", "tag_suffix": format!("s{i}"),
                "platforms": ["linux/amd64"], "environment": {"N": i.to_string()}
            });
            let r = via.post_json("/v1/orgs/acme/customizations", &token, &spec);
            assert_eq!(r.status, 201, "{}", r.text());
            r.json()["id"].as_str().unwrap().to_owned()
        })
        .collect();
    let first = wait_all(&serve_b, &token, &ids, 1, Duration::from_secs(180));
    for b in &first {
        assert_eq!(
            (b.len(), b[0]["number"].as_i64(), b[0]["status"].as_str()),
            (1, Some(1), Some("succeeded")),
            "{b:#?}"
        );
    }

    // A new base: every customization is built exactly once more.
    push_base(&registry, "2");
    let second = wait_all(&serve_a, &token, &ids, 2, Duration::from_secs(180));
    for (id, b) in ids.iter().zip(&second) {
        let numbers: Vec<i64> = b.iter().map(|b| b["number"].as_i64().unwrap()).collect();
        assert_eq!(numbers, vec![2, 1], "{id}: {b:#?}");
        assert_eq!(b[0]["status"], "succeeded", "{b:#?}");
        let i = ids.iter().position(|x| x == id).unwrap();
        let at = tag_digest(&registry, &format!("acme/base:1_s{i}"));
        assert_eq!(at.as_deref(), b[0]["outputs"]["index_digest"].as_str(), "{id}: the tag is at build 2's result");
    }
    let by = built_by(&workers);
    let mut all: Vec<(String, String)> = by.iter().flatten().cloned().collect();
    all.sort();
    let total = all.len();
    all.dedup();
    assert_eq!((total, all.len()), (2 * N, 2 * N), "each build run by exactly one worker once: {by:?}");
    let busy = by.iter().filter(|b| !b.is_empty()).count();
    eprintln!("builds per worker: {:?}", by.iter().map(Vec::len).collect::<Vec<_>>());
    assert!(busy >= 2, "the builds were shared among the workers: {by:?}");

    // kill -9 of the worker that is pushing a big build: another one completes it.
    let mut big = vec![0u8; 48 << 20];
    std::fs::File::open("/dev/urandom").unwrap().read_exact(&mut big).unwrap();
    push_files(&registry.url(), "acme/big:1", "linux/amd64", &[("/opt/big/blob", &big)]);
    let spec = json!({
        "name": "big", "source": "acme/base:1", "tag_suffix": "big", "platforms": ["linux/amd64"],
        "contents": {"artifacts": [{"reference": "acme/big:1", "includes": ["/opt/big"]}]}
    });
    let r = serve_b.post_json("/v1/orgs/acme/customizations", &token, &spec);
    assert_eq!(r.status, 201, "{}", r.text());
    let big_id = r.json()["id"].as_str().unwrap().to_owned();
    serve_b.wait_for("a worker to upload the big build", Duration::from_secs(120), || {
        (!registry.open_uploads("acme/base").is_empty()).then_some(())
    });
    let owner = query(&database, &format!("SELECT lease_owner FROM requests WHERE customization_id = '{big_id}'"));
    let pid: u32 =
        owner.split(':').nth(2).and_then(|p| p.parse().ok()).unwrap_or_else(|| panic!("lease owner {owner:?}"));
    let victim = workers.iter().position(|w| w.pid() == Some(pid)).expect("the lease is held by one of the workers");
    workers[victim].kill9();
    assert!(tag_digest(&registry, "acme/base:1_big").is_none(), "no tag before the image is complete");
    let done = serve_a.wait_for("another worker to complete the big build", Duration::from_secs(180), || {
        let b = builds(&serve_a, &token, &big_id);
        (b.len() == 1 && b[0]["status"] != "queued" && b[0]["status"] != "running").then_some(b)
    });
    assert_eq!((done[0]["status"].as_str(), done[0]["attempts"].as_i64()), (Some("succeeded"), Some(2)), "{done:#?}");
    let copy = work.path().join("copy");
    run(Command::new("skopeo")
        .args(["copy", "--src-tls-verify=false", "--src-no-creds"])
        .arg(format!("docker://{}/acme/base:1_big", registry.host()))
        .arg(format!("oci:{}:x", copy.display())));
    workers.remove(victim);

    // PostgreSQL restarts in the middle of a fan-out: nothing is lost.
    push_base(&registry, "3");
    serve_a.wait_for("the fan-out to start", Duration::from_secs(60), || {
        let n = query(&database, "SELECT COUNT(*) FROM builds WHERE number = 3 AND status <> 'queued'");
        (n.parse::<usize>().unwrap_or(0) >= 1).then_some(())
    });
    pg.restart();
    let third = serve_b.wait_for("the fan-out to finish after the restart", Duration::from_secs(240), || {
        let all: Vec<Vec<serde_json::Value>> = ids
            .iter()
            .map(|id| {
                let r = serve_b.get(&format!("/v1/orgs/acme/customizations/{id}/builds"), &token);
                if r.status != 200 {
                    return Vec::new(); // reconnecting
                }
                r.json()["builds"].as_array().cloned().unwrap_or_default()
            })
            .collect();
        all.iter()
            .all(|b| b.len() >= 3 && b.iter().all(|b| b["status"] != "queued" && b["status"] != "running"))
            .then_some(all)
    });
    let mut statuses = BTreeMap::new();
    for (id, b) in ids.iter().zip(&third) {
        let numbers: Vec<i64> = b.iter().map(|b| b["number"].as_i64().unwrap()).collect();
        assert_eq!(numbers, vec![3, 2, 1], "{id}: one build per change, none lost: {b:#?}");
        *statuses.entry(b[0]["status"].as_str().unwrap_or("?").to_owned()).or_insert(0) += 1;
    }
    assert_eq!(statuses, BTreeMap::from([("succeeded".to_owned(), N)]), "{third:#?}");
    // The big customization is built from the base too: its second build, also after the restart.
    let big = wait_all(&serve_b, &token, std::slice::from_ref(&big_id), 2, Duration::from_secs(240));
    assert_eq!((big[0].len(), big[0][0]["status"].as_str()), (2, Some("succeeded")), "{big:#?}");
    // Both serve processes answer after the restart (they reconnected).
    for s in [&serve_a, &serve_b] {
        s.wait_for("the serve process to reconnect", Duration::from_secs(30), || {
            (s.get("/v1/orgs/acme/customizations", &token).status == 200).then_some(())
        });
    }

    // One serve process dies: the other answers, with everything.
    serve_a.kill9();
    let r = serve_b.get("/v1/orgs/acme/customizations", &token);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["customizations"].as_array().map(Vec::len), Some(N + 1));
    let metrics = serve_b.request("GET", "/metrics", None, &[], b"").text();
    assert!(metrics.contains("tailor_queue_depth{state=\"queued\"} 0"), "{metrics}");
    // Three builds of each of the N, and two of the big one (it is built from the base too).
    assert!(metrics.contains(&format!("tailor_builds{{status=\"succeeded\"}} {}", 3 * N + 2)), "{metrics}");
    assert!(metrics.contains("tailor_database_connections{state=\"max\"} 64"), "{metrics}");
    assert!(metrics.contains("tailor_database_transactions{state=\"open\"} 0"), "{metrics}");
    assert!(metrics.contains("tailor_database_transactions{state=\"max\"} 1"), "{metrics}");
}
