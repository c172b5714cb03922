use crate::{FileSpec, RunAs, is_under, normalize_check};

#[test]
fn accepts_normalized_absolute_paths() {
    for p in ["/", "/etc", "/etc/ssl/certs/ca-certificates.crt", "/a.b/..c/.d"] {
        assert_eq!(normalize_check(p), Ok(()), "{p}");
    }
}

#[test]
fn rejects_unnormalized_paths() {
    for (p, phrase) in [
        ("", "absolute"),
        ("etc", "absolute"),
        ("./etc", "absolute"),
        ("//etc", "empty segments"),
        ("/etc//ssl", "empty segments"),
        ("/etc/", "end with `/`"),
        ("/etc/./ssl", "`.`"),
        ("/etc/../ssl", "`..`"),
        ("/..", "`..`"),
        ("/etc\0", "NUL"),
    ] {
        let e = normalize_check(p).expect_err(p);
        assert!(e.contains(phrase), "{p:?}: `{e}` lacks `{phrase}`");
    }
}

#[test]
fn under_is_by_whole_segments() {
    assert!(is_under("/opt", "/opt"));
    assert!(is_under("/opt/x", "/opt"));
    assert!(is_under("/opt/x", "/"));
    assert!(!is_under("/opt", "/op"));
    assert!(!is_under("/opt", "/opt/x"));
    assert!(!is_under("/optx/y", "/opt"));
}

fn file(mode: &str) -> FileSpec {
    FileSpec { path: "/x".into(), content: String::new(), uid: 0, gid: 0, mode: mode.into() }
}

#[test]
fn mode_bits() {
    for (mode, bits) in [
        ("644", 0o644),
        ("0644", 0o644),
        ("0755", 0o755),
        ("4755", 0o4755),
        ("04755", 0o4755),
        ("7777", 0o7777),
        ("000", 0),
    ] {
        assert_eq!(file(mode).mode_bits(), Some(bits), "{mode}");
    }
    for mode in ["", "64", "0888", "14755", "00644x", "rwx", "+755", "٣٤٥"] {
        assert_eq!(file(mode).mode_bits(), None, "{mode}");
    }
}

#[test]
fn run_as_parsing() {
    assert_eq!(RunAs::parse("app"), Ok(RunAs::Name("app".into())));
    assert_eq!(RunAs::parse("_svc-1"), Ok(RunAs::Name("_svc-1".into())));
    assert_eq!(RunAs::parse("1000"), Ok(RunAs::Id { uid: 1000, gid: None }));
    assert_eq!(RunAs::parse("0:2147483647"), Ok(RunAs::Id { uid: 0, gid: Some(2_147_483_647) }));
    for (s, phrase) in [
        ("2147483648", "out of range"),
        ("99999999999999999999999", "out of range"),
        ("1000:", "not a decimal"),
        (":1000", "not a decimal"),
        ("1000:app", "not a decimal"),
        ("-1", "not a valid account name"),
        ("App", "not a valid account name"),
        ("", "empty"),
    ] {
        let e = RunAs::parse(s).expect_err(s);
        assert!(e.contains(phrase), "{s:?}: `{e}` lacks `{phrase}`");
    }
    assert_eq!(RunAs::Id { uid: 1, gid: Some(2) }.to_string(), "1:2");
}
