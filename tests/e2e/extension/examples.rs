//! The three example extensions, pushed and registered: a violating customization fails with
//! their findings and publishes nothing; a clean one is built and its signed provenance names
//! each extension by digest and verdict; a change that violates again leaves the tag alone.

use serde_json::{Value, json};

use super::{base, customize, finished, head, log, push_extension, push_tree, register, spec};
use crate::build::fixtures::{stderr, tailor};
use crate::harness::Registry;
use crate::harness::service::{Service, ServiceOptions};

const DPKG_STATUS: &str = "Package: base-files\nStatus: install ok installed\nArchitecture: amd64\nVersion: 12.4\n\n\
Package: telnet\nStatus: install ok installed\nArchitecture: amd64\nVersion: 0.17-44\n\n";

#[test]
fn example_extensions_deny_a_violating_build_and_pass_a_clean_one() {
    let work = tempfile::tempdir().unwrap();
    let registry = Registry::start();
    let host = Service::start(
        &work.path().join("data"),
        &ServiceOptions { registry: Some(registry.url()), ..ServiceOptions::default() },
    );
    let owner = host.token("acme", "owner");
    let member = host.token("acme", "member");

    // A base with a setuid file and telnet installed; and a clean one.
    let mut bad = base();
    bad.extend([("/usr/bin/tool", "#!/bin/sh\n", 0o4755), ("/var/lib/dpkg/status", DPKG_STATUS, 0o644)]);
    push_tree(&registry, "acme/vendor-bad:1", &bad);
    let mut clean = base();
    clean.push(("/usr/bin/tool", "#!/bin/sh\n", 0o755));
    push_tree(&registry, "acme/vendor-clean:1", &clean);

    let mut digests = Vec::new();
    for (name, krate, settings) in [
        ("no-setuid", "tailor_extension_no_setuid", json!({})),
        ("deny-packages", "tailor_extension_deny_packages", json!({"packages": ["telnet", "netcat-*"]})),
        ("required-labels", "tailor_extension_required_labels", json!({"labels": ["com.acme.team"]})),
    ] {
        let reference = format!("acme/policies/{name}:1");
        digests.push(push_extension(&registry, krate, &reference));
        register(
            &host,
            &owner,
            "acme",
            &json!({"name": name, "reference": reference, "settings": settings, "applies_to": ["acme/vendor-*"]}),
        );
    }
    // Members read them; the worker loads them and shows them ready, by digest.
    let listed = host.wait_for("the extensions to be loaded", std::time::Duration::from_secs(30), || {
        let r = host.get("/v1/orgs/acme/extensions", &member);
        let list = r.json()["extensions"].as_array().cloned().unwrap_or_default();
        list.iter().all(|x| x["status"] == "ready").then_some(list)
    });
    let mut shown: Vec<&str> = listed.iter().map(|x| x["digest"].as_str().unwrap()).collect();
    let mut pushed: Vec<&str> = digests.iter().map(String::as_str).collect();
    shown.sort();
    pushed.sort();
    assert_eq!(shown, pushed);

    // Violating: setuid file and telnet in the base. Denied; nothing published.
    let labels = json!({"labels": {"com.acme.team": "web"}});
    let id = customize(&host, &owner, "acme", &spec("web", "acme/vendor-bad:1", labels.clone()));
    let b = finished(&host, &owner, "acme", &id, 1);
    assert_eq!(b[0]["status"], "failed", "{b:#?}");
    let error = b[0]["error"].as_str().unwrap();
    assert!(error.contains("extension no-setuid denied the build") && error.contains("/usr/bin/tool"), "{error}");
    assert!(error.contains("extension deny-packages denied the build") && error.contains("telnet"), "{error}");
    let runs = b[0]["extensions"].as_array().unwrap();
    let run = |name: &str| runs.iter().find(|r| r["name"] == name).unwrap_or_else(|| panic!("{name} in {runs:#?}"));
    assert_eq!(run("no-setuid")["verdict"], "deny");
    assert_eq!(run("deny-packages")["verdict"], "deny");
    assert_eq!(run("required-labels")["verdict"], "pass", "the label is set");
    assert_eq!(run("no-setuid")["findings"][0]["path"], "/usr/bin/tool");
    assert_eq!(run("no-setuid")["findings"][0]["checkpoint"], "check-image");
    assert!(run("deny-packages")["fuel"].as_u64().unwrap() > 0);
    for r in runs {
        assert!(digests.contains(&r["digest"].as_str().unwrap().to_owned()), "{r}");
    }
    assert_eq!(head(&registry, "acme/vendor-bad:1_custom"), None, "nothing is pushed for a denied build");
    let text = log(&host, &owner, "acme", &id, b[0]["number"].as_i64().unwrap());
    assert!(text.contains("setuid") && text.contains("nothing is published"), "{text}");

    // Clean base: built; the signed provenance names every extension with its verdict.
    let r = host.request(
        "PATCH",
        &format!("/v1/orgs/acme/customizations/{id}"),
        Some(&owner),
        &[("content-type", "application/merge-patch+json")],
        json!({"source": "acme/vendor-clean:1"}).to_string().as_bytes(),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let b = finished(&host, &owner, "acme", &id, 2);
    assert_eq!(b[0]["status"], "succeeded", "{b:#?}");
    assert!(b[0]["extensions"].as_array().unwrap().iter().all(|r| r["verdict"] == "pass"), "{b:#?}");
    let built = head(&registry, "acme/vendor-clean:1_custom").expect("the clean build is published");
    let public = host.data.join("keys/tailor.pub");
    let o = tailor(
        &[
            "verify",
            "acme/vendor-clean:1_custom",
            "--key",
            public.to_str().unwrap(),
            "--registry",
            &registry.url(),
            "--type",
            "slsaprovenance1",
            "--output",
            "json",
        ],
        &[],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let verified: Value = serde_json::from_slice(&o.stdout).unwrap();
    let text = verified.to_string();
    for d in &digests {
        assert!(text.contains(d.as_str()), "provenance names {d}: {verified:#}");
    }
    assert!(text.contains("no-setuid") && text.contains("\"pass\""), "{verified:#}");

    // The label removed: required-labels denies; the published tag stays where it was.
    let r = host.request(
        "PATCH",
        &format!("/v1/orgs/acme/customizations/{id}"),
        Some(&owner),
        &[("content-type", "application/merge-patch+json")],
        json!({"labels": null}).to_string().as_bytes(),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let b = finished(&host, &owner, "acme", &id, 3);
    assert_eq!(b[0]["status"], "failed", "{b:#?}");
    assert!(b[0]["error"].as_str().unwrap().contains("com.acme.team"), "{b:#?}");
    assert_eq!(head(&registry, "acme/vendor-clean:1_custom").as_deref(), Some(built.as_str()));

    // Warn mode: the same finding is recorded, the build goes through.
    let xs = host.get("/v1/orgs/acme/extensions", &owner).json();
    let labels_id = xs["extensions"].as_array().unwrap().iter().find(|x| x["name"] == "required-labels").unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = host.request(
        "PATCH",
        &format!("/v1/orgs/acme/extensions/{labels_id}"),
        Some(&owner),
        &[("content-type", "application/merge-patch+json")],
        json!({"mode": "warn"}).to_string().as_bytes(),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let r = host.request("POST", &format!("/v1/orgs/acme/customizations/{id}/builds"), Some(&owner), &[], b"");
    assert!(r.status == 202 || r.status == 201, "{} {}", r.status, r.text());
    let b = finished(&host, &owner, "acme", &id, 4);
    assert_eq!(b[0]["status"], "succeeded", "{b:#?}");
    let labels_run = b[0]["extensions"].as_array().unwrap().iter().find(|r| r["name"] == "required-labels").unwrap();
    assert_eq!(labels_run["verdict"], "warn", "{labels_run}");
    assert_ne!(head(&registry, "acme/vendor-clean:1_custom").as_deref(), Some(built.as_str()));
}
