//! Hostile extensions, each registered for its own repository of org acme: every one fails
//! only its own build, with the right classification and within its limits; `tailor up`
//! keeps serving and another org's build at the same time succeeds. A component importing a
//! filesystem and sockets is refused before it runs. Org B never sees nor runs org A's
//! extensions, nor registers one of A's components.

use std::time::{Duration, Instant};

use serde_json::json;

use super::{Entry, base, customize, finished, head, log, push_extension, push_tree, register, spec};
use crate::harness::Registry;
use crate::harness::service::{Service, ServiceOptions};

/// (what the hostile extension does, the class its build must fail with).
const CASES: &[(&str, &[&str])] = &[
    ("loop", &["timeout", "out_of_fuel"]),
    ("loop-validate", &["timeout", "out_of_fuel"]),
    ("grow", &["memory_limit"]),
    ("recurse", &["trap"]),
    ("findings", &["invalid_output"]),
    ("trap", &["trap"]),
    ("log", &["invalid_output"]),
];

#[test]
fn hostile_extensions_fail_only_their_own_builds() {
    let work = tempfile::tempdir().unwrap();
    let registry = Registry::start();
    let host = Service::start(
        &work.path().join("data"),
        &ServiceOptions {
            registry: Some(registry.url()),
            workers: 2,
            // Fuel high enough that only the deadline stops a loop: the deadline is tested.
            extra: ["--extension-deadline", "1s", "--extension-fuel", "100000000000", "--extension-memory", "32"]
                .map(String::from)
                .to_vec(),
            ..ServiceOptions::default()
        },
    );
    let acme = host.token("acme", "owner");
    let globex = host.token("globex", "owner");

    let mut files: Vec<Entry> = base();
    files.extend([("/escape-link", "->../../../../etc/passwd", 0), ("/escape-dir", "->../../../../etc", 0)]);
    let hostile = push_extension(&registry, "tailor_test_hostile_extension", "acme/policies/hostile:1");
    push_extension(&registry, "tailor_test_hostile_extension", "globex/policies/hostile:1");
    // The component importing a filesystem and sockets, pushed around tailor's own check.
    raw_push(&registry, "tailor_test_sneaky_extension", "acme/policies/sneaky:1");
    let cases: Vec<(&str, &[&str])> =
        CASES.iter().copied().chain([("escape", &["pass"][..]), ("sneaky", &["invalid"][..])]).collect();
    let mut ids = Vec::new();
    for (what, _) in &cases {
        let repo = format!("acme/h-{what}");
        push_tree(&registry, &format!("{repo}:1"), &files);
        let reference = if *what == "sneaky" { "acme/policies/sneaky:1" } else { "acme/policies/hostile:1" };
        register(
            &host,
            &acme,
            "acme",
            &json!({"name": format!("hostile-{what}"), "reference": reference,
                    "settings": {"do": what}, "applies_to": [repo]}),
        );
    }
    // Org globex: its own (well-behaved) use of the same component, and a plain build.
    push_tree(&registry, "globex/base:1", &files);
    register(
        &host,
        &globex,
        "globex",
        &json!({"name": "fine", "reference": "globex/policies/hostile:1", "settings": {"do": "fine"}, "mode": "warn"}),
    );
    let started = Instant::now();
    for (what, _) in &cases {
        ids.push(customize(&host, &acme, "acme", &spec(what, &format!("acme/h-{what}:1"), json!({}))));
    }
    let globex_id = customize(&host, &globex, "globex", &spec("plain", "globex/base:1", json!({})));

    // The host keeps serving while they run.
    for _ in 0..5 {
        let r = host.get("/v1/orgs/acme/extensions", &acme);
        assert_eq!(r.status, 200, "{}", r.text());
        std::thread::sleep(Duration::from_millis(200));
    }

    for ((what, classes), id) in cases.iter().zip(&ids) {
        let b = finished(&host, &acme, "acme", id, 1);
        let run = &b[0]["extensions"][0];
        let tag = format!("acme/h-{what}:1_custom");
        if *what == "escape" {
            // Reads through `..` are refused; symlinks resolve inside the image.
            assert_eq!(b[0]["status"], "succeeded", "{what}: {b:#?}");
            let findings = run["findings"].as_array().unwrap();
            let all = serde_json::to_string(findings).unwrap();
            assert!(!all.contains("daemon:x:") && !all.contains("nobody:"), "the host's /etc/passwd leaked: {all}");
            for f in findings {
                let m = f["message"].as_str().unwrap();
                if m.starts_with("read ") && m.contains("..") {
                    assert!(m.contains("refused"), "{m}");
                }
            }
            assert!(all.contains("read /escape-link: 36 bytes: root:x:0:0:image-root"), "{all}");
            assert!(head(&registry, &tag).is_some());
            continue;
        }
        assert_eq!(b[0]["status"], "failed", "{what}: {b:#?}");
        let error = run["error"].as_str().unwrap_or_else(|| panic!("{what}: no error in {run}"));
        assert!(
            classes.iter().any(|c| error.starts_with(c) || error.contains(&format!(": {c}:"))),
            "{what}: {error} is not {classes:?}"
        );
        assert_eq!(run["verdict"], "error");
        let build_error = b[0]["error"].as_str().unwrap();
        assert!(build_error.contains(&format!("extension hostile-{what} failed")), "{build_error}");
        assert!(log(&host, &acme, "acme", id, 1).contains(&format!("extension hostile-{what}")), "{what}");
        assert_eq!(head(&registry, &tag), None, "{what}: nothing published");
    }
    // The extensions that loop in validate-settings or import what they may not are shown
    // invalid, with the reason.
    let xs = host.get("/v1/orgs/acme/extensions", &acme).json();
    let shown = |name: &str| xs["extensions"].as_array().unwrap().iter().find(|x| x["name"] == name).unwrap().clone();
    let lv = shown("hostile-loop-validate");
    assert_eq!(lv["status"], "invalid", "{lv}");
    assert!(lv["reason"].as_str().unwrap().contains("validate-settings failed: timeout"), "{lv}");
    let sneaky = shown("hostile-sneaky");
    assert_eq!(sneaky["status"], "invalid", "{sneaky}");
    let reason = sneaky["reason"].as_str().unwrap();
    assert!(reason.contains("wasi:filesystem/") && reason.contains("wasi:sockets/"), "{reason}");
    // Every limit held: a loop stopped by its 1 s deadline, not by anything slower.
    let elapsed = started.elapsed();
    assert!(elapsed < Duration::from_secs(90), "{elapsed:?}");

    // The other org's build ran at the same time and succeeded, with only its own extension.
    let g = finished(&host, &globex, "globex", &globex_id, 1);
    assert_eq!(g[0]["status"], "succeeded", "{g:#?}");
    let names: Vec<&str> = g[0]["extensions"].as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["fine"]);
    assert!(head(&registry, "globex/base:1_custom").is_some());

    // Isolation: globex cannot see, change or use acme's extensions or components.
    let some_acme = xs["extensions"][0]["id"].as_str().unwrap();
    assert_eq!(
        host.get(&format!("/v1/orgs/acme/extensions/{some_acme}"), &globex).status,
        404,
        "not even its existence"
    );
    assert_eq!(host.get(&format!("/v1/orgs/globex/extensions/{some_acme}"), &globex).status, 404);
    let listed = host.get("/v1/orgs/globex/extensions", &globex).json();
    assert_eq!(listed["extensions"].as_array().unwrap().len(), 1);
    let r = host.post_json(
        "/v1/orgs/globex/extensions",
        &globex,
        &json!({"name": "stolen", "reference": format!("acme/policies/hostile@{hostile}")}),
    );
    assert_eq!(r.status, 422, "{}", r.text());
    assert!(r.text().contains("reference"), "{}", r.text());

    // Refused before it runs: a component importing a filesystem and sockets.
    push_extension_refused(&registry);
}

