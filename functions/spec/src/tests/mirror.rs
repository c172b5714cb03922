//! Mirror specs: parsing, defaults, validation, tag globs, verification keys.

use crate::{MirrorSpec, Problem, check_p256_pem, glob_match, is_attachment_tag};

const P256: &str = "-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAExountz6zbgxHgkQzNG4rqEX55C48
ND9PCY16BOV1I/G1UwkiAL+JR+T5GFFyypUqS9qNf590gN7H/LSS3jQjdA==
-----END PUBLIC KEY-----
";
const P384: &str = "-----BEGIN PUBLIC KEY-----
MHYwEAYHKoZIzj0CAQYFK4EEACIDYgAE4MQB7saecBR8yqwEBQToUM0lGMauzWzQ
RIUPIG2dVfxpLPuHgWOElPc0GswLvFzHkVOWWpRg0/TAqCyEngkUwg+j9sxYuEiF
NK/88FiqlKpqMwdjyGghG5zl0tlyJ2ii
-----END PUBLIC KEY-----";
const RSA: &str = "-----BEGIN PUBLIC KEY-----
MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQCerIJ28irIfazLXftIM+4a7GD6
oL62zARMDoSm+MHeVILOfsM3Y5/bshXS8eA9aI4TwIkh3EGN/d3TnOAyoul5D+0l
AnGkY2sEG8lS8cWER9kkPddGCUclb3oIJRujtx0AVsMqe5cRNowOgVAHqF1uni+b
V7s3TI9hvkHVfZwRhwIDAQAB
-----END PUBLIC KEY-----";

fn hosts() -> Vec<String> {
    vec!["dhi.io".into(), "127.0.0.1:5001".into()]
}

fn problems(json: &str) -> Vec<Problem> {
    MirrorSpec::from_json(json).unwrap().validate("acme", &hosts()).err().unwrap_or_default()
}

fn fields(json: &str) -> Vec<String> {
    problems(json).into_iter().map(|p| p.field).collect()
}

