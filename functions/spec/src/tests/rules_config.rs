use super::{assert_single, valid};

#[test]
fn environment_keys() {
    for key in ["1BAD", "A-B", "A B", "", "Ä"] {
        let mut spec = valid();
        spec.environment.insert(key.into(), "x".into());
        let field = crate::validate::key_path("environment", key);
        assert_single(&spec, &field, "not a valid variable name");
    }
    let mut spec = valid();
    spec.environment.insert("1BAD".into(), "x".into());
    assert_single(&spec, "environment.1BAD", "not a valid variable name");
    spec.environment.clear();
    spec.environment.insert("_a1".into(), String::new());
    assert_eq!(spec.validate(), Ok(()));
}

#[test]
fn environment_values_have_no_nul() {
    let mut spec = valid();
    spec.environment.insert("PATH".into(), "/bin\0".into());
    assert_single(&spec, "environment.PATH", "NUL");
}

#[test]
fn label_and_annotation_keys() {
    for map in ["labels", "annotations"] {
        for (key, field, phrase) in [
            ("", format!("{map}.\"\""), "must not be empty"),
            ("a b", format!("{map}.\"a b\""), "whitespace"),
            ("a\tb", format!("{map}.\"a\\tb\""), "whitespace"),
            ("a\0", format!("{map}.\"a\\0\""), "NUL"),
        ] {
            let mut spec = valid();
            let entries = if map == "labels" { &mut spec.labels } else { &mut spec.annotations };
            entries.insert(key.into(), "v".into());
            assert_single(&spec, &field, phrase);
        }
    }
}

#[test]
fn label_and_annotation_values_have_no_nul() {
    let mut spec = valid();
    spec.labels.insert("com.acme.team".into(), "pay\0".into());
    assert_single(&spec, "labels.com.acme.team", "NUL");
    let mut spec = valid();
    spec.annotations.insert("org.opencontainers.image.vendor".into(), "\0".into());
    assert_single(&spec, "annotations.org.opencontainers.image.vendor", "NUL");
}

#[test]
fn entrypoint_and_cmd_have_no_nul() {
    let mut spec = valid();
    spec.entrypoint.push("a\0b".into());
    assert_single(&spec, "entrypoint[2]", "NUL");
    let mut spec = valid();
    spec.cmd.insert(0, "\0".into());
    assert_single(&spec, "cmd[0]", "NUL");
}
