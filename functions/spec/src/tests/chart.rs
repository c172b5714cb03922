//! Chart customization specs: parsing, validation, versions and their customized form.

use crate::ChartSpec;

const SPEC: &str = "
name: web-acme
source: acme/dhi-web-chart
versions: ['1.*']
tag_suffix: custom
reference_mapping:
  - {from: dhi/nginx, to: acme/dhi-nginx}
  - {from: docker.io/library/busybox, to: 'acme/dhi-busybox:1.36_custom'}
strict: false
";

fn fields(yaml: &str) -> Vec<String> {
    ChartSpec::from_yaml(yaml)
        .unwrap()
        .validate("acme")
        .err()
        .unwrap_or_default()
        .into_iter()
        .map(|p| p.field)
        .collect()
}

#[test]
fn the_issue_example_is_valid() {
    let spec = ChartSpec::from_yaml(SPEC).unwrap();
    assert!(spec.validate("acme").is_ok(), "{:?}", spec.validate("acme"));
    assert_eq!(spec.destination_repository(), "acme/dhi-web-chart");
    assert_eq!(spec.customized_version("1.4.2"), "1.4.2+custom");
    assert_eq!(spec.customized_version("1.4.2+build.7"), "1.4.2+build.7.custom");
    assert!(spec.customizes("1.4.2") && spec.customizes("1.0.0-rc.1") && spec.customizes("1.0.0+build.7"));
    assert!(!spec.customizes("2.0.0"), "not in versions");
    assert!(!spec.customizes("1.4.2+custom") && !spec.customizes("1.4.2+build.7.custom"), "its own outputs");
    let json = serde_json::to_string(&spec).unwrap();
    assert_eq!(ChartSpec::from_json(&json).unwrap(), spec);
}

#[test]
fn every_problem_is_reported_with_its_field() {
    let bad = "
name: -bad
source: other/chart:1
destination: dhi.io/acme/x
versions: ['1.*', 'a b']
tag_suffix: my_suffix
reference_mapping:
  - {from: 'nginx:1.25', to: 'acme/ok'}
  - {from: Bad/Name, to: 'other/nginx'}
  - {from: 'busybox', to: 'registry.example/acme/busybox'}
  - {from: 'busybox', to: 'acme'}
";
    assert_eq!(
        fields(bad),
        [
            "name",
            "source",
            "destination",
            "versions[1]",
            "tag_suffix",
            "reference_mapping[0].from",
            "reference_mapping[1].from",
            "reference_mapping[1].to",
            "reference_mapping[2].to",
            "reference_mapping[3].from",
            "reference_mapping[3].to",
        ]
    );
    assert_eq!(fields("name: a\nsource: acme/c\ntag_suffix: x\n"), ["reference_mapping"]);
    let e = ChartSpec::from_yaml("name: a\nsource: acme/c\ntag_suffix: x\nreference_mappings: []\n").unwrap_err();
    assert_eq!(e.problems()[0].field, "reference_mappings");
    let e =
        ChartSpec::from_yaml("name: a\nsource: acme/c\ntag_suffix: x\nreference_mapping: [{from: a}]\n").unwrap_err();
    assert_eq!(e.problems()[0].field, "reference_mapping[0].to");
}
