//! Hostile and broken charts, and bad specs, refused clearly by `tailor chart build` against the
//! real registry — with nothing pushed: chart archives with `../` or absolute paths, symlinks, a
//! bomb, malformed Chart.yaml and values.yaml; a `from` that is not a repository, a `to` outside
//! the org; a target image that does not exist.

use std::io::Write;

use flate2::Compression;
use flate2::write::GzEncoder;
use serde_json::{Value, json};
use tailor_oci::{BlobSource, Client, Digest, Quiet, RegistryConfig, Scope, media};

use super::{push_targets, spec};
use crate::build::fixtures::{stderr, tailor};
use crate::harness::{Registry, http};

const HELM_CONFIG: &str = "application/vnd.cncf.helm.config.v1+json";
const HELM_CHART: &str = "application/vnd.cncf.helm.chart.content.v1.tar+gzip";

/// A tar.gz with these raw entries (names written byte for byte: hostile archives say anything).
fn tgz(entries: &[(&str, tar::EntryType, &[u8], &str)]) -> Vec<u8> {
    let mut tar = tar::Builder::new(GzEncoder::new(Vec::new(), Compression::fast()));
    for (name, kind, data, link) in entries {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(*kind);
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        if !link.is_empty() {
            h.set_link_name(link).unwrap();
        }
        h.as_old_mut().name[..name.len()].copy_from_slice(name.as_bytes());
        h.set_cksum();
        tar.append(&h, *data).unwrap();
    }
    let mut gz = tar.into_inner().unwrap();
    gz.flush().unwrap();
    gz.finish().unwrap()
}

/// Pushes `archive` as chart version `version` of acme/web, the way Helm stores charts.
fn push_chart(client: &Client, version: &str, archive: &[u8]) {
    let config = serde_json::to_vec(&json!({"apiVersion": "v2", "name": "web", "version": version})).unwrap();
    let put = |bytes: &[u8]| {
        let d = Digest::of(bytes);
        client.put_blob("acme/web", &d, bytes.len() as u64, &BlobSource::Bytes(bytes.to_vec().into()), &Quiet).unwrap();
        d
    };
    let (c, l) = (put(&config), put(archive));
    let manifest = serde_json::to_vec(&json!({"schemaVersion": 2,
        "config": {"mediaType": HELM_CONFIG, "digest": c.as_str(), "size": config.len()},
        "layers": [{"mediaType": HELM_CHART, "digest": l.as_str(), "size": archive.len()}]}))
    .unwrap();
    client.put_manifest("acme/web", version, media::OCI_MANIFEST, &manifest).unwrap();
}

#[test]
fn hostile_charts_and_bad_specs_are_refused_and_nothing_is_pushed() {
    let work = tempfile::tempdir().unwrap();
    let registry = Registry::start();
    push_targets(&registry, "1");
    let client = Client::registry(RegistryConfig::new(registry.url()), Scope::new(["acme"], ["acme/web"])).unwrap();
    use tar::EntryType::{Regular, Symlink};
    let chart_yaml: &[u8] = b"apiVersion: v2\nname: web\nversion: 1.0.0\n";
    let zeros = vec![0u8; 40 << 20];
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "1.0.1",
            tgz(&[("web/Chart.yaml", Regular, chart_yaml, ""), ("web/../../etc/cron.d/x", Regular, b"x", "")]),
            "`..` path",
        ),
        ("1.0.2", tgz(&[("/etc/passwd", Regular, b"root::0:0::/:/bin/sh\n", "")]), "absolute"),
        (
            "1.0.3",
            tgz(&[("web/Chart.yaml", Regular, chart_yaml, ""), ("web/values.yaml", Symlink, b"", "/etc/shadow")]),
            "is a link",
        ),
        ("1.0.4", tgz(&[("web/Chart.yaml", Regular, chart_yaml, ""), ("web/zeros", Regular, &zeros, "")]), "per file"),
        ("1.0.5", tgz(&[("web/Chart.yaml", Regular, b"name: [web\n", "")]), "web/Chart.yaml: not valid YAML"),
        (
            "1.0.6",
            tgz(&[("web/Chart.yaml", Regular, chart_yaml, ""), ("web/values.yaml", Regular, b"image: {a: [\n", "")]),
            "web/values.yaml: not valid YAML",
        ),
        ("1.0.7", b"this is not gzip".to_vec(), "not a tar.gz archive"),
    ];
    for (version, archive, _) in &cases {
        push_chart(&client, version, archive);
    }
    let spec_file = work.path().join("spec.yaml");
    std::fs::write(&spec_file, spec("custom")).unwrap();
    let o = tailor(
        &["chart", "build", "-f", spec_file.to_str().unwrap(), "--registry", &registry.url(), "--output", "json", "-q"],
        &[],
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let report: Value = serde_json::from_slice(&o.stdout).unwrap();
    for (version, _, expected) in &cases {
        let v = report["versions"].as_array().unwrap().iter().find(|v| v["version"] == *version).unwrap();
        assert_eq!(v["status"], "failed", "{v:#}");
        let error = v["error"].as_str().unwrap();
        assert!(error.contains(expected) && error.contains(&format!("acme/web:{version}")), "{version}: {error}");
    }
    let tags = http::request(&registry.host(), "GET", "/v2/acme/web/tags/list", &[], b"").json();
    assert!(tags["tags"].as_array().unwrap().iter().all(|t| !t.as_str().unwrap().ends_with("_custom")), "{tags}");

    // A spec whose `from` is not a repository and whose `to` is outside the org: invalid (exit 2).
    let bad = spec("custom")
        .replace("from: dhi/nginx,", "from: 'dhi/nginx:1.25',")
        .replace("to: acme/dhi-redis", "to: globex/redis");
    std::fs::write(&spec_file, bad).unwrap();
    let o = tailor(
        &["chart", "build", "-f", spec_file.to_str().unwrap(), "--registry", &registry.url(), "--output", "json"],
        &[],
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let e: Value = serde_json::from_slice(&o.stdout).unwrap();
    let fields: Vec<&str> =
        e["error"]["details"].as_array().unwrap().iter().map(|d| d["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["reference_mapping[0].from", "reference_mapping[2].to"]);

    // A target that does not exist: that version fails naming it, nothing is pushed.
    let fine = tgz(&[
        ("web/Chart.yaml", Regular, chart_yaml, ""),
        ("web/values.yaml", Regular, b"image: dhi/nginx:9.9\n", ""),
    ]);
    push_chart(&client, "2.0.0", &fine);
    std::fs::write(&spec_file, spec("custom").replace("name: web\n", "name: web\nversions: ['2.*']\n")).unwrap();
    let o = tailor(&["chart", "build", "-f", spec_file.to_str().unwrap(), "--registry", &registry.url()], &[]);
    assert_eq!(o.status.code(), Some(1));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("target acme/dhi-nginx:9.9") && out.contains("web/values.yaml:1"), "{out}");
    let r = http::request(&registry.host(), "HEAD", "/v2/acme/web/manifests/2.0.0_custom", &[], b"");
    assert_eq!(r.status, 404);
}
