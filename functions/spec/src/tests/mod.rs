//! Unit tests, grouped by subject.

mod chart;
mod extension;
mod mirror;
mod parse;
mod paths;
mod platform;
mod reference;
mod rules_accounts;
mod rules_config;
mod rules_contents;
mod rules_files;
mod rules_top;

use crate::{Customization, Problem};

/// The DESIGN.md §4 example (file content made concrete).
pub(crate) const EXAMPLE_YAML: &str = r##"
name: python-rootca
source: acme/dhi-python:3.13          # registry host optional: defaults to the configured registry
tag_suffix: custom                    # result: acme/dhi-python:3.13_custom (same repo unless `destination`)
platforms: [linux/amd64, linux/arm64] # at least one; each in the base AND in every artifact
contents:
  packages: [curl, tzdata]            # OS packages of the base's variant (apk or deb)
  artifacts:                          # applied in order: later overrides earlier
    - reference: acme/rootca:20250101
      includes: [/etc/ssl/certs/ca-certificates.crt]   # nothing is included by default
      excludes: []                                     # each must lie under an include
files:
  - {path: /docker-entrypoint.d/10-init.sh, content: "#!/bin/sh\nexec \"$@\"\n", uid: 0, gid: 0, mode: "0755"}
accounts:
  groups: [{name: app, gid: 1000, members: [app]}]
  users:  [{name: app, uid: 1000, gid: 1000, home: /home/app, shell: /sbin/nologin}]
  run_as: app                         # a name (base or added) or uid[:gid]
environment: {TZ: UTC}
labels: {com.acme.team: payments}
annotations: {org.opencontainers.image.vendor: Acme}
entrypoint: [--config, /etc/app.conf] # appended to the base ENTRYPOINT
cmd: [serve]                          # appended to the base CMD
"##;

/// The same spec as JSON.
pub(crate) const EXAMPLE_JSON: &str = r##"{
  "name": "python-rootca",
  "source": "acme/dhi-python:3.13",
  "tag_suffix": "custom",
  "platforms": ["linux/amd64", "linux/arm64"],
  "contents": {
    "packages": ["curl", "tzdata"],
    "artifacts": [
      {"reference": "acme/rootca:20250101",
       "includes": ["/etc/ssl/certs/ca-certificates.crt"], "excludes": []}
    ]
  },
  "files": [
    {"path": "/docker-entrypoint.d/10-init.sh", "content": "#!/bin/sh\nexec \"$@\"\n",
     "uid": 0, "gid": 0, "mode": "0755"}
  ],
  "accounts": {
    "groups": [{"name": "app", "gid": 1000, "members": ["app"]}],
    "users": [{"name": "app", "uid": 1000, "gid": 1000, "home": "/home/app",
               "shell": "/sbin/nologin"}],
    "run_as": "app"
  },
  "environment": {"TZ": "UTC"},
  "labels": {"com.acme.team": "payments"},
  "annotations": {"org.opencontainers.image.vendor": "Acme"},
  "entrypoint": ["--config", "/etc/app.conf"],
  "cmd": ["serve"]
}"##;

/// A valid spec to mutate in rule tests.
pub(crate) fn valid() -> Customization {
    Customization::parse_yaml(EXAMPLE_YAML).expect("the example is valid")
}

/// All problems of `spec`, which must be invalid.
pub(crate) fn problems(spec: &Customization) -> Vec<Problem> {
    spec.validate().expect_err("expected validation problems")
}

/// Asserts `spec` has exactly one problem, at `field`, whose message contains `phrase`.
#[track_caller]
pub(crate) fn assert_single(spec: &Customization, field: &str, phrase: &str) {
    let found = problems(spec);
    assert_eq!(found.len(), 1, "expected one problem, got {found:#?}");
    assert_eq!(found[0].field, field, "{found:#?}");
    assert!(found[0].problem.contains(phrase), "`{}` does not contain `{phrase}`", found[0].problem);
}
