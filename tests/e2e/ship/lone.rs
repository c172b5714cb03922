//! The `tailor` binary copied alone into an empty directory: `tailor up` serves the API and
//! the web UI from the components it carries, and the README's walkthrough builds there.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::build::fixtures::tailor_bin;
use crate::harness::service::root;
use crate::harness::{free_port, http};

fn run_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(dir.join("tailor"))
        .current_dir(dir)
        .args(args)
        .env("HOME", dir.join("home"))
        .env_remove("TAILOR_SERVER")
        .env_remove("TAILOR_TOKEN")
        .env_remove("TAILOR_DATA")
        .output()
        .unwrap()
}

fn ok(o: Output) -> String {
    assert!(o.status.success(), "{}\n{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout).unwrap()
}

#[test]
fn the_binary_alone_serves_the_api_and_the_ui_and_builds() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir(d.join("home")).unwrap();
    std::fs::copy(tailor_bin(), d.join("tailor")).unwrap();
    let version = ok(run_in(d, &["--version"]));
    assert!(version.starts_with("tailor 0.") && version.contains("(commit "), "{version}");

    // The README's walkthrough, with the example inputs from the checkout.
    let examples = root().join("examples");
    for (dir, tag) in [("base", "acme/base:1"), ("rootca", "acme/rootca:1")] {
        let src = examples.join(dir);
        ok(run_in(
            d,
            &[
                "artifact",
                "push",
                src.to_str().unwrap(),
                "--tag",
                tag,
                "--platform",
                "linux/amd64,linux/arm64",
                "--layout",
                ".tailor/layout",
            ],
        ));
    }
    let token = ok(run_in(d, &["token", "create", "--org", "acme", "--role", "owner"]));
    let token = token.lines().last().unwrap().trim().to_owned();
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let mut up = Command::new(d.join("tailor"))
        .current_dir(d)
        .args(["up", "--listen", &listen])
        .env("HOME", d.join("home"))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let mut served = false;
    while started.elapsed() < Duration::from_secs(60) {
        if std::net::TcpStream::connect(&listen).is_ok()
            && http::request(&listen, "GET", "/v1/openapi.json", &[], b"").status == 200
        {
            served = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let stop = |up: &mut std::process::Child| {
        let _ = up.kill();
        let _ = up.wait();
    };
    if !served {
        stop(&mut up);
        let mut err = String::new();
        std::io::Read::read_to_string(up.stderr.as_mut().unwrap(), &mut err).unwrap();
        panic!("tailor up did not serve from {}: {err}", d.display());
    }
    let page = http::request(&listen, "GET", "/", &[], b"");
    assert_eq!(page.status, 200);
    assert!(page.text().contains("<html"), "the web UI: {}", page.text());
    let server = format!("http://{listen}");
    ok(run_in(d, &["login", "--server", &server, "--token", &token]));
    let spec = examples.join("python-rootca.yaml");
    ok(run_in(d, &["customization", "create", "-f", spec.to_str().unwrap(), "--wait"]));
    let builds: Value =
        serde_json::from_str(&ok(run_in(d, &["builds", "list", "example-rootca", "--output", "json"]))).unwrap();
    stop(&mut up);
    let list = builds["builds"].as_array().or_else(|| builds.as_array()).cloned().unwrap_or_default();
    assert_eq!(list.first().map(|b| b["status"].clone()), Some("succeeded".into()), "{builds:#}");
    // Nothing else was needed: the directory holds the binary, its data and the login.
    let mut names: Vec<String> =
        std::fs::read_dir(d).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    assert_eq!(names, [".tailor", "home", "tailor"]);
}
