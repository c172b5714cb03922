use super::{assert_single, valid};
use crate::ArtifactSpec;

#[test]
fn package_rules() {
    let mut spec = valid();
    spec.contents.packages = vec!["curl".into(), "Curl".into()];
    assert_single(&spec, "contents.packages[1]", "package name `Curl` is invalid");
    spec.contents.packages = vec!["-curl".into()];
    assert_single(&spec, "contents.packages[0]", "starting with a letter or digit");
    spec.contents.packages = vec!["=1.0".into()];
    assert_single(&spec, "contents.packages[0]", "package name is empty");
    spec.contents.packages = vec!["curl=".into()];
    assert_single(&spec, "contents.packages[0]", "version `` of package `curl`");
    spec.contents.packages = vec!["curl=1 2".into()];
    assert_single(&spec, "contents.packages[0]", "is invalid");
    spec.contents.packages = vec!["curl".into(), "tzdata".into(), "curl=8.5.0-r0".into()];
    assert_single(&spec, "contents.packages[2]", "`curl` is listed twice (see contents.packages[0])");
    spec.contents.packages = vec!["libstdc++6=1:12.2.0-14+deb12u1".into(), "py3.11_x".into()];
    assert_eq!(spec.validate(), Ok(()));
}

fn artifact(reference: &str, includes: &[&str], excludes: &[&str]) -> ArtifactSpec {
    ArtifactSpec {
        reference: reference.into(),
        includes: includes.iter().map(|s| (*s).to_owned()).collect(),
        excludes: excludes.iter().map(|s| (*s).to_owned()).collect(),
    }
}

#[test]
fn artifact_reference_rules() {
    let mut spec = valid();
    spec.contents.artifacts.push(artifact("acme/rootca", &["/x"], &[]));
    assert_single(&spec, "contents.artifacts[1].reference", "needs a tag or a digest");
    spec.contents.artifacts[1].reference = "acme/Rootca:1".into();
    assert_single(&spec, "contents.artifacts[1].reference", "lowercase");
    spec.contents.artifacts[1].reference = "other/rootca:1".into();
    assert_single(&spec, "contents.artifacts[1].reference", "artifacts must be in the organization's namespace `acme`");
    spec.contents.artifacts[1].reference = "localhost:5000/acme/rootca:1".into();
    assert_single(&spec, "contents.artifacts[1].reference", "the source's registry, the configured registry");
    spec.contents.artifacts[1].reference =
        "acme/rootca@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef".into();
    assert_eq!(spec.validate(), Ok(()), "a digest alone is enough");
}

#[test]
fn artifact_registry_must_match_a_source_host() {
    let mut spec = valid();
    spec.source = "127.0.0.1:5000/acme/dhi-python:3.13".into();
    assert_single(&spec, "contents.artifacts[0].reference", "registry, `127.0.0.1:5000`");
    spec.contents.artifacts[0].reference = "127.0.0.1:5000/acme/rootca:1".into();
    assert_eq!(spec.validate(), Ok(()));
}

#[test]
fn includes_are_required() {
    let mut spec = valid();
    spec.contents.artifacts[0].includes.clear();
    assert_single(&spec, "contents.artifacts[0].includes", "nothing is included by default: list the paths to include");
}

#[test]
fn includes_and_excludes_are_normalized_absolute_paths() {
    let mut spec = valid();
    let cases = [
        ("etc/ssl", "absolute"),
        ("/etc//ssl", "empty segments"),
        ("/etc/./ssl", "`.`"),
        ("/etc/../ssl", "`..`"),
        ("/etc/ssl/", "end with `/`"),
        ("/etc\0", "NUL"),
    ];
    for (path, phrase) in cases {
        spec.contents.artifacts[0] = artifact("acme/rootca:1", &["/etc", path], &[]);
        assert_single(&spec, "contents.artifacts[0].includes[1]", phrase);
        spec.contents.artifacts[0] = artifact("acme/rootca:1", &["/etc"], &["/etc/a", path]);
        assert_single(&spec, "contents.artifacts[0].excludes[1]", phrase);
    }
    spec.contents.artifacts[0] = artifact("acme/rootca:1", &["/"], &["/etc"]);
    assert_eq!(spec.validate(), Ok(()), "the root is a valid include");
}

#[test]
fn no_duplicate_includes_or_excludes() {
    let mut spec = valid();
    spec.contents.artifacts[0] = artifact("acme/rootca:1", &["/etc", "/opt", "/etc"], &[]);
    assert_single(&spec, "contents.artifacts[0].includes[2]", "listed twice (see contents.artifacts[0].includes[0])");
    spec.contents.artifacts[0] = artifact("acme/rootca:1", &["/etc"], &["/etc/a", "/etc/a"]);
    assert_single(&spec, "contents.artifacts[0].excludes[1]", "listed twice");
}

#[test]
fn excludes_lie_under_an_include() {
    let mut spec = valid();
    spec.contents.artifacts[0] = artifact("acme/rootca:1", &["/op", "/usr"], &["/opt"]);
    assert_single(&spec, "contents.artifacts[0].excludes[0]", "/opt is not under any include");
    spec.contents.artifacts[0] = artifact("acme/rootca:1", &["/opt"], &["/opt", "/opt/x/y"]);
    assert_eq!(spec.validate(), Ok(()), "equal or below is fine");
}