#[test]
fn parses_with_defaults_and_fills_the_destination() {
    let m = MirrorSpec::from_json(r#"{"source": "dhi.io/python"}"#).unwrap();
    assert_eq!((m.tags.len(), m.verify_keys.len(), m.poll_interval_s), (0, 0, 300));
    assert_eq!(m.destination_for("acme"), "acme/dhi-python");
    assert_eq!(m.normalized("acme").destination.as_deref(), Some("acme/dhi-python"));
    assert!(m.validate("acme", &hosts()).is_ok());
    let nested = MirrorSpec::from_json(r#"{"source": "127.0.0.1:5001/vendor/web-chart"}"#).unwrap();
    assert_eq!(nested.destination_for("acme"), "acme/dhi-web-chart");
    let full = MirrorSpec::from_yaml(&format!(
        "source: dhi.io/python\ndestination: acme/team/python\ntags: ['3.13*', '3.12']\npoll_interval_s: 0\nverify_keys:\n  - |\n{}",
        P256.lines().map(|l| format!("    {l}\n")).collect::<String>()
    ))
    .unwrap();
    assert!(full.validate("acme", &hosts()).is_ok(), "{:?}", full.validate("acme", &hosts()));
    assert_eq!(full.destination_for("acme"), "acme/team/python");
}

#[test]
fn unknown_fields_and_wrong_types_name_the_field() {
    let e = MirrorSpec::from_json(r#"{"source": "dhi.io/x", "tag": ["1"]}"#).unwrap_err();
    assert_eq!(e.problems()[0].field, "tag");
    let e = MirrorSpec::from_json(r#"{"source": "dhi.io/x", "poll_interval_s": -5}"#).unwrap_err();
    assert_eq!(e.problems()[0].field, "poll_interval_s");
    let e = MirrorSpec::from_json(r#"{"tags": []}"#).unwrap_err();
    assert_eq!(e.problems()[0].field, "source");
    let e = MirrorSpec::from_json(r#"{"source": "dhi.io/x", "tags": [1]}"#).unwrap_err();
    assert_eq!(e.problems()[0].field, "tags[0]");
}

#[test]
fn sources_must_be_repositories_on_declared_upstreams() {
    let p = problems(r#"{"source": "evil.example/python"}"#);
    assert_eq!(p[0].field, "source");
    assert!(
        p[0].problem.contains("not a declared upstream") && p[0].problem.contains("dhi.io, 127.0.0.1:5001"),
        "{p:?}"
    );
    let none = MirrorSpec::from_json(r#"{"source": "dhi.io/python"}"#).unwrap().validate("acme", &[]).unwrap_err();
    assert!(none[0].problem.contains("--upstream HOST=URL"), "{none:?}");
    assert!(problems(r#"{"source": "python"}"#)[0].problem.contains("names no registry host"));
    assert!(problems(r#"{"source": "dhi.io/python:3.13"}"#)[0].problem.contains("drop the tag"));
    assert!(problems(r#"{"source": "dhi.io/Python"}"#)[0].problem.contains("lowercase"));
    assert_eq!(fields(r#"{"source": ""}"#), vec!["source", "destination"]);
}

#[test]
fn destinations_stay_in_the_org() {
    assert_eq!(fields(r#"{"source": "dhi.io/python", "destination": "other/python"}"#), vec!["destination"]);
    assert_eq!(fields(r#"{"source": "dhi.io/python", "destination": "acme"}"#), vec!["destination"]);
    assert_eq!(fields(r#"{"source": "dhi.io/python", "destination": "acmecorp/python"}"#), vec!["destination"]);
    let p = problems(r#"{"source": "dhi.io/python", "destination": "dhi.io/acme/python"}"#);
    assert!(p[0].problem.contains("drop the host"), "{p:?}");
    assert_eq!(fields(r#"{"source": "dhi.io/python", "destination": "acme/python:1"}"#), vec!["destination"]);
}

#[test]
fn every_problem_is_reported() {
    let json = format!(
        r#"{{"source": "x.example/a", "destination": "b/c", "tags": ["ok*", "bad/glob", "", "ok*"],
            "verify_keys": ["nope", {p384:?}, {rsa:?}, {p256:?}, {p256:?}], "poll_interval_s": 5}}"#,
        p384 = P384,
        rsa = RSA,
        p256 = P256
    );
    let p = problems(&json);
    let fields: Vec<&str> = p.iter().map(|p| p.field.as_str()).collect();
    assert_eq!(
        fields,
        [
            "source",
            "destination",
            "tags[1]",
            "tags[2]",
            "tags[3]",
            "verify_keys[0]",
            "verify_keys[1]",
            "verify_keys[2]",
            "verify_keys[4]",
            "poll_interval_s"
        ],
        "{p:?}"
    );
    assert!(p[6].problem.contains("another curve"), "{}", p[6].problem);
    assert!(p[7].problem.contains("only P-256"), "{}", p[7].problem);
    assert!(p[9].problem.contains("0 (never poll) or 30"), "{}", p[9].problem);
}

#[test]
fn keys() {
    assert!(check_p256_pem(P256).is_ok());
    assert!(check_p256_pem(&P256.replace('\n', "\r\n")).is_ok());
    assert!(
        check_p256_pem("-----BEGIN PUBLIC KEY-----\n!!!\n-----END PUBLIC KEY-----").unwrap_err().contains("base64")
    );
    assert!(check_p256_pem(&P256.replace("PUBLIC KEY", "EC PRIVATE KEY")).is_err());
}

#[test]
fn globs_and_attachment_tags() {
    for (glob, tag, hit) in [
        ("3.13*", "3.13", true),
        ("3.13*", "3.13.1-dev", true),
        ("3.13*", "3.12", false),
        ("*-dev", "3.13-dev", true),
        ("3.1?", "3.12", true),
        ("3.1?", "3.1", false),
        ("*", "anything", true),
        ("a*b*c", "aXbYbZc", true),
        ("a*b*c", "aXbYbZ", false),
        ("latest", "latest", true),
        ("latest", "latest2", false),
    ] {
        assert_eq!(glob_match(glob, tag), hit, "{glob} {tag}");
    }
    let hex = "a".repeat(64);
    for tag in [
        format!("sha256-{hex}"),
        format!("sha256-{hex}.sig"),
        format!("sha256-{hex}.att"),
        format!("sha256-{hex}.sbom"),
    ] {
        assert!(is_attachment_tag(&tag), "{tag}");
    }
    for tag in ["sha256-abc.sig", "sha256", &format!("sha256-{hex}x"), "3.13"] {
        assert!(!is_attachment_tag(tag), "{tag}");
    }
    let every = MirrorSpec::from_json(r#"{"source": "dhi.io/python"}"#).unwrap();
    assert!(every.copies_tag("3.13") && !every.copies_tag(&format!("sha256-{hex}.sig")));
    let some = MirrorSpec::from_json(r#"{"source": "dhi.io/python", "tags": ["3.13*", "3.12"]}"#).unwrap();
    assert!(some.copies_tag("3.13.2") && some.copies_tag("3.12") && !some.copies_tag("3.12.1"));
}
