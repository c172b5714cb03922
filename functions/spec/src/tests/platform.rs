use crate::Platform;

#[test]
fn parses_two_and_three_parts() {
    let p = Platform::parse("linux/amd64").expect("valid");
    assert_eq!((p.os.as_str(), p.architecture.as_str()), ("linux", "amd64"));
    assert_eq!(p.variant, None);
    let p = Platform::parse("linux/arm64/v8").expect("valid");
    assert_eq!(p.variant.as_deref(), Some("v8"));
    assert_eq!(p.to_string(), "linux/arm64/v8");
}

#[test]
fn rejects_bad_shapes_and_case() {
    for (s, phrase) in [
        ("linux", "os/architecture"),
        ("linux/arm64/v8/x", "os/architecture"),
        ("", "os/architecture"),
        ("/amd64", "os is empty"),
        ("linux/", "architecture is empty"),
        ("linux/arm64/", "variant is empty"),
        ("Linux/amd64", "lowercase"),
        ("linux/AMD64", "lowercase"),
        ("linux/amd 64", "may only contain"),
        ("linux/amd64\0", "may only contain"),
    ] {
        let e = Platform::parse(s).expect_err(s);
        assert!(e.contains(phrase), "{s:?}: `{e}` lacks `{phrase}`");
    }
}

#[test]
fn orders_and_hashes() {
    use std::collections::HashSet;
    let a = Platform::parse("linux/amd64").expect("valid");
    let b = Platform::parse("linux/arm64").expect("valid");
    let c = Platform::parse("linux/arm64/v8").expect("valid");
    assert!(a < b && b < c);
    let set: HashSet<Platform> = [a.clone(), a, b].into_iter().collect();
    assert_eq!(set.len(), 2);
}
