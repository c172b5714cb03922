//! Real Helm: `tests/tools/helm.py` run with the Python of the helm-python-sdk venv the test
//! command installs (`TAILOR_TEST_HELM_PYTHON`); each call returns the script's JSON.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use super::service::root;

fn python() -> PathBuf {
    let python = std::env::var_os("TAILOR_TEST_HELM_PYTHON").map(PathBuf::from).unwrap_or_else(|| {
        panic!(
            "TAILOR_TEST_HELM_PYTHON is not set: run the test command from README.md, which installs helm-python-sdk"
        )
    });
    assert!(python.exists(), "{} does not exist: run tests/run.sh (it installs helm-python-sdk)", python.display());
    python
}

/// Runs `helm.py ARGS`; panics with Helm's message unless it succeeds.
pub fn helm(args: &[&str]) -> Value {
    let out = try_helm(args);
    out.unwrap_or_else(|e| panic!("helm {args:?}: {e}"))
}

/// Runs `helm.py ARGS`: its JSON, or Helm's error message.
pub fn try_helm(args: &[&str]) -> Result<Value, String> {
    let out = Command::new(python())
        .arg(root().join("tests/tools/helm.py"))
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("running helm.py: {e}"));
    let v: Value = serde_json::from_slice(&out.stdout).map_err(|e| {
        format!("not JSON ({e}): {}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
    })?;
    if out.status.success() { Ok(v) } else { Err(v["error"].as_str().unwrap_or_default().to_owned()) }
}

/// `helm create NAME` in `dir`, returning the chart directory.
pub fn create(name: &str, dir: &Path) -> PathBuf {
    PathBuf::from(helm(&["create", name, dir.to_str().unwrap()])["path"].as_str().unwrap())
}

/// `helm package CHART_DIR` into `dest`, returning the archive.
pub fn package(chart: &Path, dest: &Path) -> PathBuf {
    PathBuf::from(helm(&["package", chart.to_str().unwrap(), dest.to_str().unwrap()])["path"].as_str().unwrap())
}

/// `helm push ARCHIVE oci://HOST/NAMESPACE` (plain HTTP).
pub fn push(archive: &Path, remote: &str) {
    helm(&["push", archive.to_str().unwrap(), remote]);
}

/// `helm pull oci://HOST/REPO --version V` into `dest`, returning the archive.
pub fn pull(reference: &str, version: &str, dest: &Path) -> PathBuf {
    PathBuf::from(helm(&["pull", reference, version, dest.to_str().unwrap()])["path"].as_str().unwrap())
}