/// Pushes a component as a CNCF wasm artifact without `tailor extension push`'s checks.
fn raw_push(registry: &Registry, crate_snake: &str, reference: &str) {
    use tailor_oci::{BlobSource, Client, Digest, Quiet, RegistryConfig, Scope, media};
    crate::harness::service::build_components();
    let bytes = std::fs::read(crate::harness::service::wasm(crate_snake)).unwrap();
    let (repo, tag) = reference.split_once(':').unwrap();
    let client = Client::registry(RegistryConfig::new(registry.url()), Scope::new([repo], [repo])).unwrap();
    let put = |b: &[u8]| {
        let d = Digest::of(b);
        client.put_blob(repo, &d, b.len() as u64, &BlobSource::Bytes(b.to_vec().into()), &Quiet).unwrap();
        d
    };
    let config = br#"{"architecture":"wasm","os":"wasip2"}"#;
    let (c, l) = (put(config), put(&bytes));
    let manifest = json!({
        "schemaVersion": 2, "mediaType": media::OCI_MANIFEST,
        "config": {"mediaType": "application/vnd.wasm.config.v0+json", "digest": c.as_str(), "size": config.len()},
        "layers": [{"mediaType": "application/wasm", "digest": l.as_str(), "size": bytes.len()}],
    });
    client.put_manifest(repo, tag, media::OCI_MANIFEST, &serde_json::to_vec(&manifest).unwrap()).unwrap();
}

/// `tailor extension push` checks what the worker would refuse, before pushing anything.
fn push_extension_refused(registry: &Registry) {
    crate::harness::service::build_components();
    let file = crate::harness::service::wasm("tailor_test_sneaky_extension");
    let o = crate::build::fixtures::tailor(
        &[
            "extension",
            "push",
            file.to_str().unwrap(),
            "--tag",
            "acme/policies/sneaky:cli",
            "--registry",
            &registry.url(),
        ],
        &[],
    );
    assert_eq!(o.status.code(), Some(2), "{}", crate::build::fixtures::stderr(&o));
    let e = crate::build::fixtures::stderr(&o);
    assert!(e.contains("wasi:filesystem/") && e.contains("extensions get no filesystem"), "{e}");
    assert!(e.contains("wasi:sockets/") && e.contains("extensions get no network"), "{e}");
    assert_eq!(head(registry, "acme/policies/sneaky:cli"), None);
}
