//! tailor's own Helm chart (packaging/helm/tailor), packaged, linted and rendered by real Helm:
//! the API and worker Deployments with probes on the health endpoints, the Secrets, the
//! PodDisruptionBudgets, the optional HorizontalPodAutoscaler and the SpinKube SpinApp; and
//! every tailor command line it renders is accepted by this tailor's own argument parser.

use std::process::Command;

use serde_json::{Value, json};

use crate::harness::helm::{helm, package, try_helm};
use crate::harness::root;

/// The rendered manifests (every YAML document), by kind and name.
fn render(archive: &str, values: &Value) -> Vec<Value> {
    let out = helm(&["render", archive, &values.to_string()]);
    let mut docs = Vec::new();
    for (path, text) in out["manifests"].as_object().unwrap() {
        if path.ends_with("NOTES.txt") {
            continue;
        }
        let text = text.as_str().unwrap_or_default();
        for doc in serde_yaml::Deserializer::from_str(text) {
            let v: Value = serde::Deserialize::deserialize(doc).unwrap_or_else(|e| panic!("{path}: {e}\n{text}"));
            if !v.is_null() {
                docs.push(v);
            }
        }
    }
    docs
}

fn find<'a>(docs: &'a [Value], kind: &str, name: &str) -> Option<&'a Value> {
    docs.iter().find(|d| d["kind"] == kind && d["metadata"]["name"] == name)
}

fn container(doc: &Value) -> &Value {
    &doc["spec"]["template"]["spec"]["containers"][0]
}

fn args(doc: &Value) -> Vec<String> {
    container(doc)["args"].as_array().unwrap().iter().map(|a| a.as_str().unwrap().to_owned()).collect()
}

