#![allow(clippy::unwrap_used)]
//! Customizing chart archives made here (every reference shape, subcharts packed and unpacked
//! two levels deep, comments everywhere) against a map of target digests. Real Helm reads the
//! results in the e2e tests.

use std::collections::HashMap;

use tailor_spec::Mapping;

use crate::archive::{self, Archive, Entry, Limits};
use crate::customize::{Settings, Targets, customize};
use crate::error::{ChartError, Result};
use crate::reference::Mapper;

pub(crate) fn digest(c: char) -> String {
    format!("sha256:{}", c.to_string().repeat(64))
}

/// Target digests by `repository:tag` (or `repository@digest` for existence).
pub(crate) struct Map(pub HashMap<String, String>);

impl Targets for Map {
    fn digest(&self, repository: &str, tag: &str) -> Result<Option<String>> {
        Ok(self.0.get(&format!("{repository}:{tag}")).cloned())
    }
    fn exists(&self, repository: &str, digest: &str) -> Result<bool> {
        Ok(self.0.values().any(|d| d == digest) && self.0.keys().any(|k| k.starts_with(repository)))
    }
}

pub(crate) fn targets() -> Map {
    Map(HashMap::from([
        ("acme/dhi-nginx:1.25".to_owned(), digest('a')),
        ("acme/dhi-busybox:1.36_custom".to_owned(), digest('b')),
        ("acme/redis:7.2".to_owned(), digest('c')),
        ("acme/exporter:v1.1".to_owned(), digest('d')),
    ]))
}

pub(crate) fn mappings() -> Vec<Mapping> {
    let m = |from: &str, to: &str| Mapping { from: from.into(), to: to.into() };
    vec![
        m("dhi/nginx", "acme/dhi-nginx"),
        m("docker.io/library/busybox", "acme/dhi-busybox:1.36_custom"),
        m("bitnami/redis", "acme/redis"),
        m("registry.vendor.example:5000/prom/exporter", "acme/exporter"),
    ]
}

const VALUES: &str = "# Default values for web.
# comment before everything

global:
  imageRegistry: docker.io   # Bitnami-style global

image:
  registry: docker.io
  repository: dhi/nginx   # the web server
  tag: \"1.25\"
  digest: \"\"

initContainers:
  - name: wait
    image: busybox:1.36     # plain string

metrics:
  image:
    # host inside repository, tag@digest
    repository: registry.vendor.example:5000/prom/exporter
    tag: 'v1.1@sha256:0000000000000000000000000000000000000000000000000000000000000000'

git:
  repository: https://github.com/acme/web.git   # not an image
  tag: main

unmapped: quay.io/other/thing:2.0
";

fn tgz(files: &[(&str, &[u8])]) -> Vec<u8> {
    let entries = files
        .iter()
        .map(|(p, d)| Entry { path: p.to_string(), dir: false, mode: 0o644, mtime: 1_700_000_000, data: d.to_vec() })
        .collect();
    archive::write(&Archive { entries }).unwrap()
}

/// The fixture: web 1.0.0 with a packed subchart (which packs another) and an unpacked one.
pub(crate) fn chart(version: &str) -> Vec<u8> {
    let inner = tgz(&[
        ("exporter/Chart.yaml", b"apiVersion: v2\nname: exporter\nversion: 0.1.0\n"),
        (
            "exporter/values.yaml",
            b"image:\n  repository: registry.vendor.example:5000/prom/exporter\n  tag: v1.1 # deep\n",
        ),
    ]);
    let redis = tgz(&[
        ("redis/Chart.yaml", b"apiVersion: v2\nname: redis\nversion: 7.2.0\n"),
        ("redis/values.yaml", b"image:\n  registry: docker.io\n  repository: bitnami/redis\n  tag: 7.2\n"),
        ("redis/charts/exporter-0.1.0.tgz", &inner),
    ]);
    let chart_yaml = format!(
        "apiVersion: v2\nname: web\n# the version\nversion: {version}\nannotations:\n  artifacthub.io/images: |\n    - name: nginx\n      image: dhi/nginx:1.25\n    - name: busybox\n      image: busybox:1.36\n"
    );
    tgz(&[
        ("web/Chart.yaml", chart_yaml.as_bytes()),
        ("web/values.yaml", VALUES.as_bytes()),
        (
            "web/templates/deployment.yaml",
            b"spec:\n  containers:\n    - image: {{ .Values.image.repository }}\n    - image: alpine:3.20\n",
        ),
        ("web/charts/redis-7.2.0.tgz", &redis),
        ("web/charts/side/Chart.yaml", b"apiVersion: v2\nname: side\nversion: 0.0.1\n"),
        ("web/charts/side/values.yaml", b"# side\nsidecar: docker.io/dhi/nginx:1.25  # keep me\n"),
    ])
}

