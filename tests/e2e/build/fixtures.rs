//! Inputs made independently of tailor (umoci + skopeo), the `tailor` binary, and readers.

use std::fs;
use std::os::unix::fs::{PermissionsExt, chown};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use serde_json::Value;

use crate::harness::run;

/// The `tailor` binary, built once per test run from the current sources.
pub fn tailor_bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("workspace root").to_path_buf();
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        run(Command::new(cargo).current_dir(&root).args(["build", "-q", "-p", "tailor-cli"]));
        let target = std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| root.join("target"));
        target.join("debug/tailor")
    })
}

/// Run `tailor ARGS…` with `env`, without failing on a non-zero exit.
pub fn tailor(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(tailor_bin());
    cmd.args(args)
        .env_remove("TAILOR_REGISTRY_USER")
        .env_remove("TAILOR_REGISTRY_PASSWORD")
        .env("HOME", std::env::temp_dir());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run tailor")
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// `tailor build --output json` that must succeed; the report.
pub fn build_json(spec: &Path, store: &[&str], env: &[(&str, &str)]) -> Value {
    let mut args = vec!["build", "-f", spec.to_str().unwrap(), "--output", "json"];
    args.extend_from_slice(store);
    let o = tailor(&args, env);
    assert!(
        o.status.success(),
        "tailor build failed ({}):\n{}\n{}",
        o.status,
        String::from_utf8_lossy(&o.stdout),
        stderr(&o)
    );
    serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("stdout is not one JSON object ({e}): {}", String::from_utf8_lossy(&o.stdout)))
}

/// A filesystem change for one layer, applied to an unpacked rootfs.
pub type LayerFn<'a> = &'a dyn Fn(&Path);

/// Build an image with umoci (one layer per function; deletions become whiteouts, made by
/// umoci) into the OCI layout `layout:tag`, for `arch`.
pub fn umoci_image(work: &Path, tag: &str, arch: &str, layers: &[LayerFn]) -> String {
    let layout = work.join("umoci-layout");
    if !layout.join("index.json").exists() {
        run(Command::new("umoci").args(["init", "--layout"]).arg(&layout));
    }
    let image = format!("{}:{tag}", layout.display());
    run(Command::new("umoci").args(["new", "--image", &image]));
    run(Command::new("umoci").args([
        "config",
        "--image",
        &image,
        "--os",
        "linux",
        "--architecture",
        arch,
        "--config.env",
        "PATH=/usr/bin:/bin",
        "--config.cmd",
        "/usr/bin/tool",
        "--created",
        "2025-01-02T03:04:05Z",
    ]));
    for (i, f) in layers.iter().enumerate() {
        let bundle = work.join(format!("bundle-{tag}-{i}"));
        run(Command::new("umoci").args(["unpack", "--image", &image]).arg(&bundle));
        f(&bundle.join("rootfs"));
        run(Command::new("umoci").args(["repack", "--image", &image]).arg(&bundle));
        fs::remove_dir_all(&bundle).unwrap();
    }
    image
}

/// Copy an OCI layout image to the registry (`docker://HOST/REPO`) or a layout (`oci:DIR:TAG`).
pub fn skopeo_copy(from: &str, to: &str, creds: Option<(&str, &str)>) {
    let mut cmd = Command::new("skopeo");
    cmd.args(["copy", "-q", "--dest-tls-verify=false", "--src-tls-verify=false"]);
    if let Some((u, p)) = creds {
        cmd.arg(format!("--dest-creds={u}:{p}"));
    }
    run(cmd.arg(from).arg(to));
}

/// Write a file with mode and owner.
pub fn put(root: &Path, rel: &str, content: &[u8], mode: u32, uid: u32, gid: u32) {
    let p = root.join(rel);
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(&p, content).unwrap();
    // chown clears setuid/setgid: set the mode after the owner.
    chown(&p, Some(uid), Some(gid)).unwrap();
    fs::set_permissions(&p, fs::Permissions::from_mode(mode)).unwrap();
}

pub fn mkdir(root: &Path, rel: &str, mode: u32) {
    let p = root.join(rel);
    fs::create_dir_all(&p).unwrap();
    fs::set_permissions(&p, fs::Permissions::from_mode(mode)).unwrap();
}

/// The base: a small root filesystem with accounts, a tool and a private /etc/ssl.
pub fn base_layer(r: &Path) {
    mkdir(r, "etc", 0o755);
    put(
        r,
        "etc/passwd",
        b"root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n",
        0o644,
        0,
        0,
    );
    put(r, "etc/group", b"root:x:0:\nnogroup:x:65534:\n", 0o644, 0, 0);
    mkdir(r, "etc/ssl", 0o700);
    put(r, "etc/ssl/openssl.cnf", b"# base openssl config\n", 0o644, 0, 0);
    put(r, "usr/bin/tool", b"#!/bin/sh\necho tool\n", 0o755, 0, 0);
    mkdir(r, "home", 0o755);
}

/// An artifact in two layers: the second deletes `opt/app/old` (a whiteout) and adds `new`.
pub fn artifact_layer1(r: &Path) {
    put(r, "opt/app/bin", b"\x7fELF pretend binary", 0o4755, 0, 0);
    put(r, "opt/app/old", b"removed in layer 2", 0o644, 0, 0);
    put(r, "opt/app/docs/readme", b"docs are excluded", 0o644, 0, 0);
    put(r, "etc/ssl/certs/ca.crt", b"-----BEGIN CERTIFICATE-----\nacme\n-----END CERTIFICATE-----\n", 0o444, 0, 0);
    put(r, "etc/ssl/openssl.cnf", b"# artifact openssl config (not included)\n", 0o644, 0, 0);
    std::os::unix::fs::symlink("bin", r.join("opt/app/run")).unwrap();
}

