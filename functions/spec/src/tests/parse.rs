use super::{EXAMPLE_JSON, EXAMPLE_YAML, valid};
use crate::{Customization, Problem, RunAs, SpecError};

#[track_caller]
fn parse_problem(result: crate::Result<Customization>) -> Problem {
    match result {
        Err(SpecError::Parse(problem)) => problem,
        other => panic!("expected a parse error, got {other:?}"),
    }
}

const MINIMAL_YAML: &str = "name: x\nsource: acme/b:1\ntag_suffix: c\nplatforms: [linux/amd64]\n";

#[test]
fn example_parses_identically_from_yaml_and_json() {
    let from_yaml = Customization::parse_yaml(EXAMPLE_YAML).expect("valid YAML example");
    let from_json = Customization::parse_json(EXAMPLE_JSON).expect("valid JSON example");
    assert_eq!(from_yaml, from_json);
    assert_eq!(from_yaml.files[0].content, "#!/bin/sh\nexec \"$@\"\n");
    assert_eq!(from_yaml.files[0].mode_bits(), Some(0o755));
    assert_eq!(from_yaml.labels["com.acme.team"], "payments");
    // And survives a JSON round trip.
    let text = serde_json::to_string(&from_yaml).expect("serializes");
    assert_eq!(Customization::parse_json(&text).expect("round trip"), from_yaml);
}

#[test]
fn derived_values_of_the_example() {
    let spec = valid();
    assert_eq!(spec.source_ref().to_string(), "acme/dhi-python:3.13");
    assert_eq!(spec.destination_repository(), "acme/dhi-python");
    assert_eq!(spec.result_tag(), "3.13_custom");
    assert_eq!(spec.result_ref().to_string(), "acme/dhi-python:3.13_custom");
    assert_eq!(spec.run_as(), Some(RunAs::Name("app".into())));
}

#[test]
fn derived_values_with_registry_and_destination() {
    let mut spec = valid();
    spec.source = "127.0.0.1:5000/acme/dhi-python:3.13".into();
    spec.destination = Some("127.0.0.1:5000/acme/python-custom".into());
    spec.contents.artifacts[0].reference = "127.0.0.1:5000/acme/rootca:1".into();
    spec.accounts.run_as = Some("1000:1000".into());
    assert_eq!(spec.validate(), Ok(()));
    assert_eq!(spec.destination_repository(), "acme/python-custom");
    assert_eq!(spec.result_ref().to_string(), "127.0.0.1:5000/acme/python-custom:3.13_custom");
    assert_eq!(spec.run_as(), Some(RunAs::Id { uid: 1000, gid: Some(1000) }));
}

#[test]
fn derived_values_never_panic_on_invalid_specs() {
    let mut spec = valid();
    for source in ["", ":", "@", "ACME/X", "a/b@sha256:x"] {
        spec.source = source.into();
        spec.destination = Some(source.into());
        spec.accounts.run_as = Some("1000:x".into());
        assert_eq!(spec.source_ref().repository, source);
        assert_eq!(spec.destination_repository(), source);
        assert_eq!(spec.result_tag(), "latest_custom");
        assert_eq!(spec.run_as(), Some(RunAs::Name("1000:x".into())));
    }
}

#[test]
fn defaults_apply() {
    let spec = Customization::parse_yaml(MINIMAL_YAML).expect("minimal spec is valid");
    assert_eq!(spec.destination, None);
    assert!(spec.contents.packages.is_empty() && spec.files.is_empty());
    assert_eq!(spec.accounts.run_as, None);
    assert_eq!(spec.run_as(), None);
    let with_file = format!("{MINIMAL_YAML}files: [{{path: /a, content: ''}}]\n");
    let spec = Customization::parse_yaml(&with_file).expect("valid");
    assert_eq!((spec.files[0].mode.as_str(), spec.files[0].uid), ("0644", 0));
}

#[test]
fn unknown_field_in_yaml_names_its_path() {
    let text = format!("{MINIMAL_YAML}contents:\n  artifacts:\n    - reference: acme/c:1\n      include: [/x]\n");
    let p = parse_problem(Customization::from_yaml(&text));
    assert_eq!(p.field, "contents.artifacts[0].include");
    assert!(p.problem.starts_with("unknown field `include`"), "{p}");
    assert!(p.problem.contains("`includes`"), "lists the expected fields: {p}");
    assert!(p.to_string().starts_with("contents.artifacts[0].include: unknown field"));
}

