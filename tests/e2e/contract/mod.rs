//! The API contract (RELIABILITY.md "API contract"): schemathesis (PyPI), with every check and
//! its stateful phase, against `tailor up` serving the real components, with the fixed seed
//! and bounded examples of tests/contract/schemathesis.toml. It finds nothing: every request
//! the OpenAPI document allows is served or refused only for a documented rule, and every
//! request it forbids is refused.

use std::process::Command;

use crate::harness::service::{Service, ServiceOptions, root};

/// The schemathesis executable the test command installs (tests/run.sh).
fn schemathesis() -> String {
    std::env::var("TAILOR_TEST_SCHEMATHESIS").unwrap_or_else(|_| {
        panic!(
            "TAILOR_TEST_SCHEMATHESIS is not set: run tests/run.sh, or install schemathesis 4.32.5 \
             (pip install schemathesis==4.32.5) and set it to its executable"
        )
    })
}

#[test]
fn schemathesis_finds_nothing_against_the_api() {
    let exe = schemathesis();
    let dir = tempfile::tempdir().unwrap();
    // No throttle of failed authentication: the checks send requests without credentials.
    let opts = ServiceOptions {
        workers: 0,
        webhooks: vec![("reg".into(), "s3cret".into())],
        extra: vec!["--auth-failures".into(), "0".into()],
        ..ServiceOptions::default()
    };
    let host = Service::start(&dir.path().join("data"), &opts);
    let token = host.token("acme", "owner");
    let out = Command::new(&exe)
        .arg("--config-file")
        .arg(root().join("tests/contract/schemathesis.toml"))
        .args(["run", &format!("http://{}/v1/openapi.json", host.addr), "--checks", "all", "--workers", "1"])
        .args(["--no-color"])
        .env("TAILOR_TOKEN", &token)
        .env("NO_COLOR", "1")
        .current_dir(dir.path())
        .output()
        .unwrap_or_else(|e| panic!("running {exe}: {e}"));
    let text = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    let summary = text.lines().find(|l| l.contains(" generated, ")).unwrap_or_default().to_owned();
    assert!(out.status.success(), "schemathesis found problems ({summary}):\n{text}");
    // It really ran: thousands of cases over every operation, all passed.
    let numbers: Vec<u64> = summary.split(|c: char| !c.is_ascii_digit()).filter_map(|n| n.parse().ok()).collect();
    assert!(
        numbers.len() >= 2 && numbers[0] >= 3000 && numbers[0] == numbers[1],
        "unexpected summary {summary:?}:\n{text}"
    );
    let total = text
        .lines()
        .find_map(|l| {
            l.trim().strip_prefix("Operations:")?.split(" total").next()?.rsplit(' ').next()?.parse::<u32>().ok()
        })
        .unwrap_or_else(|| panic!("no operation count:\n{text}"));
    assert!(
        total >= 40 && text.contains(&format!("Tested: {total}")),
        "not all {total} operations were tested:\n{text}"
    );
}