fn settings(mapper: &Mapper) -> Settings<'_> {
    Settings { mapper, registry_host: Some("registry.acme.example:5000"), limits: Limits::default() }
}

fn file(archive: &[u8], path: &str) -> String {
    let a = archive::read(archive, "out", Limits::default()).unwrap();
    String::from_utf8(a.get(path).unwrap().data.clone()).unwrap()
}

#[test]
fn every_shape_is_rewritten_and_pinned_and_nothing_else_changes() {
    let mapper = Mapper::new(&mappings());
    let out = customize(&chart("1.0.0"), "web-1.0.0.tgz", "1.0.0+custom", &settings(&mapper), &targets()).unwrap();
    let values = file(&out.archive, "web/values.yaml");
    let h = "registry.acme.example:5000";
    let expected = VALUES
        .replace("imageRegistry: docker.io   #", &format!("imageRegistry: {h}   #"))
        .replace(
            "  registry: docker.io\n  repository: dhi/nginx ",
            &format!("  registry: {h}\n  repository: acme/dhi-nginx "),
        )
        .replace("  digest: \"\"", &format!("  digest: \"{}\"", digest('a')))
        .replace("image: busybox:1.36 ", &format!("image: {h}/acme/dhi-busybox:1.36_custom@{} ", digest('b')))
        .replace("repository: registry.vendor.example:5000/prom/exporter", &format!("repository: {h}/acme/exporter"))
        .replace(&format!("'v1.1@sha256:{}'", "0".repeat(64)), &format!("'v1.1@{}'", digest('d')));
    assert_eq!(values, expected, "only the changed scalars differ; comments, order, quoting survive");
    let r = &out.report;
    assert_eq!(r.unmapped.len(), 1, "{r:#?}");
    assert_eq!((r.unmapped[0].reference.as_str(), r.unmapped[0].line), ("quay.io/other/thing:2.0", 27));
    assert_eq!(r.literal_template_images.len(), 1);
    assert_eq!(r.literal_template_images[0].reference, "alpine:3.20");
    assert_eq!(r.pins.len(), 4, "{r:#?}");
    // The top Chart.yaml: new version, annotations rewritten, comments kept.
    assert!(out.chart_yaml.contains("# the version\nversion: 1.0.0+custom\n"), "{}", out.chart_yaml);
    assert!(out.chart_yaml.contains(&format!("image: {h}/acme/dhi-nginx:1.25@{}", digest('a'))), "{}", out.chart_yaml);
    // Subcharts: unpacked, packed, and packed inside packed.
    assert_eq!(
        file(&out.archive, "web/charts/side/values.yaml"),
        format!("# side\nsidecar: {h}/acme/dhi-nginx:1.25@{}  # keep me\n", digest('a'))
    );
    let redis = archive::read(
        &archive::read(&out.archive, "o", Limits::default()).unwrap().get("web/charts/redis-7.2.0.tgz").unwrap().data,
        "r",
        Limits::default(),
    )
    .unwrap();
    let redis_values = String::from_utf8(redis.get("redis/values.yaml").unwrap().data.clone()).unwrap();
    assert_eq!(
        redis_values,
        format!("image:\n  registry: {h}\n  repository: acme/redis\n  tag: 7.2@{}\n", digest('c'))
    );
    let inner =
        archive::read(&redis.get("redis/charts/exporter-0.1.0.tgz").unwrap().data, "e", Limits::default()).unwrap();
    let inner_values = String::from_utf8(inner.get("exporter/values.yaml").unwrap().data.clone()).unwrap();
    assert_eq!(inner_values, format!("image:\n  repository: {h}/acme/exporter\n  tag: v1.1@{} # deep\n", digest('d')));
    assert!(
        r.rewrites
            .iter()
            .any(|w| w.file == "web/charts/redis-7.2.0.tgz:redis/charts/exporter-0.1.0.tgz:exporter/values.yaml"),
        "{r:#?}"
    );
    // Subchart versions are theirs.
    assert!(String::from_utf8(redis.get("redis/Chart.yaml").unwrap().data.clone()).unwrap().contains("version: 7.2.0"));
}

