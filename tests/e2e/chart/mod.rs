//! Chart customizations (issue F) end to end: the fixture chart (`tests/fixtures/charts`: every
//! reference shape, subcharts two levels deep packed and unpacked, comments everywhere, a
//! version carrying `+`) packaged and pushed by real Helm, customized by `tailor up`, pulled,
//! linted and rendered by real Helm; rebuilds; hostile charts refused.

mod bad_input;
mod service;

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::harness::helm;
use crate::harness::service::root;

/// The fixture chart at `version`, packaged by Helm in `work`. Helm 4 stores subcharts
/// unpacked; Helm 3 and other packagers keep `charts/*.tgz`: the sub-subchart is put back
/// packed (Helm's own archive of it), so the chart has one unpacked and one packed subchart.
pub fn package(work: &Path, version: &str) -> PathBuf {
    let src = root().join("tests/fixtures/charts");
    let dir = work.join(format!("src-{version}"));
    copy_dir(&src, &dir);
    let chart = dir.join("web");
    let yaml = std::fs::read_to_string(chart.join("Chart.yaml")).unwrap();
    std::fs::write(chart.join("Chart.yaml"), yaml.replace("version: 1.4.2+build.7", &format!("version: {version}")))
        .unwrap();
    let packed = chart.join("charts/cache/charts");
    std::fs::create_dir_all(&packed).unwrap();
    let exporter = helm::package(&dir.join("exporter"), &dir);
    std::fs::copy(&exporter, packed.join("exporter-0.1.0.tgz")).unwrap();
    let archive = helm::package(&chart, work);
    // Repack with GNU tar: the exporter as Helm packaged it, in charts/ as a .tgz.
    let unpacked = dir.join("unpacked");
    std::fs::create_dir_all(&unpacked).unwrap();
    crate::harness::run(std::process::Command::new("tar").arg("-xzf").arg(&archive).arg("-C").arg(&unpacked));
    let sub = unpacked.join("web/charts/cache/charts");
    std::fs::remove_dir_all(sub.join("exporter")).unwrap();
    std::fs::copy(&exporter, sub.join("exporter-0.1.0.tgz")).unwrap();
    crate::harness::run(
        std::process::Command::new("tar").arg("-czf").arg(&archive).arg("-C").arg(&unpacked).arg("web"),
    );
    archive
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}

/// The container images of every manifest Helm renders from `archive` with `values`.
pub fn rendered_images(archive: &Path, values: &str) -> Vec<String> {
    let out = helm::helm(&["render", archive.to_str().unwrap(), values]);
    let mut images = Vec::new();
    for text in out["manifests"].as_object().unwrap().values().filter_map(Value::as_str) {
        for line in text.lines() {
            if let Some(rest) = line.trim().strip_prefix("image:").or_else(|| line.trim().strip_prefix("- image:")) {
                images.push(rest.split(" #").next().unwrap().trim().trim_matches('"').to_owned());
            }
        }
    }
    images.sort();
    images
}

/// The spec mapping every image of the fixture but the debug tools.
pub fn spec(suffix: &str) -> String {
    format!(
        "name: web
source: acme/web
tag_suffix: {suffix}
reference_mapping:
  - {{from: dhi/nginx, to: acme/dhi-nginx}}
  - {{from: docker.io/library/busybox, to: 'acme/dhi-busybox:1.36_custom'}}
  - {{from: dhi/redis, to: acme/dhi-redis}}
  - {{from: 'registry.vendor.example:5000/prom/nginx-exporter', to: acme/exporter}}
  - {{from: 'registry.vendor.example:5000/prom/redis-exporter', to: 'acme/exporter:v1.1'}}
"
    )
}

/// The images the spec maps to, pushed to `registry`: (repository:tag, digest).
pub fn push_targets(registry: &crate::harness::Registry, salt: &str) -> Vec<(String, String)> {
    ["acme/dhi-nginx:1.25", "acme/dhi-busybox:1.36_custom", "acme/dhi-redis:7.2", "acme/exporter:v1.1"]
        .iter()
        .map(|r| {
            let content = format!("{r} {salt}");
            let digest = crate::mirror::vendor_push(registry, r, "linux/amd64", &[("/etc/image", &content)]);
            ((*r).to_owned(), digest)
        })
        .collect()
}
