//! A vendor's upstream (real registry) mirrored by `tailor up` into the org's registry: images
//! byte for byte with their signatures and attestations, tags filtered by globs, a Helm chart
//! pulled and rendered by real Helm from the copy, verify keys refusing what the vendor did
//! not sign, re-syncs with nothing to do, the mirrors on the repository list.

use std::process::Command;

use serde_json::{Value, json};

use super::{action, create_mirror, digest_of, key, vendor_push, vendor_sign, wait_sync};
use crate::build::fixtures::{stderr, tailor};
use crate::harness::service::{Service, ServiceOptions};
use crate::harness::{Registry, helm, skopeo_inspect_raw};
use crate::sign::{fetch_signature, openssl_verifies};

#[test]
fn mirrors_copy_images_charts_and_signatures_byte_for_byte() {
    let work = tempfile::tempdir().unwrap();
    let (upstream, org) = (Registry::start(), Registry::start());
    let (vendor, vendor_pub, vendor_pem) = key(work.path(), "vendor");
    let (other, _, _) = key(work.path(), "other");

    // The vendor's repository: two signed tags, an unsigned one, one signed by someone else.
    let files =
        |v: &str| vec![("/etc/os-release", format!("ID=vendor\nVERSION_ID={v}\n")), ("/opt/app/bin", v.repeat(5000))];
    let push = |tag: &str| {
        let f = files(tag);
        let f: Vec<(&str, &str)> = f.iter().map(|(p, c)| (*p, c.as_str())).collect();
        vendor_push(&upstream, &format!("vendor/python:{tag}"), "linux/amd64,linux/arm64", &f)
    };
    let d313 = push("3.13");
    let d312 = push("3.12");
    let d27 = push("2.7");
    let d311 = push("3.11");
    vendor_sign(&upstream, "vendor/python", &d313, &vendor);
    vendor_sign(&upstream, "vendor/python", &d312, &vendor);
    vendor_sign(&upstream, "vendor/python", &d311, &other);
    // A chart, pushed by real Helm.
    let chart = helm::create("web", work.path());
    let archive = helm::package(&chart, work.path());
    helm::push(&archive, &format!("oci://{}/vendor", upstream.host()));

    let host = Service::start(
        &work.path().join("data"),
        &ServiceOptions {
            registry: Some(org.url()),
            extra: vec!["--upstream".into(), format!("{}={}", upstream.host(), upstream.url())],
            ..ServiceOptions::default()
        },
    );
    let owner = host.token("acme", "owner");
    let up = upstream.host();
    let python = create_mirror(&host, &owner, &json!({"source": format!("{up}/vendor/python"), "tags": ["3.1*"]}));
    let web = create_mirror(&host, &owner, &json!({"source": format!("{up}/vendor/web"), "poll_interval_s": 0}));
    let verified = create_mirror(
        &host,
        &owner,
        &json!({"source": format!("{up}/vendor/python"), "destination": "acme/verified-python", "verify_keys": [vendor_pem]}),
    );
    assert_eq!(python["destination"], "acme/dhi-python");
    let id = |m: &Value| m["id"].as_str().unwrap().to_owned();

    // Images: the tags the globs select, byte for byte, with the vendor's signatures.
    let s = wait_sync(&host, &owner, &id(&python), 1);
    assert_eq!(s["status"], "succeeded", "{s:#}\n{}", host.log());
    assert_eq!(s["tags"].as_array().unwrap().len(), 3, "3.13, 3.12, 3.11; not 2.7: {s:#}");
    for (tag, digest) in [("3.13", &d313), ("3.12", &d312), ("3.11", &d311)] {
        assert_eq!(action(&s, tag), "copied");
        let theirs = skopeo_inspect_raw(&format!("{up}/vendor/python:{tag}"), None);
        let ours = skopeo_inspect_raw(&format!("{}/acme/dhi-python:{tag}", org.host()), None);
        assert_eq!(ours, theirs, "{tag}: the same bytes");
        assert_eq!(&digest_of(&org, &format!("acme/dhi-python:{tag}")), digest);
    }
    let tags = |r: &Registry, repo: &str| -> Vec<String> {
        let r = crate::harness::http::request(&r.host(), "GET", &format!("/v2/{repo}/tags/list"), &[], b"");
        let mut t: Vec<String> =
            r.json()["tags"].as_array().unwrap().iter().map(|t| t.as_str().unwrap().to_owned()).collect();
        t.sort();
        t
    };
    let copied = tags(&org, "acme/dhi-python");
    assert!(!copied.contains(&"2.7".to_owned()), "{copied:?}");
    // Every signature and attestation of the copied tags came along (2.7 has none).
    assert!(copied.contains(&format!("{}.sig", d313.replace(':', "-"))), "{copied:?}");
    let attached =
        |tags: Vec<String>| -> Vec<String> { tags.into_iter().filter(|t| t.starts_with("sha256-")).collect() };
    assert_eq!(attached(copied.clone()), attached(tags(&upstream, "vendor/python")));
    assert_eq!(attached(copied.clone()).len(), 15, "3 × (3 signatures + 2 attestations)");
    // The vendor's signature verifies on the copy: with tailor verify, and with openssl.
    let o = tailor(
        &["verify", "acme/dhi-python:3.13", "--key", vendor_pub.to_str().unwrap(), "--registry", &org.url()],
        &[],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let o = tailor(
        &[
            "verify",
            "acme/dhi-python:3.13",
            "--key",
            vendor_pub.to_str().unwrap(),
            "--registry",
            &org.url(),
            "--type",
            "slsaprovenance1",
        ],
        &[],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    for (payload, der) in fetch_signature(&org, "acme/dhi-python", &d313) {
        assert!(openssl_verifies(&vendor_pub, &payload, &der));
    }

    // The chart: pulled from the copy and rendered by real Helm.
    let s = wait_sync(&host, &owner, &id(&web), 1);
    assert_eq!((s["status"].as_str(), action(&s, "0.1.0").as_str()), (Some("succeeded"), "copied"), "{s:#}");
    let pulled = helm::pull(&format!("oci://{}/acme/dhi-web", org.host()), "0.1.0", &work.path().join("pulled"));
    let rendered = helm::helm(&["render", pulled.to_str().unwrap(), "{}"]);
    assert!(rendered["manifests"]["web/templates/deployment.yaml"].as_str().unwrap().contains("kind: Deployment"));
    assert_eq!(std::fs::read(&pulled).unwrap(), std::fs::read(&archive).unwrap(), "the chart archive is the vendor's");

    // Verify keys: only what the vendor signed enters; the rest is refused and never appears.
    let s = wait_sync(&host, &owner, &id(&verified), 1);
    assert_eq!(s["status"], "partial", "{s:#}");
    assert_eq!((action(&s, "3.13"), action(&s, "3.12")), ("copied".into(), "copied".into()));
    assert_eq!((action(&s, "2.7"), action(&s, "3.11")), ("refused".into(), "refused".into()));
    let reason = |tag: &str| {
        s["tags"].as_array().unwrap().iter().find(|t| t["tag"] == tag).unwrap()["reason"].as_str().unwrap().to_owned()
    };
    assert!(reason("2.7").contains("carries no cosign signature"), "{s:#}");
    assert!(reason("3.11").contains("another key"), "{s:#}");
    let verified_tags = tags(&org, "acme/verified-python");
    assert!(!verified_tags.iter().any(|t| t == "2.7" || t == "3.11"), "{verified_tags:?}");
    for refused in [&d27, &d311] {
        let r = crate::harness::http::request(
            &org.host(),
            "HEAD",
            &format!("/v2/acme/verified-python/manifests/{refused}"),
            &[],
            b"",
        );
        assert_eq!(r.status, 404, "nothing of a refused tag entered the org");
    }
    let log = host.get(&format!("/v1/orgs/acme/mirrors/{}/syncs/1/log", id(&verified)), &owner).text();
    assert!(log.contains("2.7: refused") && log.contains("3.13: copied"), "{log}");

    // Sync now with nothing new: every tag unchanged, nothing copied.
    let r = host.request("POST", &format!("/v1/orgs/acme/mirrors/{}/syncs", id(&python)), Some(&owner), &[], b"");
    assert_eq!(r.status, 202, "{}", r.text());
    let s = wait_sync(&host, &owner, &id(&python), 2);
    assert_eq!(s["status"], "succeeded");
    assert!(s["tags"].as_array().unwrap().iter().all(|t| t["action"] == "unchanged"), "{s:#}");
    assert_eq!((s["outputs"]["bytes_copied"].clone(), s["outputs"]["manifests_copied"].clone()), (json!(0), json!(0)));

    // The repositories: mirrored ones say so, with their tags and platforms.
    let repos = host.get("/v1/orgs/acme/repositories", &owner).json();
    let repo = repos["repositories"].as_array().unwrap().iter().find(|r| r["repository"] == "acme/dhi-python").unwrap();
    assert_eq!(repo["mirror"]["source"], format!("{up}/vendor/python"));
    assert_eq!(repo["mirror"]["last_sync"]["status"], "succeeded");
    let t313 = repo["tags"].as_array().unwrap().iter().find(|t| t["tag"] == "3.13").unwrap();
    assert_eq!(
        (t313["digest"].as_str(), t313["platforms"].clone()),
        (Some(d313.as_str()), json!(["linux/amd64", "linux/arm64"]))
    );
    // skopeo copies the mirrored image out again (an independent reader of the whole tree).
    let out = work.path().join("oci");
    crate::harness::run(Command::new("skopeo").args([
        "copy",
        "--all",
        "--quiet",
        "--src-tls-verify=false",
        "--src-no-creds",
        &format!("docker://{}/acme/dhi-python:3.12", org.host()),
        &format!("oci:{}:x", out.display()),
    ]));
}
