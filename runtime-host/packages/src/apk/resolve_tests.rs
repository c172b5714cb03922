#![allow(clippy::unwrap_used)]
//! The apk resolver on made-up APKINDEX entries, one rule at a time.

use super::*;
use crate::apk::parse_index;

fn entry(name: &str, version: &str, extra: &str) -> String {
    format!("C:Q1{}=\nP:{name}\nV:{version}\nA:x86_64\nS:1\nI:1\nT:{name}\n{extra}\n", "A".repeat(27))
}

fn index() -> Vec<Package> {
    let text = [
        entry(
            "curl",
            "8.9.1-r0",
            "D:ca-certificates-bundle so:libc.musl-x86_64.so.1 so:libcurl.so.4\np:cmd:curl=8.9.1-r0\n",
        ),
        entry("libcurl", "8.9.1-r0", "D:so:libssl.so.3 so:libz.so.1\np:so:libcurl.so.4=4.8.0\n"),
        entry("libcurl", "8.5.0-r0", "D:so:libssl.so.3\np:so:libcurl.so.4=4.8.0\n"),
        entry("libssl3", "3.3.2-r0", "p:so:libssl.so.3=3\n"),
        entry("libssl-compat", "1.0-r0", "p:so:libssl.so.3=3\nk:10\n"),
        entry("zlib", "1.3.1-r1", "p:so:libz.so.1=1.3.1\n"),
        entry("ca-certificates-bundle", "20240705-r0", ""),
        entry("bash", "5.2.26-r0", ""),
        entry("bash-completion", "2.14-r0", ""),
        entry("curl-bash-completion", "8.9.1-r0", "i:curl=8.9.1-r0 bash-completion\n"),
        entry("busybox-extras", "1.36.1-r30", "D:!inetutils\n"),
        entry("inetutils", "2.5-r0", ""),
        entry("needs-new-musl", "1-r0", "D:musl>=1.3\n"),
        entry("needs-ghost", "1-r0", "D:so:libghost.so.1\n"),
    ]
    .concat();
    parse_index(&text).unwrap()
}

fn base() -> Vec<Package> {
    parse_index(
        &[entry("musl", "1.2.5-r0", "p:so:libc.musl-x86_64.so.1=1\n"), entry("busybox", "1.36.1-r30", "")].concat(),
    )
    .unwrap()
}

fn plan(requests: &[&str]) -> Result<Vec<String>, ResolveError> {
    let packages = index();
    let universe = Universe::new("x86_64", &packages);
    let requests: Vec<Request> = requests.iter().map(|r| Request::parse(r).unwrap()).collect();
    resolve(&universe, &base(), &requests)
        .map(|p| p.install.iter().map(|p| format!("{}={}", p.name, p.version)).collect())
}

#[test]
fn so_and_cmd_providers_priorities_pins_and_install_if() {
    assert_eq!(
        plan(&["curl"]).unwrap(),
        [
            "ca-certificates-bundle=20240705-r0",
            "libssl-compat=1.0-r0",
            "zlib=1.3.1-r1",
            "libcurl=8.9.1-r0",
            "curl=8.9.1-r0"
        ],
        "musl is in the base; so:libssl.so.3 goes to the provider with the higher k:"
    );
    assert_eq!(plan(&["libcurl=8.5.0-r0"]).unwrap(), ["libssl-compat=1.0-r0", "libcurl=8.5.0-r0"]);
    assert_eq!(plan(&["cmd:curl"]).unwrap().last().unwrap(), "curl=8.9.1-r0", "a virtual name asked for");
    let with_completion = plan(&["curl", "bash-completion"]).unwrap();
    assert_eq!(with_completion.last().unwrap(), "curl-bash-completion=8.9.1-r0", "install_if: {with_completion:?}");
    let packages = index();
    let universe = Universe::new("x86_64", &packages);
    let p = resolve(&universe, &base(), &[Request::parse("busybox").unwrap()]).unwrap();
    assert!(p.install.is_empty());
    assert_eq!(p.already_installed, [("busybox".to_string(), "1.36.1-r30".to_string())]);
}

#[test]
fn every_failure_names_what_and_why() {
    let err = plan(&["curk"]).unwrap_err().to_string();
    assert!(err.contains("unknown package curk") && err.contains("did you mean curl"), "{err}");
    let err = plan(&["curl=1.0-r0"]).unwrap_err().to_string();
    assert!(err.contains("curl=1.0-r0 is not in the repositories (available: 8.9.1-r0)"), "{err}");
    let err = plan(&["needs-new-musl"]).unwrap_err().to_string();
    assert!(err.contains("depends on musl>=1.3") && err.contains("the base has musl 1.2.5-r0"), "{err}");
    let err = plan(&["needs-ghost"]).unwrap_err().to_string();
    assert!(err.contains("needs-ghost 1-r0: depends on so:libghost.so.1, which no package"), "{err}");
    let err = plan(&["inetutils", "busybox-extras"]).unwrap_err().to_string();
    assert!(err.contains("busybox-extras 1.36.1-r30 conflicts with inetutils 2.5-r0"), "{err}");
    let err = plan(&["busybox-extras", "inetutils"]).unwrap_err().to_string();
    assert!(err.contains("inetutils 2.5-r0 conflicts with busybox-extras"), "{err}");
    assert!(Request::parse("-x").is_err() && Request::parse("curl=").is_err());
}
