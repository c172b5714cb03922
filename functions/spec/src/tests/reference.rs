use crate::{Reference, is_valid_repository, is_valid_tag};

const DIGEST: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

fn ok(s: &str) -> Reference {
    Reference::parse(s).unwrap_or_else(|e| panic!("{s:?} should parse: {e}"))
}

#[track_caller]
fn err(s: &str, phrase: &str) {
    match Reference::parse(s) {
        Ok(r) => panic!("{s:?} should not parse, got {r:?}"),
        Err(e) => assert!(e.contains(phrase), "{s:?}: `{e}` lacks `{phrase}`"),
    }
}

#[test]
fn without_registry_host() {
    let r = ok("acme/dhi-python:3.13");
    assert_eq!(r.registry, None);
    assert_eq!(r.repository, "acme/dhi-python");
    assert_eq!(r.tag.as_deref(), Some("3.13"));
    assert_eq!(r.digest, None);
    assert_eq!(r.namespace(), "acme");
}

#[test]
fn single_component_and_no_tag() {
    let r = ok("python");
    assert_eq!((r.registry, r.repository.as_str(), r.tag), (None, "python", None));
    // Without a slash, `localhost:5000` is a repository with a tag, as in docker.
    let r = ok("localhost:5000");
    assert_eq!(r.registry, None);
    assert_eq!(r.repository, "localhost");
    assert_eq!(r.tag.as_deref(), Some("5000"));
}

#[test]
fn with_registry_host() {
    let r = ok("127.0.0.1:5000/acme/dhi-python:3.13");
    assert_eq!(r.registry.as_deref(), Some("127.0.0.1:5000"));
    assert_eq!(r.repository, "acme/dhi-python");
    assert_eq!(r.namespace(), "acme");
    let r = ok("registry.example.com/acme/x");
    assert_eq!(r.registry.as_deref(), Some("registry.example.com"));
    assert_eq!(r.tag, None);
    let r = ok("localhost/acme/x:1");
    assert_eq!(r.registry.as_deref(), Some("localhost"));
    let r = ok("localhost:5000/acme/x:1");
    assert_eq!(r.registry.as_deref(), Some("localhost:5000"));
    assert_eq!(r.repository, "acme/x");
    // A first component without `.`/`:` that is not localhost is part of the repository.
    let r = ok("myhost/acme/x:1");
    assert_eq!(r.registry, None);
    assert_eq!(r.repository, "myhost/acme/x");
    assert_eq!(r.namespace(), "myhost");
}

#[test]
fn digest_pins() {
    let r = ok(&format!("acme/dhi-python:3.13@{DIGEST}"));
    assert_eq!(r.tag.as_deref(), Some("3.13"));
    assert_eq!(r.digest.as_deref(), Some(DIGEST));
    let r = ok(&format!("localhost:5000/acme/x@{DIGEST}"));
    assert_eq!(r.tag, None);
    assert_eq!(r.digest.as_deref(), Some(DIGEST));
    err("acme/x@sha256:abc", "64 lowercase hex");
    err(&format!("acme/x@{}", DIGEST.to_uppercase()), "digest");
    err("acme/x@md5:0123456789abcdef0123456789abcdef", "sha256:");
    err("acme/x@", "digest");
}

#[test]
fn display_round_trips() {
    for s in [
        "acme/x",
        "acme/x:1",
        "127.0.0.1:5000/acme/dhi-python:3.13",
        &format!("localhost:5000/acme/x:1@{DIGEST}"),
        &format!("acme/x@{DIGEST}"),
    ] {
        assert_eq!(ok(s).to_string(), s);
    }
}

#[test]
fn with_tag_replaces_tag_and_drops_digest() {
    let r = ok(&format!("localhost:5000/acme/x:1@{DIGEST}")).with_tag("1_custom");
    assert_eq!(r.to_string(), "localhost:5000/acme/x:1_custom");
    assert_eq!(ok("acme/x:1").name(), "acme/x");
    assert_eq!(ok("h.io:1/acme/x:1").name(), "h.io:1/acme/x");
}

#[test]
fn invalid_uppercase_repository() {
    err("acme/Dhi-Python:3.13", "lowercase");
    err("Acme/x:1", "lowercase");
}

#[test]
fn invalid_components() {
    err("", "empty");
    err("acme//x:1", "empty path component");
    err("acme/x/:1", "empty path component");
    err("/acme/x", "empty path component");
    err("acme/-x", "invalid");
    err("acme/x-", "invalid");
    err("acme/x._y", "invalid");
    err("acme/x___y", "invalid");
    err("acme/x y", "invalid");
    err("acme/ünï", "invalid");
    // Accepted separators.
    for s in ["a/b.c", "a/b_c", "a/b__c", "a/b---c", "a0/9z"] {
        ok(s);
    }
}

#[test]
fn invalid_tags() {
    err("acme/x:", "tag after `:` is empty");
    err("acme/x:.1", "tag");
    err("acme/x:-1", "tag");
    err("acme/x:a+b", "tag");
    err(&format!("acme/x:{}", "a".repeat(129)), "129 characters");
    ok(&format!("acme/x:{}", "a".repeat(128)));
    ok("acme/x:_1");
}

#[test]
fn invalid_registry_hosts() {
    err("-bad.io/acme/x:1", "registry host");
    err("bad..io/acme/x:1", "registry host");
    err("host.io:/acme/x:1", "registry host");
    err("host.io:99999/acme/x:1", "registry host");
    err("host.io:5x/acme/x:1", "registry host");
    // A colon in a non-last component that is not a host.
    err("h.io/acme:1/x", "invalid");
}

#[test]
fn length_limit_is_of_the_whole_reference() {
    let long = format!("acme/{}", "a".repeat(251));
    err(&long, "at most 255");
    ok(&format!("acme/{}", "a".repeat(250)));
    err(&format!("acme/{}:{}", "a".repeat(200), "t".repeat(50)), "reference is 256 characters long; at most 255");
    ok(&format!("acme/{}:{}", "a".repeat(200), "t".repeat(49)));
}

#[test]
fn hostile_strings_do_not_panic() {
    for s in ["", ":", "@", "/", "//", ":@", "@:", "a@b@c", "a:b:c", "::::", "a/:", "\0", "é:é", "/:/"] {
        assert!(Reference::parse(s).is_err(), "{s:?}");
    }
    let huge = "a".repeat(100_000);
    assert!(Reference::parse(&huge).is_err());
    let huge_tag = format!("a:{huge}");
    let message = Reference::parse(&huge_tag).expect_err("too long");
    assert!(message.len() < 200, "messages stay short: {}", message.len());
}

#[test]
fn tag_and_repository_predicates() {
    assert!(is_valid_tag("3.13_custom"));
    assert!(is_valid_tag("_x"));
    assert!(!is_valid_tag(""));
    assert!(!is_valid_tag(".x"));
    assert!(!is_valid_tag("x/y"));
    assert!(!is_valid_tag(&"a".repeat(129)));
    assert!(is_valid_repository("acme/dhi-python"));
    assert!(!is_valid_repository("acme/DHI"));
    assert!(!is_valid_repository(""));
}
