//! `tailor up` customizes the fixture chart: every matching version built and signed; real Helm
//! pulls, lints and renders the result (defaults and a global.imageRegistry) and every
//! container image it renders is a mapped target by digest; a new chart version and a rebuilt
//! target image rebuild it; a second customization of the chart is 409; deleted, nothing more.

use std::time::{Duration, Instant};

use serde_json::Value;

use super::{package, push_targets, rendered_images, spec};
use crate::build::fixtures::{stderr, tailor};
use crate::harness::service::{Service, ServiceOptions};
use crate::harness::{Registry, RegistryOptions, free_port, helm, http};

fn builds(host: &Service, token: &str, id: &str) -> Vec<Value> {
    let r = host.get(&format!("/v1/orgs/acme/chart-customizations/{id}/builds"), token);
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()["builds"].as_array().cloned().unwrap_or_default()
}

fn wait_built(host: &Service, token: &str, id: &str, count: usize) -> Vec<Value> {
    host.wait_for(&format!("{count} build(s) of {id}"), Duration::from_secs(120), || {
        let b = builds(host, token, id);
        (b.len() >= count && b.iter().all(|b| b["status"] != "queued" && b["status"] != "running")).then_some(b)
    })
}

fn head(registry: &Registry, reference: &str) -> Option<String> {
    let (repo, tag) = reference.split_once(':').unwrap();
    let r = http::request(
        &registry.host(),
        "HEAD",
        &format!("/v2/{repo}/manifests/{tag}"),
        &[("accept", "application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json")],
        b"",
    );
    (r.status == 200).then(|| r.header("docker-content-digest").unwrap().to_owned())
}