#[test]
fn the_same_inputs_give_the_same_bytes() {
    let mapper = Mapper::new(&mappings());
    let a = customize(&chart("1.0.0"), "a", "1.0.0+custom", &settings(&mapper), &targets()).unwrap();
    let b = customize(&chart("1.0.0"), "b", "1.0.0+custom", &settings(&mapper), &targets()).unwrap();
    assert_eq!(a.archive, b.archive);
    let mut moved = targets();
    moved.0.insert("acme/dhi-nginx:1.25".into(), digest('e'));
    let c = customize(&chart("1.0.0"), "c", "1.0.0+custom", &settings(&mapper), &moved).unwrap();
    assert_ne!(a.archive, c.archive, "a moved target is a new chart");
}

#[test]
fn a_missing_target_fails_naming_it() {
    let mapper = Mapper::new(&mappings());
    let mut t = targets();
    t.0.remove("acme/redis:7.2");
    let e = customize(&chart("1.0.0"), "web.tgz", "1.0.0+custom", &settings(&mapper), &t).err().unwrap();
    assert!(matches!(e, ChartError::Refused(_)));
    let text = e.to_string();
    assert!(text.contains("target acme/redis:7.2") && text.contains("redis/values.yaml:3"), "{text}");
}

#[test]
fn global_image_registry_stays_when_it_governs_unmapped_images() {
    let values = "global:\n  imageRegistry: docker.io\nimage:\n  registry: docker.io\n  repository: dhi/nginx\n  tag: '1.25'\nother:\n  registry: docker.io\n  repository: bitnami/postgresql\n  tag: '16'\n";
    let archive = tgz(&[("web/Chart.yaml", b"name: web\nversion: 1.0.0\n"), ("web/values.yaml", values.as_bytes())]);
    let mapper = Mapper::new(&mappings());
    let out = customize(&archive, "w", "1.0.0+c", &settings(&mapper), &targets()).unwrap();
    assert!(file(&out.archive, "web/values.yaml").starts_with("global:\n  imageRegistry: docker.io\n"));
    assert!(
        out.report
            .notes
            .iter()
            .any(|n| n.contains("global.imageRegistry `docker.io` was left") && n.contains("bitnami/postgresql")),
        "{:#?}",
        out.report
    );
}

#[test]
fn malformed_charts_are_refused_by_file() {
    let mapper = Mapper::new(&mappings());
    type Files<'a> = &'a [(&'a str, &'a [u8])];
    let cases: [(Files, &str); 5] = [
        (&[("web/values.yaml", b"a: 1\n")], "web/Chart.yaml: missing"),
        (&[("web/Chart.yaml", b"name: [web\n")], "web/Chart.yaml: not valid YAML"),
        (&[("web/Chart.yaml", b"name: web\n")], "has no `version`"),
        (
            &[("web/Chart.yaml", b"name: web\nversion: 1.0.0\n"), ("web/values.yaml", b"image: {a: [1\n")],
            "web/values.yaml: not valid YAML",
        ),
        (&[("web/Chart.yaml", b"name: web\nversion: 1.0.0\n"), ("web/values.yaml", b"- a\n- b\n")], "not a mapping"),
    ];
    for (files, expected) in cases {
        let e = customize(&tgz(files), "w", "1.0.0+c", &settings(&mapper), &targets()).err().unwrap().to_string();
        assert!(e.contains(expected), "{expected}: {e}");
    }
}

mod build {
    use std::collections::BTreeMap;

    use serde_json::json;
    use tailor_oci::testing::ReferrersRegistry;
    use tailor_oci::{BlobSource, Client, Digest, Quiet, RegistryConfig, Scope, media};
    use tailor_sign::PrivateKey;
    use tailor_spec::ChartSpec;

    use super::chart;
    use crate::build::{HELM_CHART, HELM_CONFIG, Invocation, Options, build};