/// The rendered command line parses: `tailor ARGS… --help` fails on any unknown flag.
fn accepted_by_tailor(args: &[String]) {
    let out = Command::new(crate::build::fixtures::tailor_bin()).args(args).arg("--help").output().unwrap();
    assert!(out.status.success(), "tailor {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn tailors_chart_lints_and_renders_what_runs() {
    let work = tempfile::tempdir().unwrap();
    let archive = package(&root().join("packaging/helm/tailor"), work.path());
    let archive = archive.to_str().unwrap();
    let lint = helm(&["lint", archive]);
    assert_eq!(lint["errors"], json!([]), "{lint}");
    assert!(
        lint["messages"].as_array().unwrap().iter().all(|m| m["severity"].as_i64() < Some(2)),
        "no warnings: {lint}"
    );

    // Defaults: two API replicas, two workers, the database URL in a Secret, two PDBs.
    let docs = render(archive, &json!({}));
    let api = find(&docs, "Deployment", "release-tailor-api").expect("the API Deployment");
    let worker = find(&docs, "Deployment", "release-tailor-worker").expect("the worker Deployment");
    assert_eq!((api["spec"]["replicas"].as_i64(), worker["spec"]["replicas"].as_i64()), (Some(2), Some(2)));
    assert_eq!(args(api)[0], "serve");
    assert_eq!(args(worker)[0], "worker");
    for (doc, port) in [(api, "http"), (worker, "metrics")] {
        let c = container(doc);
        assert_eq!(c["livenessProbe"]["httpGet"], json!({"path": "/healthz", "port": port}));
        assert_eq!(c["readinessProbe"]["httpGet"], json!({"path": "/readyz", "port": port}));
        assert_eq!(c["securityContext"]["readOnlyRootFilesystem"], true);
        let env = c["env"].as_array().unwrap();
        let db = env.iter().find(|e| e["name"] == "TAILOR_DATABASE_URL").expect("the database URL from a Secret");
        assert_eq!(db["valueFrom"]["secretKeyRef"], json!({"name": "release-tailor-database", "key": "url"}));
        assert_eq!(doc["spec"]["template"]["spec"]["securityContext"]["runAsUser"], 10001);
    }
    let secret = find(&docs, "Secret", "release-tailor-database").expect("the database Secret");
    assert_eq!(secret["stringData"]["url"], "postgres://tailor@postgres:5432/tailor");
    assert!(find(&docs, "PodDisruptionBudget", "release-tailor-api").is_some());
    assert!(find(&docs, "PodDisruptionBudget", "release-tailor-worker").is_some());
    assert!(find(&docs, "HorizontalPodAutoscaler", "release-tailor-worker").is_none());
    assert_eq!(
        find(&docs, "Service", "release-tailor").expect("the API Service")["spec"]["ports"][0]["targetPort"],
        "http"
    );
    let job = docs.iter().find(|d| d["kind"] == "Job").expect("the migration hook");
    assert_eq!(job["metadata"]["annotations"]["helm.sh/hook"], "pre-install,pre-upgrade");
    for doc in [api, worker, job] {
        let mut a: Vec<String> =
            container(doc)["args"].as_array().unwrap().iter().map(|a| a.as_str().unwrap().to_owned()).collect();
        a.retain(|x| x != "--output" && x != "json");
        accepted_by_tailor(&a);
    }

    // Production values: secrets of one's own, a pinned image, webhooks, autoscaled workers.
    let values = json!({
        "image": {"digest": "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"},
        "database": {"existingSecret": "tailor-db", "existingSecretKey": "dsn"},
        "signingKey": {"existingSecret": "tailor-key"},
        "registry": {"url": "https://registry.internal", "credentialsSecret": "regcred"},
        "webhooks": {"reg": "s3cret"},
        "upstreams": {"dhi.io": "https://dhi.io"},
        "worker": {"autoscaling": {"enabled": true, "maxReplicas": 20}, "concurrency": 2}
    });
    let docs = render(archive, &values);
    assert!(find(&docs, "Secret", "release-tailor-database").is_none(), "an existing Secret is used as is");
    let api = find(&docs, "Deployment", "release-tailor-api").unwrap();
    let worker = find(&docs, "Deployment", "release-tailor-worker").unwrap();
    assert!(
        container(api)["image"]
            .as_str()
            .unwrap()
            .ends_with("@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")
    );
    assert!(worker["spec"]["replicas"].is_null(), "the HPA owns the replica count");
    let hpa = find(&docs, "HorizontalPodAutoscaler", "release-tailor-worker").expect("the HPA");
    assert_eq!(hpa["spec"]["maxReplicas"], 20);
    assert_eq!(hpa["spec"]["metrics"][0]["external"]["metric"]["name"], "tailor_queue_depth");
    let a = args(api);
    assert!(a.windows(2).any(|w| w == ["--webhook", "reg=$(WEBHOOK_REG)"]), "{a:?}");
    assert!(a.windows(2).any(|w| w == ["--upstream", "dhi.io=https://dhi.io"]), "{a:?}");
    assert!(!serde_json::to_string(api).unwrap().contains("s3cret"), "webhook secrets only in a Secret");
    let w = args(worker);
    assert!(w.windows(2).any(|p| p == ["--key", "/etc/tailor/key/tailor.key"]), "{w:?}");
    assert!(!a.contains(&"--key".to_owned()), "the API never holds the signing key");
    let worker_env = serde_json::to_string(&container(worker)["env"]).unwrap();
    assert!(worker_env.contains("DOCKER_CONFIG") && worker_env.contains("\"key\":\"dsn\""), "{worker_env}");
    assert!(
        !serde_json::to_string(&container(api)["env"]).unwrap().contains("DOCKER_CONFIG"),
        "registry credentials only for workers"
    );
    for doc in [api, worker] {
        let resolved: Vec<String> = args(doc).iter().map(|x| x.replace("$(WEBHOOK_REG)", "s3cret")).collect();
        accepted_by_tailor(&resolved);
    }

    // SpinKube: a SpinApp with the same components instead of the API Deployment.
    let docs = render(archive, &json!({"spinkube": {"enabled": true}, "webhooks": {"reg": "s3cret"}}));
    assert!(find(&docs, "Deployment", "release-tailor-api").is_none());
    assert!(find(&docs, "Deployment", "release-tailor-worker").is_some());
    let app = find(&docs, "SpinApp", "release-tailor").expect("the SpinApp");
    let vars = app["spec"]["variables"].as_array().unwrap();
    let var =
        |n: &str| vars.iter().find(|v| v["name"] == n).cloned().unwrap_or_else(|| panic!("variable {n}: {vars:?}"));
    assert_eq!(var("database_host")["value"], "postgres:5432");
    assert_eq!(var("database_url")["valueFrom"]["secretKeyRef"]["name"], "release-tailor-database");
    let endpoints = find(&docs, "Secret", "release-tailor-spin-webhooks").expect("the webhook endpoints variable");
    assert_eq!(endpoints["stringData"]["endpoints"], "reg=s3cret");
    // …and the variables are the ones spin.toml declares.
    let manifest = std::fs::read_to_string(root().join("spin.toml")).unwrap();
    for v in vars {
        assert!(
            manifest.contains(&format!("\n{} = {{", v["name"].as_str().unwrap())),
            "{v} is not a spin.toml variable"
        );
    }

    // A bad combination fails at render time, saying what to set.
    let e = try_helm(&[
        "render",
        archive,
        &json!({"spinkube": {"enabled": true}, "database": {"existingSecret": "x"}}).to_string(),
    ])
    .unwrap_err();
    assert!(e.contains("database.host"), "{e}");
}

/// tailor customizes its own chart (issue F on tailor's chart): every image it deploys becomes
/// the org's build of tailor's image, pinned by digest, and Helm renders it so.
#[test]
fn tailor_customizes_its_own_chart() {
    let work = tempfile::tempdir().unwrap();
    let registry = crate::harness::Registry::start();
    let archive = package(&root().join("packaging/helm/tailor"), work.path());
    crate::harness::helm::push(&archive, &format!("oci://{}/acme/charts", registry.host()));
    crate::harness::service::push_files(
        &registry.url(),
        "acme/tailor:0.1.0_debian12",
        "linux/amd64",
        &[("/usr/local/bin/tailor", b"#!/bin/sh\n")],
    );
    crate::harness::service::push_files(
        &registry.url(),
        "acme/tailor-functions:0.1.0",
        "linux/amd64",
        &[("/spin.toml", b"spin_manifest_version = 2\n")],
    );
    let raw = crate::harness::skopeo_inspect_raw(&format!("{}/acme/tailor:0.1.0_debian12", registry.host()), None);
    let digest = format!("sha256:{}", hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&raw)));
    let spec = work.path().join("tailor-chart.yaml");
    std::fs::write(
        &spec,
        "name: tailor-acme\nsource: acme/charts/tailor\ntag_suffix: acme\nreference_mapping:\n  \
         - {from: registry.example.com/tailor/tailor, to: \"acme/tailor:0.1.0_debian12\"}\n  \
         - {from: registry.example.com/tailor/functions, to: acme/tailor-functions}\nstrict: true\n",
    )
    .unwrap();
    let o = crate::build::fixtures::tailor(
        &["chart", "build", "-f", spec.to_str().unwrap(), "--registry", &registry.url(), "--output", "json", "-q"],
        &[],
    );
    assert!(o.status.success(), "{}\n{}", String::from_utf8_lossy(&o.stdout), crate::build::fixtures::stderr(&o));
    let pulled = crate::harness::helm::pull(
        &format!("oci://{}/acme/charts/tailor", registry.host()),
        "0.1.0+acme",
        &work.path().join("pulled"),
    );
    let docs = render(pulled.to_str().unwrap(), &json!({}));
    let expected = format!("{}/acme/tailor", registry.host());
    for kind_name in [("Deployment", "release-tailor-api"), ("Deployment", "release-tailor-worker")] {
        let doc = find(&docs, kind_name.0, kind_name.1).unwrap();
        let image = container(doc)["image"].as_str().unwrap();
        assert!(image.starts_with(&expected) && image.ends_with(&format!("@{digest}")), "{kind_name:?}: {image}");
    }
    let job = docs.iter().find(|d| d["kind"] == "Job").unwrap();
    assert!(container(job)["image"].as_str().unwrap().ends_with(&format!("@{digest}")));
    let docs = render(pulled.to_str().unwrap(), &json!({"spinkube": {"enabled": true}}));
    let app = find(&docs, "SpinApp", "release-tailor").unwrap();
    let image = app["spec"]["image"].as_str().unwrap();
    assert!(image.starts_with(&format!("{}/acme/tailor-functions:0.1.0@sha256:", registry.host())), "{image}");
}
