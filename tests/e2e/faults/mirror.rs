//! Mirroring through faults on both sides: the vendor's registry and the org's each behind a
//! fault proxy. Transient faults pass on retries and the copy verifies with the vendor's key;
//! a fault that does not pass fails the tag with the registry's answer, and no tag of the
//! org's registry points at missing content.

use serde_json::Value;

use super::check_every_tag;
use crate::build::fixtures::{stderr, tailor};
use crate::harness::Registry;
use crate::harness::faults::{Fault, FaultProxy};
use crate::mirror::{digest_of, key, vendor_push, vendor_sign};

#[test]
fn mirroring_retries_faults_on_both_registries_and_never_tags_missing_content() {
    let work = tempfile::tempdir().unwrap();
    let (upstream, org) = (Registry::start(), Registry::start());
    let (vendor, vendor_pub, _) = key(work.path(), "vendor");
    let big = "x".repeat(200_000);
    let one = vendor_push(&upstream, "vendor/tool:1", "linux/amd64,linux/arm64", &[("/bin/tool", &big)]);
    vendor_sign(&upstream, "vendor/tool", &one, &vendor);
    let two = vendor_push(&upstream, "vendor/tool:2", "linux/amd64", &[("/bin/tool", "v2")]);
    vendor_sign(&upstream, "vendor/tool", &two, &vendor);
    let (from, to) = (FaultProxy::start(&upstream.host()), FaultProxy::start(&org.host()));
    let source = format!("{}/vendor/tool", from.host());
    let copy = |tag: &str| {
        let o = tailor(
            &[
                "mirror",
                "copy",
                &source,
                "acme/tool",
                "--registry",
                &to.url(),
                "--tag",
                tag,
                "--verify-key",
                vendor_pub.to_str().unwrap(),
                "--output",
                "json",
                "-q",
            ],
            &[],
        );
        let v: Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", stderr(&o)));
        (o.status.code(), v)
    };

    // Transient faults on reads from the vendor and on writes to the org.
    from.on_times("GET", "/blobs/", Fault::Reset { after: 5_000 }, 1)
        .on_times("GET", "/blobs/", Fault::Cut { after: 9_000 }, 1)
        .on_times("GET", "/manifests/", Fault::Status(502), 1)
        .on_times("GET", "/manifests/", Fault::TooMany { retry_after: 1 }, 1);
    to.on_times("HEAD", "/blobs/", Fault::Status(500), 1)
        .on_times("POST", "/blobs/uploads/", Fault::Status(503), 1)
        .on_times("PUT", "/blobs/uploads/", Fault::Reset { after: 0 }, 1)
        .on_times("PUT", "/manifests/", Fault::TooMany { retry_after: 1 }, 1);
    let (code, v) = copy("1");
    assert_eq!((code, v["status"].as_str()), (Some(0), Some("succeeded")), "{v:#}");
    assert!(from.faults() >= 4 && to.faults() >= 4, "{:?}\n{:?}", from.requests(), to.requests());
    assert_eq!(digest_of(&org, "acme/tool:1"), one);
    let o = tailor(&["verify", "acme/tool:1", "--key", vendor_pub.to_str().unwrap(), "--registry", &org.url()], &[]);
    assert!(o.status.success(), "the mirrored image and its signatures: {}", stderr(&o));
    let tags = check_every_tag(&org);

    // The org's registry refuses every manifest: tag 2 fails with the registry's answer, and
    // nothing points at what was half copied.
    from.clear();
    to.clear();
    to.on("PUT", "/manifests/", Fault::Status(503));
    let (code, v) = copy("2");
    assert_eq!(code, Some(1), "{v:#}");
    let tag = &v["tags"][0];
    assert_eq!(tag["action"], "failed", "{v:#}");
    assert!(tag["reason"].as_str().unwrap_or_default().contains("503"), "{v:#}");
    assert_eq!(check_every_tag(&org), tags, "a failed copy changed the org's tags");

    // The vendor's registry resets every blob read: the same.
    to.clear();
    from.on("GET", "/blobs/", Fault::Reset { after: 100 });
    let (code, v) = copy("2");
    assert_eq!(code, Some(1), "{v:#}");
    assert_eq!(check_every_tag(&org), tags, "a failed copy changed the org's tags");

    // The faults gone, tag 2 is copied and verifies.
    from.clear();
    let (code, v) = copy("2");
    assert_eq!(code, Some(0), "{v:#}");
    assert_eq!(digest_of(&org, "acme/tool:2"), two);
    let o = tailor(&["verify", "acme/tool:2", "--key", vendor_pub.to_str().unwrap(), "--registry", &org.url()], &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    check_every_tag(&org);
}