#[test]
fn a_chart_is_customized_rendered_by_helm_and_rebuilt_when_its_images_move() {
    let work = tempfile::tempdir().unwrap();
    let port = free_port();
    let registry = Registry::start_with(RegistryOptions::notifying(port));
    let host = Service::start(&work.path().join("data"), &ServiceOptions::notified_by(&registry, port));
    let token = host.token("acme", "owner");
    let targets = push_targets(&registry, "1");
    let digest_of = |repo: &str| targets.iter().find(|(r, _)| r.starts_with(repo)).unwrap().1.clone();
    let original = package(work.path(), "1.4.2+build.7");
    helm::push(&original, &format!("oci://{}/acme", registry.host()));

    let r = host.request(
        "POST",
        "/v1/orgs/acme/chart-customizations",
        Some(&token),
        &[("content-type", "application/yaml")],
        spec("custom").as_bytes(),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let id = r.json()["id"].as_str().unwrap().to_owned();
    let b = wait_built(&host, &token, &id, 1);
    assert_eq!(b[0]["status"], "succeeded", "{b:#?}\n{}", host.log());
    let v = &b[0]["outputs"]["versions"][0];
    assert_eq!((v["status"].as_str(), v["tag"].as_str()), (Some("built"), Some("1.4.2_build.7.custom")), "{v:#}");
    assert_eq!(v["customized_version"], "1.4.2+build.7.custom");
    // The report: each rewrite, the unmapped reference, the literal template image.
    assert_eq!(v["rewrites"].as_array().unwrap().len(), 8, "{v:#}");
    let files: Vec<&str> = v["rewrites"].as_array().unwrap().iter().map(|w| w["file"].as_str().unwrap()).collect();
    assert!(files.contains(&"web/charts/cache/values.yaml"), "the unpacked subchart: {files:?}");
    assert!(
        files.contains(&"web/charts/cache/charts/exporter-0.1.0.tgz:exporter/values.yaml"),
        "the packed one: {files:?}"
    );
    assert_eq!(v["unmapped"][0]["reference"], "quay.io/debug/toolbox:2.0");
    assert_eq!(v["literal_template_images"][0]["reference"], "docker.io/library/alpine:3.20");

    // Real Helm pulls, lints and renders it; every image it deploys is a target by digest.
    let pulled =
        helm::pull(&format!("oci://{}/acme/web", registry.host()), "1.4.2+build.7.custom", &work.path().join("pulled"));
    let lint = helm::helm(&["lint", pulled.to_str().unwrap()]);
    assert_eq!(lint["errors"], Value::Array(vec![]), "{lint:#}");
    let h = registry.host();
    let mut expected = vec![
        format!("{h}/acme/dhi-busybox:1.36_custom@{}", digest_of("acme/dhi-busybox")),
        format!("{h}/acme/dhi-nginx@{}", digest_of("acme/dhi-nginx")),
        format!("{h}/acme/dhi-redis:7.2@{}", digest_of("acme/dhi-redis")),
        format!("{h}/acme/exporter:v1.1@{}", digest_of("acme/exporter")),
        format!("{h}/acme/exporter:v1.1@{}", digest_of("acme/exporter")),
        "docker.io/library/alpine:3.20".to_owned(),
    ];
    expected.sort();
    assert_eq!(rendered_images(&pulled, "{}"), expected);
    // With global.imageRegistry set at install time, the web image follows it, pinned.
    let mirrored = rendered_images(&pulled, r#"{"global": {"imageRegistry": "mirror.example"}}"#);
    assert!(
        mirrored.contains(&format!("mirror.example/acme/dhi-nginx@{}", digest_of("acme/dhi-nginx"))),
        "{mirrored:#?}"
    );
    for image in rendered_images(&pulled, "{}") {
        for from in ["dhi/nginx", "busybox:1.36@", "dhi/redis", "registry.vendor.example"] {
            assert!(
                !image.starts_with(from) && !image.contains(&format!("docker.io/{from}")),
                "{image} still names {from}"
            );
        }
    }
    // values.yaml: every comment of the original is still there, only image values changed.
    let values = |archive: &std::path::Path| helm::helm(&["show", archive.to_str().unwrap()])["values"].clone();
    assert_eq!(values(&pulled)["replicaCount"], values(&original)["replicaCount"]);
    let text = |archive: &std::path::Path| {
        let out =
            std::process::Command::new("tar").args(["-xzOf"]).arg(archive).arg("web/values.yaml").output().unwrap();
        String::from_utf8(out.stdout).unwrap()
    };
    let (before, after) = (text(&original), text(&pulled));
    for comment in before.lines().filter_map(|l| l.find('#').map(|i| &l[i..])) {
        assert!(after.contains(comment), "comment {comment:?} lost:\n{after}");
    }
    assert_eq!(before.lines().count(), after.lines().count());
    // Signed with the service's key, with provenance naming the source chart and every image.
    let public = host.data.join("keys/tailor.pub");
    let o = tailor(
        &[
            "verify",
            "acme/web:1.4.2_build.7.custom",
            "--key",
            public.to_str().unwrap(),
            "--registry",
            &registry.url(),
            "--type",
            "slsaprovenance1",
            "--output",
            "json",
        ],
        &[],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let verified: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(verified["attestations"][0]["resolvedDependencies"].as_array().unwrap().len(), 5, "{verified:#}");

    // A new chart version: customized automatically.
    helm::push(&package(work.path(), "1.5.0"), &format!("oci://{}/acme", registry.host()));
    host.wait_for("1.5.0_custom", Duration::from_secs(60), || head(&registry, "acme/web:1.5.0_custom"));
    let before_rebuild = head(&registry, "acme/web:1.5.0_custom").unwrap();
    wait_built(&host, &token, &id, 2);

    // A mapped image rebuilt: the chart follows with no person involved.
    let moved_at = Instant::now();
    let nginx2 =
        crate::mirror::vendor_push(&registry, "acme/dhi-nginx:1.25", "linux/amd64", &[("/etc/image", "nginx 2")]);
    let after_rebuild = host.wait_for("the chart rebuilt", Duration::from_secs(60), || {
        head(&registry, "acme/web:1.5.0_custom").filter(|d| *d != before_rebuild)
    });
    eprintln!("mapped image pushed → customized chart tag moved: {} ms", moved_at.elapsed().as_millis());
    let repulled =
        helm::pull(&format!("oci://{}/acme/web", registry.host()), "1.5.0+custom", &work.path().join("repulled"));
    assert!(rendered_images(&repulled, "{}").iter().any(|i| i.ends_with(&format!("acme/dhi-nginx@{nginx2}"))));
    assert_ne!(after_rebuild, before_rebuild);

    // One customization per chart repository.
    let r = host.request(
        "POST",
        "/v1/orgs/acme/chart-customizations",
        Some(&token),
        &[("content-type", "application/yaml")],
        spec("other").as_bytes(),
    );
    assert_eq!((r.status, r.code()), (409, "conflict".into()), "{}", r.text());
    assert!(r.text().contains(&id));

    // Deleted: a new version is not customized.
    let settled = wait_built(&host, &token, &id, 3);
    assert!(settled.iter().all(|b| b["status"] != "failed"), "{settled:#?}");
    let r = host.request("DELETE", &format!("/v1/orgs/acme/chart-customizations/{id}"), Some(&token), &[], b"");
    assert_eq!(r.status, 204, "{}", r.text());
    helm::push(&package(work.path(), "1.6.0"), &format!("oci://{}/acme", registry.host()));
    std::thread::sleep(Duration::from_secs(3));
    assert!(head(&registry, "acme/web:1.6.0_custom").is_none());
    assert!(!host.log().contains("panicked"), "{}", host.log());
}
