use super::{assert_single, problems, valid};

#[test]
fn name_rules() {
    let mut spec = valid();
    spec.name = String::new();
    assert_single(&spec, "name", "must not be empty");
    spec.name = "a".repeat(64);
    assert_single(&spec, "name", "64 characters long; at most 63");
    spec.name = "-python".into();
    assert_single(&spec, "name", "starting with a letter or digit");
    spec.name = "py thon".into();
    assert_single(&spec, "name", "is invalid");
    spec.name = "py\0".into();
    assert_single(&spec, "name", "is invalid");
    spec.name = "Py_3.13-x".into();
    assert_eq!(spec.validate(), Ok(()));
}

#[test]
fn source_must_parse() {
    let mut spec = valid();
    spec.source = "acme/DHI-python:3.13".into();
    assert_single(&spec, "source", "lowercase");
    spec.source = String::new();
    assert_single(&spec, "source", "e.g. `acme/dhi-python:3.13`");
}

#[test]
fn source_needs_a_tag() {
    let mut spec = valid();
    spec.source = "acme/dhi-python".into();
    assert_single(&spec, "source", "has no tag");
    spec.source = "acme/dhi-python@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef".into();
    assert_single(&spec, "source", "e.g. `acme/dhi-python:3.13`");
    spec.source = "acme/dhi-python:3.13@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef".into();
    assert_eq!(spec.validate(), Ok(()), "a digest is allowed as a pin");
}

#[test]
fn destination_must_be_a_bare_repository() {
    let mut spec = valid();
    spec.destination = Some("acme/python-custom:1".into());
    assert_single(&spec, "destination", "without tag or digest");
    spec.destination = Some("acme/Python".into());
    assert_single(&spec, "destination", "lowercase");
    spec.destination = Some("acme/python-custom".into());
    assert_eq!(spec.validate(), Ok(()));
}

#[test]
fn destination_stays_in_registry_and_namespace() {
    let mut spec = valid();
    spec.destination = Some("other/python-custom".into());
    assert_single(&spec, "destination", "namespace `acme`");
    spec.destination = Some("registry.example.com/acme/python-custom".into());
    assert_single(&spec, "destination", "the configured registry");
    spec.source = "localhost:5000/acme/dhi-python:3.13".into();
    spec.contents.artifacts.clear();
    spec.destination = Some("acme/python-custom".into());
    assert_single(&spec, "destination", "`localhost:5000`");
}

#[test]
fn tag_suffix_rules() {
    let mut spec = valid();
    spec.tag_suffix = String::new();
    assert_single(&spec, "tag_suffix", "must not be empty");
    spec.tag_suffix = "my suffix".into();
    assert_single(&spec, "tag_suffix", "is invalid");
    spec.tag_suffix = "a/b".into();
    assert_single(&spec, "tag_suffix", "is invalid");
    // "3.13_" + 124 = 129 characters.
    spec.tag_suffix = "a".repeat(124);
    assert_single(&spec, "tag_suffix", "would be 129 characters long");
    spec.tag_suffix = "a".repeat(123);
    assert_eq!(spec.validate(), Ok(()));
}

#[test]
fn platform_rules() {
    let mut spec = valid();
    spec.platforms.clear();
    assert_single(&spec, "platforms", "at least one platform");
    spec.platforms = vec!["linux/amd64".into(), "linux".into()];
    assert_single(&spec, "platforms[1]", "os/architecture[/variant]");
    spec.platforms = vec!["linux/amd64".into(), "Linux/arm64".into()];
    assert_single(&spec, "platforms[1]", "lowercase");
    spec.platforms = vec!["linux/arm64/v8".into(), "linux/amd64".into(), "linux/arm64/v8".into()];
    assert_single(&spec, "platforms[2]", "listed twice (see platforms[0])");
}

#[test]
fn validation_collects_every_problem() {
    let mut spec = valid();
    spec.name = String::new();
    spec.contents.artifacts[0].excludes = vec!["/opt".into()];
    spec.files[0].mode = "999".into();
    spec.environment.insert("1BAD".into(), "x".into());
    let found = problems(&spec);
    let fields: Vec<&str> = found.iter().map(|p| p.field.as_str()).collect();
    assert_eq!(
        fields,
        ["name", "contents.artifacts[0].excludes[0]", "files[0].mode", "environment.1BAD"],
        "{found:#?}"
    );
    assert_eq!(found[1].to_string(), "contents.artifacts[0].excludes[0]: /opt is not under any include");
}

#[test]
fn dependent_checks_are_skipped_when_the_source_is_invalid() {
    let mut spec = valid();
    spec.source = "not a reference".into();
    spec.destination = Some("elsewhere/x".into());
    spec.contents.artifacts[0].reference = "other/rootca:1".into();
    // Only the source itself is reported; nothing to compare the others with.
    assert_single(&spec, "source", "invalid");
}