    fn put(c: &Client, repo: &str, bytes: &[u8]) -> Digest {
        let d = Digest::of(bytes);
        c.put_blob(repo, &d, bytes.len() as u64, &BlobSource::Bytes(bytes.to_vec().into()), &Quiet).unwrap();
        d
    }

    fn push_chart(c: &Client, version: &str) {
        let layer = chart(version);
        let config = serde_json::to_vec(&json!({"apiVersion": "v2", "name": "web", "version": version})).unwrap();
        let (cd, ld) = (put(c, "acme/web", &config), put(c, "acme/web", &layer));
        let m = serde_json::to_vec(&json!({"schemaVersion": 2,
            "config": {"mediaType": HELM_CONFIG, "digest": cd.as_str(), "size": config.len()},
            "layers": [{"mediaType": HELM_CHART, "digest": ld.as_str(), "size": layer.len()}],
            "annotations": {"org.opencontainers.image.title": "web", "org.opencontainers.image.version": version}}))
        .unwrap();
        c.put_manifest("acme/web", &version.replace('+', "_"), media::OCI_MANIFEST, &m).unwrap();
    }

    /// An image (one empty manifest) under `repo:tag`; returns its digest.
    fn push_image(c: &Client, repo: &str, tag: &str, salt: &str) -> String {
        let config = format!("{{\"salt\":\"{salt}\"}}");
        let cd = put(c, repo, config.as_bytes());
        let m = serde_json::to_vec(&json!({"schemaVersion": 2, "mediaType": media::OCI_MANIFEST,
            "config": {"mediaType": media::OCI_CONFIG, "digest": cd.as_str(), "size": config.len()}, "layers": []}))
        .unwrap();
        c.put_manifest(repo, tag, media::OCI_MANIFEST, &m).unwrap().to_string()
    }

    #[test]
    fn versions_are_built_signed_then_unchanged_until_a_target_moves() {
        let reg = ReferrersRegistry::start();
        let all = Client::registry(
            RegistryConfig::new(reg.url()),
            Scope::new(["acme"], ["acme/web", "acme/dhi-nginx", "acme/dhi-busybox", "acme/redis", "acme/exporter"]),
        )
        .unwrap();
        push_chart(&all, "1.0.0");
        push_chart(&all, "2.0.0");
        push_image(&all, "acme/dhi-nginx", "1.25", "n1");
        push_image(&all, "acme/dhi-busybox", "1.36_custom", "b");
        push_image(&all, "acme/redis", "7.2", "r");
        push_image(&all, "acme/exporter", "v1.1", "e");
        let mut spec =
            ChartSpec::from_yaml("name: web\nsource: acme/web\nversions: ['1.*']\ntag_suffix: custom\n").unwrap();
        spec.reference_mapping = super::mappings();
        let client = Client::registry(RegistryConfig::new(reg.url()), crate::build::scope("acme", &spec)).unwrap();
        let key = PrivateKey::generate().unwrap();
        let mut opts = Options::new(Invocation { id: "t/1".into(), revision: Some(1), builder_id: "test".into() });
        opts.signer = Some(key.clone().into());
        opts.registry_host = Some("registry.acme.example".into());
        let first = build(&spec, &client, &opts).unwrap();
        assert_eq!(first.versions.len(), 1, "2.0.0 is not in `versions`");
        let v = &first.versions[0];
        assert_eq!(
            (v.status, v.tag.as_str(), v.customized_version.as_str()),
            ("built", "1.0.0_custom", "1.0.0+custom"),
            "{v:#?}"
        );
        let out = all.get_manifest("acme/web", "1.0.0_custom").unwrap();
        assert_eq!(out.digest.as_str(), v.digest.as_deref().unwrap());
        let doc: serde_json::Value = serde_json::from_slice(&out.bytes).unwrap();
        assert_eq!(doc["annotations"]["org.opencontainers.image.version"], "1.0.0+custom");
        let config: serde_json::Value = serde_json::from_slice(
            &all.read_blob("acme/web", &doc["config"]["digest"].as_str().unwrap().parse().unwrap(), 1 << 20).unwrap(),
        )
        .unwrap();
        assert_eq!(config["version"], "1.0.0+custom");
        tailor_sign::verify_image(&all, "acme/web", &out.digest, &key.public()).unwrap();
        let provenance = tailor_sign::verify_attestations(
            &all,
            "acme/web",
            &out.digest,
            tailor_sign::intoto::SLSA_PROVENANCE_V1,
            &key.public(),
        )
        .unwrap();
        let deps = provenance[0]["predicate"]["buildDefinition"]["resolvedDependencies"].as_array().unwrap().clone();
        assert_eq!(deps.len(), 5, "the source chart and four images: {deps:#?}");
        assert_eq!(
            provenance[0]["predicate"]["buildDefinition"]["buildType"],
            "https://tailor.dev/chart-customization/v1"
        );

        // Built again with what the first build made: unchanged, nothing read or pushed.
        opts.previous =
            first.versions.iter().filter_map(|v| Some((v.version.clone(), v.state()?))).collect::<BTreeMap<_, _>>();
        let again = build(&spec, &client, &opts).unwrap();
        assert_eq!(again.versions[0].status, "unchanged", "{:#?}", again.versions[0]);
        // A target moved: rebuilt, pinned to the new digest; the output is deterministic
        // (the same inputs again give the same digest).
        let moved = push_image(&all, "acme/dhi-nginx", "1.25", "n2");
        let third = build(&spec, &client, &opts).unwrap();
        assert_eq!(third.versions[0].status, "built");
        assert!(third.versions[0].changes.pins.iter().any(|p| p.digest == moved));
        assert_ne!(third.versions[0].digest, first.versions[0].digest);
        opts.previous.clear();
        let fourth = build(&spec, &client, &opts).unwrap();
        assert_eq!(fourth.versions[0].digest, third.versions[0].digest, "same inputs, same chart");
        // Its own outputs are never customized again.
        push_chart(&all, "1.1.0");
        let fifth = build(&spec, &client, &opts).unwrap();
        let versions: Vec<&str> = fifth.versions.iter().map(|v| v.version.as_str()).collect();
        assert_eq!(versions, ["1.0.0", "1.1.0"]);
    }

