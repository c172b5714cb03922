//! A person's (and a CI job's) day with the client: everything works and prints what the API holds.

use serde_json::json;

use super::{Shell, base_files};
use crate::harness::service::{Service, ServiceOptions, push_files};
use crate::harness::{Registry, helm};

#[test]
fn the_client_does_what_the_api_does_and_prints_it_for_people_and_machines() {
    let work = tempfile::tempdir().unwrap();
    let registry = Registry::start();
    push_files(&registry.url(), "acme/base:1", "linux/amd64,linux/arm64", &base_files());
    push_files(&registry.url(), "acme/tools:1", "linux/amd64,linux/arm64", &[("/opt/tools/run", b"#!/bin/sh\n")]);
    let host = Service::start(
        &work.path().join("data"),
        &ServiceOptions { registry: Some(registry.url()), ..ServiceOptions::default() },
    );
    let server = format!("http://{}", host.addr);
    let sh = Shell::new(work.path());

    // Sign in: the token is checked, saved privately, and used by later commands.
    let token = host.token("acme", "owner");
    let login = sh.run(&["login", "--server", &format!("{server}/"), "--token", &token, "-o", "json"]).ok();
    assert_eq!((login.json()["org"].as_str(), login.json()["role"].as_str()), (Some("acme"), Some("owner")));
    let saved = std::fs::read_to_string(&sh.config).unwrap();
    assert!(saved.contains(&server) && saved.contains(&token), "{saved}");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&sh.config).unwrap().permissions().mode() & 0o777, 0o600);
    let who = sh.run(&["whoami", "-o", "yaml"]).ok().yaml();
    assert_eq!((who["org"].as_str(), who["server"].as_str()), (Some("acme"), Some(server.as_str())));
    assert!(!sh.run(&["whoami"]).ok().stdout.contains(&token), "the token is never printed");

    // Create from a YAML file and wait for the build.
    let spec = work.path().join("web.yaml");
    std::fs::write(
        &spec,
        "name: web\nsource: acme/base:1\ntag_suffix: c1\nplatforms: [linux/amd64, linux/arm64]\n\
         contents:\n  artifacts:\n    - {reference: 'acme/tools:1', includes: [/opt/tools]}\n\
         environment: {TZ: UTC}\n",
    )
    .unwrap();
    let created = sh.run(&["customization", "create", "-f", spec.to_str().unwrap(), "--wait", "-o", "json"]).ok();
    let c = created.json();
    let id = c["id"].as_str().unwrap().to_owned();
    assert_eq!(c["build"]["status"], "succeeded", "{c:#}");
    assert_eq!(c["build"]["outputs"]["tag"], "acme/base:1_c1");
    assert!(created.stderr.contains(&format!("{id} build 1: succeeded")), "progress: {}", created.stderr);

    // What the API holds, through each format.
    let api = host.get(&format!("/v1/orgs/acme/customizations/{id}"), &token).json();
    let got = sh.run(&["customization", "get", "web", "-o", "json"]).ok().json();
    assert_eq!(got, api);
    assert_eq!(sh.run(&["customization", "get", &id, "-o", "yaml"]).ok().yaml(), api);
    let table = sh.run(&["customization", "list"]).ok().stdout;
    let lines: Vec<&str> = table.lines().collect();
    assert!(lines[0].starts_with("ID") && lines[0].contains("NAME") && lines[0].contains("RESULT"), "{table}");
    assert!(lines[1].starts_with(&id) && lines[1].contains("web") && lines[1].contains("acme/base:1_c1"), "{table}");
    let filtered = sh.run(&["customization", "list", "--repository", "acme/other", "-o", "json"]).ok().json();
    assert_eq!(filtered["customizations"], json!([]));

    // Edit: get the spec, change it, replace at the revision read; revision 2 builds.
    let mut edited = sh.run(&["customization", "get", "web", "--spec"]).ok().stdout;
    assert!(edited.contains("tag_suffix: c1"), "{edited}");
    edited = edited.replace("TZ: UTC", "TZ: Europe/Paris");
    let edited_file = work.path().join("web2.yaml");
    std::fs::write(&edited_file, &edited).unwrap();
    let e = sh
        .run(&[
            "customization",
            "edit",
            "web",
            "-f",
            edited_file.to_str().unwrap(),
            "--revision",
            "1",
            "-w",
            "-q",
            "-o",
            "json",
        ])
        .ok();
    assert_eq!((e.json()["revision"].as_u64(), e.json()["build"]["status"].as_str()), (Some(2), Some("succeeded")));
    assert!(e.stderr.is_empty(), "--quiet: {}", e.stderr);
    assert_eq!(
        host.get(&format!("/v1/orgs/acme/customizations/{id}"), &token).json()["spec"]["environment"]["TZ"],
        "Europe/Paris"
    );
    let patched =
        sh.run(&["customization", "edit", &id, "--patch", r#"{"labels": {"team": "web"}}"#, "-o", "json"]).ok();
    assert_eq!(
        (patched.json()["revision"].as_u64(), patched.json()["spec"]["labels"]["team"].as_str()),
        (Some(3), Some("web"))
    );

    // Builds: list, get, logs, rebuild (skipped: nothing changed), follow a log to the end.
    let done = crate::service::wait_idle(&host, &token, &id);
    let builds = sh.run(&["builds", "list", "web", "-o", "json"]).ok().json();
    assert_eq!(builds["builds"], json!(done), "the builds the API lists");
    let table = sh.run(&["builds", "list", &id]).ok().stdout;
    assert!(table.lines().next().unwrap().starts_with("NUMBER  STATUS"), "{table}");
    assert!(table.lines().any(|l| l.starts_with("1 ") && l.contains("succeeded") && l.contains("1_c1")), "{table}");
    let one = sh.run(&["builds", "get", "web", "1", "-o", "json"]).ok().json();
    assert_eq!(one["number"], 1);
    let log = sh.run(&["builds", "logs", "web", "1"]).ok().stdout;
    let api_log = host.get(&format!("/v1/orgs/acme/customizations/{id}/builds/1/log"), &token).text();
    assert_eq!(log, api_log);
    assert!(!log.is_empty());
    let rebuilt = sh.run(&["builds", "rebuild", "web", "--wait", "-o", "json"]).ok().json();
    assert_eq!(rebuilt["status"], "skipped", "{rebuilt:#}");
    let queued = sh.run(&["builds", "rebuild", &id, "-o", "json"]).ok().json();
    let n = queued["number"].as_u64().unwrap().to_string();
    let followed = sh.run(&["builds", "logs", &id, &n, "--follow"]).ok();
    assert_eq!(followed.stdout, host.get(&format!("/v1/orgs/acme/customizations/{id}/builds/{n}/log"), &token).text());

    // Copy with another name and suffix, then delete it (--yes: no terminal to ask at).
    let copy = sh
        .run(&["customization", "copy", "web", "--name", "web-fips", "--tag-suffix", "fips", "-o", "json"])
        .ok()
        .json();
    let copy_id = copy["id"].as_str().unwrap().to_owned();
    assert_eq!(
        (copy["spec"]["tag_suffix"].as_str(), copy["spec"]["environment"]["TZ"].as_str()),
        (Some("fips"), Some("Europe/Paris"))
    );
    let refused = sh.run(&["customization", "delete", "web-fips"]);
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    assert!(refused.stderr.contains("needs --yes"), "{}", refused.stderr);
    let deleted = sh.run(&["customization", "delete", "web-fips", "--yes", "-o", "json"]).ok().json();
    assert_eq!(deleted["deleted"], copy_id.as_str());
    assert_eq!(host.get(&format!("/v1/orgs/acme/customizations/{copy_id}"), &token).status, 404);

    // The catalog: repositories, tags with platforms, an image's files, waited for.
    let repos = sh.run(&["repository", "list", "-o", "json"]).ok().json();
    let names: Vec<&str> =
        repos["repositories"].as_array().unwrap().iter().map(|r| r["repository"].as_str().unwrap()).collect();
    assert!(names.contains(&"acme/base") && names.contains(&"acme/tools"), "{names:?}");
    let tags = sh.run(&["repository", "tags", "base"]).ok().stdout;
    assert!(tags.lines().any(|l| l.starts_with("1 ") && l.contains("linux/amd64,linux/arm64")), "{tags}");
    let files = sh
        .run(&[
            "repository",
            "files",
            "acme/tools:1",
            "--path",
            "/opt/tools",
            "--platform",
            "linux/arm64",
            "-o",
            "json",
        ])
        .ok();
    assert_eq!(files.json()["entries"][0]["path"], "/opt/tools/run", "{}", files.stdout);
    let files_table = sh.run(&["repository", "files", "tools:1", "--path", "/opt"]).ok().stdout;
    assert!(files_table.contains("directory") && files_table.contains("/opt/tools"), "{files_table}");

    // Chart customizations and their builds, through the same client.
    let archive = crate::chart::package(work.path(), "1.4.2");
    helm::push(&archive, &format!("oci://{}/acme", registry.host()));
    crate::chart::push_targets(&registry, "client");
    let chart_spec = work.path().join("chart.yaml");
    std::fs::write(&chart_spec, crate::chart::spec("custom")).unwrap();
    let chart = sh.run(&["chart", "create", "-f", chart_spec.to_str().unwrap(), "--wait", "-o", "json"]).ok().json();
    let chart_id = chart["id"].as_str().unwrap().to_owned();
    assert_eq!(chart["build"]["status"], "succeeded", "{chart:#}\n{}", host.log());
    let charts = sh.run(&["chart", "list"]).ok().stdout;
    assert!(charts.contains(&chart_id), "{charts}");
    let chart_builds = sh.run(&["builds", "list", &chart_id, "-o", "json"]).ok().json();
    assert_eq!(chart_builds["builds"][0]["status"], "succeeded");
    let refs = sh.run(&["chart", "references", "acme/web:1.4.2", "-o", "json"]).ok().json();
    assert!(refs["references"].as_array().is_some_and(|r| !r.is_empty()), "{refs:#}");
    let name = chart["name"].as_str().unwrap().to_owned();
    sh.run(&["chart", "delete", &name, "--yes"]).ok();
    assert_eq!(host.get(&format!("/v1/orgs/acme/chart-customizations/{chart_id}"), &token).status, 404);

    // Mirrors: upstreams (none declared here) — creating one names the field.
    let up = sh.run(&["mirror", "upstreams", "-o", "json"]).ok().json();
    assert_eq!(up["upstreams"], json!([]));
    let m = sh.run(&["mirror", "create", "--source", "dhi.io/python", "-o", "json"]);
    assert_eq!(m.code, 2, "{}\n{}", m.stdout, m.stderr);
    assert_eq!(m.json()["error"]["details"][0]["field"], "source", "{}", m.stdout);
    assert!(m.stderr.contains("\n  source: "), "field paths on stderr: {}", m.stderr);
    assert_eq!(sh.run(&["mirror", "list", "-o", "json"]).ok().json()["mirrors"], json!([]));

    // Signed out: the next command says how to sign in.
    assert!(sh.run(&["logout"]).ok().stdout.contains("Signed out"));
    let out = sh.run(&["customization", "list"]);
    assert_eq!(out.code, 3, "{}", out.stderr);
    assert!(out.stderr.contains("tailor login"), "{}", out.stderr);
}