pub fn artifact_layer2(r: &Path) {
    fs::remove_file(r.join("opt/app/old")).unwrap();
    put(r, "opt/app/new", b"added in layer 2", 0o640, 1000, 1000);
}

/// The spec used by the registry and layout tests.
pub fn full_spec(dir: &Path, source: &str, artifact: &str, platforms: &str) -> PathBuf {
    let spec = format!(
        r##"name: e2e
source: {source}
tag_suffix: custom
platforms: [{platforms}]
contents:
  artifacts:
    - reference: {artifact}
      includes: [/opt/app, /etc/ssl/certs/ca.crt]
      excludes: [/opt/app/docs]
files:
  - {{path: /docker-entrypoint.d/10-init.sh, content: "#!/bin/sh\necho init\n", uid: 1000, gid: 1000, mode: "0750"}}
accounts:
  groups: [{{name: app, gid: 1000, members: [app]}}]
  users: [{{name: app, uid: 1000, gid: 1000, home: /home/app, shell: /usr/sbin/nologin}}]
  run_as: app
environment: {{TZ: UTC, PATH: /opt/app:/usr/bin:/bin}}
labels: {{com.acme.team: payments}}
annotations: {{org.opencontainers.image.vendor: Acme}}
entrypoint: [--config, /etc/app.conf]
cmd: [serve]
"##
    );
    let p = dir.join("spec.yaml");
    fs::write(&p, spec).unwrap();
    p
}

/// Unpack one platform of `image` (skopeo transport string) as root with umoci; the rootfs.
pub fn unpack(image: &str, arch: &str, work: &Path, name: &str) -> PathBuf {
    let layout = work.join(format!("pulled-{name}"));
    run(Command::new("skopeo")
        .args(["copy", "-q", "--src-tls-verify=false", "--override-arch", arch])
        .arg(image)
        .arg(format!("oci:{}:x", layout.display())));
    let bundle = work.join(format!("unpacked-{name}"));
    run(Command::new("umoci").args(["unpack", "--image"]).arg(format!("{}:x", layout.display())).arg(&bundle));
    bundle.join("rootfs")
}

/// (mode, uid, gid) of a path in an unpacked rootfs.
pub fn stat(root: &Path, rel: &str) -> (u32, u32, u32) {
    use std::os::unix::fs::MetadataExt;
    let m = fs::symlink_metadata(root.join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"));
    (m.mode() & 0o7777, m.uid(), m.gid())
}

/// Check everything the full spec promises in an unpacked rootfs.
pub fn check_rootfs(r: &Path) {
    assert_eq!(fs::read(r.join("opt/app/bin")).unwrap(), b"\x7fELF pretend binary");
    assert_eq!(stat(r, "opt/app/bin"), (0o4755, 0, 0));
    assert_eq!(fs::read(r.join("opt/app/new")).unwrap(), b"added in layer 2");
    assert_eq!(stat(r, "opt/app/new"), (0o640, 1000, 1000));
    assert!(!r.join("opt/app/old").exists(), "whiteout of layer 2 must hide opt/app/old");
    assert!(!r.join("opt/app/docs").exists(), "excluded subtree");
    assert_eq!(fs::read_link(r.join("opt/app/run")).unwrap(), Path::new("bin"));
    assert_eq!(stat(r, "etc/ssl/certs/ca.crt"), (0o444, 0, 0));
    // The base's private /etc/ssl keeps its mode: the added parent is not in the layer.
    assert_eq!(stat(r, "etc/ssl"), (0o700, 0, 0));
    assert_eq!(
        fs::read(r.join("etc/ssl/openssl.cnf")).unwrap(),
        b"# base openssl config\n",
        "not included: base file stays"
    );
    assert_eq!(fs::read(r.join("docker-entrypoint.d/10-init.sh")).unwrap(), b"#!/bin/sh\necho init\n");
    assert_eq!(stat(r, "docker-entrypoint.d/10-init.sh"), (0o750, 1000, 1000));
    let passwd = fs::read_to_string(r.join("etc/passwd")).unwrap();
    assert!(passwd.starts_with("root:x:0:0:root:/root:/bin/sh\n"), "{passwd}");
    assert!(passwd.ends_with("app:x:1000:1000::/home/app:/usr/sbin/nologin\n"), "{passwd}");
    assert!(fs::read_to_string(r.join("etc/group")).unwrap().ends_with("app:x:1000:app\n"));
    assert_eq!(stat(r, "home/app"), (0o755, 1000, 1000));
    assert_eq!(fs::read(r.join("usr/bin/tool")).unwrap(), b"#!/bin/sh\necho tool\n");
}

/// Check the config of the full spec.
pub fn check_config(cfg: &Value) {
    let c = &cfg["config"];
    assert_eq!(c["User"], "1000:1000");
    assert_eq!(c["Env"], serde_json::json!(["PATH=/opt/app:/usr/bin:/bin", "TZ=UTC"]));
    assert_eq!(c["Entrypoint"], serde_json::json!(["--config", "/etc/app.conf"]));
    assert_eq!(c["Cmd"], serde_json::json!(["/usr/bin/tool", "serve"]));
    assert_eq!(c["Labels"]["com.acme.team"], "payments");
}