#[test]
fn unknown_field_in_json_names_its_path() {
    let text = r#"{"name":"x","source":"acme/b:1","tag_suffix":"c","platforms":["linux/amd64"],
        "contents":{"artifacts":[{"reference":"acme/c:1","include":["/x"]}]}}"#;
    let p = parse_problem(Customization::from_json(text));
    assert_eq!(p.field, "contents.artifacts[0].include");
    assert!(p.problem.starts_with("unknown field `include`"), "{p}");
}

#[test]
fn unknown_top_level_and_nested_fields() {
    let p = parse_problem(Customization::from_yaml(&format!("{MINIMAL_YAML}tag: x\n")));
    assert_eq!(p.field, "tag");
    let text = format!("{MINIMAL_YAML}accounts: {{users: [{{name: a, uid: 1, gid: 1, sh: x}}]}}\n");
    let p = parse_problem(Customization::from_yaml(&text));
    assert_eq!(p.field, "accounts.users[0].sh");
    assert!(p.problem.starts_with("unknown field `sh`"), "{p}");
}

#[test]
fn missing_and_duplicate_fields_name_the_field() {
    let p = parse_problem(Customization::from_yaml("name: x\nsource: a/b:1\n"));
    assert_eq!(p.field, "tag_suffix");
    assert!(p.problem.contains("missing field"), "{p}");
    let text = format!("{MINIMAL_YAML}files: [{{path: /a}}]\n");
    let p = parse_problem(Customization::from_yaml(&text));
    assert_eq!(p.field, "files[0].content");
    let p = parse_problem(Customization::from_yaml(&format!("{MINIMAL_YAML}name: y\n")));
    assert_eq!(p.field, "name");
    assert!(p.problem.contains("duplicate field"), "{p}");
}

#[test]
fn type_errors_name_the_field() {
    let text = format!("{MINIMAL_YAML}files: [{{path: /a, content: x, uid: -1}}]\n");
    let p = parse_problem(Customization::from_yaml(&text));
    assert_eq!(p.field, "files[0].uid");
    assert!(p.problem.contains("invalid type"), "{p}");
    let text = r#"{"name":"x","source":"a/b:1","tag_suffix":"c","platforms":["linux/amd64"],
        "files":[{"path":"/a","content":"x","mode":755}]}"#;
    let p = parse_problem(Customization::from_json(text));
    assert_eq!(p.field, "files[0].mode");
    assert!(p.problem.contains("quoted string"), "{p}");
}

#[test]
fn unquoted_yaml_mode_keeps_its_digits() {
    let text = format!("{MINIMAL_YAML}files: [{{path: /a, content: x, mode: 0755}}]\n");
    let spec = Customization::parse_yaml(&text).expect("valid");
    assert_eq!(spec.files[0].mode_bits(), Some(0o755));
}

