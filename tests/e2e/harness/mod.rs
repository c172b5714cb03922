//! Shared harness for the e2e tests: real components on free loopback ports, stopped on drop.
//!
//! - [`Registry`]: a real Distribution registry (`docker-registry`), optionally with htpasswd
//!   (Basic) or bearer-token auth ([`TokenServer`]) and notifications.
//! - [`skopeo_inspect_raw`], [`skopeo_inspect_config`]: an independent reader of what was pushed.
//! - [`run`]: run a command, failing with its output; [`free_port`]: a free loopback port.

// Not every test module uses every helper.
#![allow(dead_code)]

pub mod faults;
pub mod helm;
pub mod http;
pub mod postgres;
mod registry;
pub mod service;
mod token;

pub use service::root;

use std::net::TcpListener;
use std::process::{Command, Output};

pub use registry::{Registry, RegistryOptions};
#[allow(unused_imports)]
pub use service::{Service, ServiceOptions};
#[allow(unused_imports)]
pub use token::{TokenRequest, TokenServer};

/// A TCP port on 127.0.0.1 that was free a moment ago.
pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("binding 127.0.0.1:0");
    listener.local_addr().expect("local address of a bound socket").port()
}

/// Run `cmd` to completion; panic with its status, stdout and stderr unless it succeeds.
pub fn run(cmd: &mut Command) -> Output {
    let shown = format!("{cmd:?}");
    let out = cmd.output().unwrap_or_else(|e| panic!("cannot run {shown}: {e}"));
    if !out.status.success() {
        panic!(
            "{shown} failed ({})\n--- stdout\n{}\n--- stderr\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    out
}

/// Whether `program` is an executable on `PATH`.
pub fn on_path(program: &str) -> bool {
    std::env::var_os("PATH").is_some_and(|paths| {
        std::env::split_paths(&paths).any(|dir| {
            std::fs::metadata(dir.join(program)).is_ok_and(|m| {
                use std::os::unix::fs::PermissionsExt;
                m.is_file() && m.permissions().mode() & 0o111 != 0
            })
        })
    })
}

/// Panic (never skip) when a tool the tests need is missing.
pub fn require_tool(program: &str, package: &str) {
    if !on_path(program) {
        panic!(
            "`{program}` is not installed (Debian package `{package}`): run the test command from README.md, \
             which installs every component the e2e tests need"
        );
    }
}

/// `skopeo inspect` arguments shared by the helpers: plain HTTP, explicit credentials or none.
fn skopeo(args: &[&str], image: &str, creds: Option<(&str, &str)>) -> Output {
    require_tool("skopeo", "skopeo");
    let image = if image.starts_with("docker://") { image.to_string() } else { format!("docker://{image}") };
    let mut cmd = Command::new("skopeo");
    cmd.arg("inspect").arg("--tls-verify=false").args(args);
    match creds {
        Some((user, pass)) => cmd.arg("--creds").arg(format!("{user}:{pass}")),
        None => cmd.arg("--no-creds"),
    };
    run(cmd.arg(image))
}

/// The exact manifest bytes skopeo reads for `image` (`127.0.0.1:PORT/acme/x:tag` or
/// `…@sha256:…`, `docker://` optional).
pub fn skopeo_inspect_raw(image: &str, creds: Option<(&str, &str)>) -> Vec<u8> {
    skopeo(&["--raw"], image, creds).stdout
}

/// The image config skopeo reads for `image` (for an index, the current platform's).
pub fn skopeo_inspect_config(image: &str, creds: Option<(&str, &str)>) -> serde_json::Value {
    let out = skopeo(&["--config"], image, creds);
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!("skopeo inspect --config {image}: not JSON ({e}): {}", String::from_utf8_lossy(&out.stdout))
    })
}
