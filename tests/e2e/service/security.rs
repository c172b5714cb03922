//! Security points of RELIABILITY.md that need the running service: failed authentication
//! is slowed per client address, and tokens and webhook secrets never reach the service's
//! log or its database in the clear.

use serde_json::json;

use crate::harness::service::{Service, ServiceOptions};

const WEBHOOK_SECRET: &str = "wh-5ecret-never-logged";

fn start(dir: &std::path::Path, extra: &[&str]) -> Service {
    let opts = ServiceOptions {
        workers: 0,
        webhooks: vec![("reg".into(), WEBHOOK_SECRET.into())],
        extra: extra.iter().map(|s| s.to_string()).collect(),
        ..ServiceOptions::default()
    };
    Service::start(&dir.join("data"), &opts)
}

#[test]
fn repeated_failed_authentication_is_answered_429_until_the_minute_ends() {
    let dir = tempfile::tempdir().unwrap();
    let host = start(dir.path(), &["--auth-failures", "3"]);
    let owner = host.token("acme", "owner");
    assert_eq!(host.get("/v1/token", &owner).status, 200);
    // Three guesses, of a token and of a webhook secret: each a 401.
    assert_eq!(host.get("/v1/token", "guess-1").status, 401);
    assert_eq!(host.get("/v1/token", "guess-2").status, 401);
    assert_eq!(host.request("POST", "/v1/hooks/reg/guess-3", None, &[], b"{}").status, 401);
    // Then this address is slowed: even the right token waits out the minute.
    for token in ["guess-4", owner.as_str()] {
        let r = host.get("/v1/token", token);
        assert_eq!((r.status, r.code().as_str()), (429, "too_many_failures"), "{}", r.text());
        let retry: u64 = r.header("retry-after").and_then(|v| v.parse().ok()).unwrap();
        assert!((1..=60).contains(&retry), "Retry-After {retry}");
    }
    // Health endpoints are not behind it.
    assert_eq!(host.request("GET", "/healthz", None, &[], b"").status, 200);
}

#[test]
fn tokens_and_webhook_secrets_never_reach_the_log_or_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let host = start(dir.path(), &[]);
    let owner = host.token("acme", "owner");
    let spec = json!({"name": "s", "source": "acme/debian:12", "tag_suffix": "c", "platforms": ["linux/amd64"]});
    assert_eq!(host.post_json("/v1/orgs/acme/customizations", &owner, &spec).status, 201);
    // Near misses of both, and a delivery with the right secret (its body is refused).
    let near = format!("{owner}x");
    assert_eq!(host.get("/v1/token", &near).status, 401);
    assert_eq!(host.request("POST", &format!("/v1/hooks/reg/{WEBHOOK_SECRET}x"), None, &[], b"{}").status, 401);
    let r = host.request("POST", &format!("/v1/hooks/reg/{WEBHOOK_SECRET}"), None, &[], b"{");
    assert_eq!(r.status, 400, "{}", r.text());
    let log = host.log();
    for secret in [owner.as_str(), WEBHOOK_SECRET] {
        assert!(!log.contains(secret), "the log holds a secret:\n{log}");
    }
    // The database and its write-ahead log, where recent writes are.
    let mut db = std::fs::read(host.data.join("tailor.db")).unwrap();
    db.extend(std::fs::read(host.data.join("tailor.db-wal")).unwrap_or_default());
    assert!(db.windows(4).any(|w| w == b"acme"), "the database was read");
    let holds = |s: &str| db.windows(s.len()).any(|w| w == s.as_bytes());
    assert!(!holds(&owner), "the database holds the token in the clear");
    assert!(!holds(WEBHOOK_SECRET), "the database holds the webhook secret");
}