#[test]
fn syntax_errors_are_parse_errors() {
    parse_problem(Customization::from_yaml("name: [x\n"));
    parse_problem(Customization::from_yaml("{"));
    let p = parse_problem(Customization::from_json(r#"{"name":"x""#));
    assert!(p.problem.contains("EOF"), "{p}");
    let trailing = format!("{} x", EXAMPLE_JSON);
    let p = parse_problem(Customization::from_json(&trailing));
    assert!(p.problem.contains("trailing"), "{p}");
}

#[test]
fn parse_validates_and_from_does_not() {
    let text = MINIMAL_YAML.replace("tag_suffix: c", "tag_suffix: 'bad suffix'");
    assert!(Customization::from_yaml(&text).is_ok());
    let err = Customization::parse_yaml(&text).expect_err("invalid");
    let SpecError::Invalid(problems) = &err else {
        panic!("expected Invalid, got {err:?}");
    };
    assert_eq!(problems.len(), 1);
    assert_eq!(err.problems(), *problems);
    assert!(err.to_string().starts_with("tag_suffix: "), "{err}");
}

#[test]
fn invalid_displays_one_problem_per_line() {
    let err = SpecError::Invalid(vec![Problem::new("a", "x"), Problem::new("b[0]", "y")]);
    assert_eq!(err.to_string(), "a: x\nb[0]: y");
    let err = SpecError::Parse(Problem::new("c", "z"));
    assert_eq!(err.to_string(), "c: z");
    assert_eq!(err.problems(), vec![Problem::new("c", "z")]);
}

#[test]
fn hostile_documents_do_not_panic() {
    let long = "a".repeat(100_000);
    let nested = "[".repeat(10_000);
    for text in ["", ":", "@", "\0", "~", "- - -", &long, &nested, "a: &a [*a]"] {
        assert!(Customization::parse_yaml(text).is_err(), "{text:.20}");
        assert!(Customization::parse_json(text).is_err(), "{text:.20}");
    }
    for value in ["", ":", "@", "\0", &long] {
        let text = serde_json::json!({
            "name": value, "source": value, "destination": value, "tag_suffix": value,
            "platforms": [value], "contents": {"packages": [value],
            "artifacts": [{"reference": value, "includes": [value], "excludes": [value]}]},
            "files": [{"path": value, "content": value, "mode": value}],
            "accounts": {"groups": [{"name": value, "gid": u64::MAX, "members": [value]}],
                "users": [{"name": value, "uid": u64::MAX, "gid": 0, "home": value,
                           "shell": value, "gecos": value}], "run_as": value},
            "environment": {value: value}, "labels": {value: value},
            "annotations": {value: value}, "entrypoint": [value], "cmd": [value]
        })
        .to_string();
        let err = Customization::parse_json(&text).expect_err("invalid");
        assert!(err.problems().len() >= 15, "{err}");
    }
}

#[test]
fn integral_floats_are_integers_in_json_and_yaml() {
    let json = r#"{"name": "a", "source": "acme/x:1", "tag_suffix": "c", "platforms": ["linux/amd64"],
        "accounts": {"groups": [{"name": "app", "gid": 1000.0}]}}"#;
    assert_eq!(Customization::parse_json(json).unwrap().accounts.groups[0].gid, 1000);
    let yaml = "name: a\nsource: acme/x:1\ntag_suffix: c\nplatforms: [linux/amd64]\naccounts:\n  groups: [{name: app, gid: 1000.0}]\n";
    assert_eq!(Customization::parse_yaml(yaml).unwrap().accounts.groups[0].gid, 1000);
    let err = Customization::parse_json(&json.replace("1000.0", "1000.5")).unwrap_err();
    assert_eq!(err.problems()[0].field, "accounts.groups[0].gid", "{err}");
}

#[test]
fn yaml_null_booleans_and_numbers_are_not_text() {
    for (yaml, field) in [
        ("name: false\nreference: acme/p:1\n", "name"),
        ("name: x\nreference: acme/p:1\napplies_to: [1]\n", "applies_to[0]"),
    ] {
        let err = crate::ExtensionSpec::from_yaml(yaml).unwrap_err();
        assert_eq!(err.problems()[0].field, field, "{err}");
        assert!(err.to_string().contains("quote it"), "{err}");
    }
    let env = "name: a\nsource: acme/x:1\ntag_suffix: c\nplatforms: [linux/amd64]\nenvironment: {PORT: 8080}\n";
    assert_eq!(Customization::parse_yaml(env).unwrap_err().problems()[0].field, "environment.PORT");
    assert!(Customization::parse_yaml(&env.replace("8080", "\"8080\"")).is_ok());
    // Text a YAML 1.1 emitter writes unquoted, though YAML 1.2 reads a number.
    assert_eq!(Customization::parse_yaml(&env.replace("8080", "0e0")).unwrap().environment["PORT"], "0e0");
    let err = crate::ExtensionSpec::from_yaml("name: null\nreference: acme/p:1\n").unwrap_err();
    assert_eq!(err.problems()[0].field, "name", "{err}");
    let err = crate::ExtensionSpec::from_yaml("name: ~\nreference: acme/p:1\n").unwrap_err();
    assert_eq!(err.problems()[0].field, "name", "{err}");
}
