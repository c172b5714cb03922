//! `tailor mirror copy`: the one-shot mirror for CI — the same copy as the service's sync,
//! JSON output, exit codes (0 all synced, 1 something refused or failed, 2 invalid input).

use serde_json::Value;

use super::{digest_of, key, vendor_push, vendor_sign};
use crate::build::fixtures::{stderr, tailor};
use crate::harness::Registry;

#[test]
fn the_one_shot_copy_mirrors_and_reports_in_json_with_exit_codes() {
    let work = tempfile::tempdir().unwrap();
    let (upstream, org) = (Registry::start(), Registry::start());
    let (vendor, vendor_pub, _) = key(work.path(), "vendor");
    let signed = vendor_push(&upstream, "vendor/tool:1", "linux/amd64,linux/arm64", &[("/bin/tool", "v1")]);
    vendor_push(&upstream, "vendor/tool:2-unsigned", "linux/amd64", &[("/bin/tool", "v2")]);
    vendor_sign(&upstream, "vendor/tool", &signed, &vendor);
    let source = format!("{}/vendor/tool", upstream.host());
    let org_url = org.url();
    let run = |extra: &[&str]| {
        let mut args = vec!["mirror", "copy", &source, "acme/tool", "--registry", &org_url, "--output", "json", "-q"];
        args.extend_from_slice(extra);
        let o = tailor(&args, &[]);
        let v: Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", stderr(&o)));
        (o.status.code(), v)
    };
    let (code, v) = run(&["--tag", "1"]);
    assert_eq!((code, v["status"].as_str()), (Some(0), Some("succeeded")), "{v:#}");
    assert_eq!(v["tags"][0]["action"], "copied");
    assert_eq!(digest_of(&org, "acme/tool:1"), signed);
    let o = tailor(&["verify", "acme/tool:1", "--key", vendor_pub.to_str().unwrap(), "--registry", &org.url()], &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    // Again: nothing to do.
    let (code, v) = run(&["--tag", "1"]);
    assert_eq!(
        (code, v["tags"][0]["action"].as_str(), v["bytes_copied"].as_u64()),
        (Some(0), Some("unchanged"), Some(0))
    );
    // With the vendor's key, the unsigned tag is refused: exit 1, and it is not there.
    let (code, v) = run(&["--verify-key", vendor_pub.to_str().unwrap()]);
    assert_eq!((code, v["status"].as_str()), (Some(1), Some("partial")), "{v:#}");
    let refused = v["tags"].as_array().unwrap().iter().find(|t| t["tag"] == "2-unsigned").unwrap();
    assert_eq!(refused["action"], "refused");
    let r = crate::harness::http::request(&org.host(), "HEAD", "/v2/acme/tool/manifests/2-unsigned", &[], b"");
    assert_eq!(r.status, 404);
    // Invalid input: exit 2 with the problem named.
    let (code, v) = run(&["--tag", "bad/glob"]);
    assert_eq!(code, Some(2), "{v:#}");
    assert!(v["error"]["message"].as_str().unwrap().contains("tags[0]"), "{v:#}");
    let o = tailor(&["mirror", "copy", "vendor/tool", "acme/tool", "--registry", &org.url()], &[]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("names no registry host"), "{}", stderr(&o));
    // Text output and progress go to stdout and stderr.
    let o = tailor(&["mirror", "copy", &source, "acme/tool2", "--registry", &org.url(), "--tag", "1"], &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("copied    acme/tool2:1") && out.contains("succeeded: 1 tag(s)"), "{out}");
    assert!(stderr(&o).contains("1: copied"), "{}", stderr(&o));
}