    #[test]
    fn a_strict_customization_fails_on_unmapped_references_and_pushes_nothing() {
        let reg = ReferrersRegistry::start();
        let all = Client::registry(
            RegistryConfig::new(reg.url()),
            Scope::new(["acme"], ["acme/web", "acme/dhi-nginx", "acme/dhi-busybox", "acme/redis", "acme/exporter"]),
        )
        .unwrap();
        push_chart(&all, "1.0.0");
        for (repo, tag) in [
            ("acme/dhi-nginx", "1.25"),
            ("acme/dhi-busybox", "1.36_custom"),
            ("acme/redis", "7.2"),
            ("acme/exporter", "v1.1"),
        ] {
            push_image(&all, repo, tag, repo);
        }
        let mut spec = ChartSpec::from_yaml("name: web\nsource: acme/web\ntag_suffix: custom\nstrict: true\n").unwrap();
        spec.reference_mapping = super::mappings();
        let client = Client::registry(RegistryConfig::new(reg.url()), crate::build::scope("acme", &spec)).unwrap();
        let opts = Options::new(Invocation { id: "t/1".into(), revision: None, builder_id: "test".into() });
        let r = build(&spec, &client, &opts).unwrap();
        assert_eq!(r.versions[0].status, "failed");
        assert!(
            r.versions[0]
                .error
                .as_deref()
                .unwrap()
                .contains("strict: 1 image reference(s) match no `from`: quay.io/other/thing:2.0"),
            "{:#?}",
            r.versions[0]
        );
        assert!(all.head_manifest("acme/web", "1.0.0_custom").unwrap().is_none());
    }
}

#[test]
fn references_are_what_a_customization_could_map() {
    let r = crate::references(&chart("1.0.0"), "web.tgz", Limits::default()).unwrap();
    let refs: Vec<&str> = r.unmapped.iter().map(|u| u.reference.as_str()).collect();
    assert!(refs.contains(&"dhi/nginx:1.25") && refs.contains(&"busybox:1.36"), "{refs:?}");
    assert!(refs.contains(&"docker.io/dhi/nginx:1.25"), "subcharts: {refs:?}");
    assert!(refs.iter().any(|r| r.starts_with("registry.vendor.example:5000/prom/exporter:v1.1")), "{refs:?}");
    assert_eq!(r.literal_template_images.len(), 1);
    assert!(r.rewrites.is_empty() && r.pins.is_empty());
}
