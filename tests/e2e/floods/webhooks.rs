//! 10,000 webhook events over 100 customizations, from eight senders at once: per round one
//! real push of the base (a distinct change) announced by thousands of events — new ids for
//! the same digest (duplicates), the same deliveries again (replays, also of earlier rounds),
//! several events per envelope, pushes of unrelated tags — while the workers build. Each
//! round builds each customization exactly once, from the round's digest.

use std::time::Duration;

use serde_json::Value;

use super::{Lcg, SECRET, assert_numbered, create, deliver, envelope, push_base, push_event, wait_all_idle};
use crate::harness::service::{Service, ServiceOptions};
use crate::harness::{Registry, http};

const CUSTOMIZATIONS: usize = 100;
const ROUNDS: u32 = 3;
const EVENTS: usize = 10_000;
const SENDERS: usize = 8;

/// What the service answered to the deliveries of one round, summed.
#[derive(Default, Debug, PartialEq)]
struct Answers {
    events: u64,
    duplicates: u64,
    builds: u64,
}

#[test]
fn ten_thousand_events_with_duplicates_and_replays_build_each_change_once() {
    let work = tempfile::tempdir().unwrap();
    let registry = Registry::start();
    let mut digest = push_base(&registry, 0);
    let host = Service::start(
        &work.path().join("data"),
        &ServiceOptions {
            registry: Some(registry.url()),
            webhooks: vec![("reg".into(), SECRET.into())],
            workers: 2,
            ..ServiceOptions::default()
        },
    );
    let token = host.token("acme", "owner");
    let ids = create(&host, &token, CUSTOMIZATIONS);
    let first = wait_all_idle(&host, &token, &ids, Duration::from_secs(300));
    assert!(first.iter().all(|b| b.len() == 1 && b[0]["status"] == "succeeded"), "{first:#?}");

    let mut rng = Lcg::new(20_261_204);
    let mut delivered: Vec<(Vec<u8>, u64)> = Vec::new(); // bodies accepted so far, and their event count
    let mut total = 0usize;
    for round in 1..=ROUNDS {
        digest = push_base(&registry, round);
        // This round's deliveries: about a third of the events, shuffled.
        let quota = EVENTS / ROUNDS as usize + usize::from(round == ROUNDS) * (EVENTS % ROUNDS as usize);
        let (mut bodies, mut expected, mut n) = (Vec::new(), Answers::default(), 0usize);
        while n < quota {
            let kind = rng.below(10);
            if kind < 2 && !delivered.is_empty() {
                // A replay: an earlier delivery, byte for byte (all its events are duplicates).
                let (body, count) = delivered[rng.below(delivered.len() as u64) as usize].clone();
                expected.events += count;
                expected.duplicates += count;
                n += count as usize;
                bodies.push(body);
                continue;
            }
            // New ids: 1–5 events, mostly the base's new digest, some an unrelated tag.
            let count = 1 + rng.below(5) as usize;
            let events: Vec<Value> = (0..count)
                .map(|i| {
                    let id = format!("r{round}-{}-{i}", bodies.len());
                    if rng.below(8) == 0 {
                        push_event(&id, "acme/unrelated", &format!("t{}", rng.below(50)), &digest)
                    } else {
                        push_event(&id, "acme/base", "1", &digest)
                    }
                })
                .collect();
            expected.events += count as u64;
            n += count;
            bodies.push(envelope(&events));
        }
        let seen = bodies.len();
        let count = |body: &[u8]| serde_json::from_slice::<Value>(body).unwrap()["events"].as_array().unwrap().len();
        // Replays of this round's own deliveries, in the same flood (whichever copy comes
        // second is the duplicate).
        for i in 0..seen / 10 {
            let body = bodies[i * 7 % seen].clone();
            let c = count(&body) as u64;
            expected.events += c;
            expected.duplicates += c;
            n += c as usize;
            bodies.push(body);
        }
        // Every event was read, the replays were recognized, and the first event of the
        // round's digest queued one build for each customization: nothing else did.
        expected.builds = CUSTOMIZATIONS as u64;
        assert_eq!(send(&host, &bodies), expected, "round {round}");
        total += n;
        for body in &bodies[..seen] {
            delivered.push((body.clone(), count(body) as u64));
        }

        let all = wait_all_idle(&host, &token, &ids, Duration::from_secs(300));
        for (id, builds) in ids.iter().zip(&all) {
            assert_eq!(builds.len(), round as usize + 1, "{id}: one build per distinct change: {builds:#?}");
            assert_numbered(id, builds);
            assert_eq!(builds[0]["status"], "succeeded", "{id}: {:#}", builds[0]);
            assert_eq!(builds[0]["inputs"]["source"]["digest"], digest.as_str(), "{id}: built from the new base");
        }
    }
    assert!(total >= EVENTS, "{total} events sent");
    // The results are in the registry, each from the last base.
    for i in 0..CUSTOMIZATIONS {
        let r = http::request(
            &registry.host(),
            "GET",
            &format!("/v2/acme/base/manifests/1_c{i}"),
            &[("accept", "application/vnd.oci.image.index.v1+json")],
            b"",
        );
        assert_eq!(r.status, 200, "acme/base:1_c{i}");
        assert_eq!(r.json()["annotations"]["org.opencontainers.image.base.digest"], digest.as_str());
    }
    let log = host.log();
    assert!(!log.contains("panicked") && !log.contains(SECRET), "{log}");
}

/// Sends `bodies` from `SENDERS` threads at once; every delivery must be accepted (202).
fn send(host: &Service, bodies: &[Vec<u8>]) -> Answers {
    let chunks: Vec<&[Vec<u8>]> = bodies.chunks(bodies.len().div_ceil(SENDERS)).collect();
    std::thread::scope(|s| {
        let handles: Vec<_> = chunks
            .into_iter()
            .map(|chunk| {
                s.spawn(move || {
                    let mut a = Answers::default();
                    for body in chunk {
                        let r = deliver(host, body);
                        assert_eq!(r.status, 202, "{}", r.text());
                        let v = r.json();
                        a.events += v["events"].as_u64().unwrap();
                        a.duplicates += v["duplicates"].as_u64().unwrap();
                        a.builds += v["builds"].as_array().unwrap().len() as u64;
                    }
                    a
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).fold(Answers::default(), |t, a| Answers {
            events: t.events + a.events,
            duplicates: t.duplicates + a.duplicates,
            builds: t.builds + a.builds,
        })
    })
}
