//! Every way a client command can fail: each exits with its own status and says what is wrong
//! (the API's field paths for bad specs), as text on stderr and, with `-o json`, as the API's
//! error document on stdout.

use super::{Shell, base_files};
use crate::harness::Registry;
use crate::harness::free_port;
use crate::harness::service::{Service, ServiceOptions, push_files};

#[test]
fn failures_exit_with_their_own_status_and_name_the_fields() {
    let work = tempfile::tempdir().unwrap();
    let registry = Registry::start();
    push_files(&registry.url(), "acme/base:1", "linux/amd64", &base_files());
    let host = Service::start(
        &work.path().join("data"),
        &ServiceOptions { registry: Some(registry.url()), ..ServiceOptions::default() },
    );
    let server = format!("http://{}", host.addr);
    let owner = host.token("acme", "owner");
    let member = host.token("acme", "member");
    // No login file: the environment is enough.
    let sh = Shell::new(work.path()).with("TAILOR_SERVER", &server).with("TAILOR_TOKEN", &owner);
    let file = |name: &str, text: &str| {
        let p = work.path().join(name);
        std::fs::write(&p, text).unwrap();
        p.to_str().unwrap().to_owned()
    };

    // A spec the API refuses: exit 2, every problem at its field path.
    let bad = file("bad.yaml", "name: web\nsource: acme/base:1\ntag_suffix: 'BAD SUFFIX'\nplatforms: []\n");
    let r = sh.run(&["customization", "create", "-f", &bad]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.starts_with("error: "), "{}", r.stderr);
    assert!(r.stderr.contains("\n  tag_suffix: ") && r.stderr.contains("\n  platforms: "), "{}", r.stderr);
    assert!(r.stdout.is_empty(), "nothing on stdout for people: {}", r.stdout);
    let j = sh.run(&["customization", "create", "-f", &bad, "-o", "json"]);
    assert_eq!(j.code, 2);
    let err = &j.json()["error"];
    assert_eq!((err["code"].as_str(), err["status"].as_u64()), (Some("invalid_spec"), Some(422)), "{err:#}");
    let fields: Vec<&str> = err["details"].as_array().unwrap().iter().map(|d| d["field"].as_str().unwrap()).collect();
    assert!(fields.contains(&"tag_suffix") && fields.contains(&"platforms"), "{fields:?}");
    // Not YAML, an unknown field, an empty file, no file: exit 2, naming what.
    let r = sh.run(&["customization", "create", "-f", &file("broken.yaml", "name: [\n")]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    let r = sh.run(&[
        "customization",
        "create",
        "-f",
        &file("extra.yaml", "name: a\nsource: acme/base:1\ntag_suffix: x\nplatforms: [linux/amd64]\ncolour: red\n"),
    ]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("colour"), "{}", r.stderr);
    let r = sh.run(&["customization", "create", "-f", &file("empty.yaml", "\n")]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("empty"), "{}", r.stderr);
    let r = sh.run(&["customization", "create", "-f", "/nonexistent/spec.yaml"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("-f /nonexistent/spec.yaml"), "{}", r.stderr);
    let r = sh.run(&["customization", "edit", "x", "--patch", "{not json"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("--patch: not JSON"), "{}", r.stderr);
    // The spec read from stdin.
    let good = "name: web\nsource: acme/base:1\ntag_suffix: c\nplatforms: [linux/amd64]\n";
    let created = sh.run_with_stdin(&["customization", "create", "-f", "-", "-o", "json"], Some(good)).ok().json();
    let id = created["id"].as_str().unwrap().to_owned();

    // Someone changed it meanwhile: exit 6.
    sh.run(&["customization", "edit", &id, "--patch", r#"{"labels": {"a": "1"}}"#, "--revision", "1"]).ok();
    let r = sh.run(&["customization", "edit", &id, "--patch", r#"{"labels": {"a": "2"}}"#, "--revision", "1"]);
    assert_eq!(r.code, 6, "{}", r.stderr);

    // Not found: exit 4, for ids and names.
    for args in [
        vec!["customization", "get", "nope"],
        vec!["customization", "get", "cus_0000000000"],
        vec!["builds", "get", &id, "99"],
        vec!["builds", "list", "nothing-by-that-name"],
        vec!["repository", "tags", "acme/never"],
    ] {
        let r = sh.run(&args);
        assert_eq!(r.code, 4, "{args:?}: {}", r.stderr);
    }

    // Roles and tokens: exit 3.
    let as_member = Shell::new(work.path()).with("TAILOR_SERVER", &server).with("TAILOR_TOKEN", &member);
    let r = as_member.run(&["customization", "delete", &id, "--yes"]);
    assert_eq!(r.code, 3, "{}", r.stderr);
    let wrong = Shell::new(work.path()).with("TAILOR_SERVER", &server).with("TAILOR_TOKEN", "tlr_wrong");
    assert_eq!(wrong.run(&["customization", "list"]).code, 3);
    let r = Shell::new(work.path()).run(&["login", "--server", &server, "--token", "tlr_wrong"]);
    assert_eq!(r.code, 3, "a wrong token is not saved: {}", r.stderr);
    assert!(!work.path().join("home/.config/tailor/login.toml").exists());

    // A saved token goes to its own server only.
    let person = Shell::new(&work.path().join("p"));
    person.run_with_stdin(&["login", "--server", &server, "--token", "-"], Some(&format!("{owner}\n"))).ok();
    let elsewhere = person.run(&["customization", "list", "--server", "http://127.0.0.1:9"]);
    assert_eq!(elsewhere.code, 3, "{}", elsewhere.stderr);
    assert!(elsewhere.stderr.contains("no token for http://127.0.0.1:9"), "{}", elsewhere.stderr);

    // No service there, or not a URL: exit 5 and 2.
    let port = free_port();
    let down =
        Shell::new(work.path()).with("TAILOR_SERVER", &format!("http://127.0.0.1:{port}")).with("TAILOR_TOKEN", &owner);
    let r = down.run(&["customization", "list", "-o", "json"]);
    assert_eq!(r.code, 5, "{}", r.stderr);
    assert_eq!(r.json()["error"]["code"], "unreachable");
    assert!(r.stderr.contains("is `tailor up` running there?"), "{}", r.stderr);
    let r = Shell::new(work.path()).with("TAILOR_TOKEN", &owner).run(&[
        "customization",
        "list",
        "--server",
        "127.0.0.1:8080",
    ]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("http:// or https://"), "{}", r.stderr);

    // A build waited for that fails: exit 1, with the build's error.
    let failing = "name: broken\nsource: acme/base:1\ntag_suffix: b\nplatforms: [linux/amd64]\n\
                   contents:\n  artifacts:\n    - {reference: 'acme/missing:1', includes: [/opt]}\n";
    let r = sh.run_with_stdin(&["customization", "create", "-f", "-", "--wait"], Some(failing));
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("build 1 failed") && r.stderr.contains("acme/missing:1"), "{}", r.stderr);
}
