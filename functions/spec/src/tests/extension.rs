use crate::ExtensionSpec;

fn fields(json: &str) -> Vec<String> {
    match ExtensionSpec::from_json(json) {
        Err(e) => e.problems().into_iter().map(|p| p.field).collect(),
        Ok(s) => s.validate("acme").err().unwrap_or_default().into_iter().map(|p| p.field).collect(),
    }
}

#[test]
fn a_valid_extension_and_its_defaults() {
    let s = ExtensionSpec::from_json(r#"{"name": "no-setuid", "reference": "acme/policies:1"}"#).unwrap();
    assert_eq!((s.mode.as_str(), s.settings.to_string().as_str()), ("enforce", "{}"));
    assert!(s.validate("acme").is_ok());
    assert!(s.applies_to("acme/anything"));
    let y = ExtensionSpec::from_yaml(
        "name: labels\nreference: acme/p@sha256:0123456789012345678901234567890123456789012345678901234567890123\n\
         mode: warn\nsettings: {labels: [team]}\napplies_to: [acme/dhi-*]\n",
    )
    .unwrap();
    assert!(y.validate("acme").is_ok(), "{:?}", y.validate("acme"));
    assert!(y.applies_to("acme/dhi-python") && !y.applies_to("acme/base"));
}

#[test]
fn every_problem_names_its_field() {
    assert_eq!(fields(r#"{"name": "Bad Name", "reference": "acme/p:1"}"#), ["name"]);
    for reference in ["globex/p:1", "acme/p", "registry.example/acme/p:1", "acme", "ACME/p:1"] {
        let json = format!(r#"{{"name": "x", "reference": "{reference}"}}"#);
        assert_eq!(fields(&json), ["reference"], "{reference}");
    }
    assert_eq!(fields(r#"{"name": "x", "reference": "acme/p:1", "settings": [1]}"#), ["settings"]);
    assert_eq!(fields(r#"{"name": "x", "reference": "acme/p:1", "mode": "audit"}"#), ["mode"]);
    assert_eq!(fields(r#"{"name": "x", "reference": "acme/p:1", "applies_to": ["globex/*", "*"]}"#), ["applies_to[0]"]);
    assert_eq!(fields(r#"{"name": "x", "reference": "acme/p:1", "colour": 1}"#), ["colour"]);
    let big = format!(r#"{{"name": "x", "reference": "acme/p:1", "settings": {{"a": "{}"}}}}"#, "x".repeat(70_000));
    assert_eq!(fields(&big), ["settings"]);
}
